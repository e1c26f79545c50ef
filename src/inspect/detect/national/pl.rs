//! `pl-pesel`: Polish national identification number, `44051401359`: birth date (month plus 20
//! per century from 2000, plus 80 for the 1800s), serial, sex and a check digit (weights 1 3 7 9).

use super::{all_digits, digit, is_date, number, weighted, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "pl-pesel",
    lens: &[11],
    seps: b"",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    if n.len() != 11 || !all_digits(n) {
        return false;
    }
    let month = number(&n[2..4]);
    let (century, month) = match month {
        81..=92 => (1800, month - 80),
        61..=72 => (2200, month - 60),
        41..=52 => (2100, month - 40),
        21..=32 => (2000, month - 20),
        m => (1900, m),
    };
    let check = (10 - weighted(&n[..10], &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]) % 10) % 10;
    is_date(century + number(&n[..2]), month, number(&n[4..6])) && check == digit(n[10])
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_numbers() {
        assert_eq!(found("PESEL: 44051401359"), ["pl-pesel"]);
        assert_eq!(found("numer PESEL 02270803624"), ["pl-pesel"]);
    }

    #[test]
    fn rejects_wrong_checks_and_dates() {
        for v in ["PESEL 44051401358", "PESEL 44151401359", "44051401359"] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
