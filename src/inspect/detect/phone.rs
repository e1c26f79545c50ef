//! `phone-number`: an international number (`+` and country code), or a national number next to
//! a phone keyword (`phone`, `tel`, `mobile`, …), that libphonenumber's metadata (the
//! `phonenumber` crate) says is a valid number.
//!
//! Called by the scanner on content fields with digits and either a `+` or a phone keyword.
//! Candidates are reduced to plain digits before they reach the parser.

use memchr::memmem;
use phonenumber::country::Id;

use super::{contains_word, floor_boundary, Hit, KeyContext};
use crate::inspect::redact;

/// Rule id.
pub(crate) const RULE: &str = "phone-number";
/// Keywords that count anywhere in a word.
pub(crate) const KEYWORDS: &[&str] = &["phone", "mobile", "whatsapp", "telefon"];
/// Short keywords that must stand as their own word.
const SHORT_KEYWORDS: &[&str] = &["tel", "cell", "fax", "msisdn", "sms"];
/// Regions tried for national numbers written with a trunk `0` (no country code).
const REGIONS: &[Id] = &[Id::GB, Id::DE, Id::FR, Id::IN, Id::AU];
const KEYWORD_DISTANCE: usize = 30;
const MIN_INTL: usize = 8;
const MIN_NATIONAL: usize = 7;
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

/// Every phone number in `value`.
pub(crate) fn find(value: &str, ctx: KeyContext<'_>, out: &mut Vec<Hit>) {
    let b = value.as_bytes();
    let keyed = has_keyword(ctx.keys);
    let mut ahead = None;
    // One buffer for every candidate: prose holds a number every few words.
    let mut cand = Candidate::default();
    let mut plus = NextPlus::default();
    let mut i = 0;
    // Jump from one byte that can start a number to the next.
    let starts = |c: &u8| STARTS[usize::from(*c)];
    while let Some(off) = b.get(i..).and_then(|r| r.iter().position(starts)) {
        i += off;
        if !keyed && b[i] != b'+' {
            let ahead = ahead.get_or_insert_with(|| KeywordsAhead::new(value));
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
                    ahead.get_or_insert_with(|| KeywordsAhead::new(value)),
                )
        };
        if let Some((end, excerpt)) = judge(value, i, &cand, near) {
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
/// to `memmem` and `memchr`; which starts their matches rule out is this detector's own window
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

/// Whether a phone keyword sits in the [`KEYWORD_DISTANCE`] bytes before `start`.
fn keyword_before(value: &str, start: usize, ahead: &mut KeywordsAhead) -> bool {
    let from = floor_boundary(value, start.saturating_sub(KEYWORD_DISTANCE));
    ahead.any_within(from, start)
        && has_keyword(&value.get(from..start).unwrap_or("").to_ascii_lowercase())
}

/// The next occurrence of each keyword in one value, searched forward only.
///
/// Candidates are met left to right, so their look-back windows only move right: one forward
/// search per keyword over the whole value tells which windows hold no keyword at all, and only
/// the others get the word-boundary check. In prose full of numbers this saves a lower-cased copy
/// and nine substring searches per number.
struct KeywordsAhead {
    lower: String,
    /// Per keyword of [`KEYWORDS`] then [`SHORT_KEYWORDS`]: where it next occurs, if it does.
    next: Vec<Option<usize>>,
}

impl KeywordsAhead {
    fn words() -> impl Iterator<Item = &'static str> {
        KEYWORDS.iter().chain(SHORT_KEYWORDS).copied()
    }

    fn new(value: &str) -> KeywordsAhead {
        let lower = value.to_ascii_lowercase();
        // `memmem` searches with vector instructions, where `str::find` goes byte by byte.
        let next = Self::words()
            .map(|k| memmem::find(lower.as_bytes(), k.as_bytes()))
            .collect();
        KeywordsAhead { lower, next }
    }

    /// Moves every keyword's next occurrence to at or after `from`.
    fn advance(&mut self, from: usize) {
        let lower = &self.lower;
        for (k, next) in Self::words().zip(self.next.iter_mut()) {
            while let Some(at) = next.filter(|at| *at < from) {
                // Keywords are ASCII: one past a match start is a char boundary.
                *next = lower
                    .as_bytes()
                    .get(at + 1..)
                    .and_then(|s| memmem::find(s, k.as_bytes()))
                    .map(|p| p + at + 1);
            }
        }
    }

    /// Whether some keyword occurs wholly inside `from..to`. Calls must not move `from` left.
    fn any_within(&mut self, from: usize, to: usize) -> bool {
        self.advance(from);
        Self::words()
            .zip(&self.next)
            .any(|(k, next)| next.is_some_and(|at| at + k.len() <= to))
    }

    /// Where the first keyword occurrence at or after `from` starts. Calls must not move `from`
    /// left (shared with [`KeywordsAhead::any_within`]).
    fn first_from(&mut self, from: usize) -> Option<usize> {
        self.advance(from);
        self.next.iter().flatten().min().copied()
    }
}

/// `near` is asked only for national numbers, which need a phone keyword close by.
fn judge(
    value: &str,
    start: usize,
    cand: &Candidate,
    near: impl FnOnce() -> bool,
) -> Option<(usize, String)> {
    let b = value.as_bytes();
    let attached = b.get(cand.end).is_some_and(|c| c.is_ascii_alphanumeric());
    let intl = b[start] == b'+';
    if !intl && !near() {
        return None;
    }
    let min = if intl { MIN_INTL } else { MIN_NATIONAL };
    // Longest prefix of whole digit groups that is a valid number: `+44 121 234 5347 (24/7)`.
    cand.cuts.iter().rev().find_map(|&(end, n)| {
        let digits = cand.digits.get(..n)?;
        if n < min || n > MAX_DIGITS || (attached && end == cand.end) {
            return None;
        }
        if intl && valid_intl(digits) {
            return Some((end, format!("+{}", redact::ends(digits, 2, 2))));
        }
        (!intl && valid_national(digits)).then(|| (end, redact::ends(digits, 2, 2)))
    })
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

/// National numbers: NANP (no trunk prefix), or a trunk `0` and one of [`REGIONS`].
fn valid_national(digits: &str) -> bool {
    if !digits.starts_with('0') {
        return phonenumber::parse(Some(Id::US), digits).is_ok_and(|n| phonenumber::is_valid(&n));
    }
    REGIONS
        .iter()
        .any(|r| phonenumber::parse(Some(*r), digits).is_ok_and(|n| phonenumber::is_valid(&n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts(v: &str, keys: &str) -> Vec<String> {
        super::super::excerpts_of(|out| find(v, KeyContext { keys }, out))
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
    }

    #[test]
    fn look_back_matches_window_search() {
        // A keyword inside the window, one cut by the window edge, one too far back.
        let v = "call sms 0 and tel 1 ... phone.........................................  2";
        let mut ahead = KeywordsAhead::new(v);
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
            let mut ahead = KeywordsAhead::new(&v);
            for start in (0..=v.len()).filter(|i| v.is_char_boundary(*i)) {
                let from = floor_boundary(&v, start.saturating_sub(KEYWORD_DISTANCE));
                let window = has_keyword(&v[from..start].to_ascii_lowercase());
                proptest::prop_assert_eq!(keyword_before(&v, start, &mut ahead), window);
            }
        }

        #[test]
        fn parser_never_panics_on_digit_strings(digits in "[0-9]{1,16}") {
            let _ = valid_intl(&digits);
            let _ = valid_national(&digits);
        }
    }

    /// `find` before it jumped between number starts and reused one candidate buffer.
    fn find_stepwise(value: &str, ctx: KeyContext<'_>, out: &mut Vec<Hit>) {
        let b = value.as_bytes();
        let keyed = has_keyword(ctx.keys);
        let mut ahead = None;
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
                        ahead.get_or_insert_with(|| KeywordsAhead::new(value)),
                    )
            };
            if let Some((end, excerpt)) = judge(value, i, &cand, near) {
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
            find(&v, KeyContext { keys: &keys }, &mut new);
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
            find(&v, KeyContext { keys: "x" }, &mut new);
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
