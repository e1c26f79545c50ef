//! `ca-sin`: Canadian Social Insurance Number, `046 454 286`: nine digits, Luhn check, never
//! starting with 0 or 8.

use super::super::luhn;
use super::{all_digits, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "ca-sin",
    lens: &[9],
    seps: b" -",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    all_digits(n) && !matches!(n.first(), Some(b'0' | b'8')) && luhn(n)
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_sins() {
        assert_eq!(found("SIN 130 692 544"), ["ca-sin"]);
        assert_eq!(
            found("numéro d'assurance sociale : 130-692-544"),
            ["ca-sin"]
        );
        assert_eq!(found("NAS 130692544"), ["ca-sin"]);
    }

    #[test]
    fn rejects_bad_checksums_and_prefixes() {
        for v in [
            "SIN 130 692 545",
            "SIN 046 454 286",
            "SIN 830 692 548",
            "business 130 692 544",
            "SIN 130 692 5440",
            "SIN 130.692.544",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
