//! `fr-nir`: French social security number (NIR, INSEE number), `1 85 05 78 006 084 91`: sex
//! (1, 2, or 3, 4, 7, 8 for temporary numbers), year, month, department (`2A`/`2B` for Corsica),
//! commune, order, and a two-digit key `97 - (first 13 digits mod 97)` (Corsica counts as 19/18).

use super::{all_digits, number, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "fr-nir",
    lens: &[15],
    seps: b" .",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    let (Some(head), Some(dept), Some(tail)) = (n.get(..5), n.get(5..7), n.get(7..)) else {
        return false;
    };
    if !all_digits(head) || !all_digits(tail) || !b"123478".contains(&head[0]) {
        return false;
    }
    let dept = match dept {
        b"2A" => 19,
        b"2B" => 18,
        d if all_digits(d) => u64::from(number(d)),
        _ => return false,
    };
    let month = number(&head[3..5]);
    let month_ok = (1..=12).contains(&month) || (20..=42).contains(&month) || month >= 50;
    let body = u64::from(number(head)) * 10u64.pow(8)
        + dept * 10u64.pow(6)
        + u64::from(number(&tail[..6]));
    month_ok && u64::from(number(&tail[6..])) == 97 - body % 97
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_nirs() {
        assert_eq!(found("NIR 1 85 05 78 006 084 91"), ["fr-nir"]);
        assert_eq!(found("n° de Sécurité sociale: 185057800608491"), ["fr-nir"]);
        assert_eq!(found("INSEE 2 90 02 2A 004 001 29"), ["fr-nir"]);
    }

    #[test]
    fn rejects_wrong_keys() {
        for v in [
            "NIR 1 85 05 78 006 084 92",
            "185057800608491",
            "NIR 5 85 05 78 006 084 91",
            "NIR 2 90 02 2B 004 001 29",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
