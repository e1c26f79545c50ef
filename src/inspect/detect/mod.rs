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

/// The Luhn checksum over the ASCII digits `digits` (card numbers, Canada's SIN, Sweden's
/// personnummer).
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| {
            let d = u32::from(c.wrapping_sub(b'0') % 10);
            if i % 2 == 1 {
                let d2 = d * 2;
                d2 / 10 + d2 % 10
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Position of the first ASCII digit in `b` at or after `from`. Eight bytes at a time: card,
/// IBAN and national-number detectors jump from digit to digit through long prose, and neither
/// `memchr` (single bytes) nor the standard library searches for a range of bytes.
pub(crate) fn next_ascii_digit(b: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const ZEROS: u64 = u64::from_ne_bytes([b'0'; 8]);
    let rest = b.get(from..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut skipped = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        // A digit becomes a byte below 10 (and nothing else does); a word has a byte below 10
        // exactly when this is not zero (the "has less than" test, exact for a limit ≤ 128).
        let x = u64::from_ne_bytes(word) ^ ZEROS;
        if x.wrapping_sub(ONES * 10) & !x & HIGHS != 0 {
            break;
        }
        skipped += 8;
    }
    rest.get(skipped..)?
        .iter()
        .position(u8::is_ascii_digit)
        .map(|at| from + skipped + at)
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

    proptest! {
        #[test]
        fn next_ascii_digit_agrees_with_a_plain_search(
            bytes in proptest::collection::vec(any::<u8>(), 0..40),
            from in 0usize..44,
        ) {
            let want = bytes
                .get(from..)
                .and_then(|r| r.iter().position(u8::is_ascii_digit))
                .map(|at| from + at);
            prop_assert_eq!(next_ascii_digit(&bytes, from), want);
        }
    }

    #[test]
    fn next_ascii_digit_finds_each_digit_among_its_neighbours() {
        for c in 0..=255u8 {
            for at in 0..17 {
                let mut b = vec![b'x'; 17];
                b[at] = c;
                let want = c.is_ascii_digit().then_some(at);
                assert_eq!(next_ascii_digit(&b, 0), want, "{c} at {at}");
            }
        }
    }

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
        phone::find_alone(value, ctx, &mut out);
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
