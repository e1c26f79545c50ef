//! `es-dni`: Spanish national identity number (DNI, `12345678Z`) or foreigner's number (NIE,
//! `X1234567L`, X/Y/Z standing for 0/1/2): eight digits and the letter of their value mod 23.

use super::{all_digits, number, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "es-dni",
    lens: &[9],
    seps: b" -",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn valid(n: &[u8]) -> bool {
    let [first, middle @ .., letter] = n else {
        return false;
    };
    let lead = match first {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        c if c.is_ascii_digit() => u32::from(c - b'0'),
        _ => return false,
    };
    if middle.len() != 7 || !all_digits(middle) {
        return false;
    }
    let value = lead * 10_000_000 + number(middle);
    LETTERS.get((value % 23) as usize) == Some(letter)
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_dnis_and_nies() {
        assert_eq!(found("DNI 54362315K"), ["es-dni"]);
        assert_eq!(found("NIE: X2482300W"), ["es-dni"]);
        assert_eq!(
            found("Documento Nacional de Identidad 54362315-K"),
            ["es-dni"]
        );
    }

    #[test]
    fn rejects_wrong_letters() {
        for v in [
            "DNI 54362315L",
            "NIE X2482300X",
            "DNI 5436231K",
            "54362315K",
            "DNI 54362315k",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
