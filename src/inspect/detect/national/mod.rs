//! National identifiers (Amazon Macie's managed identifiers): UK NINO, Canada SIN, France NIR,
//! Germany tax id, Italy codice fiscale, Spain DNI/NIE, Brazil CPF/CNPJ, India Aadhaar/PAN, China
//! resident id, Japan My Number, Korea RRN, Australia TFN, Mexico CURP, Netherlands BSN, Sweden
//! personnummer, Poland PESEL, US ITIN, passport and driver's-licence numbers.
//!
//! Every one is keyword-gated, as in Macie: nine to eighteen digits (or a short letter-digit code)
//! are everywhere in infrastructure metadata, and a checksum alone passes one random number in ten
//! or eleven. A value counts only when a keyword of its identifier ([`keywords`]) ends within
//! [`KEYWORD_DISTANCE`] bytes before it or occurs in the tag key or location, and when its shape,
//! check digits and embedded dates hold.
//!
//! Called by the scanner on content fields whose prefilter pass saw a national-id trigger (in the
//! value, tag key or location). One pass over the value collects, at each token start, the
//! alphanumeric groups that follow (joined by single separators) once, and every identifier whose
//! keyword is present judges that same run: no identifier scans the field on its own.

mod au;
mod br;
mod ca;
mod cn;
mod de;
mod es;
mod fr;
mod india;
mod it;
mod jp;
pub(crate) mod keywords;
mod kr;
mod mx;
mod nl;
mod pl;
mod se;
mod travel;
mod uk;
mod us;

use super::Hit;

/// How far before a value its keyword may end (Macie's default proximity).
pub(super) const KEYWORD_DISTANCE: usize = 50;
/// How far before a passport or licence number its keyword may end: room for `number:`,
/// `Nr.` or `n°`, not for other words (`driver's licence renewed, build 48845945408-23`).
pub(super) const DOCUMENT_DISTANCE: usize = 12;
/// The longest identifier, compact (CURP and the Chinese resident id).
const MAX_COMPACT: usize = 18;
/// Most groups one identifier is written in (`1 85 05 78 006 084 91`).
const MAX_GROUPS: usize = 8;
/// The longest span an identifier covers in a value: its characters and a separator between
/// each two groups.
pub(crate) const MAX_SPAN: usize = MAX_COMPACT + MAX_GROUPS;
/// Separators allowed between the groups of an identifier.
const SEPARATORS: &[u8] = b" -./+";

/// One identifier: its rule, the compact lengths and separators it is written with, and its
/// validity check on the compact form (ASCII letters and digits).
pub(super) struct Spec {
    pub(super) rule: &'static str,
    pub(super) lens: &'static [usize],
    pub(super) seps: &'static [u8],
    pub(super) valid: fn(&[u8]) -> bool,
    /// How far before the value its keyword may end: [`KEYWORD_DISTANCE`], or less where
    /// neither a checksum nor a specific shape backs the keyword (passports, licences).
    pub(super) distance: usize,
}

/// Every identifier, in [`keywords::TABLES`] order.
pub(super) const SPECS: &[Spec] = &[
    uk::SPEC,
    ca::SPEC,
    fr::SPEC,
    de::SPEC,
    it::SPEC,
    es::SPEC,
    br::CPF,
    br::CNPJ,
    india::AADHAAR,
    india::PAN,
    cn::SPEC,
    jp::SPEC,
    kr::SPEC,
    au::SPEC,
    mx::SPEC,
    nl::SPEC,
    se::SPEC,
    pl::SPEC,
    us::SPEC,
    travel::PASSPORT,
    travel::DRIVERS_LICENSE,
];

/// Every rule id of this module, for the rule table's tests.
#[cfg(test)]
pub(crate) fn rules() -> impl Iterator<Item = &'static str> {
    SPECS.iter().map(|s| s.rule)
}

/// Every keyword-backed national identifier in `value`; `keys` is the field's tag key and
/// location (lower-cased by the scanner). Returns the digit runs that have the length and
/// separators of an identifier whose keyword is there, valid or not: a number written as a
/// resident id next to `身份证` is not a card number, even with a typo in its check digit.
pub(crate) fn find(value: &str, keys: &str, out: &mut Vec<Hit>) -> Vec<(usize, usize)> {
    let mut claimed = Vec::new();
    let keyed = keywords::in_keys(keys);
    let near = keywords::in_value(value);
    let wanted = near.iter().fold(keyed, |m, (id, _)| m | 1 << id);
    if wanted == 0 {
        return claimed;
    }
    let b = value.as_bytes();
    // Where the last keyword of each identifier ended, up to the current token start: the
    // keywords are visited once, in order, however many tokens there are.
    let mut last: [Option<usize>; SPECS.len()] = [None; SPECS.len()];
    let mut next = 0;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() || !free_before(b, i) {
            i += 1;
            continue;
        }
        while let Some(&(id, end)) = near.get(next).filter(|k| k.1 <= i) {
            if let Some(slot) = last.get_mut(id) {
                *slot = Some(end);
            }
            next += 1;
        }
        let run = Run::at(b, i);
        for (id, spec) in SPECS.iter().enumerate() {
            if wanted & (1 << id) == 0 {
                continue;
            }
            let close = last[id].is_some_and(|e| i - e <= spec.distance);
            if keyed & (1 << id) == 0 && !close {
                continue;
            }
            if let Some(end) = run.shaped(b, spec, all_digits) {
                claimed.push((i, end));
            }
            if let Some(end) = run.shaped(b, spec, spec.valid) {
                let len = run.compact_len(end);
                out.push(Hit::new(spec.rule, i, end, mask(&run.compact[..len])));
            }
        }
        i = run.first_end;
    }
    claimed
}

/// Whether `digits` (a card detector's match, digits only) is a Chinese resident id or a Korean
/// resident registration number: eighteen or thirteen digits whose birth date and check digit
/// hold are not reported as a card even without a keyword (a card number passes both checks about
/// once in fifty, an identifier passes Luhn once in ten).
pub(crate) fn is_identity_number(digits: &[u8]) -> bool {
    (cn::SPEC.valid)(digits) || (kr::SPEC.valid)(digits)
}

/// All but the last two characters starred.
fn mask(compact: &[u8]) -> String {
    let keep = compact.len().saturating_sub(2);
    let tail = String::from_utf8_lossy(&compact[keep..]);
    format!("{}{tail}", "*".repeat(keep))
}

/// Whether a token starting at `i` stands alone (not inside a word, version, email or path).
fn free_before(b: &[u8], i: usize) -> bool {
    let Some(&prev) = i.checked_sub(1).and_then(|p| b.get(p)) else {
        return true;
    };
    if prev.is_ascii_alphanumeric() || matches!(prev, b'_' | b'@') {
        return false;
    }
    // `42 985 576 300`: `985` is the middle of a number, not the start of one.
    let mid_number =
        b[i].is_ascii_digit() && SEPARATORS.contains(&prev) && i >= 2 && b[i - 2].is_ascii_digit();
    let joined = matches!(prev, b'-' | b'.' | b'/' | b'+');
    let before = i.checked_sub(2).and_then(|p| b.get(p));
    // `arn:aws:iam::123456789012:role/x`: an account id, not an identifier.
    let arn = prev == b':' && before == Some(&b':');
    let glued = joined && before.is_some_and(u8::is_ascii_alphanumeric);
    !(arn || mid_number || glued)
}

/// Whether a token ending at `end` stands alone (a full stop ending a sentence does).
fn free_after(b: &[u8], end: usize) -> bool {
    match b.get(end) {
        None => true,
        Some(b'_' | b'@') => false,
        Some(b'-' | b'.' | b'/' | b'+' | b':') => {
            !b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric)
        }
        Some(c) => !c.is_ascii_alphanumeric(),
    }
}

/// The alphanumeric groups from one token start, joined by single [`SEPARATORS`].
struct Run {
    compact: [u8; MAX_COMPACT],
    /// Per group: compact length so far, byte end, separator before it (0 for the first).
    groups: [(usize, usize, u8); MAX_GROUPS],
    count: usize,
    /// End of the first group: where the next token start is looked for.
    first_end: usize,
}

impl Run {
    fn at(b: &[u8], start: usize) -> Run {
        let mut run = Run {
            compact: [0; MAX_COMPACT],
            groups: [(0, 0, 0); MAX_GROUPS],
            count: 0,
            first_end: start + 1,
        };
        let mut len = 0;
        let mut i = start;
        let mut sep = 0;
        while run.count < MAX_GROUPS {
            let from = i;
            while let Some(&c) = b.get(i).filter(|c| c.is_ascii_alphanumeric()) {
                if len < MAX_COMPACT {
                    run.compact[len] = c;
                }
                len += 1;
                i += 1;
            }
            if run.count == 0 {
                run.first_end = i.max(from + 1);
            }
            if len > MAX_COMPACT {
                break;
            }
            run.groups[run.count] = (len, i, sep);
            run.count += 1;
            match (b.get(i), b.get(i + 1)) {
                (Some(&s), Some(n)) if SEPARATORS.contains(&s) && n.is_ascii_alphanumeric() => {
                    sep = s;
                    i += 1;
                }
                _ => break,
            }
        }
        run
    }

    /// The byte end of the first group boundary where the run has `spec`'s length and
    /// separators and its compact form passes `check`.
    fn shaped(&self, b: &[u8], spec: &Spec, check: impl Fn(&[u8]) -> bool) -> Option<usize> {
        for (k, &(len, end, sep)) in self.groups[..self.count].iter().enumerate() {
            if k > 0 && !spec.seps.contains(&sep) {
                return None;
            }
            let compact = &self.compact[..len.min(MAX_COMPACT)];
            if spec.lens.contains(&len) && free_after(b, end) && check(compact) {
                return Some(end);
            }
        }
        None
    }

    /// The compact length of the groups ending at byte `end`.
    fn compact_len(&self, end: usize) -> usize {
        self.groups[..self.count]
            .iter()
            .find(|g| g.1 == end)
            .map_or(0, |g| g.0.min(MAX_COMPACT))
    }
}

/// Whether every byte is an ASCII digit.
pub(super) fn all_digits(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_digit)
}

/// The value of ASCII digit `c` (0 for anything else).
pub(super) fn digit(c: u8) -> u32 {
    if c.is_ascii_digit() {
        u32::from(c - b'0')
    } else {
        0
    }
}

/// The number `b` (ASCII digits) spells.
pub(super) fn number(b: &[u8]) -> u32 {
    b.iter().fold(0, |n, &c| n * 10 + digit(c))
}

/// The weighted digit sum `Σ w·d`.
pub(super) fn weighted(b: &[u8], weights: &[u32]) -> u32 {
    b.iter().zip(weights).map(|(&c, w)| digit(c) * w).sum()
}

/// Whether `year-month-day` is a calendar date.
pub(super) fn is_date(year: u32, month: u32, day: u32) -> bool {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Whether all digits of `b` are the same (`00000000000`, a placeholder).
pub(super) fn repeated(b: &[u8]) -> bool {
    b.windows(2).all(|w| w[0] == w[1])
}

#[cfg(test)]
pub(super) fn excerpts(value: &str, keys: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let _ = find(value, keys, &mut out);
    out.into_iter().map(|h| (h.rule, h.excerpt)).collect()
}

/// The rules found in `value` (no tag key), for the per-identifier tests.
#[cfg(test)]
pub(super) fn found(value: &str) -> Vec<String> {
    excerpts(value, "").into_iter().map(|(r, _)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::super::luhn;
    use super::*;

    #[test]
    fn keyword_must_be_close_or_in_the_key() {
        assert_eq!(found("SIN 130 692 544"), ["ca-sin"]);
        assert_eq!(excerpts("130 692 544", "sin body:tags[0].value").len(), 1);
        assert!(found("130 692 544").is_empty());
        let far = format!("SIN {} 130 692 544", "x".repeat(60));
        assert!(found(&far).is_empty());
        assert!(found("130 692 544 SIN").is_empty());
    }

    #[test]
    fn tokens_must_stand_alone() {
        assert!(found("SIN v1.130692544").is_empty());
        assert!(found("SIN 130692544-3").is_empty());
        assert!(found("SIN x130692544").is_empty());
        assert!(found("SIN 130692544@example.com").is_empty());
        assert!(found("SIN arn:aws:iam::130692544:role/x").is_empty());
        assert!(found("SIN 130692544:80").is_empty());
        assert_eq!(found("SIN:130692544"), ["ca-sin"]);
        assert!(excerpts("42 985 576 300", "tax_id")
            .iter()
            .all(|(r, _)| r != "us-itin"));
        assert_eq!(found("SIN: 130692544."), ["ca-sin"]);
    }

    #[test]
    fn excerpt_keeps_two_characters() {
        assert_eq!(
            excerpts("SIN 130-692-544", ""),
            [("ca-sin".to_string(), "*******44".to_string())]
        );
    }

    #[test]
    fn helpers() {
        assert!(luhn(b"130692544"));
        assert!(!luhn(b"046454287"));
        assert!(is_date(2024, 2, 29));
        assert!(!is_date(2023, 2, 29));
        assert!(!is_date(1900, 2, 29));
        assert_eq!(number(b"0123"), 123);
        assert_eq!(digit(b'x'), 0);
        assert!(repeated(b"111"));
    }

    /// Keyword-dense input: every token start sees its keyword (visited once, not per token).
    #[test]
    fn keyword_dense_input_finds_every_number() {
        let value = "SIN 130 692 544 ".repeat(10_000);
        let mut out = Vec::new();
        let claimed = find(&value, "", &mut out);
        assert_eq!(out.len(), 10_000);
        assert_eq!(claimed.len(), 10_000);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(value in "(SIN|nir|cpf|pan|passport|身份证|[ -~]|é|[0-9]{1,20}){0,40}") {
            let mut out = Vec::new();
            let claimed = find(&value, "tfn curp dl# rrn", &mut out);
            for (start, end) in claimed {
                proptest::prop_assert!(value.get(start..end).is_some());
            }
            for h in out {
                proptest::prop_assert!(value.get(h.start..h.end).is_some());
            }
        }
    }
}
