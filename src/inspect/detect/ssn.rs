//! `us-ssn`: a US Social Security number next to a keyword (`ssn`, `social security`, `SS#`,
//! `Soc. Sec. #`), outside the ranges the SSA never issues (area 000, 666, 9xx; group 00; serial
//! 0000) and the well-known advertising numbers. Written `123-45-6789`, `123 45 6789`,
//! `123.45.6789` or as nine bare digits.
//!
//! Called by the scanner on content fields with nine digits and an SSN keyword in the value, tag
//! key or location.

use super::{contains_word, floor_boundary, Hit, KeyContext};

/// Rule id.
pub(crate) const RULE: &str = "us-ssn";
/// Keywords that make nine digits an SSN (besides `ssn` as a word ending and the
/// [`SHORT_KEYWORDS`]).
pub(crate) const KEYWORDS: &[&str] = &[
    "social security",
    "social_security",
    "socialsecurity",
    "social-security",
    "soc. sec",
    "soc sec",
    "socsec",
    "soc.sec",
];
/// Abbreviations that must start a word (`SS#` but not `class#`).
const SHORT_KEYWORDS: &[&str] = &["ss#", "ss #", "ss no", "ss num", "ss-no", "ss nr"];
const KEYWORD_DISTANCE: usize = 50;
/// Numbers printed in advertising and documentation.
const PUBLISHED: &[&str] = &["078051120", "219099999", "123456789"];

/// Whether `text` (lower-case) holds an SSN keyword.
pub(crate) fn has_keyword(text: &str) -> bool {
    contains_word(text, "ssn", false)
        || KEYWORDS.iter().any(|k| text.contains(k))
        || SHORT_KEYWORDS.iter().any(|k| starts_word(text, k))
}

/// Whether `word` occurs in `text` with no letter right before it.
fn starts_word(text: &str, word: &str) -> bool {
    let b = text.as_bytes();
    text.match_indices(word)
        .any(|(i, _)| i == 0 || !b[i - 1].is_ascii_alphabetic())
}

/// Every keyword-backed SSN in `value`.
pub(crate) fn find(value: &str, ctx: KeyContext<'_>, out: &mut Vec<Hit>) {
    let b = value.as_bytes();
    let keyed = has_keyword(ctx.keys);
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && attached(b[i - 1])) {
            i += 1;
            continue;
        }
        let Some((end, digits)) = shape(b, i) else {
            i += 1;
            continue;
        };
        let near = || {
            let from = floor_boundary(value, i.saturating_sub(KEYWORD_DISTANCE));
            has_keyword(&value.get(from..i).unwrap_or("").to_ascii_lowercase())
        };
        if !attached_after(b, end) && issued(&digits) && (keyed || near()) {
            let last = digits.get(5..).unwrap_or("");
            out.push(Hit::new(RULE, i, end, format!("***-**-{last}")));
        }
        i = end;
    }
}

fn attached(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_'
}

/// Whether the number ending at `end` runs on into a longer token (a full stop ending the
/// sentence does not count).
fn attached_after(b: &[u8], end: usize) -> bool {
    match b.get(end) {
        None => false,
        Some(b'.') => b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric),
        Some(c) => attached(*c),
    }
}

/// `ddd-dd-dddd`, `ddd dd dddd`, `ddd.dd.dddd` or nine bare digits.
fn shape(b: &[u8], start: usize) -> Option<(usize, String)> {
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let run = |from: usize, n: usize| (from..from + n).all(digit);
    if run(start, 9) {
        let digits = std::str::from_utf8(b.get(start..start + 9)?).ok()?;
        return Some((start + 9, digits.to_string()));
    }
    let sep = *b.get(start + 3)?;
    let grouped = run(start, 3)
        && matches!(sep, b'-' | b' ' | b'.')
        && run(start + 4, 2)
        && b.get(start + 6) == Some(&sep)
        && run(start + 7, 4);
    if !grouped {
        return None;
    }
    let text = std::str::from_utf8(b.get(start..start + 11)?).ok()?;
    Some((
        start + 11,
        text.chars().filter(char::is_ascii_digit).collect(),
    ))
}

/// Whether the SSA could have issued this number.
fn issued(d: &str) -> bool {
    let (area, group, serial) = (d.get(..3), d.get(3..5), d.get(5..));
    let (Some(area), Some(group), Some(serial)) = (area, group, serial) else {
        return false;
    };
    area != "000"
        && area != "666"
        && !area.starts_with('9')
        && group != "00"
        && serial != "0000"
        && !PUBLISHED.contains(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts(v: &str, keys: &str) -> Vec<String> {
        super::super::excerpts_of(|out| find(v, KeyContext { keys }, out))
    }

    #[test]
    fn finds_keyed_ssns() {
        assert_eq!(excerpts("SSN: 536-22-8726", ""), ["***-**-8726"]);
        assert_eq!(excerpts("social security 536 22 8726", ""), ["***-**-8726"]);
        assert_eq!(excerpts("536228726", "employee-ssn"), ["***-**-8726"]);
        assert_eq!(excerpts("SS# 536-22-8726", ""), ["***-**-8726"]);
        assert_eq!(excerpts("Soc. Sec. # 536.22.8726.", ""), ["***-**-8726"]);
        assert_eq!(
            excerpts("social security no. 536 22 8726", ""),
            ["***-**-8726"]
        );
        assert_eq!(excerpts("SS No: 536228726", ""), ["***-**-8726"]);
        assert_eq!(excerpts("536.22.8726", "owner soc sec"), ["***-**-8726"]);
    }

    #[test]
    fn rejects_unkeyed_and_unissued_numbers() {
        for (v, keys) in [
            ("536-22-8726", "body:Tags[0].Value"),
            ("ssn 000-22-8726", ""),
            ("ssn 666-22-8726", ""),
            ("ssn 912-22-8726", ""),
            ("ssn 536-00-8726", ""),
            ("ssn 536-22-0000", ""),
            ("ssn 078-05-1120", ""),
            ("ssn 536-22-87261", ""),
            ("ssn 1536228726", ""),
            ("ssn 536-22 8726", ""),
            ("ssn 2024-01-15", ""),
            ("536228726", "body:classname"),
            ("class# 536-22-8726", ""),
            ("ss# 536.22-8726", ""),
            ("ss# 536.22.8726.1", ""),
            ("ss# 987-65-4320", ""),
            ("ss# 219-09-9999", ""),
        ] {
            assert_eq!(excerpts(v, keys), Vec::<String>::new(), "{v}");
        }
    }
}
