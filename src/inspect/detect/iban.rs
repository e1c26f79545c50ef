//! `iban`: an International Bank Account Number with its country's length and a valid mod-97
//! check, printed compact or in groups of four.
//!
//! Called by the scanner on content fields with enough digits. The country table is the SWIFT
//! IBAN registry's lengths.

use super::Hit;

/// Rule id.
pub(crate) const RULE: &str = "iban";

/// IBAN length per country code.
#[rustfmt::skip]
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16),
    ("BG", 22), ("BH", 22), ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22), ("CY", 28),
    ("CZ", 24), ("DE", 22), ("DK", 18), ("DO", 28), ("EE", 20), ("EG", 29), ("ES", 24),
    ("FI", 18), ("FO", 18), ("FR", 27), ("GB", 22), ("GE", 22), ("GI", 23), ("GL", 18),
    ("GR", 27), ("GT", 28), ("HR", 21), ("HU", 28), ("IE", 22), ("IL", 23), ("IQ", 23),
    ("IS", 26), ("IT", 27), ("JO", 30), ("KW", 30), ("KZ", 20), ("LB", 28), ("LC", 32),
    ("LI", 21), ("LT", 20), ("LU", 20), ("LV", 21), ("LY", 25), ("MC", 27), ("MD", 24),
    ("ME", 22), ("MK", 19), ("MR", 27), ("MT", 31), ("MU", 30), ("NL", 18), ("NO", 15),
    ("PK", 24), ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22),
    ("SA", 24), ("SC", 31), ("SD", 18), ("SE", 24), ("SI", 19), ("SK", 24), ("SM", 27),
    ("ST", 25), ("SV", 28), ("TL", 23), ("TN", 24), ("TR", 26), ("UA", 29), ("VA", 22),
    ("VG", 24), ("XK", 20),
];

/// Every IBAN in `value`.
pub(crate) fn find(value: &str, out: &mut Vec<Hit>) {
    let b = value.as_bytes();
    let mut i = 0;
    // Jump from one upper-case letter to the next: in prose most bytes cannot start an IBAN.
    while let Some(off) = b
        .get(i..)
        .and_then(|r| r.iter().position(u8::is_ascii_uppercase))
    {
        i += off;
        if i + 4 > b.len() {
            break;
        }
        let start_ok = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let shape = b[i].is_ascii_uppercase()
            && b[i + 1].is_ascii_uppercase()
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit();
        if start_ok && shape {
            if let Some((end, compact)) = candidate(value, i) {
                if mod97(&compact) == Some(1) {
                    out.push(Hit::new(RULE, i, end, excerpt(&compact)));
                    i = end;
                    continue;
                }
            }
        }
        i += 1;
    }
}

/// Exactly the country's length of upper-case letters and digits, single spaces allowed between,
/// followed by a non-alphanumeric character.
fn candidate(value: &str, start: usize) -> Option<(usize, String)> {
    let b = value.as_bytes();
    let country = value.get(start..start + 2)?;
    let len = LENGTHS.iter().find(|(c, _)| *c == country)?.1;
    let mut compact = String::with_capacity(len);
    let mut i = start;
    while compact.len() < len {
        let c = *b.get(i)?;
        if c.is_ascii_uppercase() || c.is_ascii_digit() {
            compact.push(char::from(c));
        } else if c != b' ' || !b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) {
            return None;
        }
        i += 1;
    }
    if b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some((i, compact))
}

/// Country, check digits and the last four characters: `DE89…3000`.
fn excerpt(compact: &str) -> String {
    let head = compact.get(..4).unwrap_or("");
    let tail = compact.get(compact.len().saturating_sub(4)..).unwrap_or("");
    format!("{head}…{tail}")
}

/// ISO 7064 mod 97-10 over the rearranged IBAN (letters as 10..35).
fn mod97(iban: &str) -> Option<u32> {
    let (head, tail) = (iban.get(..4)?, iban.get(4..)?);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = c.to_digit(36)?;
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    Some(rem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts(v: &str) -> Vec<String> {
        super::super::excerpts_of(|out| find(v, out))
    }

    #[test]
    fn finds_ibans() {
        assert_eq!(excerpts("DE89370400440532013000"), ["DE89…3000"]);
        assert_eq!(
            excerpts("iban: GB82 WEST 1234 5698 7654 32."),
            ["GB82…5432"]
        );
        assert_eq!(excerpts("NL91ABNA0417164300"), ["NL91…4300"]);
        assert_eq!(excerpts("FR1420041010050500013M02606"), ["FR14…2606"]);
        assert_eq!(excerpts("NO9386011117947"), ["NO93…7947"]);
    }

    #[test]
    fn rejects_non_ibans() {
        for v in [
            "DE89370400440532013001",
            "DE8937040044053201300",
            "DE893704004405320130000",
            "XDE89370400440532013000",
            "ZZ89370400440532013000",
            "de89370400440532013000",
            "AKIA2OGYBAH6TZ3QWXYZ",
            "GB82 WEST 1234 5698 7654 32X",
        ] {
            assert_eq!(excerpts(v), Vec::<String>::new(), "{v}");
        }
    }

    /// `find` before it jumped from letter to letter: one step per byte.
    fn find_stepwise(value: &str, out: &mut Vec<Hit>) {
        let b = value.as_bytes();
        let mut i = 0;
        while i + 4 <= b.len() {
            let start_ok = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            let shape = b[i].is_ascii_uppercase()
                && b[i + 1].is_ascii_uppercase()
                && b[i + 2].is_ascii_digit()
                && b[i + 3].is_ascii_digit();
            if start_ok && shape {
                if let Some((end, compact)) = candidate(value, i) {
                    if mod97(&compact) == Some(1) {
                        out.push(Hit::new(RULE, i, end, excerpt(&compact)));
                        i = end;
                        continue;
                    }
                }
            }
            i += 1;
        }
    }

    proptest::proptest! {
        #[test]
        fn jumping_finds_what_stepping_found(
            v in "([a-zA-Z .é-]{0,3}(DE89370400440532013000|GB82 WEST 1234 5698 7654 32|NO9386011117947|[A-Z0-9 ]{0,8}))*",
        ) {
            let (mut new, mut old) = (Vec::new(), Vec::new());
            find(&v, &mut new);
            find_stepwise(&v, &mut old);
            proptest::prop_assert_eq!(new, old);
        }
    }
}
