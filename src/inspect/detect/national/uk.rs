//! `uk-nino`: UK National Insurance number, `AB123456C` (also `AB 12 34 56 C`): two prefix
//! letters (D, F, I, Q, U, V never; O never second; BG, GB, KN, NK, NT, TN and ZZ not
//! allocated), six digits, suffix A–D. No check digit: the keyword gate and the allocation rules
//! carry it.

use super::{all_digits, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "uk-nino",
    lens: &[9],
    seps: b" ",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    let [a, b, rest @ .., suffix] = n else {
        return false;
    };
    let first_ok = a.is_ascii_uppercase() && !b"DFIQUV".contains(a);
    let second_ok = b.is_ascii_uppercase() && !b"DFIOQUV".contains(b);
    let prefix = [*a, *b];
    let unallocated = [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"]
        .iter()
        .any(|p| **p == prefix);
    first_ok
        && second_ok
        && !unallocated
        && all_digits(rest)
        && rest.len() == 6
        && (b'A'..=b'D').contains(suffix)
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_ninos() {
        assert_eq!(found("NINO: AB123456C"), ["uk-nino"]);
        assert_eq!(
            found("National Insurance number JG 10 37 75 A"),
            ["uk-nino"]
        );
        assert_eq!(found("NI no. CE 123456 D"), ["uk-nino"]);
    }

    #[test]
    fn rejects_unallocated_and_unkeyed() {
        for v in [
            "AB123456C",
            "nino ZZ123456A",
            "nino GB123456A",
            "nino DA123456A",
            "nino AO123456A",
            "nino AB123456E",
            "nino AB12345C",
            "nino ab123456c",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
