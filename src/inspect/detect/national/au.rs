//! `au-tfn`: Australian Tax File Number, `876 543 21` or `123 456 782`: eight or nine digits
//! whose weighted sum (weights 1 4 3 7 5 8 6 9 10) is divisible by 11.

use super::{all_digits, repeated, weighted, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "au-tfn",
    lens: &[8, 9],
    seps: b" -",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    all_digits(n) && !repeated(n) && weighted(n, &[1, 4, 3, 7, 5, 8, 6, 9, 10]) % 11 == 0
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_numbers() {
        assert_eq!(found("TFN: 123 456 782"), ["au-tfn"]);
        assert_eq!(found("tax file number 87654321"), ["au-tfn"]);
    }

    #[test]
    fn rejects_wrong_checks() {
        for v in [
            "TFN 123 456 783",
            "TFN 000 000 000",
            "123456782",
            "TFN 1234567820",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
