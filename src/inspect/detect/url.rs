//! `url-credentials` and `url-secret-parameter`: URLs of any scheme that carry a password in
//! their userinfo, or a secret-looking query parameter with a real value.
//!
//! Called by the scanner on every field of every kind that holds `://` (or its percent-encoded
//! form). Placeholders (`${PASS}`, `****`, `<password>`) are not credentials. Work per field is
//! bounded: at most [`MAX_URLS`] URLs, each looked at over at most [`MAX_QUERY`] bytes.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use super::{placeholder::is_placeholder, Hit};
use crate::inspect::redact;

/// Rule id for passwords in userinfo.
pub(crate) const CREDENTIALS_RULE: &str = "url-credentials";
/// Rule id for secret query parameters.
pub(crate) const PARAMETER_RULE: &str = "url-secret-parameter";
/// At most this many URLs are examined per value.
pub(crate) const MAX_URLS: usize = 256;
/// At most this many bytes of a query are examined.
pub(crate) const MAX_QUERY: usize = 4096;
const MAX_SCHEME: usize = 32;
const MAX_AUTHORITY: usize = 512;

/// Query parameter names that hold secrets.
const SECRET_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "auth_token",
    "api_key",
    "apikey",
    "api-key",
    "password",
    "passwd",
    "pwd",
    "pass",
    "secret",
    "client_secret",
    "secret_key",
    "private_key",
    "signature",
    "sig",
    "x-amz-signature",
    "x-amz-security-token",
    "x-goog-signature",
    "jwt",
    "auth",
];
/// Name endings that hold secrets.
const SECRET_SUFFIXES: &[&str] = &["token", "secret", "password", "apikey", "api_key"];
/// Names that end like secrets but are pagination or idempotency tokens.
const NOT_SECRET: &[&str] = &[
    "nexttoken",
    "next_token",
    "continuationtoken",
    "continuation-token",
    "paginationtoken",
    "pagetoken",
    "page_token",
    "clienttoken",
    "client_token",
    "idempotencytoken",
    "starttoken",
    "synctoken",
    "csrftoken",
    "csrf_token",
];

/// The parts of one URL found in a value.
struct Url<'a> {
    start: usize,
    end: usize,
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: &'a str,
    query: &'a str,
}

/// Every URL credential and secret parameter in `value`, percent-encoded URLs included.
pub(crate) fn find(value: &str, out: &mut Vec<Hit>) {
    scan(value, out);
    if has_encoded_separator(value) {
        let decoded: Cow<'_, str> = percent_decode_str(value).decode_utf8_lossy();
        let mut inner = Vec::new();
        scan(&decoded, &mut inner);
        out.extend(
            inner
                .into_iter()
                .map(|h| Hit::new(&h.rule, 0, value.len(), h.excerpt)),
        );
    }
}

/// Whether `value` holds `://` percent-encoded (`%3a%2f%2f`, any case). Only at a `%`, found
/// with `memchr`'s vector search, is the rest compared.
fn has_encoded_separator(value: &str) -> bool {
    const ENCODED: &[u8] = b"%3a%2f%2f";
    let b = value.as_bytes();
    memchr::memchr_iter(b'%', b).any(|at| {
        b.get(at..at + ENCODED.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(ENCODED))
    })
}

fn scan(value: &str, out: &mut Vec<Hit>) {
    let mut token_end = 0;
    // The same positions as `match_indices("://")` (the separator cannot overlap itself),
    // found with `memchr`'s vector search.
    for sep in memchr::memmem::find_iter(value.as_bytes(), b"://").take(MAX_URLS) {
        if sep >= token_end {
            token_end = end_of_token(value.as_bytes(), sep);
        }
        if let Some(url) = parse_at(value, sep, token_end) {
            credentials(&url, out);
            parameters(&url, out);
        }
    }
}

fn is_terminator(c: u8) -> bool {
    c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\')
}

fn end_of_token(b: &[u8], from: usize) -> usize {
    b.get(from..)
        .and_then(|rest| rest.iter().position(|c| is_terminator(*c)))
        .map_or(b.len(), |p| from + p)
}

fn parse_at(value: &str, sep: usize, end: usize) -> Option<Url<'_>> {
    let b = value.as_bytes();
    let mut start = sep;
    while start > 0 && sep - start < MAX_SCHEME && is_scheme_byte(b[start - 1]) {
        start -= 1;
    }
    while start < sep && !b[start].is_ascii_alphabetic() {
        start += 1;
    }
    if start == sep {
        return None;
    }
    let scheme = value.get(start..sep)?;
    let rest = value.get(sep + 3..end)?;
    let auth_len = rest
        .find(['/', '?', '#'])
        .unwrap_or(rest.len())
        .min(MAX_AUTHORITY);
    let authority = rest.get(..auth_len)?;
    let (userinfo, host) = match authority.rfind('@') {
        Some(at) => (authority.get(..at), authority.get(at + 1..)?),
        None => (None, authority),
    };
    let query = match rest.find('?') {
        Some(q) => {
            let q_end = floor(rest, (q + 1 + MAX_QUERY).min(rest.len()));
            let q_str = rest.get(q + 1..q_end)?;
            q_str.split('#').next().unwrap_or("")
        }
        None => "",
    };
    Some(Url {
        start,
        end,
        scheme,
        userinfo,
        host: trim_host(host),
        query,
    })
}

fn floor(s: &str, i: usize) -> usize {
    super::floor_boundary(s, i)
}

fn is_scheme_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-')
}

fn trim_host(host: &str) -> &str {
    host.trim_end_matches(['.', ',', ')', ';', ']'])
}

fn decode(s: &str) -> Cow<'_, str> {
    percent_decode_str(s).decode_utf8_lossy()
}

fn credentials(url: &Url<'_>, out: &mut Vec<Hit>) {
    let Some(userinfo) = url.userinfo else { return };
    if url.host.is_empty() {
        return;
    }
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (userinfo, None),
    };
    let flagged = match password {
        Some(p) => !is_placeholder(p),
        None => token_as_user(&decode(user)),
    };
    if flagged {
        let excerpt = redact::url_userinfo(url.scheme, user, password.is_some(), url.host);
        out.push(Hit::new(CREDENTIALS_RULE, url.start, url.end, excerpt));
    }
}

/// `https://ghp_…@github.com`: a token passed as the user name, with no password.
fn token_as_user(user: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
    ];
    let b = user.as_bytes();
    let random = b.len() >= 32
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
        && b.iter().any(u8::is_ascii_uppercase)
        && b.iter().any(u8::is_ascii_lowercase)
        && b.iter().any(u8::is_ascii_digit);
    random || (b.len() >= 20 && PREFIXES.iter().any(|p| user.starts_with(p)))
}

/// One finding per secret parameter name per URL. An Azure shared access signature's `sig`
/// (next to its `sv` version) is left to `azure-sas-signature`.
fn parameters(url: &Url<'_>, out: &mut Vec<Hit>) {
    let mut seen: Vec<String> = Vec::new();
    let azure_sas = url.query.split(['&', ';']).any(|p| p.starts_with("sv="));
    for pair in url.query.split(['&', ';']) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let lower = decode(name).to_ascii_lowercase();
        let lower = lower.trim_end_matches("[]");
        let sas = azure_sas && lower == "sig";
        if sas || !is_secret_name(lower) || seen.iter().any(|s| s == lower) {
            continue;
        }
        let value = decode(value);
        let min = if lower.starts_with("pass") || lower == "pwd" {
            6
        } else {
            8
        };
        if value.chars().count() >= min && !is_placeholder(&value) {
            let excerpt = redact::url_parameter(url.scheme, url.host, name);
            out.push(Hit::new(PARAMETER_RULE, url.start, url.end, excerpt));
            seen.push(lower.to_string());
        }
    }
}

fn is_secret_name(name: &str) -> bool {
    let clean = name
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'));
    if !clean || NOT_SECRET.contains(&name) {
        return false;
    }
    SECRET_PARAMS.contains(&name) || SECRET_SUFFIXES.iter().any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(v: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        find(v, &mut out);
        out.into_iter().map(|h| (h.rule, h.excerpt)).collect()
    }

    fn cred(excerpt: &str) -> (String, String) {
        (CREDENTIALS_RULE.to_string(), excerpt.to_string())
    }

    fn param(excerpt: &str) -> (String, String) {
        (PARAMETER_RULE.to_string(), excerpt.to_string())
    }

    #[test]
    fn finds_passwords_in_userinfo_of_any_scheme() {
        assert_eq!(
            found("clone https://deploy:s3cretP4ss@git.example.com/org/repo.git"),
            [cred("https://deploy:****@git.example.com")]
        );
        assert_eq!(
            found("DATABASE_URL=postgres://app:hunter22@db.internal:5432/app"),
            [cred("postgres://app:****@db.internal:5432")]
        );
        assert_eq!(
            found("mongodb+srv://admin:p%40ss%2Fw0rd@cluster0.mongodb.net/db"),
            [cred("mongodb+srv://admin:****@cluster0.mongodb.net")]
        );
        assert_eq!(
            found("amqp://guest:Gu3st!x@mq:5672, redis://:r3disPw@cache:6379"),
            [
                cred("amqp://guest:****@mq:5672"),
                cred("redis://:****@cache:6379")
            ]
        );
        assert_eq!(
            found("https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/o/r"),
            [cred("https://ghp…@github.com")]
        );
    }

    #[test]
    fn passwords_with_dollar_signs_are_passwords() {
        for v in [
            "postgres://app:$ecretPa55@db.example.com/app",
            "postgres://app:pa$$w0rd@db.example.com/app",
            "redis://:$3cr3t@cache.example.com:6379",
        ] {
            assert_eq!(found(v).len(), 1, "{v}");
        }
    }

    #[test]
    fn finds_percent_encoded_urls() {
        assert_eq!(
            found("next=https%3A%2F%2Fdeploy%3As3cretP4ss%40git.example.com%2Fx"),
            [cred("https://deploy:****@git.example.com")]
        );
    }

    #[test]
    fn finds_secret_parameters() {
        assert_eq!(
            found("https://api.example.com/v1?access_token=ya29.a0AfH6SMBx3&x=1"),
            [param("https://api.example.com/…?access_token=****")]
        );
        let presigned = "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";
        assert_eq!(
            found(presigned),
            [param("https://b.s3.amazonaws.com/…?X-Amz-Signature=****")]
        );
        assert_eq!(
            found("ftp://files.example.org/?password=hunter2x"),
            [param("ftp://files.example.org/…?password=****")]
        );
    }

    #[test]
    fn ignores_placeholders_plain_urls_and_pagination() {
        for v in [
            "https://user:${DB_PASSWORD}@db.example.com",
            "postgres://user:****@db",
            "postgres://user:%2A%2A%2A%2A@db",
            "https://user:<password>@host",
            "https://user:{{ pass }}@host",
            "redis://:$REDIS_PASS@cache",
            "postgres://app:%s@db.example.com/app",
            "postgres://app:%(password)s@db.example.com/app",
            "mysql://root:$(MYSQL_ROOT_PASSWORD)@db:3306",
            "https://user:{{ .Password }}@git.example.com/x",
            "https://user:{{.Password}}@git.example.com/x",
            "amqp://guest:{{ .Values.rabbit.password }}@mq:5672",
            "https://deploy@git.example.com/org/repo",
            "s3://my-bucket/path/to/key",
            "https://sqs.us-east-1.amazonaws.com/123456789012/q",
            "https://x.example.com/list?NextToken=AAAABBBBCCCCDDDD&max=5",
            "https://x.example.com/?token=",
            "https://x.example.com/?token=xxxx",
            "https://x.example.com/?api_key=YOUR_API_KEY",
            "https://x.example.com/?sig=abc",
            "user:pass@host",
            "://",
            "1://a:b@c",
        ] {
            assert_eq!(found(v), Vec::<(String, String)>::new(), "{v}");
        }
    }

    #[test]
    fn work_is_bounded_on_pathological_input() {
        let v = "a://b:c@d?token=12345678&".repeat(2000);
        let mut out = Vec::new();
        find(&v, &mut out);
        assert_eq!(out.len(), 2 * MAX_URLS);
    }

    proptest::proptest! {
        #[test]
        fn encoded_separator_agrees_with_a_window_search(
            v in "([a-zé /:]{0,3}(%3a%2f%2f|%3A%2F%2F|%3a%2F%2f|%3a%2f%2|%%3a%2f%2f|%[0-9a-fA-F]{0,2}))*",
        ) {
            let windows = v
                .as_bytes()
                .windows(9)
                .any(|w| w.eq_ignore_ascii_case(b"%3a%2f%2f"));
            proptest::prop_assert_eq!(has_encoded_separator(&v), windows);
        }

        #[test]
        fn separators_found_as_match_indices_finds_them(v in "([a-z]{0,3}(:|/|://|:///|::/)){0,20}") {
            let memmem: Vec<usize> = memchr::memmem::find_iter(v.as_bytes(), b"://").collect();
            let std: Vec<usize> = v.match_indices("://").map(|(i, _)| i).collect();
            proptest::prop_assert_eq!(memmem, std);
        }
    }
}
