//! Built-in detectors: one module per rule family, each a pure function over one string.
//!
//! Called by [`crate::inspect::Scanner`], which decides which detectors run on which field (the
//! prefilter) and turns [`Hit`]s into findings. Detectors never see configuration: they report
//! every match with a redacted excerpt, and the scanner applies modes, severities and allowlists.

pub(crate) mod aws_keys;
pub(crate) mod card;
pub(crate) mod custom;
pub(crate) mod email;
pub(crate) mod iban;
pub(crate) mod jwt;
pub(crate) mod national;
pub(crate) mod phone;
pub(crate) mod placeholder;
pub(crate) mod prefilter;
pub(crate) mod private_key;
pub(crate) mod saas;
pub(crate) mod ssn;
pub(crate) mod url;

/// One match inside a value: which rule, the byte span (for value allowlists) and the excerpt.
///
/// `Debug` shows only the rule, span and the already redacted excerpt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Rule id (`email-address`, `custom:<name>`, …).
    pub(crate) rule: String,
    /// Byte offset of the match in the scanned value.
    pub(crate) start: usize,
    /// Byte offset one past the match.
    pub(crate) end: usize,
    /// Redacted excerpt, never the whole secret.
    pub(crate) excerpt: String,
}

impl Hit {
    pub(crate) fn new(rule: &str, start: usize, end: usize, excerpt: String) -> Hit {
        Hit {
            rule: rule.to_string(),
            start,
            end,
            excerpt,
        }
    }
}

/// Whether `b` can sit inside a word (so a match next to it is not standing alone).
pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The largest char boundary of `s` at or below `i`.
pub(crate) fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Whether one of `keywords` (lower-case ASCII) occurs, case-insensitively, in the `distance`
/// bytes before `start` in `value`.
pub(crate) fn keyword_before<S: AsRef<str>>(
    value: &str,
    start: usize,
    keywords: &[S],
    distance: usize,
) -> bool {
    let from = floor_boundary(value, start.saturating_sub(distance));
    let to = floor_boundary(value, start);
    let window = value.get(from..to).unwrap_or("").to_ascii_lowercase();
    keywords.iter().any(|k| window.contains(k.as_ref()))
}

/// Whether one of `keywords` (lower-case ASCII) occurs in `context` (already lower-case).
pub(crate) fn keyword_in<S: AsRef<str>>(context: &str, keywords: &[S]) -> bool {
    keywords.iter().any(|k| context.contains(k.as_ref()))
}

/// Where a keyword-gated detector may find its keyword outside the value itself: the tag key and
/// the field location, lower-cased once per field by the scanner.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyContext<'a> {
    /// `tag_key` and `location`, lower-cased and joined with a space.
    pub(crate) keys: &'a str,
}

/// Whether `word` occurs in `text` with no letter right after it and, when `whole` is set, none
/// right before it either (`tel` but not `hotel`; `ssn` in `employeessn` but not `classname`).
pub(crate) fn contains_word(text: &str, word: &str, whole: bool) -> bool {
    let b = text.as_bytes();
    text.match_indices(word).any(|(i, _)| {
        let before = !whole || i == 0 || !b[i - 1].is_ascii_alphabetic();
        let after = b
            .get(i + word.len())
            .is_none_or(|c| !c.is_ascii_alphabetic());
        before && after
    })
}

/// The excerpts a detector run produces: the detectors' unit tests assert on these.
#[cfg(test)]
pub(crate) fn excerpts_of(find: impl FnOnce(&mut Vec<Hit>)) -> Vec<String> {
    let mut out = Vec::new();
    find(&mut out);
    out.into_iter().map(|h| h.excerpt).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every detector, called directly (the scanner's prefilter would skip most inputs).
    fn run_all(value: &str, keys: &str) -> Vec<Hit> {
        let ctx = KeyContext { keys };
        let mut out = Vec::new();
        email::find(value, &mut out);
        aws_keys::find_access_keys(value, &mut out);
        aws_keys::find_secret_keys(value, ctx, &mut out);
        private_key::find(value, &mut out);
        jwt::find(value, &mut out);
        card::find(value, &mut out);
        iban::find(value, &mut out);
        phone::find(value, ctx, &mut out);
        ssn::find(value, ctx, &mut out);
        let _ = national::find(value, keys, &mut out);
        url::find(value, &mut out);
        saas::find_tokens(value, &mut out);
        saas::find_keyed(value, ctx, &mut out);
        let _ = placeholder::is_placeholder(value);
        out
    }

    fn spans_are_valid(value: &str, hits: &[Hit]) -> bool {
        hits.iter()
            .all(|h| h.start <= h.end && value.get(h.start..h.end).is_some())
    }

    #[test]
    fn keyword_helpers() {
        assert!(keyword_before("my secret is x", 13, &["secret"], 10));
        assert!(!keyword_before("my secret is x", 13, &["secret"], 5));
        assert!(contains_word("employeessn", "ssn", false));
        assert!(!contains_word("classname", "ssn", false));
        assert!(!contains_word("hotel", "tel", true));
        assert_eq!(floor_boundary("aé", 2), 1);
    }

    proptest! {
        #[test]
        fn detectors_never_panic_on_arbitrary_strings(value in any::<String>()) {
            let hits = run_all(&value, "phone ssn secret twilio datadog app azure");
            prop_assert!(spans_are_valid(&value, &hits));
        }

        #[test]
        fn detectors_never_panic_on_shaped_strings(
            value in "[0-9A-Za-z +()./:@%_=-]{0,80}(eyJ[A-Za-z0-9_.-]{0,60}|\\+[0-9 -]{0,30}|[A-Z]{2}[0-9]{2}[A-Z0-9 ]{0,40}|[a-z+]{1,8}://[!-~]{0,80})"
        ) {
            let hits = run_all(&value, "phone ssn secret twilio datadog app azure");
            prop_assert!(spans_are_valid(&value, &hits));
        }

        #[test]
        fn detectors_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let value = String::from_utf8_lossy(&bytes);
            let hits = run_all(&value, "");
            prop_assert!(spans_are_valid(&value, &hits));
        }
    }
}
