//! `jp-my-number`: Japanese Individual Number (マイナンバー), `1234 5678 9018`: eleven digits and
//! a check digit `-Σ wᵢdᵢ mod 11` (0 when that is 10 or 11), weights 6 5 4 3 2 7 6 5 4 3 2.

use super::{all_digits, digit, weighted, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "jp-my-number",
    lens: &[12],
    seps: b" -",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    if n.len() != 12 || !all_digits(n) {
        return false;
    }
    let s = weighted(&n[..11], &[6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]);
    (11 - s % 11) % 11 % 10 == digit(n[11])
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_numbers() {
        assert_eq!(found("マイナンバー：1234 5678 9018"), ["jp-my-number"]);
        assert_eq!(found("個人番号 123456789018"), ["jp-my-number"]);
        assert_eq!(found("My Number: 1234-5678-9018"), ["jp-my-number"]);
    }

    #[test]
    fn rejects_wrong_checks() {
        for v in [
            "マイナンバー 1234 5678 9017",
            "123456789018",
            "my number 12345678901",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
