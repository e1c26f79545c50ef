//! Placeholder recognition: template variables, masks and documentation words are never secrets.
//!
//! Used by the URL detectors (passwords, query parameter values) and by any detector whose match
//! could be a stand-in such as `${DB_PASSWORD}`, `{{token}}`, `<password>`, `****` or `xxx`.

use percent_encoding::percent_decode_str;

/// Words that documentation and templates put where a real secret would go.
const WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "apikey",
    "key",
    "redacted",
    "removed",
    "masked",
    "hidden",
    "example",
    "placeholder",
    "changeme",
    "dummy",
    "sample",
    "null",
    "none",
    "undefined",
    "value",
    "xxx",
];

/// Whether `s` is a stand-in rather than a real value (percent-encoding understood).
pub(crate) fn is_placeholder(s: &str) -> bool {
    let decoded = percent_decode_str(s).decode_utf8_lossy();
    is_plain_placeholder(decoded.trim())
}

fn is_plain_placeholder(t: &str) -> bool {
    if t.is_empty() || is_template(t) || is_mask(t) || is_env_var(t) {
        return true;
    }
    let norm: String = t
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    WORDS.contains(&norm.as_str())
        || norm.starts_with("your")
        || norm.starts_with("my") && WORDS.iter().any(|w| norm.ends_with(w))
}

/// `${VAR}`, `{{ var }}`, `<password>`, `[token]`, `%VAR%`, `{var}`.
fn is_template(t: &str) -> bool {
    let wrapped =
        |open: char, close: char| t.len() > 2 && t.starts_with(open) && t.ends_with(close);
    t.contains("${")
        || t.contains("{{")
        || wrapped('<', '>')
        || wrapped('[', ']')
        || wrapped('{', '}')
        || wrapped('%', '%')
}

/// `****`, `xxx`, `XXXX-XXXX`, `...`, `•••`.
fn is_mask(t: &str) -> bool {
    t.chars()
        .all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '•' | '#' | '-' | '_' | ' ' | '…'))
}

/// `$VAR` / `$db_password`.
fn is_env_var(t: &str) -> bool {
    match t.strip_prefix('$') {
        Some(rest) => {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_masks_and_words_are_placeholders() {
        for s in [
            "${DB_PASSWORD}",
            "{{ token }}",
            "<password>",
            "[secret]",
            "%PASS%",
            "****",
            "%2A%2A%2A%2A",
            "$PASS",
            "$db_pass",
            "xxx",
            "XXXX-XXXX",
            "...",
            "password",
            "YOUR_PASSWORD",
            "your-api-key",
            "my_password",
            "",
            "  ",
        ] {
            assert!(is_placeholder(s), "{s}");
        }
    }

    #[test]
    fn real_values_are_not_placeholders() {
        for s in [
            "hunter2",
            "s3cr3t-P4ss",
            "x7Kq9",
            "$ecretPa55!",
            "passw0rd!",
            "a1b2c3",
        ] {
            assert!(!is_placeholder(s), "{s}");
        }
    }
}
