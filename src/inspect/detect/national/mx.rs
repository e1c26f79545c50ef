//! `mx-curp`: Mexican population registry key (CURP), `GOMC800101HDFRRR03`: four name letters,
//! birth date, sex (H/M), state code, three consonants, a century character and a check digit
//! over the other seventeen.

use super::{all_digits, is_date, number, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "mx-curp",
    lens: &[18],
    seps: b"",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

/// Birth states (and `NE`, born abroad).
const STATES: &[&[u8; 2]] = &[
    b"AS", b"BC", b"BS", b"CC", b"CH", b"CL", b"CM", b"CS", b"DF", b"DG", b"GR", b"GT", b"HG",
    b"JC", b"MC", b"MN", b"MS", b"NE", b"NL", b"NT", b"OC", b"PL", b"QR", b"QT", b"SL", b"SP",
    b"SR", b"TC", b"TL", b"TS", b"VZ", b"YN", b"ZS",
];
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMN&OPQRSTUVWXYZ";

fn valid(n: &[u8]) -> bool {
    if n.len() != 18
        || !n[..4].iter().all(u8::is_ascii_uppercase)
        || !all_digits(&n[4..10])
        || !n[10..16].iter().all(u8::is_ascii_uppercase)
        || !n[16].is_ascii_alphanumeric()
        || !n[17].is_ascii_digit()
        || !matches!(n[10], b'H' | b'M')
        || !STATES.iter().any(|s| s[..] == n[11..13])
    {
        return false;
    }
    let century = if n[16].is_ascii_digit() { 1900 } else { 2000 };
    let year = century + number(&n[4..6]);
    if !is_date(year, number(&n[6..8]), number(&n[8..10])) {
        return false;
    }
    let mut sum = 0;
    for (i, c) in n[..17].iter().enumerate() {
        let Some(v) = ALPHABET.iter().position(|a| a == c) else {
            return false;
        };
        sum += v * (18 - i);
    }
    usize::from(n[17] - b'0') == (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_curps() {
        assert_eq!(found("CURP: GOMC800101HDFRRR00"), ["mx-curp"]);
        assert_eq!(
            found("Clave Única de Registro de Población BOXW310820HNERXN09"),
            ["mx-curp"]
        );
    }

    #[test]
    fn rejects_wrong_checks_states_and_dates() {
        for v in [
            "CURP GOMC800101HDFRRR01",
            "CURP GOMC800101HXXRRR00",
            "CURP GOMC801301HDFRRR00",
            "GOMC800101HDFRRR00",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
