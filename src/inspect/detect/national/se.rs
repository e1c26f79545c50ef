//! `se-personnummer`: Swedish personal identity number, `811228-9874` (`+` instead of `-` from
//! the year one turns 100) or with the century, `19811228-9874`: a birth date (day plus 60 for a
//! coordination number), three digits and a Luhn check over the last ten.

use super::super::luhn;
use super::{all_digits, is_date, number, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "se-personnummer",
    lens: &[10, 12],
    seps: b"-+",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    if !all_digits(n) {
        return false;
    }
    let (years, date) = match n.len() {
        12 if matches!(&n[..2], b"18" | b"19" | b"20") => (number(&n[..4]), &n[2..]),
        // Any century: a leap day needs a leap year, 2000 is one.
        10 => (2000 + number(&n[..2]), n),
        _ => return false,
    };
    let day = number(&date[4..6]);
    let day = if day > 60 { day - 60 } else { day };
    is_date(years, number(&date[2..4]), day) && luhn(&n[n.len() - 10..])
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_numbers() {
        assert_eq!(found("Personnummer: 811228-9874"), ["se-personnummer"]);
        assert_eq!(found("personnummer 19811228-9874"), ["se-personnummer"]);
        assert_eq!(found("pnr 811228+9874"), ["se-personnummer"]);
        assert_eq!(found("samordningsnummer 811288-9871"), ["se-personnummer"]);
    }

    #[test]
    fn rejects_wrong_checks_and_dates() {
        for v in [
            "personnummer 811228-9875",
            "personnummer 811328-9874",
            "personnummer 21811228-9874",
            "811228-9874",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
