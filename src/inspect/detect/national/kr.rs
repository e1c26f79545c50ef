//! `kr-rrn`: Korean resident registration number (주민등록번호), `850101-1234566`: birth date
//! (YYMMDD), a digit for sex and century, then six digits. Numbers issued before October 2020
//! end in a check digit `(11 - Σ wᵢdᵢ mod 11) mod 10` and carry a region code up to 96; those
//! issued since are random after the seventh digit, so a birth year from 2020 on is accepted on
//! its date and keyword alone.

use super::{all_digits, digit, is_date, number, weighted, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "kr-rrn",
    lens: &[13],
    seps: b"- ",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

/// The first birth year whose numbers may lack a check digit.
const RANDOM_FROM: u32 = 2020;

fn valid(n: &[u8]) -> bool {
    if n.len() != 13 || !all_digits(n) {
        return false;
    }
    let century = match n[6] {
        b'1' | b'2' | b'5' | b'6' => 1900,
        b'3' | b'4' | b'7' | b'8' => 2000,
        _ => 1800,
    };
    let year = century + number(&n[..2]);
    if !is_date(year, number(&n[2..4]), number(&n[4..6])) {
        return false;
    }
    if year >= RANDOM_FROM {
        return true;
    }
    let check = (11 - weighted(&n[..12], &[2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]) % 11) % 10;
    number(&n[7..9]) <= 96 && check == digit(n[12])
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_numbers() {
        assert_eq!(found("주민등록번호: 850101-1234566"), ["kr-rrn"]);
        assert_eq!(found("RRN 8501011234566"), ["kr-rrn"]);
        // Issued after October 2020: no check digit.
        assert_eq!(found("주민번호 210315-3987654"), ["kr-rrn"]);
    }

    #[test]
    fn rejects_wrong_checks_and_dates() {
        for v in [
            "주민등록번호 850101-1234563",
            "주민등록번호 851301-1234566",
            "주민등록번호 850101-1974561",
            "850101-1234566",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
