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
    ("BG", 22), ("BH", 22), ("BI", 27), ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22),
    ("CY", 28), ("CZ", 24), ("DE", 22), ("DJ", 27), ("DK", 18), ("DO", 28), ("EE", 20),
    ("EG", 29), ("ES", 24), ("FI", 18), ("FK", 18), ("FO", 18), ("FR", 27), ("GB", 22),
    ("GE", 22), ("GI", 23), ("GL", 18), ("GR", 27), ("GT", 28), ("HN", 28), ("HR", 21),
    ("HU", 28), ("IE", 22), ("IL", 23), ("IQ", 23), ("IS", 26), ("IT", 27), ("JO", 30),
    ("KW", 30), ("KZ", 20), ("LB", 28), ("LC", 32), ("LI", 21), ("LT", 20), ("LU", 20),
    ("LV", 21), ("LY", 25), ("MC", 27), ("MD", 24), ("ME", 22), ("MK", 19), ("MN", 20),
    ("MR", 27), ("MT", 31), ("MU", 30), ("NI", 28), ("NL", 18), ("NO", 15), ("OM", 23),
    ("PK", 24), ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22),
    ("RU", 33), ("SA", 24), ("SC", 31), ("SD", 18), ("SE", 24), ("SI", 19), ("SK", 24),
    ("SM", 27), ("SO", 23), ("ST", 25), ("SV", 28), ("TL", 23), ("TN", 24), ("TR", 26),
    ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20), ("YE", 30),
];

/// Every IBAN in `value`.
pub(crate) fn find(value: &str, out: &mut Vec<Hit>) {
    let b = value.as_bytes();
    let mut i = 0;
    // Jump from one place shaped like an IBAN's start to the next: prose holds few of them.
    while let Some(at) = next_shape(b, i) {
        i = at;
        let start_ok = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if start_ok {
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

/// Longest IBAN with single spaces between its characters.
const MAX_SPACED: usize = 34 * 2;

/// Whether an IBAN-shaped run (country, check digits, the country's length; checksum not
/// required) starting at or before `start` covers `start..end`: the card detector leaves such
/// digits to this rule.
pub(crate) fn covers(value: &str, start: usize, end: usize) -> bool {
    let b = value.as_bytes();
    let floor = start.saturating_sub(MAX_SPACED);
    (floor..=start.min(b.len())).rev().any(|p| {
        let shaped = b.get(p..p + 4).is_some_and(|w| {
            w[0].is_ascii_uppercase()
                && w[1].is_ascii_uppercase()
                && w[2].is_ascii_digit()
                && w[3].is_ascii_digit()
        });
        shaped
            && (p == 0 || !b[p - 1].is_ascii_alphanumeric())
            && candidate(value, p).is_some_and(|(e, _)| e >= end)
    })
}

/// Positions [`next_shape`] checks at once.
const SHAPE_CHUNK: usize = 32;

/// Where the next two upper-case letters then two digits (how every IBAN starts) begin, at or
/// after `from`. Checks [`SHAPE_CHUNK`] positions at a time with a branch-free fold, which the
/// compiler turns into vector code: in prose most stretches hold no such shape, and stepping
/// from one capital letter to the next cost a few instructions per byte. `memchr` and
/// `aho-corasick` look for fixed bytes or strings, not for a pattern of byte classes like this.
fn next_shape(b: &[u8], from: usize) -> Option<usize> {
    let shape = |w: &[u8]| {
        w[0].is_ascii_uppercase()
            && w[1].is_ascii_uppercase()
            && w[2].is_ascii_digit()
            && w[3].is_ascii_digit()
    };
    let mut at = from;
    while let Some(w) = b.get(at..at + SHAPE_CHUNK + 3) {
        let any = (0..SHAPE_CHUNK).fold(false, |any, j| {
            any | (w[j].is_ascii_uppercase()
                & w[j + 1].is_ascii_uppercase()
                & w[j + 2].is_ascii_digit()
                & w[j + 3].is_ascii_digit())
        });
        if any {
            break;
        }
        at += SHAPE_CHUNK;
    }
    b.get(at..)?.windows(4).position(shape).map(|p| p + at)
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
    fn finds_ibans_of_recently_added_countries() {
        for v in [
            "RU0204452560040702810412345678901",
            "RU02 0445 2560 0407 0281 0412 3456 7890 1",
            "BI4210000100010000332045181",
            "DJ2100010000000154000100186",
            "FK88SC123456789012",
            "MN121234123456789123",
            "NI45BAPR00000013000003558124",
            "OM810180000001299123456",
            "SO211000001001000100141",
            "YE15CBYE0001018861234567891234",
            "HN88CABF00000000000250005469",
        ] {
            assert_eq!(excerpts(v).len(), 1, "{v}");
        }
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

    #[test]
    fn shape_search_agrees_with_windows_at_every_offset() {
        let filler = "Step 12: drain PAY-4012 in eu-west-1, then wait 300 s. ".repeat(3);
        for at in 0..filler.len() {
            let mut v = filler.clone();
            v.insert_str(at, "DE89");
            let b = v.as_bytes();
            for from in 0..=b.len() + 1 {
                let want = b
                    .get(from..)
                    .and_then(|r| r.windows(4).position(|w| w == b"DE89"))
                    .map(|p| p + from);
                assert_eq!(next_shape(b, from), want, "{at} {from}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn jumping_over_prose_finds_what_stepping_found(
            v in "([a-zA-Z0-9 .,:é-]{0,40}(DE89370400440532013000|GB82 WEST 1234 5698 7654 32|NO9386011117947|[A-Z]{2}[0-9]{2}[A-Z0-9 ]{0,8}))*",
        ) {
            let (mut new, mut old) = (Vec::new(), Vec::new());
            find(&v, &mut new);
            find_stepwise(&v, &mut old);
            proptest::prop_assert_eq!(new, old);
        }

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
