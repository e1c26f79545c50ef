//! `de-tax-id`: German tax identification number (Steuer-IdNr), `65 929 970 489`: eleven digits,
//! not starting with 0; in the first ten exactly one digit appears twice or three times and the
//! others at most once; ISO 7064 MOD 11,10 check digit.

use super::{all_digits, digit, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "de-tax-id",
    lens: &[11],
    seps: b" /",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    if n.len() != 11 || !all_digits(n) || n[0] == b'0' {
        return false;
    }
    let mut counts = [0u8; 10];
    for &c in &n[..10] {
        counts[digit(c) as usize] += 1;
    }
    let repeats: Vec<u8> = counts.iter().copied().filter(|&c| c > 1).collect();
    if !matches!(repeats.as_slice(), [2] | [3]) {
        return false;
    }
    let mut product = 10;
    for &c in &n[..10] {
        let mut sum = (digit(c) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = sum * 2 % 11;
    }
    (11 - product) % 10 == digit(n[10])
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_tax_ids() {
        assert_eq!(found("Steuer-ID: 65 929 970 489"), ["de-tax-id"]);
        assert_eq!(
            found("Steueridentifikationsnummer 36574261809"),
            ["de-tax-id"]
        );
        assert_eq!(
            found("steuerliche Identifikationsnummer: 65929970489"),
            ["de-tax-id"]
        );
    }

    #[test]
    fn rejects_bad_checks_and_repeat_patterns() {
        for v in [
            "Steuer-ID 65929970488",
            "Steuer-ID 05929970489",
            "Steuer-ID 12345678903",
            "Steuer-ID 11111111116",
            "65929970489",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
