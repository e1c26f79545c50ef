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

/// `${VAR}`, `{{ var }}`, `<password>`, `[token]`, `%VAR%`, `{var}`, `$(VAR)`, and printf
/// conversions (`%s`, `%(password)s`) that code fills in before sending.
fn is_template(t: &str) -> bool {
    let wrapped =
        |open: char, close: char| t.len() > 2 && t.starts_with(open) && t.ends_with(close);
    t.contains("${")
        || t.contains("{{")
        || t.contains("$(")
        || is_printf(t)
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

/// `%s`, `%v`, `%d` or `%(name)s` as the whole value.
fn is_printf(t: &str) -> bool {
    let Some(rest) = t.strip_prefix('%') else {
        return false;
    };
    let rest = match rest.strip_prefix('(') {
        Some(named) => match named.split_once(')') {
            Some((name, conv)) if name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') => {
                conv
            }
            _ => return false,
        },
        None => rest,
    };
    matches!(rest, "s" | "v" | "d" | "q" | "r")
}

/// `$VAR`, `$db_password`, `$pass`: one case of letters, as shells and templates name variables.
/// A value that mixes cases (`$ecretPa55`) or holds other characters is a password that happens
/// to start with `$`.
fn is_env_var(t: &str) -> bool {
    let Some(rest) = t.strip_prefix('$') else {
        return false;
    };
    let b = rest.as_bytes();
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    let starts = b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
    let upper = b.iter().all(|c| !c.is_ascii_lowercase());
    let lower = b.iter().all(|c| !c.is_ascii_uppercase());
    let named = b.contains(&b'_') || b.iter().all(u8::is_ascii_alphabetic);
    starts && b.iter().all(word) && (upper || (lower && named))
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
            "$pass",
            "$REDIS_PASS1",
            "%s",
            "%(password)s",
            "$(DB_PASSWORD)",
            "{{ .Password }}",
            "{{.Values.password}}",
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
            "$ecretPa55",
            "$3cr3t",
            "pa$$w0rd",
            "$abc123",
            "%secret1",
            "passw0rd!",
            "a1b2c3",
        ] {
            assert!(!is_placeholder(s), "{s}");
        }
    }
}
