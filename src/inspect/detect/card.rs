//! `credit-card-number`: 13–19 digits, optionally grouped by spaces or dashes, that pass Luhn and
//! start with a known issuer prefix of the right length.
//!
//! Called by the scanner on content fields with at least 13 digits. Timestamps, account ids and
//! other long numbers fail the issuer or Luhn checks. A grouped number followed by more digits
//! (`4111 1111 1111 1111 12/27`, an expiry) is cut at a group boundary; digits inside an IBAN
//! (`DE89 3704 0044 …`) belong to the IBAN.

use super::{luhn, Hit};
use crate::inspect::redact;

/// Rule id.
pub(crate) const RULE: &str = "credit-card-number";
const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;

/// Every card number in `value`.
pub(crate) fn find(value: &str, out: &mut Vec<Hit>) {
    let b = value.as_bytes();
    let mut i = 0;
    // One buffer for every run: prose holds a number every few words.
    let mut cand = Candidate::default();
    // Jump from one digit to the next: in prose most bytes cannot start a card number.
    while let Some(at) = super::next_ascii_digit(b, i) {
        i = at;
        if i > 0 && attached(b[i - 1]) {
            i += 1;
            continue;
        }
        cand.fill(b, i);
        let end = cand.end;
        // Most runs in prose are too short: the length is checked before anything else.
        if cand.n >= MIN_DIGITS {
            if let Some((stop, n)) = cand.best(b) {
                let digits = std::str::from_utf8(cand.digits.get(..n).unwrap_or(&[])).unwrap_or("");
                if !super::iban::covers(value, i, stop) {
                    out.push(Hit::new(RULE, i, stop, redact::card(digits)));
                }
            }
        }
        i = end.max(i + 1);
    }
}

/// Whether the run of digits ending at `end` stands alone on its right.
fn next_ok(b: &[u8], end: usize) -> bool {
    match b.get(end) {
        None => true,
        Some(b'.') => !b.get(end + 1).is_some_and(u8::is_ascii_digit),
        Some(c) if attached(*c) => false,
        Some(_) => true,
    }
}

/// Characters that glue a digit run to a word, a version or a decimal.
fn attached(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
}

/// Most digit groups remembered per run (a card has at most five).
const MAX_GROUPS: usize = 8;

/// One run of digits with single separators, in fixed buffers (no allocation per number).
#[derive(Default)]
struct Candidate {
    /// The run's digits (the first [`MAX_DIGITS`] + 1).
    digits: [u8; MAX_DIGITS + 1],
    /// Digit count (stops counting past [`MAX_DIGITS`]).
    n: usize,
    /// Byte end of the run.
    end: usize,
    /// (byte end, digit count) after each group but the last.
    groups: [(usize, usize); MAX_GROUPS],
    /// How many of `groups` are set.
    cuts: usize,
}

impl Candidate {
    /// Takes the run of digits from `start`, allowing single spaces or dashes (one kind) between
    /// them.
    fn fill(&mut self, b: &[u8], start: usize) {
        self.n = 0;
        self.cuts = 0;
        let mut sep: Option<u8> = None;
        let mut i = start;
        while i < b.len() && self.n <= MAX_DIGITS {
            let x = b[i];
            if x.is_ascii_digit() {
                if let Some(slot) = self.digits.get_mut(self.n) {
                    *slot = x;
                }
                self.n += 1;
                i += 1;
            } else if (x == b' ' || x == b'-')
                && sep.is_none_or(|s| s == x)
                && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            {
                sep = Some(x);
                if let Some(slot) = self.groups.get_mut(self.cuts) {
                    *slot = (i, self.n);
                    self.cuts += 1;
                }
                i += 1;
            } else {
                break;
            }
        }
        self.end = i;
    }

    /// The whole run if it is a card, else the longest run of whole groups that is one, where
    /// the separator kept the run going (`4111 1111 1111 1111 12/27`): (byte end, digit count).
    fn best(&self, b: &[u8]) -> Option<(usize, usize)> {
        let whole = std::iter::once((self.end, self.n));
        let cuts = self.groups.iter().take(self.cuts).rev().copied();
        whole.chain(cuts).find(|&(end, n)| {
            let ok_end = if end == self.end {
                next_ok(b, end)
            } else {
                true
            };
            let digits = std::str::from_utf8(self.digits.get(..n).unwrap_or(&[])).unwrap_or("");
            (MIN_DIGITS..=MAX_DIGITS).contains(&n)
                && ok_end
                && luhn(digits.as_bytes())
                && issuer(digits).is_some()
        })
    }
}

/// Issuer ranges: (low prefix, high prefix, prefix length, min length, max length, name).
/// Narrow national networks come first so that [`issuer`] names them. Whole blocks where a
/// network owns the block even if not every range is issued yet: JCB's `35` (3500–3527 too)
/// and Maestro's `50` and `67`. The rest of ISO/IEC 7812's national-use `9` stays out: only
/// the schemes named here (Troy, Prostir, BC Card) are cards there.
const ISSUERS: &[(u32, u32, usize, usize, usize, &str)] = &[
    (401178, 401179, 6, 16, 16, "elo"),
    (431274, 431274, 6, 16, 16, "elo"),
    (438935, 438935, 6, 16, 16, "elo"),
    (451416, 451416, 6, 16, 16, "elo"),
    (457393, 457393, 6, 16, 16, "elo"),
    (457631, 457632, 6, 16, 16, "elo"),
    (504175, 504175, 6, 16, 16, "elo"),
    (506699, 506778, 6, 16, 16, "elo"),
    (509000, 509999, 6, 16, 16, "elo"),
    (627780, 627780, 6, 16, 16, "elo"),
    (636297, 636297, 6, 16, 16, "elo"),
    (636368, 636368, 6, 16, 16, "elo"),
    (650031, 650051, 6, 16, 16, "elo"),
    (650405, 650439, 6, 16, 16, "elo"),
    (650485, 650538, 6, 16, 16, "elo"),
    (650541, 650598, 6, 16, 16, "elo"),
    (650700, 650727, 6, 16, 16, "elo"),
    (650901, 650978, 6, 16, 16, "elo"),
    (651652, 651679, 6, 16, 16, "elo"),
    (655000, 655058, 6, 16, 16, "elo"),
    (606282, 606282, 6, 16, 19, "hipercard"),
    (384100, 384100, 6, 16, 19, "hipercard"),
    (384140, 384140, 6, 16, 19, "hipercard"),
    (384160, 384160, 6, 16, 19, "hipercard"),
    (9792, 9792, 4, 16, 16, "troy"),
    (9804, 9804, 4, 16, 16, "prostir"),
    (5019, 5019, 4, 16, 16, "dankort"),
    (506099, 506198, 6, 16, 19, "verve"),
    (507865, 507964, 6, 16, 19, "verve"),
    (650002, 650027, 6, 16, 19, "verve"),
    (81, 82, 2, 16, 19, "rupay"),
    (508, 508, 3, 16, 16, "rupay"),
    (353, 353, 3, 16, 16, "rupay"),
    (356, 356, 3, 16, 16, "rupay"),
    (94, 94, 2, 16, 16, "bc-card"),
    (56, 58, 2, 16, 19, "maestro"),
    (67, 67, 2, 16, 19, "maestro"),
    (4, 4, 1, 13, 19, "visa"),
    (51, 55, 2, 16, 16, "mastercard"),
    (2221, 2720, 4, 16, 16, "mastercard"),
    (34, 34, 2, 15, 15, "amex"),
    (37, 37, 2, 15, 15, "amex"),
    (6011, 6011, 4, 16, 19, "discover"),
    (644, 649, 3, 16, 19, "discover"),
    (65, 65, 2, 16, 19, "discover"),
    (60, 60, 2, 16, 16, "rupay"),
    (35, 35, 2, 16, 19, "jcb"),
    (2131, 2131, 4, 15, 15, "jcb"),
    (1800, 1800, 4, 15, 15, "jcb"),
    (300, 305, 3, 14, 19, "diners"),
    (36, 36, 2, 14, 19, "diners"),
    (38, 39, 2, 14, 19, "diners"),
    (62, 62, 2, 16, 19, "unionpay"),
    (2200, 2204, 4, 16, 19, "mir"),
    (5018, 5018, 4, 13, 19, "maestro"),
    (5020, 5020, 4, 13, 19, "maestro"),
    (5038, 5038, 4, 13, 19, "maestro"),
    (5893, 5893, 4, 13, 19, "maestro"),
    (6304, 6304, 4, 13, 19, "maestro"),
    (6759, 6763, 4, 13, 19, "maestro"),
    (50, 50, 2, 16, 19, "maestro"),
];

/// The card network a number belongs to, if its prefix and length match one.
pub(crate) fn issuer(digits: &str) -> Option<&'static str> {
    ISSUERS.iter().find_map(|(lo, hi, plen, min, max, name)| {
        let prefix: u32 = digits.get(..*plen)?.parse().ok()?;
        let fits = (*lo..=*hi).contains(&prefix) && (*min..=*max).contains(&digits.len());
        fits.then_some(*name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts(v: &str) -> Vec<String> {
        super::super::excerpts_of(|out| find(v, out))
    }

    #[test]
    fn finds_cards_of_each_network() {
        assert_eq!(excerpts("4111111111111111"), ["4111 **** **** 1111"]);
        assert_eq!(
            excerpts("card 4111 1111 1111 1111."),
            ["4111 **** **** 1111"]
        );
        assert_eq!(excerpts("5555-5555-5555-4444"), ["5555 **** **** 4444"]);
        assert_eq!(excerpts("2223003122003222"), ["2223 **** **** 3222"]);
        assert_eq!(excerpts("3782 822463 10005"), ["3782 **** **** 0005"]);
        assert_eq!(excerpts("6011111111111117"), ["6011 **** **** 1117"]);
        assert_eq!(excerpts("3530111333300000"), ["3530 **** **** 0000"]);
        assert_eq!(excerpts("2131 3018 3437 431"), ["2131 **** **** 7431"]);
        assert_eq!(excerpts("30569309025904"), ["3056 **** **** 5904"]);
        assert_eq!(excerpts("6200000000000005"), ["6200 **** **** 0005"]);
        assert_eq!(
            excerpts("6212 3418 0743 5968 350"),
            ["6212 **** **** 8350"],
            "UnionPay, 19 digits"
        );
    }

    #[test]
    fn finds_national_networks() {
        for (v, network) in [
            ("6362973044674197", "elo"),
            ("5067 2306 6240 5424", "elo"),
            ("6062821577589535", "hipercard"),
            ("3841001814137515059", "hipercard"),
            ("9792 0330 8987 3172", "troy"),
            ("5019 7133 7039 9806", "dankort"),
            ("5061 0438 6317 4243 706", "verve"),
            ("6080 1234 5678 9015", "rupay"),
            ("8171 9919 7758 8165", "rupay"),
            ("9409 1273 9503 3797", "bc-card"),
            ("9804 1234 5678 9014", "prostir"),
            ("3500 1234 5678 9014", "jcb"),
            ("3812 3456 7890 11", "diners"),
            ("6708 1234 5678 9017", "maestro"),
        ] {
            let digits: String = v.chars().filter(char::is_ascii_digit).collect();
            assert!(luhn(digits.as_bytes()), "test value {v} fails Luhn");
            assert_eq!(issuer(&digits), Some(network), "{v}");
            assert_eq!(excerpts(v).len(), 1, "{v}");
        }
    }

    #[test]
    fn a_card_followed_by_its_expiry_is_found() {
        assert_eq!(
            excerpts("card 4111 1111 1111 1111 12/27"),
            ["4111 **** **** 1111"]
        );
        assert_eq!(excerpts("4111111111111111 12/27"), ["4111 **** **** 1111"]);
        assert_eq!(
            excerpts("5555-5555-5555-4444-09/28"),
            ["5555 **** **** 4444"]
        );
        let mut out = Vec::new();
        find("4111 1111 1111 1111 12/27", &mut out);
        assert_eq!((out[0].start, out[0].end), (0, 19));
    }

    #[test]
    fn digits_inside_an_iban_are_not_a_card() {
        for v in [
            "DE89 3704 0044 0532 0130 00",
            "iban: GB82 WEST 1234 5698 7654 32",
            "FR76 3000 6000 0112 3456 7890 189",
            "BR15 0000 0000 0000 1093 2840 814 P2",
        ] {
            assert_eq!(excerpts(v), Vec::<String>::new(), "{v}");
        }
    }

    #[test]
    fn rejects_other_numbers() {
        for v in [
            "4111111111111112",
            "1700000000000000",
            "123456789012",
            "4111 1111-1111 1111",
            "v4111111111111111",
            "1.4111111111111111",
            "4111111111111111.5",
            "41111111111111111111",
            "9111111111111111",
            "1234 5678 9012 3456",
        ] {
            assert_eq!(excerpts(v), Vec::<String>::new(), "{v}");
        }
    }

    #[test]
    fn luhn_matches_known_values() {
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"79927398710"));
    }

    /// `find` before it jumped from digit to digit: one step per byte.
    fn find_stepwise(value: &str, out: &mut Vec<Hit>) {
        let b = value.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_digit() || (i > 0 && attached(b[i - 1])) {
                i += 1;
                continue;
            }
            let mut cand = Candidate::default();
            cand.fill(b, i);
            if let Some((stop, n)) = cand.best(b) {
                let digits = std::str::from_utf8(&cand.digits[..n]).unwrap_or("");
                if !super::super::iban::covers(value, i, stop) {
                    out.push(Hit::new(RULE, i, stop, redact::card(digits)));
                }
            }
            i = cand.end.max(i + 1);
        }
    }

    proptest::proptest! {
        #[test]
        fn jumping_finds_what_stepping_found(
            v in "([a-z_. -]{0,3}(4111 1111 1111 1111|4111-1111-1111-1111|5500005555555559|DE89 3704 0044 0532 0130 00|[0-9 .-]{0,20}))*",
        ) {
            let (mut new, mut old) = (Vec::new(), Vec::new());
            find(&v, &mut new);
            find_stepwise(&v, &mut old);
            proptest::prop_assert_eq!(new, old);
        }
    }
}
