//! `nl-bsn`: Dutch citizen service number (burgerservicenummer), `111222333`: nine digits passing
//! the eleven-test (weights 9…2 and −1).

use super::{all_digits, digit, repeated, weighted, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "nl-bsn",
    lens: &[9],
    seps: b" .",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    if n.len() != 9 || !all_digits(n) || repeated(n) {
        return false;
    }
    let sum = weighted(&n[..8], &[9, 8, 7, 6, 5, 4, 3, 2]);
    sum % 11 == digit(n[8])
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_numbers() {
        assert_eq!(found("BSN: 111222333"), ["nl-bsn"]);
        assert_eq!(found("Burgerservicenummer: 111 222 333"), ["nl-bsn"]);
    }

    #[test]
    fn rejects_wrong_checks() {
        for v in ["BSN 111222334", "BSN 000000000", "111222333"] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
