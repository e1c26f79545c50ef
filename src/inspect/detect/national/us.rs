//! `us-itin`: US Individual Taxpayer Identification Number, `912-90-3456`: area 9xx and group
//! 50–65, 70–88, 90–92 or 94–99 (the IRS's ranges). No check digit: keyword-gated.

use super::{all_digits, number, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "us-itin",
    lens: &[9],
    seps: b"- ",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    if n.len() != 9 || !all_digits(n) || n[0] != b'9' {
        return false;
    }
    let group = number(&n[3..5]);
    matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99) && &n[5..] != b"0000"
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_numbers() {
        assert_eq!(found("ITIN: 912-90-3456"), ["us-itin"]);
        assert_eq!(found("individual taxpayer id 912 55 3456"), ["us-itin"]);
    }

    #[test]
    fn rejects_other_groups() {
        for v in [
            "ITIN 912-89-3456",
            "ITIN 912-93-3456",
            "ITIN 812-90-3456",
            "912-90-3456",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
