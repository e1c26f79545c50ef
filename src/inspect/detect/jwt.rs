//! `json-web-token`: three base64url parts whose first decodes to a JSON header with `alg`.
//!
//! Called by the scanner on content fields holding `eyJ` (the base64 of `{"`). Decoding the header
//! tells a token apart from any dotted base64 text.

use base64::Engine;

use super::Hit;

/// Rule id.
pub(crate) const RULE: &str = "json-web-token";
const MAX_HEADER: usize = 1024;
const MIN_PAYLOAD: usize = 2;

fn is_b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// Every JSON web token in `value`.
pub(crate) fn find(value: &str, out: &mut Vec<Hit>) {
    let b = value.as_bytes();
    let mut from = 0;
    for (start, _) in value.match_indices("eyJ") {
        if start < from || (start > 0 && is_b64url(b[start - 1])) {
            continue;
        }
        if let Some((end, alg)) = token(b, start) {
            out.push(Hit::new(RULE, start, end, format!("eyJ…(jwt, alg {alg})")));
            from = end;
        }
    }
}

/// Length of the base64url run starting at `i`.
fn run(b: &[u8], i: usize) -> usize {
    b.get(i..)
        .map_or(0, |rest| rest.iter().take_while(|c| is_b64url(**c)).count())
}

fn token(b: &[u8], start: usize) -> Option<(usize, String)> {
    let header_len = run(b, start);
    if header_len > MAX_HEADER {
        return None;
    }
    let dot1 = start + header_len;
    if b.get(dot1) != Some(&b'.') {
        return None;
    }
    let payload_len = run(b, dot1 + 1);
    let dot2 = dot1 + 1 + payload_len;
    if payload_len < MIN_PAYLOAD || b.get(dot2) != Some(&b'.') {
        return None;
    }
    let end = dot2 + 1 + run(b, dot2 + 1);
    let alg = header_alg(b.get(start..dot1)?)?;
    Some((end, alg))
}

/// The `alg` of a base64url JSON header, shortened to a safe label.
fn header_alg(part: &[u8]) -> Option<String> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    let alg = json.as_object()?.get("alg")?.as_str()?;
    Some(
        alg.chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts(v: &str) -> Vec<String> {
        super::super::excerpts_of(|out| find(v, out))
    }

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

    #[test]
    fn finds_tokens() {
        assert_eq!(excerpts(JWT), ["eyJ…(jwt, alg HS256)"]);
        assert_eq!(
            excerpts(&format!("Bearer {JWT} x")),
            ["eyJ…(jwt, alg HS256)"]
        );
        // alg none: empty signature
        let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.";
        assert_eq!(excerpts(none), ["eyJ…(jwt, alg none)"]);
    }

    #[test]
    fn rejects_non_tokens() {
        for v in [
            "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJhIn0.abc",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0",
            "eyJub3Rqc29u.eyJzdWIiOiJhIn0.abc",
            "xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.abc",
            "eyJ.a.b",
        ] {
            assert_eq!(excerpts(v), Vec::<String>::new(), "{v}");
        }
    }
}
