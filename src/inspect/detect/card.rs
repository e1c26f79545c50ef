//! `credit-card-number`: 13–19 digits, optionally grouped by spaces or dashes, that pass Luhn and
//! start with a known issuer prefix of the right length.
//!
//! Called by the scanner on content fields with at least 13 digits. Timestamps, account ids and
//! other long numbers fail the issuer or Luhn checks.

use super::Hit;
use crate::inspect::redact;

/// Rule id.
pub(crate) const RULE: &str = "credit-card-number";
const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;

/// Every card number in `value`.
pub(crate) fn find(value: &str, out: &mut Vec<Hit>) {
    let b = value.as_bytes();
    let mut i = 0;
    // Jump from one digit to the next: in prose most bytes cannot start a card number.
    while let Some(off) = b
        .get(i..)
        .and_then(|r| r.iter().position(u8::is_ascii_digit))
    {
        i += off;
        if i > 0 && attached(b[i - 1]) {
            i += 1;
            continue;
        }
        let (end, buf, n) = candidate(b, i);
        // Most runs in prose are too short: the length is checked before anything else.
        if (MIN_DIGITS..=MAX_DIGITS).contains(&n) && next_ok(b, end) {
            let digits = std::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or("");
            if luhn(digits) && issuer(digits).is_some() {
                out.push(Hit::new(RULE, i, end, redact::card(digits)));
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

/// Digits from `start` (into a fixed buffer: no allocation per number), allowing single spaces
/// or dashes (one kind) between them. Returns the end, the buffer and the digit count.
fn candidate(b: &[u8], start: usize) -> (usize, [u8; MAX_DIGITS + 1], usize) {
    let mut digits = [0u8; MAX_DIGITS + 1];
    let mut n = 0;
    let mut sep: Option<u8> = None;
    let mut i = start;
    while i < b.len() && n <= MAX_DIGITS {
        let c = b[i];
        if c.is_ascii_digit() {
            if let Some(slot) = digits.get_mut(n) {
                *slot = c;
            }
            n += 1;
            i += 1;
        } else if (c == b' ' || c == b'-')
            && sep.is_none_or(|s| s == c)
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            sep = Some(c);
            i += 1;
        } else {
            break;
        }
    }
    (i, digits, n)
}

/// The Luhn checksum.
pub(crate) fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Issuer ranges: (low prefix, high prefix, prefix length, min length, max length, name).
const ISSUERS: &[(u32, u32, usize, usize, usize, &str)] = &[
    (4, 4, 1, 13, 19, "visa"),
    (51, 55, 2, 16, 16, "mastercard"),
    (2221, 2720, 4, 16, 16, "mastercard"),
    (34, 34, 2, 15, 15, "amex"),
    (37, 37, 2, 15, 15, "amex"),
    (6011, 6011, 4, 16, 19, "discover"),
    (644, 649, 3, 16, 19, "discover"),
    (65, 65, 2, 16, 19, "discover"),
    (3528, 3589, 4, 16, 19, "jcb"),
    (300, 305, 3, 14, 19, "diners"),
    (36, 36, 2, 14, 19, "diners"),
    (38, 39, 2, 16, 19, "diners"),
    (62, 62, 2, 16, 19, "unionpay"),
    (2200, 2204, 4, 16, 19, "mir"),
    (5018, 5018, 4, 13, 19, "maestro"),
    (5020, 5020, 4, 13, 19, "maestro"),
    (5038, 5038, 4, 13, 19, "maestro"),
    (5893, 5893, 4, 13, 19, "maestro"),
    (6304, 6304, 4, 13, 19, "maestro"),
    (6759, 6763, 4, 13, 19, "maestro"),
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
        assert_eq!(excerpts("30569309025904"), ["3056 **** **** 5904"]);
        assert_eq!(excerpts("6200000000000005"), ["6200 **** **** 0005"]);
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
        assert!(luhn("79927398713"));
        assert!(!luhn("79927398710"));
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
            let (end, buf, n) = candidate(b, i);
            let digits = std::str::from_utf8(buf.get(..n).unwrap_or(&[])).unwrap_or("");
            let next_ok = match b.get(end) {
                None => true,
                Some(b'.') => !b.get(end + 1).is_some_and(u8::is_ascii_digit),
                Some(c) if attached(*c) => false,
                Some(_) => true,
            };
            let len_ok = (MIN_DIGITS..=MAX_DIGITS).contains(&n);
            if next_ok && len_ok && luhn(digits) && issuer(digits).is_some() {
                out.push(Hit::new(RULE, i, end, redact::card(digits)));
            }
            i = end.max(i + 1);
        }
    }

    proptest::proptest! {
        #[test]
        fn jumping_finds_what_stepping_found(
            v in "([a-z_. -]{0,3}(4111 1111 1111 1111|4111-1111-1111-1111|5500005555555559|[0-9 .-]{0,20}))*",
        ) {
            let (mut new, mut old) = (Vec::new(), Vec::new());
            find(&v, &mut new);
            find_stepwise(&v, &mut old);
            proptest::prop_assert_eq!(new, old);
        }
    }
}
