//! `passport-number` and `drivers-license-number`: travel and driving documents. Their formats
//! differ by country and carry no check digit anyone can verify, so they count only next to a
//! passport or driver's-licence keyword, and only in the generic shapes those documents share:
//! six to nine (passport) or eight to sixteen (licence) upper-case letters and digits, mostly
//! digits, and not a date or a run of one digit.

use super::{is_date, number, repeated, Spec};

pub(super) const PASSPORT: Spec = Spec {
    rule: "passport-number",
    lens: &[6, 7, 8, 9],
    seps: b"",
    valid: valid_passport,
    distance: super::DOCUMENT_DISTANCE,
};

pub(super) const DRIVERS_LICENSE: Spec = Spec {
    rule: "drivers-license-number",
    lens: &[8, 9, 10, 11, 12, 13, 14, 15, 16],
    seps: b"- ",
    valid: valid_license,
    distance: super::DOCUMENT_DISTANCE,
};

/// Letter and digit counts, or `None` when `n` holds anything else.
fn counts(n: &[u8]) -> Option<(usize, usize)> {
    n.iter().try_fold((0, 0), |(l, d), c| match c {
        b'A'..=b'Z' => Some((l + 1, d)),
        b'0'..=b'9' => Some((l, d + 1)),
        _ => None,
    })
}

/// Whether `n` reads as a date `YYYYMMDD` or `DDMMYYYY`.
fn date_like(n: &[u8]) -> bool {
    n.len() == 8
        && n.iter().all(u8::is_ascii_digit)
        && (is_date(number(&n[..4]), number(&n[4..6]), number(&n[6..]))
            || is_date(number(&n[4..]), number(&n[2..4]), number(&n[..2])))
}

fn plausible(n: &[u8], max_letters: usize) -> bool {
    let Some((letters, digits)) = counts(n) else {
        return false;
    };
    letters <= max_letters
        && digits >= 5
        && !repeated(n)
        && !date_like(n)
        && !b"0123456789".windows(n.len()).any(|w| w == n)
}

fn valid_passport(n: &[u8]) -> bool {
    plausible(n, 3)
}

fn valid_license(n: &[u8]) -> bool {
    plausible(n, 9)
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_documents() {
        assert_eq!(found("Passport: C01X00T47"), ["passport-number"]);
        assert_eq!(found("Reisepass Nr. 631706690"), ["passport-number"]);
        assert_eq!(found("护照号码 E12345678"), ["passport-number"]);
        assert_eq!(
            found("Driver's license: D1234567"),
            ["drivers-license-number"]
        );
        assert_eq!(
            found("Führerschein B072RRE2I55"),
            ["drivers-license-number"]
        );
        assert_eq!(
            found("driving licence MORGA753116SM9IJ"),
            ["drivers-license-number"]
        );
    }

    #[test]
    fn rejects_dates_words_and_unkeyed() {
        for v in [
            "passport expires 20310504",
            "passport 123456789",
            "passport 000000000",
            "passport photo ABCDEF",
            "passport x1234567",
            "631706690",
            "driver's license renewal 2031-05-04",
            "drivers license 12345",
            "DL# updated (348) 766-7543",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
