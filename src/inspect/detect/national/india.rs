//! `in-aadhaar` and `in-pan`: India's Aadhaar number (`2341 2341 2346`: twelve digits, not
//! starting with 0 or 1, not a palindrome, Verhoeff check) and Permanent Account Number
//! (`AFZPK7190K`: five letters, the fourth the holder type, four digits, a letter; no check
//! digit, so only the keyword and the shape carry it).

use super::{all_digits, digit, Spec};

pub(super) const AADHAAR: Spec = Spec {
    rule: "in-aadhaar",
    lens: &[12],
    seps: b" -",
    valid: valid_aadhaar,
    distance: super::KEYWORD_DISTANCE,
};

pub(super) const PAN: Spec = Spec {
    rule: "in-pan",
    lens: &[10],
    seps: b"",
    valid: valid_pan,
    distance: super::KEYWORD_DISTANCE,
};

/// Verhoeff's dihedral-group multiplication table.
const D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
/// Verhoeff's position permutation.
const P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

fn verhoeff(n: &[u8]) -> bool {
    let c = n.iter().rev().enumerate().fold(0u8, |c, (i, &d)| {
        D[usize::from(c)][usize::from(P[i % 8][digit(d) as usize])]
    });
    c == 0
}

fn valid_aadhaar(n: &[u8]) -> bool {
    n.len() == 12
        && all_digits(n)
        && !matches!(n[0], b'0' | b'1')
        && !n.iter().eq(n.iter().rev())
        && verhoeff(n)
}

fn valid_pan(n: &[u8]) -> bool {
    n.len() == 10
        && n[..5].iter().all(u8::is_ascii_uppercase)
        && b"ABCFGHLJPTK".contains(&n[3])
        && all_digits(&n[5..9])
        && &n[5..9] != b"0000"
        && n[9].is_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_numbers() {
        assert_eq!(found("Aadhaar: 2341 2341 2346"), ["in-aadhaar"]);
        assert_eq!(found("aadhar no 234123412346"), ["in-aadhaar"]);
        assert_eq!(found("PAN: AFZPK7190K"), ["in-pan"]);
        assert_eq!(found("Permanent Account Number AFZPK7190K"), ["in-pan"]);
    }

    #[test]
    fn rejects_wrong_checks_and_shapes() {
        for v in [
            "Aadhaar 2341 2341 2347",
            "Aadhaar 1341 2341 2346",
            "AFZPK7190K",
            "PAN AFZXK7190K",
            "PAN AFZPK0000K",
            "company AFZPK7190K",
            "234123412346",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
