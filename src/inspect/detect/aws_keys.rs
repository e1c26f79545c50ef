//! `aws-access-key-id` and `aws-secret-access-key`: long-term and temporary AWS key material.
//!
//! Called by the scanner on content fields. An access key id is a fixed prefix and 16 base-32
//! characters; a secret key is 40 base64 characters, which any blob can also be, so it counts only
//! next to a keyword (`secret`) in the tag key, location or the text just before it. AWS's
//! documentation keys (`…EXAMPLE`, `…EXAMPLEKEY`) are never findings.

use super::{is_word_byte, keyword_before, keyword_in, Hit, KeyContext};
use crate::inspect::redact;

/// Rule id for access key ids.
pub(crate) const ACCESS_KEY_RULE: &str = "aws-access-key-id";
/// Rule id for secret access keys.
pub(crate) const SECRET_KEY_RULE: &str = "aws-secret-access-key";
/// Prefixes of key ids that authenticate (user keys, STS, …).
pub(crate) const PREFIXES: &[&[u8; 4]] = &[b"AKIA", b"ASIA", b"ABIA", b"ACCA"];
/// Keywords that make a 40-character string a secret key.
pub(crate) const SECRET_KEYWORDS: &[&str] = &["secret"];
const SECRET_LEN: usize = 40;
const KEYWORD_DISTANCE: usize = 50;

fn is_base32(c: u8) -> bool {
    c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)
}

/// Every access key id in `value`.
pub(crate) fn find_access_keys(value: &str, out: &mut Vec<Hit>) {
    let b = value.as_bytes();
    let mut i = 0;
    while i + 20 <= b.len() {
        let at_start = i == 0 || !is_word_byte(b[i - 1]);
        let prefixed = PREFIXES.iter().any(|p| &b[i..i + 4] == *p);
        let body = b[i + 4..i + 20].iter().all(|c| is_base32(*c));
        let ends = b.get(i + 20).is_none_or(|c| !is_word_byte(*c));
        if at_start && prefixed && body && ends {
            let key = value.get(i..i + 20).unwrap_or("");
            if !key.ends_with("EXAMPLE") {
                out.push(Hit::new(
                    ACCESS_KEY_RULE,
                    i,
                    i + 20,
                    redact::access_key_id(key),
                ));
            }
            i += 20;
        } else {
            i += 1;
        }
    }
}

fn is_secret_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'/' || c == b'+'
}

/// Every keyword-backed secret access key in `value`.
pub(crate) fn find_secret_keys(value: &str, ctx: KeyContext<'_>, out: &mut Vec<Hit>) {
    let b = value.as_bytes();
    let in_keys = keyword_in(ctx.keys, SECRET_KEYWORDS);
    let mut i = 0;
    while i < b.len() {
        if !is_secret_byte(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_secret_byte(b[i]) {
            i += 1;
        }
        let padded = b.get(i) == Some(&b'=');
        if i - start != SECRET_LEN || padded {
            continue;
        }
        let key = value.get(start..i).unwrap_or("");
        let near = in_keys || keyword_before(value, start, SECRET_KEYWORDS, KEYWORD_DISTANCE);
        if near && looks_random(key) && !key.contains("EXAMPLE") {
            out.push(Hit::new(SECRET_KEY_RULE, start, i, redact::ends(key, 4, 0)));
        }
    }
}

/// Real keys mix upper case, lower case and digits; hex digests and words do not.
fn looks_random(key: &str) -> bool {
    let b = key.as_bytes();
    b.iter().any(u8::is_ascii_uppercase)
        && b.iter().any(u8::is_ascii_lowercase)
        && b.iter().any(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &str) -> Vec<String> {
        let mut out = Vec::new();
        find_access_keys(v, &mut out);
        out.into_iter().map(|h| h.excerpt).collect()
    }

    fn secrets(v: &str, keys: &str) -> Vec<String> {
        let mut out = Vec::new();
        find_secret_keys(v, KeyContext { keys }, &mut out);
        out.into_iter().map(|h| h.excerpt).collect()
    }

    #[test]
    fn finds_access_key_ids() {
        assert_eq!(ids("AKIA2OGYBAH6TZ3QWXYZ"), ["AKIA…WXYZ"]);
        assert_eq!(ids("key=ASIAY34FZKBOKMUTVV7A;"), ["ASIA…VV7A"]);
        assert_eq!(ids("ABIA2OGYBAH6TZ3QWXYZ ACCA2OGYBAH6TZ3QWXYZ").len(), 2);
    }

    #[test]
    fn rejects_non_key_ids() {
        for v in [
            "AKIAIOSFODNN7EXAMPLE",
            "AKIA2OGYBAH6TZ3QWXY",
            "AKIA2OGYBAH6TZ3QWXYZA",
            "XAKIA2OGYBAH6TZ3QWXYZ",
            "AIDA2OGYBAH6TZ3QWXYZ",
            "AKIA2OGYBAH6TZ3QWX1Z",
            "akia2ogybah6tz3qwxyz",
        ] {
            assert_eq!(ids(v), Vec::<String>::new(), "{v}");
        }
    }

    const KEY: &str = "h8Qz3mV+pL0sT9wXc2Yb7Rk/Nf5Ja1Ue4Gd6Io0P";

    #[test]
    fn finds_secret_keys_with_a_keyword() {
        assert_eq!(secrets(KEY, "aws_secret_access_key body:tags.x"), ["h8Qz…"]);
        assert_eq!(
            secrets(&format!("aws_secret_access_key = {KEY}"), ""),
            ["h8Qz…"]
        );
    }

    #[test]
    fn rejects_secret_keys_without_keyword_or_shape() {
        assert_eq!(secrets(KEY, "body:Tags[0].Value"), Vec::<String>::new());
        assert_eq!(
            secrets("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret"),
            Vec::<String>::new()
        );
        let sha = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        assert_eq!(secrets(sha, "secret"), Vec::<String>::new());
        let blob = format!("{KEY}{KEY}");
        assert_eq!(secrets(&blob, "secret"), Vec::<String>::new());
        assert_eq!(secrets(&format!("{KEY}="), "secret"), Vec::<String>::new());
    }
}
