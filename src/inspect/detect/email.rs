//! `email-address`: an RFC-shaped local part, `@`, and a domain under a real public suffix.
//!
//! Called by the scanner on content fields that contain `@`. The public suffix list (`psl`) rules
//! out `icon@2x.png`, `user@localhost` and `user@host.internal`; URL userinfo (`https://user@host`,
//! `scheme://user:pass@host`) and scp-style `git@github.com:org/repo` are left to the URL rules.

use super::Hit;
use crate::inspect::redact;

/// Rule id.
pub(crate) const RULE: &str = "email-address";
const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;
/// How far back from a local part `scheme://` is looked for.
const MAX_URL_PREFIX: usize = 1024;

/// Every email address in `value`.
pub(crate) fn find(value: &str, out: &mut Vec<Hit>) {
    let b = value.as_bytes();
    let mut from = 0;
    // `memchr` finds the `@`s with vector instructions: long prose has few of them.
    for at in memchr::memchr_iter(b'@', b) {
        if at < from {
            continue;
        }
        if let Some((hit, end)) = check(value, at) {
            from = end;
            out.push(hit);
        }
    }
}

fn is_local_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b".!#$%&*+-^_~".contains(&c)
}

fn is_domain_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'.' || c == b'-'
}

fn check(value: &str, at: usize) -> Option<(Hit, usize)> {
    let b = value.as_bytes();
    let mut start = at;
    while start > 0 && is_local_byte(b[start - 1]) {
        start -= 1;
    }
    while start < at && b[start] == b'.' {
        start += 1;
    }
    let local = value.get(start..at)?;
    if local.is_empty() || local.len() > MAX_LOCAL || local.ends_with('.') || local.contains("..") {
        return None;
    }
    if in_url_userinfo(b, start) {
        return None;
    }
    let mut end = at + 1;
    while end < b.len() && is_domain_byte(b[end]) {
        end += 1;
    }
    while end > at + 1 && matches!(b[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let domain = value.get(at + 1..end)?;
    if scp_style(b, end) || !valid_domain(domain) {
        return None;
    }
    let lower = domain.to_ascii_lowercase();
    let suffix = psl::suffix(lower.as_bytes()).filter(|s| s.is_known())?;
    let suffix = std::str::from_utf8(suffix.as_bytes()).ok()?;
    psl::domain(lower.as_bytes())?;
    let excerpt = redact::email(local, domain, suffix);
    Some((Hit::new(RULE, start, end, excerpt), end))
}

/// `scheme://user@host` or `scheme://user:pass@host`: the local part follows `//` or `:` within
/// a token that holds `://`.
fn in_url_userinfo(b: &[u8], start: usize) -> bool {
    if start == 0 || !matches!(b[start - 1], b'/' | b':') {
        return false;
    }
    // Bounded look-back keeps many `@`s in one long token linear.
    let floor = start.saturating_sub(MAX_URL_PREFIX);
    let before = b.get(floor..start).unwrap_or(&[]);
    let token_start = before
        .iter()
        .rposition(|c| c.is_ascii_whitespace() || *c == b'"' || *c == b'\'')
        .map_or(0, |p| p + 1);
    before[token_start..].windows(3).any(|w| w == b"://")
}

/// `git@github.com:org/repo.git`: a colon then a path right after the host.
fn scp_style(b: &[u8], end: usize) -> bool {
    b.get(end) == Some(&b':') && b.get(end + 1).is_some_and(|c| !c.is_ascii_digit())
}

fn valid_domain(domain: &str) -> bool {
    if domain.len() > MAX_DOMAIN || !domain.contains('.') {
        return false;
    }
    domain.split('.').all(|label| {
        !label.is_empty() && label.len() <= 63 && !label.starts_with('-') && !label.ends_with('-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts(v: &str) -> Vec<String> {
        super::super::excerpts_of(|out| find(v, out))
    }

    #[test]
    fn finds_addresses_under_public_suffixes() {
        assert_eq!(excerpts("john.doe@example.com"), ["j***@e***.com"]);
        assert_eq!(
            excerpts("owner: Jane.Roe+ops@corp.co.uk;"),
            ["J***@c***.co.uk"]
        );
        assert_eq!(excerpts("mailto:ops@acme.io"), ["o***@a***.io"]);
        assert_eq!(excerpts("a@b.de, c@d.fr"), ["a***@b***.de", "c***@d***.fr"]);
        assert_eq!(
            excerpts("arn:aws:iam::123456789012:user/alice@acme.com"),
            ["a***@a***.com"]
        );
    }

    #[test]
    fn rejects_non_addresses() {
        for v in [
            "icon@2x.png",
            "user@localhost",
            "user@host.internal",
            "@example.com",
            "user@",
            "https://deploy@git.example.com/x",
            "postgres://app:pw@db.example.com/x",
            "git@github.com:org/repo.git",
            "a..b@example.com",
            "user@co.uk",
            "node@18.17.0",
            "pkg@^1.2.3",
        ] {
            assert_eq!(excerpts(v), Vec::<String>::new(), "{v}");
        }
    }

    #[test]
    fn span_covers_the_address() {
        let mut out = Vec::new();
        find("x jo@ex.com y", &mut out);
        assert_eq!((out[0].start, out[0].end), (2, 11));
    }
}
