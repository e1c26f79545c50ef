//! `email-address`: an RFC-shaped local part, `@`, and a domain under a real public suffix.
//!
//! Called by the scanner on content fields that contain `@`. The public suffix list (`psl`) rules
//! out `icon@2x.png`, `user@localhost` and `user@host.internal`; URL userinfo (`https://user@host`,
//! `scheme://user:pass@host`, `https://u:p@ss@host`) and scp-style `git@github.com:org/repo` are
//! left to the URL rules. Internationalized addresses (RFC 6531: `josé@correo.es`,
//! `user@пример.рф`, `info@例子.中国`) count too: letters and digits of any script may form the
//! local part and domain labels, and the public suffix list holds the native-script suffixes.

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

/// A non-ASCII character that may sit in an internationalized local part or domain label:
/// a letter, digit or combining mark of any script (not punctuation, spaces or symbols).
fn is_intl_char(c: char) -> bool {
    !c.is_ascii() && (c.is_alphanumeric() || is_mark(c))
}

/// Combining marks (Devanagari vowel signs, Thai tone marks, …) that `is_alphanumeric` leaves
/// out but that words of those scripts are made of.
fn is_mark(c: char) -> bool {
    matches!(u32::from(c), 0x0300..=0x036F | 0x0900..=0x0DFF | 0x0E31..=0x0E4E | 0x1AB0..=0x1AFF | 0x3099..=0x309A)
}

/// Where the local part ending at `at` starts: back over local bytes and international
/// characters.
fn local_start(value: &str, at: usize) -> usize {
    let mut start = at;
    for (i, c) in value.get(..at).unwrap_or("").char_indices().rev() {
        let ok = if c.is_ascii() {
            is_local_byte(c as u8)
        } else {
            is_intl_char(c)
        };
        if !ok || at - i > MAX_LOCAL * 4 {
            break;
        }
        start = i;
    }
    start
}

/// Where the domain starting at `from` ends: over domain bytes and international characters.
fn domain_end(value: &str, from: usize) -> usize {
    let mut end = from;
    for (i, c) in value.get(from..).unwrap_or("").char_indices() {
        let ok = if c.is_ascii() {
            is_domain_byte(c as u8)
        } else {
            is_intl_char(c)
        };
        if !ok || i > MAX_DOMAIN * 4 {
            break;
        }
        end = from + i + c.len_utf8();
    }
    end
}

fn check(value: &str, at: usize) -> Option<(Hit, usize)> {
    let b = value.as_bytes();
    let mut start = local_start(value, at);
    while start < at && b[start] == b'.' {
        start += 1;
    }
    let local = value.get(start..at)?;
    let local_chars = local.chars().count();
    if local.is_empty() || local_chars > MAX_LOCAL || local.ends_with('.') || local.contains("..") {
        return None;
    }
    let mut end = domain_end(value, at + 1);
    while end > at + 1 && matches!(b[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let domain = value.get(at + 1..end)?;
    if scp_style(b, end) || !valid_domain(domain) {
        return None;
    }
    let lower = domain.to_lowercase();
    let suffix = psl::suffix(lower.as_bytes()).filter(|s| s.is_known())?;
    let suffix = std::str::from_utf8(suffix.as_bytes()).ok()?;
    psl::domain(lower.as_bytes())?;
    // Last: the look-back is the costliest check, and most `@`s fail the others.
    if in_url_authority(b, start) {
        return None;
    }
    let excerpt = redact::email(local, domain, suffix);
    Some((Hit::new(RULE, start, end, excerpt), end))
}

/// `scheme://user@host`, `scheme://user:pass@host` or `scheme://u:p@ss@host`: the local part
/// lies in the authority of a URL, after `://` with no `/`, `?` or `#` in between, within one
/// token. An address in a URL's path or query (`/contact?to=jane@example.org`) is an address.
fn in_url_authority(b: &[u8], start: usize) -> bool {
    // Bounded look-back keeps many `@`s in one long token linear.
    let floor = start.saturating_sub(MAX_URL_PREFIX);
    let before = b.get(floor..start).unwrap_or(&[]);
    let token_start = before
        .iter()
        .rposition(|c| c.is_ascii_whitespace() || *c == b'"' || *c == b'\'')
        .map_or(0, |p| p + 1);
    let token = &before[token_start..];
    let Some(sep) = memchr::memmem::rfind(token, b"://") else {
        return false;
    };
    !token[sep + 3..]
        .iter()
        .any(|c| matches!(c, b'/' | b'?' | b'#'))
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
        !label.is_empty()
            && label.chars().count() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
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
        assert_eq!(
            excerpts("see https://example.com/contact?to=jane@example.org"),
            ["j***@e***.org"]
        );
    }

    #[test]
    fn finds_internationalized_addresses() {
        assert_eq!(excerpts("user@пример.рф"), ["u***@п***.рф"]);
        assert_eq!(excerpts("联系: info@例子.中国。"), ["i***@例***.中国"]);
        assert_eq!(excerpts("josé.garcía@correo.es"), ["j***@c***.es"]);
        assert_eq!(excerpts("Контакт: иван@почта.рф"), ["и***@п***.рф"]);
        assert_eq!(excerpts("データ 山田@例え.jp"), ["山***@例***.jp"]);
        assert_eq!(excerpts("Ünal.Öztürk@firma.com.tr"), ["Ü***@f***.com.tr"]);
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
            "https://u:p@ss@db.example.com/x",
            "redis://:pa@ss@word@cache.example.com",
            "https://user@пример.рф/x",
            "смотри@пример",
            "用户@例子",
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
