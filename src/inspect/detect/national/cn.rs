//! `cn-resident-id`: Chinese resident identity card number, `11010519491231002X`: region, birth
//! date (YYYYMMDD), order and an ISO 7064 MOD 11-2 check character (`X` for 10).

use super::{all_digits, digit, is_date, number, Spec};

pub(super) const SPEC: Spec = Spec {
    rule: "cn-resident-id",
    lens: &[18],
    seps: b"",
    valid,
    distance: super::KEYWORD_DISTANCE,
};

fn valid(n: &[u8]) -> bool {
    if n.len() != 18 || !all_digits(&n[..17]) || matches!(n[0], b'0' | b'9') {
        return false;
    }
    let year = number(&n[6..10]);
    if !(1900..=2099).contains(&year) || !is_date(year, number(&n[10..12]), number(&n[12..14])) {
        return false;
    }
    // Weight of position i is 2^(17 - i) mod 11.
    let sum: u32 = n[..17]
        .iter()
        .enumerate()
        .map(|(i, &c)| digit(c) * ((1u32 << (17 - i)) % 11))
        .sum();
    let check = (12 - sum % 11) % 11;
    match n[17] {
        b'X' | b'x' => check == 10,
        c => c.is_ascii_digit() && digit(c) == check,
    }
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_ids() {
        assert_eq!(found("身份证号码：11010519491231002X"), ["cn-resident-id"]);
        assert_eq!(found("居民身份证 360426199101010071"), ["cn-resident-id"]);
        assert_eq!(found("Resident ID: 360426199101010071"), ["cn-resident-id"]);
    }

    #[test]
    fn rejects_wrong_checks_and_dates() {
        for v in [
            "身份证 110105194912310021",
            "身份证 360426199113010071",
            "身份证 360426189101010071",
            "360426199101010071",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
