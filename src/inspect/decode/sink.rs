//! Where decoded fields go: a bounded stream of borrowed fields, and the location-rendering rules.
//!
//! Every decoder pushes its fields through [`Sink::push`], which drops empty values, stops with
//! [`DecodeError::TooManyFields`] past the limit and hands each field to the caller's callback
//! (the scanner, or a list for [`super::extract`]). Locations are recorded in events
//! unredacted, so a map key or form key is written into a location only when it looks like an
//! identifier ([`is_location_safe`]); otherwise its position is used instead (`[#2]`).

use super::DecodeError;
use crate::aws::MemberHints;
use crate::inspect::{FieldKind, FieldRef, Location};

/// Hands fields to a callback, up to a limit.
pub(crate) struct Sink<'h, 'o> {
    /// Model hints for classification.
    pub(crate) hints: &'h MemberHints,
    out: &'o mut dyn FnMut(FieldRef<'_>),
    count: usize,
    max_fields: usize,
}

impl<'h, 'o> Sink<'h, 'o> {
    /// A sink that passes at most `max_fields` fields to `out`.
    pub(crate) fn new(
        hints: &'h MemberHints,
        max_fields: usize,
        out: &'o mut dyn FnMut(FieldRef<'_>),
    ) -> Self {
        Sink {
            hints,
            out,
            count: 0,
            max_fields,
        }
    }

    /// Passes a field on; empty values carry nothing to inspect and are dropped.
    pub(crate) fn push(&mut self, field: FieldRef<'_>) -> Result<(), DecodeError> {
        if field.value.is_empty() {
            return Ok(());
        }
        if self.count >= self.max_fields {
            return Err(DecodeError::TooManyFields);
        }
        self.count += 1;
        (self.out)(field);
        Ok(())
    }

    /// Passes on a field of `kind` at `location`.
    pub(crate) fn plain(
        &mut self,
        location: Location<'_>,
        kind: FieldKind,
        value: &str,
    ) -> Result<(), DecodeError> {
        self.push(FieldRef {
            location,
            kind,
            value,
            tag_key: None,
        })
    }

    /// Passes on a tag: its key (if not empty) and its value with `tag_key` set, both at
    /// `location`.
    pub(crate) fn tag(
        &mut self,
        location: Location<'_>,
        key: &str,
        value: &str,
    ) -> Result<(), DecodeError> {
        self.plain(location, FieldKind::TagKey, key)?;
        self.tag_value(location, Some(key), value)
    }

    /// Passes on a tag value whose key is known (or not).
    pub(crate) fn tag_value(
        &mut self,
        location: Location<'_>,
        key: Option<&str>,
        value: &str,
    ) -> Result<(), DecodeError> {
        self.push(FieldRef {
            location,
            kind: FieldKind::TagValue,
            value,
            tag_key: key,
        })
    }
}

/// Runs `decode` on a sink that collects owned fields: the decoders' unit tests compare these.
#[cfg(test)]
pub(crate) fn collect(
    hints: &MemberHints,
    max_fields: usize,
    decode: impl FnOnce(&mut Sink<'_, '_>) -> Result<(), DecodeError>,
) -> Result<Vec<crate::inspect::Field>, DecodeError> {
    let mut fields = Vec::new();
    let mut out = |field: FieldRef<'_>| fields.push(field.to_field());
    decode(&mut Sink::new(hints, max_fields, &mut out))?;
    Ok(fields)
}

/// Whether a key from the request may be written into a location as is.
///
/// Identifier-like keys (`owner`, `aws:cloudformation:stack-name`, `Tags.member.1.Key`) are;
/// keys with `@`, `=`, spaces or other punctuation, longer than 64 bytes, with a long run of
/// letters and digits (key-shaped, e.g. `AKIA…`), or with seven digits or more (what a phone,
/// SSN, card or account number needs, even grouped as `4111-1111-1111-1111`) are not.
pub(crate) fn is_location_safe(key: &str) -> bool {
    if key.is_empty() || key.len() > 64 {
        return false;
    }
    let charset_ok = key.bytes().all(|b| SAFE_BYTES[usize::from(b)]);
    let digits = key.bytes().filter(u8::is_ascii_digit).count();
    // A run of 16 needs 16 bytes: most keys are shorter and need no second pass.
    charset_ok && digits < MAX_KEY_DIGITS && (key.len() < 16 || !has_secret_shaped_run(key))
}

/// Keys with this many digits or more are not written into locations.
const MAX_KEY_DIGITS: usize = 7;

/// The bytes a location-safe key may hold: ASCII letters and digits, `_`, `-`, `.`, `:`, `/`.
/// A table, because every key of every request is checked.
const SAFE_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':' | b'/');
        b += 1;
    }
    table
};

/// A run of 16+ letters and digits that contains a digit, or any run of 24+.
fn has_secret_shaped_run(key: &str) -> bool {
    key.as_bytes()
        .split(|b| !b.is_ascii_alphanumeric())
        .any(|run| run.len() >= 24 || (run.len() >= 16 && run.iter().any(u8::is_ascii_digit)))
}

/// One step of a [`Location`] inside a decoded document.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step<'a> {
    /// A map member: its key, its position in the map, and its occurrence number when the map
    /// repeats the key (XML lists).
    Key {
        key: &'a str,
        position: usize,
        occurrence: Option<usize>,
    },
    /// A list position.
    Index(usize),
}

/// Appends the steps to a document value: `body:` + `Tags`, `[0]`, `Value` →
/// `body:Tags[0].Value`.
pub(crate) fn push_path_location(location: &mut String, steps: &[Step<'_>]) {
    for step in steps {
        match *step {
            Step::Key {
                key,
                position,
                occurrence,
            } => {
                push_key(location, key, position);
                if let Some(n) = occurrence {
                    push_index(location, n);
                }
            }
            Step::Index(index) => push_index(location, index),
        }
    }
}

/// Appends a form parameter's key as sent (`Tags.member.1.Value`) when it may be shown (256
/// bytes at most, every `.`-separated segment location-safe), else its position `[#n]`.
pub(crate) fn push_form_location(location: &mut String, key: &str, position: usize) {
    if key.len() <= 256 && key.split('.').all(is_location_safe) {
        location.push_str(key);
    } else {
        push_position(location, position);
    }
}

/// Appends a member/map key segment to a location: `body:` + `Tags` → `body:Tags`,
/// `body:Tags` + `owner` → `body:Tags.owner`; an unsafe key becomes its position `[#n]`.
pub(crate) fn push_key(location: &mut String, key: &str, position: usize) {
    if !is_location_safe(key) {
        push_position(location, position);
        return;
    }
    if !location.ends_with(':') {
        location.push('.');
    }
    location.push_str(key);
}

/// Appends a list position: `body:Tags` → `body:Tags[0]`.
pub(crate) fn push_index(location: &mut String, index: usize) {
    location.push('[');
    push_decimal(location, index);
    location.push(']');
}

/// Appends the position that stands in for an unsafe key: `body:tags` → `body:tags[#3]`.
pub(crate) fn push_position(location: &mut String, position: usize) {
    location.push_str("[#");
    push_decimal(location, position);
    location.push(']');
}

/// Appends `n` in decimal, as `write!` would but without the formatting machinery (and without
/// the allocation of `format!`): every list item of every request has a position.
fn push_decimal(location: &mut String, n: usize) {
    if n >= 10 {
        push_decimal(location, n / 10);
    }
    location.push(char::from(b'0' + (n % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_safety() {
        assert!(is_location_safe("owner"));
        assert!(is_location_safe("aws:cloudformation:stack-name"));
        assert!(is_location_safe("Tags.member.1.Key"));
        assert!(is_location_safe("TagSpecification"));
        assert!(!is_location_safe("alice@example.com"));
        assert!(!is_location_safe("a b"));
        assert!(!is_location_safe(""));
        assert!(!is_location_safe("AKIAIOSFODNN7EXAMPLE"));
        assert!(!is_location_safe("abcdefghijklmnopqrstuvwxyz"));
        assert!(!is_location_safe(&"a".repeat(65)));
        assert!(!is_location_safe("4111-1111-1111-1111"));
        assert!(!is_location_safe("536-22-8741"));
        assert!(!is_location_safe("tel-020-7946-0958"));
        assert!(is_location_safe("Tags.member.10.Key"));
    }

    #[test]
    fn positions_render_like_format() {
        for n in [0, 7, 10, 99, 1234, usize::MAX] {
            let mut loc = String::new();
            push_index(&mut loc, n);
            push_position(&mut loc, n);
            assert_eq!(loc, format!("[{n}][#{n}]"));
        }
    }

    #[test]
    fn key_and_index_rendering() {
        let mut loc = String::from("body:");
        push_key(&mut loc, "Tags", 0);
        push_index(&mut loc, 2);
        push_key(&mut loc, "Value", 1);
        assert_eq!(loc, "body:Tags[2].Value");
        let mut loc = String::from("body:tags");
        push_key(&mut loc, "bob@example.com", 3);
        assert_eq!(loc, "body:tags[#3]");
    }

    #[test]
    fn sink_drops_empty_and_stops_at_limit() {
        let hints = MemberHints::default();
        let mut fields = Vec::new();
        let mut out = |field: FieldRef<'_>| fields.push(field.to_field());
        let mut sink = Sink::new(&hints, 2, &mut out);
        sink.plain("body:A".into(), FieldKind::Other, "").unwrap();
        sink.tag("body:tags.k".into(), "k", "v").unwrap();
        let err = sink
            .plain("body:B".into(), FieldKind::Other, "x")
            .unwrap_err();
        assert_eq!(err, DecodeError::TooManyFields);
        assert_eq!(fields.len(), 2);
        assert_eq!(fields[1].tag_key.as_deref(), Some("k"));
        assert_eq!(fields[1].kind, FieldKind::TagValue);
    }
}
