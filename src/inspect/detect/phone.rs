//! `phone-number`: an international number (`+` and country code), or a national number next to
//! a phone keyword (`phone`, `tel`, `mobile`, `Handy`, `téléphone`, `телефон`, `电话`, `전화`, …),
//! that libphonenumber's metadata (the `phonenumber` crate) says is a valid number.
//!
//! Called by the scanner on content fields with digits and either a `+` or a phone keyword.
//! Candidates are reduced to plain digits before they reach the parser. Next to a keyword, a
//! number may also be written in any of [`NATIONAL_REGIONS`]' national formats (with or without
//! a trunk prefix) or with the `00` international prefix; an extension (`x123`, `ext. 45`) may
//! follow. Dates next to a keyword (`phone rota 2024-01-15`) are not numbers. Five- and
//! six-digit numbers count only right after a keyword (`Tel. 20-123`) and only in the plans of
//! [`SHORT_REGIONS`], where every number is that short.

use phonenumber::country::Id;

use super::{contains_word, floor_boundary, Hit, KeyContext};
use crate::inspect::redact;

/// Rule id.
pub(crate) const RULE: &str = "phone-number";
/// Keywords that count anywhere in a word, in the languages of the locales the corpus covers.
/// Matched after ASCII lower-casing, so letters of other scripts are listed in each case they
/// are written in (`Телефон`, `телефон`; a stem such as `елефон` covers both).
pub(crate) const KEYWORDS: &[&str] = &[
    "phone",
    "mobil",
    "whatsapp",
    "telefon",
    "teléfon",
    "téléfon",
    "telèfon",
    "telefoon",
    "handy",
    "celular",
    "cellulare",
    "móvil",
    "movil",
    "móvel",
    "movel",
    "portable",
    "komórk",
    "komork",
    "puhelin",
    "matkapuhelin",
    "gsm",
    "elefon",
    "τηλ",
    "Τηλ",
    "ΤΗΛ",
    "κινητ",
    "Κινητ",
    "елефон",
    "тел.",
    "тел:",
    "Тел.",
    "Тел:",
    "ТЕЛ.",
    "моб",
    "Моб",
    "мобіл",
    "电话",
    "電話",
    "手机",
    "手機",
    "携帯",
    "전화",
    "휴대폰",
    "핸드폰",
    "연락처",
    "טלפון",
    "هاتف",
    "جوال",
    "โทร",
    "điện thoại",
    "dien thoai",
    "nomor hp",
    "no hp",
];
/// Short keywords that must stand as their own word.
pub(crate) const SHORT_KEYWORDS: &[&str] = &[
    "tel", "tél", "cell", "fax", "msisdn", "sms", "tlf", "mob", "cel",
];
/// Regions whose national formats are tried, in this order, for numbers written without a
/// country code next to a keyword: the locales of the accuracy corpus and the most populous
/// numbering plans. NANP (no trunk prefix) first, as before.
const NATIONAL_REGIONS: &[Id] = &[
    Id::US,
    Id::GB,
    Id::DE,
    Id::FR,
    Id::IN,
    Id::AU,
    Id::BR,
    Id::CN,
    Id::RU,
    Id::PL,
    Id::CZ,
    Id::PT,
    Id::MX,
    Id::KR,
    Id::GR,
    Id::ES,
    Id::IT,
    Id::NL,
    Id::BE,
    Id::AT,
    Id::CH,
    Id::SE,
    Id::NO,
    Id::DK,
    Id::FI,
    Id::IE,
    Id::JP,
    Id::TW,
    Id::HK,
    Id::SG,
    Id::TR,
    Id::UA,
    Id::IL,
    Id::ZA,
    Id::AR,
    Id::CO,
    Id::CL,
    Id::PE,
    Id::VN,
    Id::TH,
    Id::ID,
    Id::PH,
    Id::MY,
    Id::NZ,
    Id::HU,
    Id::RO,
    Id::SK,
    Id::BG,
    Id::HR,
    Id::SI,
    Id::EE,
    Id::LV,
    Id::LT,
    Id::IR,
    Id::SA,
    Id::AE,
    Id::EG,
    Id::NG,
    Id::KE,
    Id::PK,
    Id::BD,
    Id::NP,
    Id::KZ,
    Id::BY,
    Id::AZ,
    Id::GE,
    Id::AM,
    Id::CA,
];
/// Territories whose whole numbering plan is five or six digits (Pacific and Atlantic islands,
/// Suriname, the Faroes): their national numbers are tried only right after a phone keyword.
const SHORT_REGIONS: &[Id] = &[
    Id::AC,
    Id::CK,
    Id::FO,
    Id::NC,
    Id::NF,
    Id::SB,
    Id::SH,
    Id::SR,
    Id::TO,
    Id::WF,
    Id::WS,
];
const KEYWORD_DISTANCE: usize = 30;
const MIN_INTL: usize = 7;
const MIN_NATIONAL: usize = 7;
/// Fewest digits of a national number of [`SHORT_REGIONS`].
const MIN_SHORT: usize = 5;
const MAX_DIGITS: usize = 15;
/// Longest run of digits and separators looked at from one start (keeps the scan linear).
const MAX_RUN: usize = 40;

/// Whether `text` (lower-case) holds a phone keyword.
pub(crate) fn has_keyword(text: &str) -> bool {
    if KEYWORDS.iter().any(|k| text.contains(k)) {
        return true;
    }
    SHORT_KEYWORDS.iter().any(|k| contains_word(text, k, true))
}

/// Bytes that can start a number (`+`, `(`, a digit), as a table: one load per byte of prose
/// instead of three comparisons.
const STARTS: [bool; 256] = {
    let mut t = [false; 256];
    t[b'+' as usize] = true;
    t[b'(' as usize] = true;
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = true;
        d += 1;
    }
    t
};

/// Every phone number in `value`. `keywords` are the spans of every occurrence of a phone
/// keyword in `value`, in any order (the prefilter finds them in the pass it makes anyway).
pub(crate) fn find(
    value: &str,
    keywords: &[(usize, usize)],
    ctx: KeyContext<'_>,
    out: &mut Vec<Hit>,
) {
    let b = value.as_bytes();
    let keyed = has_keyword(ctx.keys);
    let mut ahead = None;
    let mut wide = WIDE_BUDGET;
    // One buffer for every candidate: prose holds a number every few words.
    let mut cand = Candidate::default();
    let mut plus = NextPlus::default();
    let mut i = 0;
    // Jump from one byte that can start a number to the next.
    let starts = |c: &u8| STARTS[usize::from(*c)];
    while let Some(off) = b.get(i..).and_then(|r| r.iter().position(starts)) {
        i += off;
        if !keyed && b[i] != b'+' {
            let ahead = ahead.get_or_insert_with(|| KeywordsAhead::new(keywords));
            let live = live_from(value, i, ahead, &mut plus);
            if live > i {
                i = live;
                continue;
            }
        }
        if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'+') {
            i += 1;
            continue;
        }
        cand.fill(b, i);
        let near = || {
            keyed
                || keyword_before(
                    value,
                    i,
                    ahead.get_or_insert_with(|| KeywordsAhead::new(keywords)),
                )
        };
        let adjacent = || keyed || keyword_adjacent(value, i);
        if let Some((end, excerpt)) = judge(value, i, &cand, near, adjacent, &mut wide) {
            out.push(Hit::new(RULE, i, end, excerpt));
        }
        i = cand.end.max(i + 1);
    }
}

/// The first position at or after `start` where a number could still be reported when the tag
/// key holds no phone keyword: the next `+`, or the start of the next keyword that a look-back
/// window from `start` on can reach. Every start before it is a national number with no
/// keyword in its window, which [`judge`] turns down, so [`find`] jumps there without filling
/// candidates.
///
/// Jumping keeps the starts `find` meets after it: a keyword (letters) or a `+` never lies
/// inside a candidate's run (digits and separators after an optional leading `+`), so no run
/// that a skipped start would have taken reaches past the returned position. And a start
/// skipped inside such a run would have had no keyword in its window either: the window's
/// bytes past the run start are run bytes, and its start is no further left. Searching is left
/// to the keyword automaton and `memchr`; which starts their matches rule out is this detector's own window
/// rule, which no crate knows.
fn live_from(value: &str, start: usize, ahead: &mut KeywordsAhead, plus: &mut NextPlus) -> usize {
    let from = floor_boundary(value, start.saturating_sub(KEYWORD_DISTANCE));
    let keyword = ahead
        .first_from(from)
        .map_or(value.len(), |at| at.max(start));
    plus.from(value.as_bytes(), start).min(keyword)
}

/// The next `+` of one value, searched forward only (`memchr`: vector instructions).
#[derive(Default)]
struct NextPlus {
    /// What the last search found (`None` before the first search).
    next: Option<Option<usize>>,
}

impl NextPlus {
    /// Position of the first `+` at or after `start` (the length of `b` if none). Calls must
    /// not move `start` left.
    fn from(&mut self, b: &[u8], start: usize) -> usize {
        if self
            .next
            .is_none_or(|next| next.is_some_and(|at| at < start))
        {
            let at = b.get(start..).and_then(|r| memchr::memchr(b'+', r));
            self.next = Some(at.map(|p| p + start));
        }
        self.next.flatten().unwrap_or(b.len())
    }
}

/// Whether the word right before `start` (past spaces and `.:-#`) holds a phone keyword:
/// `Tel. 20-123`, `telefone 40123`, `電話 20 12 34`.
fn keyword_adjacent(value: &str, start: usize) -> bool {
    let before = value.get(..start).unwrap_or("");
    let before = before
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ':' | '-' | '#' | '：'));
    let word_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || matches!(c, ',' | ';' | '(' | '/'))
        .map_or(0, |(at, c)| at + c.len_utf8());
    let word = before.get(word_start..).unwrap_or("");
    word.len() <= 40 && has_keyword(&word.to_ascii_lowercase())
}

/// Whether a phone keyword sits in the [`KEYWORD_DISTANCE`] bytes before `start`.
fn keyword_before(value: &str, start: usize, ahead: &mut KeywordsAhead) -> bool {
    let from = floor_boundary(value, start.saturating_sub(KEYWORD_DISTANCE));
    ahead.any_within(from, start)
        && has_keyword(&value.get(from..start).unwrap_or("").to_ascii_lowercase())
}

/// Every keyword occurrence in one value, consumed forward only.
///
/// Candidates are met left to right, so their look-back windows only move right: one search over
/// the whole value tells which windows hold no keyword at all, and only the others get the
/// word-boundary check. In prose full of numbers this saves a lower-cased copy and a search per
/// keyword per number.
struct KeywordsAhead {
    /// (start, end) of each occurrence, by start.
    found: Vec<(usize, usize)>,
    /// Index of the first occurrence not yet passed.
    next: usize,
}

impl KeywordsAhead {
    fn new(keywords: &[(usize, usize)]) -> KeywordsAhead {
        let mut found = keywords.to_vec();
        found.sort_unstable();
        KeywordsAhead { found, next: 0 }
    }

    /// Passes every occurrence that starts before `from`.
    fn advance(&mut self, from: usize) {
        while self.found.get(self.next).is_some_and(|(at, _)| *at < from) {
            self.next += 1;
        }
    }

    /// Whether some keyword occurs wholly inside `from..to`. Calls must not move `from` left.
    fn any_within(&mut self, from: usize, to: usize) -> bool {
        self.advance(from);
        self.found
            .get(self.next..)
            .unwrap_or(&[])
            .iter()
            .take_while(|(at, _)| *at < to)
            .any(|(_, end)| *end <= to)
    }

    /// Where the first keyword occurrence at or after `from` starts. Calls must not move `from`
    /// left (shared with [`KeywordsAhead::any_within`]).
    fn first_from(&mut self, from: usize) -> Option<usize> {
        self.advance(from);
        self.found.get(self.next).map(|(at, _)| *at)
    }
}

/// `near` is asked only for national numbers, which need a phone keyword close by; `wide` is
/// what is left of the value's [`WIDE_BUDGET`].
fn judge(
    value: &str,
    start: usize,
    cand: &Candidate,
    near: impl FnOnce() -> bool,
    adjacent: impl Fn() -> bool,
    wide: &mut usize,
) -> Option<(usize, String)> {
    let b = value.as_bytes();
    let attached =
        b.get(cand.end).is_some_and(|c| c.is_ascii_alphanumeric()) && !is_extension(b, cand.end);
    let intl = b[start] == b'+';
    if !intl && !near() {
        return None;
    }
    let min = if intl { MIN_INTL } else { MIN_NATIONAL };
    let regions = if intl || cand.digits.len() < min {
        NATIONAL_REGIONS
    } else if *wide > 0 {
        *wide -= 1;
        NATIONAL_REGIONS
    } else {
        NATIONAL_REGIONS
            .get(..NARROW_REGIONS)
            .unwrap_or(NATIONAL_REGIONS)
    };
    // Longest prefix of whole digit groups that is a valid number: `+44 121 234 5347 (24/7)`.
    cand.cuts
        .iter()
        .enumerate()
        .rev()
        .find_map(|(g, &(end, n))| {
            let digits = cand.digits.get(..n)?;
            let short = !intl && (MIN_SHORT..min).contains(&n);
            if (n < min && !short) || n > MAX_DIGITS + 2 || (attached && end == cand.end) {
                return None;
            }
            if short {
                // The whole run only: a short prefix of a longer run is a date or a code.
                let ok = end == cand.end
                    && !looks_like_date(digits, &cand.cuts[..=g])
                    && !looks_like_short_date(b, digits, &cand.cuts[..=g])
                    && adjacent()
                    && valid_national(digits, SHORT_REGIONS);
                return ok.then(|| (end, redact::ends(digits, 1, 1)));
            }
            if intl {
                return (n <= MAX_DIGITS && valid_intl(digits))
                    .then(|| (end, format!("+{}", redact::ends(digits, 2, 2))));
            }
            if looks_like_date(digits, &cand.cuts[..=g]) {
                return None;
            }
            if let Some(rest) = digits.strip_prefix("00") {
                return valid_intl(rest).then(|| (end, format!("+{}", redact::ends(rest, 2, 2))));
            }
            (n <= MAX_DIGITS && valid_national(digits, regions))
                .then(|| (end, redact::ends(digits, 2, 2)))
        })
}

/// `x123`, `ext. 45`, `ext45`, `#12` right after a number: its extension, not a longer token.
fn is_extension(b: &[u8], end: usize) -> bool {
    let rest = b.get(end..).unwrap_or(&[]);
    let lower = |n: usize| rest.get(..n).map(<[u8]>::to_ascii_lowercase);
    let skip = if lower(3).as_deref() == Some(b"ext") {
        3 + usize::from(rest.get(3) == Some(&b'.'))
    } else if lower(1).as_deref() == Some(b"x") || rest.first() == Some(&b'#') {
        1
    } else {
        return false;
    };
    let digits = rest.get(skip..).unwrap_or(&[]);
    let digits = digits.strip_prefix(b" ").unwrap_or(digits);
    let n = digits.iter().take_while(|c| c.is_ascii_digit()).count();
    (1..=6).contains(&n) && !digits.get(n).is_some_and(u8::is_ascii_alphanumeric)
}

/// A calendar date written as digit groups: `2024-01-15`, `15.01.2024`, `20240115`. `cuts` are
/// the (byte end, digit count) after each group, the last one ending `digits`.
fn looks_like_date(digits: &str, cuts: &[(usize, usize)]) -> bool {
    let mut lens = Vec::with_capacity(cuts.len());
    let mut prev = 0;
    for &(_, n) in cuts {
        lens.push(n - prev);
        prev = n;
    }
    let num = |from: usize, len: usize| -> u32 {
        digits
            .get(from..from + len)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let year = |y: u32| (1900..=2099).contains(&y);
    let month = |m: u32| (1..=12).contains(&m);
    let day = |d: u32| (1..=31).contains(&d);
    let ymd = |at: usize| year(num(at, 4)) && month(num(at + 4, 2)) && day(num(at + 6, 2));
    let dmy = year(num(4, 4))
        && ((month(num(2, 2)) && day(num(0, 2))) || (month(num(0, 2)) && day(num(2, 2))));
    match lens.as_slice() {
        [8] => ymd(0),
        [4, 2, 2, ..] => ymd(0),
        [2, 2, 4, ..] => dmy,
        _ => false,
    }
}

/// A two-digit-year date (`20-12-24`, `24.12.20`): three two-digit groups joined by one date
/// separator, with a day and a month in either order. Spaces do not count: `20 12 34` is how
/// short plans write their numbers.
fn looks_like_short_date(b: &[u8], digits: &str, cuts: &[(usize, usize)]) -> bool {
    let [(first, 2), (second, 4), (_, 6)] = cuts else {
        return false;
    };
    let sep = b.get(*first).copied();
    if !matches!(sep, Some(b'-' | b'.' | b'/')) || b.get(*second).copied() != sep {
        return false;
    }
    let num = |at: usize| -> u32 {
        digits
            .get(at..at + 2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let month = |m: u32| (1..=12).contains(&m);
    let day = |d: u32| (1..=31).contains(&d);
    let (a, m, c) = (num(0), num(2), num(4));
    month(m) && (day(a) || day(c))
}

/// A run of digits with separators, and where each digit group ends.
#[derive(Default)]
struct Candidate {
    /// All digits of the run.
    digits: String,
    /// (byte end, digit count) after each group; the last is the whole run.
    cuts: Vec<(usize, usize)>,
    /// Byte end of the whole run.
    end: usize,
}

impl Candidate {
    /// From `start`: a leading `+`, then digits with single separators (space, dash, dot,
    /// parens). Replaces what the candidate held, keeping its buffers.
    fn fill(&mut self, b: &[u8], start: usize) {
        let Candidate { digits, cuts, end } = self;
        digits.clear();
        cuts.clear();
        let mut i = start + usize::from(b[start] == b'+');
        *end = i;
        let mut last_sep = false;
        while i < b.len() && digits.len() <= MAX_DIGITS && i - start <= MAX_RUN {
            let c = b[i];
            if c.is_ascii_digit() {
                digits.push(char::from(c));
                last_sep = false;
                *end = i + 1;
            } else if matches!(c, b' ' | b'-' | b'.' | b'(' | b')') && !(last_sep && c != b'(') {
                if !last_sep && *end == i {
                    cuts.push((*end, digits.len()));
                }
                last_sep = c != b')';
            } else {
                break;
            }
            i += 1;
        }
        if cuts.last().is_none_or(|&(_, n)| n != digits.len()) {
            cuts.push((*end, digits.len()));
        }
    }
}

/// Loads the phone-number metadata, which the parser otherwise loads on first use (~0.15 s).
pub(crate) fn warm_up() {
    valid_intl("14155552671");
}

fn valid_intl(digits: &str) -> bool {
    phonenumber::parse(None, format!("+{digits}")).is_ok_and(|n| phonenumber::is_valid(&n))
}

/// How many candidates of one value may be tried against every region of
/// [`NATIONAL_REGIONS`]; later ones get only the first [`NARROW_REGIONS`]. Keeps a field that
/// holds thousands of numbers next to a keyword linear with a small constant.
const WIDE_BUDGET: usize = 32;
/// Regions every national candidate is tried against.
const NARROW_REGIONS: usize = 6;

/// National numbers: valid in the national format of one of `regions` (trunk prefixes such as
/// `0` or Russia's `8` understood by the parser). Regions whose possible lengths rule the digits
/// out are skipped without parsing.
fn valid_national(digits: &str, regions: &[Id]) -> bool {
    let db = &*phonenumber::metadata::DATABASE;
    regions.iter().any(|r| {
        let fits = db.by_id(r.as_ref()).is_none_or(|meta| {
            let lengths = meta.descriptors().general().possible_length();
            let len_ok =
                |n: usize| lengths.is_empty() || lengths.iter().any(|l| usize::from(*l) == n);
            let trunk = meta.national_prefix().unwrap_or("");
            len_ok(digits.len())
                || (!trunk.is_empty()
                    && digits.starts_with(trunk)
                    && len_ok(digits.len() - trunk.len()))
        });
        fits && phonenumber::parse(Some(*r), digits).is_ok_and(|n| phonenumber::is_valid(&n))
    })
}

/// The spans of the phone keywords in `value`, as the scanner's prefilter finds them.
#[cfg(test)]
pub(crate) fn keyword_spans(value: &str) -> Vec<(usize, usize)> {
    static PREFILTER: std::sync::OnceLock<super::prefilter::Prefilter> = std::sync::OnceLock::new();
    let prefilter = PREFILTER.get_or_init(|| {
        super::prefilter::Prefilter::new(&[]).expect("the built-in triggers compile")
    });
    let mut spans = Vec::new();
    prefilter.signals_and_phone_keywords(value, &mut spans);
    spans
}

/// [`find`] as the scanner calls it.
#[cfg(test)]
pub(crate) fn find_alone(value: &str, ctx: KeyContext<'_>, out: &mut Vec<Hit>) {
    find(value, &keyword_spans(value), ctx, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts(v: &str, keys: &str) -> Vec<String> {
        super::super::excerpts_of(|out| find_alone(v, KeyContext { keys }, out))
    }

    #[test]
    fn finds_international_numbers() {
        assert_eq!(excerpts("+1 415-555-2671", ""), ["+14…71"]);
        assert_eq!(excerpts("call +44 20 7946 0958 now", ""), ["+44…58"]);
        assert_eq!(excerpts("+49 30 901820", ""), ["+49…20"]);
        assert_eq!(excerpts("+33 1 42 68 53 00", ""), ["+33…00"]);
        assert_eq!(excerpts("+44 121 234 5347 (24/7)", ""), ["+44…47"]);
        assert_eq!(excerpts("+4915123456848 (24/7)", ""), ["+49…48"]);
    }

    #[test]
    fn finds_national_numbers_with_keyword() {
        assert_eq!(excerpts("(415) 555-2671", "owner-phone"), ["41…71"]);
        assert_eq!(excerpts("tel: 020 7946 0958", ""), ["02…58"]);
        assert_eq!(excerpts("Mobile 415.555.2671", ""), ["41…71"]);
    }

    #[test]
    fn finds_national_numbers_after_keywords_in_other_languages() {
        for (v, want) in [
            ("Tel.: 030 901820", "03…20"),
            ("Handy: 0151 23456789", "01…89"),
            ("téléphone : 01 42 68 53 00", "01…00"),
            ("Tél. 06 12 34 56 78", "06…78"),
            ("telefone: (11) 91234-5678", "11…78"),
            ("телефон 8 (912) 345-67-89", "89…89"),
            ("Тел. +7 912 345-67-89", "+79…89"),
            ("电话：138 0013 8000", "13…00"),
            ("電話 03-1234-5678", "03…78"),
            ("전화 010-1234-5678", "01…78"),
            ("telefon: 512 345 678", "51…78"),
            ("Telefon 601 123 456", "60…56"),
            ("telemóvel 912 345 678", "91…78"),
            ("celular 55 1234 5678", "55…78"),
            ("τηλέφωνο 21 0123 4567", "21…67"),
            ("teléfono 612 34 56 78", "61…78"),
        ] {
            assert_eq!(excerpts(v, ""), [want], "{v}");
        }
    }

    #[test]
    fn short_plans_right_after_a_keyword_and_short_international_numbers() {
        for (v, want) in [
            ("Tel. 20-123", "2…3"),
            ("telefone 40123", "4…3"),
            ("電話 20 12 34", "2…4"),
            ("Handy 82 12 34", "8…4"),
            ("call +290 8999", "+****"),
            ("call +690 3101", "+****"),
        ] {
            assert_eq!(excerpts(v, ""), [want], "{v}");
        }
        for v in [
            "Tel. 7012",
            "phone rota week 40123",
            "phone 20-12-24",
            "telefone 99999",
            "+290 899",
        ] {
            assert_eq!(excerpts(v, ""), Vec::<String>::new(), "{v}");
        }
    }

    #[test]
    fn finds_double_zero_prefix_and_extensions() {
        assert_eq!(excerpts("phone 0049 30 901820", ""), ["+49…20"]);
        assert_eq!(excerpts("tel 0044 20 7946 0958", ""), ["+44…58"]);
        assert_eq!(excerpts("+1 650-253-0000 x123", ""), ["+16…00"]);
        assert_eq!(excerpts("+1 650-253-0000x123", ""), ["+16…00"]);
        assert_eq!(excerpts("+1 650-253-0000 ext. 45", ""), ["+16…00"]);
        assert_eq!(excerpts("phone (415) 555-2671 ext45", ""), ["41…71"]);
    }

    #[test]
    fn rejects_numbers_that_are_not_phones() {
        for (v, keys) in [
            ("(415) 555-2671", "body:Tags[0].Value"),
            ("2024-01-15T10:00:00+05:30", "phone"),
            ("+1 000 000 0000", ""),
            ("abc+14155552671", ""),
            ("+14155552671999999", ""),
            ("123456789012", ""),
            ("hotel 415 555 2671", ""),
            ("v1.2.3+20240115", ""),
            ("mobile app v12.4.1 build 20240115", ""),
            ("phone rota 2024-01-15", ""),
            ("Telefonkonferenz am 15.01.2024", ""),
            ("phone build 20240115", ""),
            ("+1 650-253-0000xyz", ""),
            ("graph 415 555 2671", ""),
        ] {
            assert_eq!(excerpts(v, keys), Vec::<String>::new(), "{v}");
        }
    }

    #[test]
    fn start_table_holds_plus_paren_and_digits() {
        for c in 0..=u8::MAX {
            let want = c == b'+' || c == b'(' || c.is_ascii_digit();
            assert_eq!(STARTS[usize::from(c)], want, "{c}");
        }
    }

    #[test]
    fn keywords_respect_word_boundaries() {
        assert!(has_keyword("tel: 1"));
        assert!(has_keyword("owner-phone"));
        assert!(!has_keyword("hotel"));
        assert!(!has_keyword("telemetry"));
        assert!(has_keyword("handynummer"));
        assert!(has_keyword("телефон"));
        assert!(has_keyword("Телефон"));
        assert!(has_keyword("电话"));
        assert!(has_keyword("tél."));
    }

    #[test]
    fn look_back_matches_window_search() {
        // A keyword inside the window, one cut by the window edge, one too far back.
        let v = "call sms 0 and tel 1 ... phone.........................................  2";
        let mut ahead = KeywordsAhead::new(&keyword_spans(v));
        for start in 0..=v.len() {
            let from = floor_boundary(v, start.saturating_sub(KEYWORD_DISTANCE));
            let window = has_keyword(&v[from..start].to_ascii_lowercase());
            assert_eq!(keyword_before(v, start, &mut ahead), window, "{start}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2000))]
        #[test]
        fn look_back_agrees_with_searching_each_window(
            v in "([a-z]{0,3}(tel|sms|smsms|cell|fax|msisdn|phone|Mobile|WHATSAPP|telefon)?[ .:é0-9-]{0,6}){0,12}",
        ) {
            let mut ahead = KeywordsAhead::new(&keyword_spans(&v));
            for start in (0..=v.len()).filter(|i| v.is_char_boundary(*i)) {
                let from = floor_boundary(&v, start.saturating_sub(KEYWORD_DISTANCE));
                let window = has_keyword(&v[from..start].to_ascii_lowercase());
                proptest::prop_assert_eq!(keyword_before(&v, start, &mut ahead), window);
            }
        }

        #[test]
        fn parser_never_panics_on_digit_strings(digits in "[0-9]{1,16}") {
            let _ = valid_intl(&digits);
            let _ = valid_national(&digits, NATIONAL_REGIONS);
        }
    }

    /// `find` before it jumped between number starts and reused one candidate buffer.
    fn find_stepwise(value: &str, ctx: KeyContext<'_>, out: &mut Vec<Hit>) {
        let b = value.as_bytes();
        let keyed = has_keyword(ctx.keys);
        let mut ahead = None;
        let mut wide = WIDE_BUDGET;
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            let starts = c == b'+' || c == b'(' || c.is_ascii_digit();
            if !starts || (i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'+')) {
                i += 1;
                continue;
            }
            let mut cand = Candidate::default();
            cand.fill(b, i);
            let near = || {
                keyed
                    || keyword_before(
                        value,
                        i,
                        ahead.get_or_insert_with(|| KeywordsAhead::new(&keyword_spans(value))),
                    )
            };
            let adjacent = || keyed || keyword_adjacent(value, i);
            if let Some((end, excerpt)) = judge(value, i, &cand, near, adjacent, &mut wide) {
                out.push(Hit::new(RULE, i, end, excerpt));
            }
            i = cand.end.max(i + 1);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(500))]
        #[test]
        fn jumping_finds_what_stepping_found(
            v in "([a-z+(). -]{0,4}(tel |phone )?(\\+44 20 7946 0958|\\(415\\) 555-2671|020 7946 0958|\\+?[0-9 ().-]{0,18}))*",
            keys in "(phone|x)",
        ) {
            let (mut new, mut old) = (Vec::new(), Vec::new());
            find_alone(&v, KeyContext { keys: &keys }, &mut new);
            find_stepwise(&v, KeyContext { keys: &keys }, &mut old);
            proptest::prop_assert_eq!(new, old);
        }

        /// Prose where keywords, `+` and numbers sit at every distance from each other, with
        /// multi-byte characters moving the look-back window's edge.
        #[test]
        fn skipping_unkeyed_stretches_finds_what_stepping_found(
            v in r"([a-zé:,]{0,12}( |hotel|Telemetry|tel|fax |Mobile|sms|[.é]{1,30})?(\+44 20 7946 0958|\(415\) 555-2671|020 7946 0958|415 555 2671|\+?[0-9 ().+-]{0,45}))*",
        ) {
            let (mut new, mut old) = (Vec::new(), Vec::new());
            find_alone(&v, KeyContext { keys: "x" }, &mut new);
            find_stepwise(&v, KeyContext { keys: "x" }, &mut old);
            proptest::prop_assert_eq!(new, old);
        }
    }

    #[test]
    fn skipping_keeps_numbers_a_keyword_or_plus_can_reach() {
        let filler = "Step 12: drain 3 targets and wait 300 seconds. ".repeat(20);
        let far = format!("phone {filler}415 555 2671");
        assert_eq!(excerpts(&far, ""), Vec::<String>::new());
        let near = format!("{filler}phone 415 555 2671 {filler}");
        assert_eq!(excerpts(&near, ""), ["41…71"]);
        let intl = format!("{filler}+44 20 7946 0958 {filler}");
        assert_eq!(excerpts(&intl, ""), ["+44…58"]);
        // The window of the number starts at `t` of "hotel": the slice edge counts as a word
        // boundary, as it does for the stepwise search.
        let edge = format!("hotel{}415 555 2671", " ".repeat(27));
        let mut old = Vec::new();
        find_stepwise(&edge, KeyContext { keys: "" }, &mut old);
        let old: Vec<String> = old.into_iter().map(|h| h.excerpt).collect();
        assert_eq!(excerpts(&edge, ""), old);
    }
}
