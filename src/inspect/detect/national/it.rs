//! `it-codice-fiscale`: Italian fiscal code of a person, `RSSMRA85T10A562S`: six letters of the
//! name, birth year, month letter, day (plus 40 for women), municipality code and a check letter;
//! digits may be replaced by `LMNPQRSTUV` (omocodia) when two people would share a code.

use super::Spec;

pub(super) const SPEC: Spec = Spec {
    rule: "it-codice-fiscale",
    lens: &[16],
    seps: b"",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

/// Months A (January) to T (December).
const MONTHS: &[u8] = b"ABCDEHLMPRST";
/// Letters standing for digits 0–9 under omocodia.
const OMOCODIA: &[u8] = b"LMNPQRSTUV";
/// Values of characters in odd positions (first, third, …), for `0`–`9` then `A`–`Z`.
const ODD: [u32; 36] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6,
    8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// The digit a digit position holds, undoing omocodia.
fn numeral(c: u8) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(u32::from(c - b'0'));
    }
    OMOCODIA
        .iter()
        .position(|&o| o == c)
        .and_then(|p| u32::try_from(p).ok())
}

fn valid(n: &[u8]) -> bool {
    if n.len() != 16
        || !n
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let letters = [0, 1, 2, 3, 4, 5, 8, 11, 15];
    if !letters.iter().all(|&i| n[i].is_ascii_uppercase()) || !MONTHS.contains(&n[8]) {
        return false;
    }
    let mut digits = [0u32; 7];
    for (slot, &i) in digits.iter_mut().zip(&[6, 7, 9, 10, 12, 13, 14]) {
        let Some(d) = numeral(n[i]) else {
            return false;
        };
        *slot = d;
    }
    let day = digits[2] * 10 + digits[3];
    if !(1..=31).contains(&(day % 40)) || day > 71 {
        return false;
    }
    let value = |c: u8| {
        if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A')
        }
    };
    let index = |c: u8| {
        if c.is_ascii_digit() {
            usize::from(c - b'0')
        } else {
            usize::from(c - b'A') + 10
        }
    };
    let sum: u32 = n[..15]
        .iter()
        .enumerate()
        .map(|(i, &c)| if i % 2 == 0 { ODD[index(c)] } else { value(c) })
        .sum();
    u32::from(n[15] - b'A') == sum % 26
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_codes() {
        assert_eq!(
            found("Codice fiscale: RSSMRA85T10A562S"),
            ["it-codice-fiscale"]
        );
        assert_eq!(found("C.F. RSSMRA85T10A562S"), ["it-codice-fiscale"]);
        // Omocodia: the last digit replaced by its letter.
        assert_eq!(found("cod. fisc. RSSMRA85T10A56NH"), ["it-codice-fiscale"]);
    }

    #[test]
    fn rejects_wrong_check_letters_and_dates() {
        for v in [
            "codice fiscale RSSMRA85T10A562T",
            "codice fiscale RSSMRA85Z10A562S",
            "codice fiscale RSSMRA85T92A562S",
            "RSSMRA85T10A562S",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
