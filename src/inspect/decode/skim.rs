//! Streaming skim of JSON bodies: the values of payload members are dropped as the body streams
//! past, everything else is kept, so a call whose body is mostly a blob (Lambda `ZipFile`, ECR
//! `layerPartBlob`, DynamoDB items) is inspected in memory bounded by its inspectable part.
//!
//! Called by the proxy for bodies larger than the inspection limit ([`crate::engine::Engine::skimmer`]).
//! The output is the same JSON document with each skipped string's contents replaced by
//! [`PLACEHOLDER`] (an empty one stays empty); the ordinary decoder then reads it, so every other field is judged exactly as
//! it would be in the whole body.
//!
//! Why this is exact: outside strings a JSON document holds no `"`, and inside one a `\` always
//! escapes the next byte, so string boundaries are found by the same rule every parser uses; an
//! object string after `{` or `,` is a key and after `:` a value. Every byte outside a skipped
//! string (structure, keys, kept values, whitespace, and any syntax error) is copied unchanged,
//! so a malformed document stays malformed for the decoder. A string is skipped only when
//! [`classify::role`] on its full path of decoded keys says `payload` (the role the tree walk
//! would give it, tag containers included); a key that is too long or does not decode makes
//! nothing below it skippable. The skipped bytes themselves are checked for what the framing
//! depends on (escapes, control characters, UTF-8), since the decoder never sees them.

use super::classify::{self, Role, Seg};
use super::DecodeLimits;
use crate::aws::MemberHints;
use crate::inspect::FieldKind;

/// What a skipped string's contents become in the skimmed document.
pub const PLACEHOLDER: &str = "(skipped by awsguard)";

/// Keys longer than this are not decoded: nothing below them is skipped.
const MAX_KEY: usize = 256;

/// Why a body could not be skimmed. Messages never include request data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SkimError {
    /// The parts that are kept exceed the limit.
    #[error("the body's inspectable part is larger than the inspection limit")]
    TooLarge,
    /// Containers nest deeper than the decoder ever reads.
    #[error("body nested too deeply")]
    TooDeep,
    /// A skipped string is not a valid JSON string (bad escape, control character, UTF-8).
    #[error("invalid json string at byte {offset}")]
    InvalidString {
        /// Byte offset in the body.
        offset: u64,
    },
}

/// One open container.
#[derive(Debug)]
enum Open {
    /// An object: the decoded key of its current member (`None` when it could not be decoded),
    /// and whether the next string is a key.
    Object {
        key: Option<String>,
        expect_key: bool,
    },
    /// An array.
    Array,
}

/// Where the skimmer is in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside any string.
    Between,
    /// Inside an object key: kept, and captured to decide what its value is.
    Key { escaped: bool },
    /// Inside a kept value string.
    Kept { escaped: bool },
    /// Inside a skipped value string.
    Skipped(Escape),
}

/// Escape progress inside a skipped string (validated, since the decoder never sees it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Backslash,
    /// Hex digits of a `\u` escape still expected.
    Hex(u8),
}

/// Skims one JSON body fed in pieces. `Debug` shows sizes only.
pub struct Skimmer {
    hints: &'static MemberHints,
    out: Vec<u8>,
    limit: usize,
    open: Vec<Open>,
    state: State,
    /// The raw bytes of the key being read (at most [`MAX_KEY`]), and whether it was longer.
    key: Vec<u8>,
    key_overflow: bool,
    /// An incomplete UTF-8 sequence at the end of the last piece of a skipped string.
    utf8: ([u8; 4], usize),
    offset: u64,
    /// Bytes skipped in the current string, and in all.
    skipping: u64,
    skipped: u64,
    failed: Option<SkimError>,
}

impl std::fmt::Debug for Skimmer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Skimmer")
            .field("kept", &self.out.len())
            .field("skipped", &self.skipped)
            .field("depth", &self.open.len())
            .field("failed", &self.failed)
            .finish()
    }
}

impl Skimmer {
    /// A skimmer dropping the strings `hints` marks as payload, keeping at most `limit` bytes.
    pub fn new(hints: &'static MemberHints, limit: usize) -> Self {
        Skimmer {
            hints,
            out: Vec::new(),
            limit,
            open: Vec::new(),
            state: State::Between,
            key: Vec::new(),
            key_overflow: false,
            utf8: ([0; 4], 0),
            offset: 0,
            skipping: 0,
            skipped: 0,
            failed: None,
        }
    }

    /// Bytes of skipped string contents so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Reads the next piece of the body. After an error the rest is only counted: the memory
    /// kept so far is released and [`Skimmer::finish`] reports the error.
    pub fn feed(&mut self, mut piece: &[u8]) {
        while !piece.is_empty() && self.failed.is_none() {
            let used = match self.step(piece) {
                Ok(used) => used,
                Err(error) => {
                    self.fail(error);
                    break;
                }
            };
            self.offset += used as u64;
            piece = &piece[used..];
        }
    }

    /// The skimmed document, or why there is none.
    pub fn finish(self) -> Result<Vec<u8>, SkimError> {
        match self.failed {
            Some(error) => Err(error),
            None => Ok(self.out),
        }
    }

    fn fail(&mut self, error: SkimError) {
        self.failed = Some(error);
        self.out = Vec::new();
        self.open = Vec::new();
    }

    /// Consumes a prefix of `piece` in the current state; how many bytes.
    fn step(&mut self, piece: &[u8]) -> Result<usize, SkimError> {
        match self.state {
            State::Between => {
                let byte = piece[0];
                self.structure(byte)?;
                Ok(1)
            }
            State::Key { escaped } | State::Kept { escaped } => {
                let is_key = matches!(self.state, State::Key { .. });
                let (run, end) = if escaped {
                    (1, None)
                } else {
                    match memchr::memchr2(b'"', b'\\', piece) {
                        Some(at) => (at + 1, Some(piece[at])),
                        None => (piece.len(), None),
                    }
                };
                self.keep(&piece[..run])?;
                if is_key {
                    self.capture(&piece[..run]);
                }
                let escaped = end == Some(b'\\');
                self.state = match (end, is_key) {
                    (Some(b'"'), true) => {
                        self.end_key();
                        State::Between
                    }
                    (Some(b'"'), false) => State::Between,
                    (_, true) => State::Key { escaped },
                    (_, false) => State::Kept { escaped },
                };
                Ok(run)
            }
            State::Skipped(escape) => self.skip(piece, escape),
        }
    }

    /// A byte outside strings: copied, and the container stack follows it.
    fn structure(&mut self, byte: u8) -> Result<(), SkimError> {
        match byte {
            b'{' | b'[' => {
                if self.open.len() >= DecodeLimits::DEPTH_CAP {
                    return Err(SkimError::TooDeep);
                }
                self.open.push(if byte == b'{' {
                    Open::Object {
                        key: None,
                        expect_key: true,
                    }
                } else {
                    Open::Array
                });
            }
            b'}' | b']' => {
                self.open.pop();
            }
            b':' | b',' => {
                if let Some(Open::Object { expect_key, .. }) = self.open.last_mut() {
                    *expect_key = byte == b',';
                }
            }
            b'"' => {
                let key = matches!(
                    self.open.last(),
                    Some(Open::Object {
                        expect_key: true,
                        ..
                    })
                );
                if key {
                    self.key.clear();
                    self.key_overflow = false;
                    self.state = State::Key { escaped: false };
                } else if self.is_payload() {
                    self.keep(b"\"")?;
                    self.skipping = 0;
                    self.state = State::Skipped(Escape::None);
                    return Ok(());
                } else {
                    self.state = State::Kept { escaped: false };
                }
            }
            _ => {}
        }
        self.keep(&[byte])
    }

    /// Copies kept bytes, within the limit.
    fn keep(&mut self, bytes: &[u8]) -> Result<(), SkimError> {
        if self.out.len().saturating_add(bytes.len()) > self.limit {
            return Err(SkimError::TooLarge);
        }
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    /// Records raw key bytes (the closing quote included, dropped in [`Skimmer::end_key`]).
    fn capture(&mut self, bytes: &[u8]) {
        if self.key.len().saturating_add(bytes.len()) > MAX_KEY + 1 {
            self.key_overflow = true;
        } else {
            self.key.extend_from_slice(bytes);
        }
    }

    /// The key just read becomes the current member of its object.
    fn end_key(&mut self) {
        let raw = self.key.strip_suffix(b"\"").unwrap_or(&self.key);
        let decoded = if self.key_overflow {
            None
        } else if raw.contains(&b'\\') {
            let mut quoted = Vec::with_capacity(raw.len() + 2);
            quoted.push(b'"');
            quoted.extend_from_slice(raw);
            quoted.push(b'"');
            serde_json::from_slice::<String>(&quoted).ok()
        } else {
            std::str::from_utf8(raw).ok().map(str::to_owned)
        };
        if let Some(Open::Object { key, .. }) = self.open.last_mut() {
            *key = decoded;
        }
    }

    /// Whether the value string starting now is a payload member the decoder would not judge.
    fn is_payload(&self) -> bool {
        let mut path = Vec::with_capacity(self.open.len());
        for open in &self.open {
            match open {
                Open::Object { key: Some(key), .. } => path.push(Seg::Key(key)),
                Open::Object { key: None, .. } => return false,
                // The walk numbers list items after dropping scalars; roles never use the number.
                Open::Array => path.push(Seg::Index(0)),
            }
        }
        !path.is_empty() && classify::role(self.hints, &path) == Role::Plain(FieldKind::Payload)
    }

    /// Consumes skipped string bytes, validating them; how many.
    fn skip(&mut self, piece: &[u8], escape: Escape) -> Result<usize, SkimError> {
        let invalid = SkimError::InvalidString {
            offset: self.offset,
        };
        match escape {
            Escape::Backslash => {
                let next = match piece[0] {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Escape::None,
                    b'u' => Escape::Hex(4),
                    _ => return Err(invalid),
                };
                self.state = State::Skipped(next);
                self.count(1);
                return Ok(1);
            }
            Escape::Hex(left) => {
                if !piece[0].is_ascii_hexdigit() {
                    return Err(invalid);
                }
                let next = if left > 1 {
                    Escape::Hex(left - 1)
                } else {
                    Escape::None
                };
                self.state = State::Skipped(next);
                self.count(1);
                return Ok(1);
            }
            Escape::None => {}
        }
        let stop = piece
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        let run = &piece[..stop.unwrap_or(piece.len())];
        self.utf8(run)?;
        self.count(run.len());
        let Some(at) = stop else {
            return Ok(run.len());
        };
        let special = piece[at];
        if self.utf8.1 != 0 || special < 0x20 {
            return Err(SkimError::InvalidString {
                offset: self.offset + at as u64,
            });
        }
        if special == b'"' {
            // An empty value stays empty: the decoder drops empty fields.
            if self.skipping > 0 {
                self.keep(PLACEHOLDER.as_bytes())?;
            }
            self.keep(b"\"")?;
            self.state = State::Between;
        } else {
            self.count(1);
            self.state = State::Skipped(Escape::Backslash);
        }
        Ok(at + 1)
    }

    /// Counts skipped bytes, in this string and in all.
    fn count(&mut self, n: usize) {
        self.skipping += n as u64;
        self.skipped += n as u64;
    }

    /// Validates skipped bytes as UTF-8 across pieces (a sequence may be split between two).
    fn utf8(&mut self, mut run: &[u8]) -> Result<(), SkimError> {
        let invalid = SkimError::InvalidString {
            offset: self.offset,
        };
        let (carry, held) = &mut self.utf8;
        if *held > 0 {
            let need = match carry[0] {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => return Err(invalid),
            };
            while *held < need {
                let Some((&byte, rest)) = run.split_first() else {
                    return Ok(());
                };
                carry[*held] = byte;
                *held += 1;
                run = rest;
            }
            std::str::from_utf8(&carry[..need]).map_err(|_| invalid)?;
            *held = 0;
        }
        if run.is_ascii() {
            return Ok(());
        }
        match std::str::from_utf8(run) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let tail = &run[e.valid_up_to()..];
                carry[..tail.len()].copy_from_slice(tail);
                *held = tail.len();
                Ok(())
            }
            Err(_) => Err(invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::decode::{extract, DecodeInput};
    use crate::inspect::Field;

    fn hints() -> &'static MemberHints {
        static HINTS: std::sync::OnceLock<MemberHints> = std::sync::OnceLock::new();
        HINTS.get_or_init(|| MemberHints {
            tags: vec!["Tags".into()],
            payloads: vec!["ZipFile".into(), "Item".into()],
            ..MemberHints::default()
        })
    }

    /// Skims `body` fed in pieces of `size` bytes.
    fn skim(body: &[u8], size: usize, limit: usize) -> Result<Vec<u8>, SkimError> {
        let mut skimmer = Skimmer::new(hints(), limit);
        for piece in body.chunks(size.max(1)) {
            skimmer.feed(piece);
        }
        skimmer.finish()
    }

    fn fields(body: &[u8]) -> Result<Vec<Field>, crate::inspect::decode::DecodeError> {
        let headers = http::HeaderMap::new();
        let input = DecodeInput {
            protocol: crate::aws::Protocol::Json,
            method: "POST",
            path: "/",
            query: None,
            headers: &headers,
            body: Some(body),
            hints: hints(),
        };
        extract(&input, &DecodeLimits::default())
    }

    /// The decoder's fields with payload values blanked: what skimming must keep.
    fn judged(fields: Vec<Field>) -> Vec<Field> {
        fields
            .into_iter()
            .map(|mut f| {
                if f.kind == FieldKind::Payload {
                    f.value = PLACEHOLDER.to_owned();
                }
                f
            })
            .collect()
    }

    #[test]
    fn payload_strings_are_dropped_and_everything_else_kept() {
        let body = br#"{"FunctionName":"f","Code":{"ZipFile":"UEsDBA\u0041=="},"Tags":{"ZipFile":"a@b.example","owner":"x"}}"#;
        for size in [1, 2, 3, 7, body.len()] {
            let out = skim(body, size, 1 << 20).unwrap();
            let text = String::from_utf8(out.clone()).unwrap();
            assert_eq!(
                text,
                format!(
                    r#"{{"FunctionName":"f","Code":{{"ZipFile":"{PLACEHOLDER}"}},"Tags":{{"ZipFile":"a@b.example","owner":"x"}}}}"#
                ),
                "pieces of {size}"
            );
            assert_eq!(judged(fields(body).unwrap()), fields(&out).unwrap());
        }
    }

    #[test]
    fn containers_under_a_payload_member_are_skimmed_inside() {
        let body = br#"{"Item":{"a":{"S":"secret stuff"},"b":["x","y"]},"Tags":[{"Key":"k","Value":"v"}]}"#;
        let out = skim(body, 5, 1 << 20).unwrap();
        assert_eq!(judged(fields(body).unwrap()), fields(&out).unwrap());
        assert!(!String::from_utf8(out).unwrap().contains("secret"));
    }

    #[test]
    fn only_kept_bytes_count_against_the_limit() {
        let zip = "A".repeat(100_000);
        let body = format!(r#"{{"Code":{{"ZipFile":"{zip}"}},"Tags":{{"o":"x"}}}}"#);
        let out = skim(body.as_bytes(), 4096, 200).unwrap();
        assert!(out.len() < 200);
        let long = format!(r#"{{"Description":"{zip}"}}"#);
        assert_eq!(skim(long.as_bytes(), 4096, 200), Err(SkimError::TooLarge));
    }

    #[test]
    fn escaped_and_long_keys_decide_conservatively() {
        // `Zip\u0046ile` decodes to ZipFile: skipped like it.
        let escaped = br#"{"Zip\u0046ile":"QUJD"}"#;
        let out = String::from_utf8(skim(escaped, 3, 1024).unwrap()).unwrap();
        assert!(out.contains(PLACEHOLDER), "{out}");
        // A key too long to decode makes nothing below it skippable.
        let long = format!(r#"{{"{}":{{"ZipFile":"QUJD"}}}}"#, "k".repeat(MAX_KEY + 1));
        let out = String::from_utf8(skim(long.as_bytes(), 3, 4096).unwrap()).unwrap();
        assert!(out.contains("QUJD"), "{out}");
    }

    #[test]
    fn invalid_skipped_strings_fail() {
        for body in [
            &br#"{"ZipFile":"a\x"}"#[..],
            br#"{"ZipFile":"a\u12g4"}"#,
            b"{\"ZipFile\":\"a\nb\"}",
            b"{\"ZipFile\":\"a\xffb\"}",
            b"{\"ZipFile\":\"a\xc3\"}",
        ] {
            assert!(
                matches!(skim(body, 1, 1024), Err(SkimError::InvalidString { .. })),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        // A multi-byte character split between pieces is valid.
        let ok = "{\"ZipFile\":\"é😀\"}".as_bytes();
        assert!(skim(ok, 1, 1024).is_ok());
    }

    #[test]
    fn malformed_documents_stay_malformed() {
        for body in [
            &br#"{"ZipFile":"QUJD","Tags":{"o":"a@b.example"},"y":}"#[..],
            br#"{"ZipFile":"QUJD""Tags":1}"#,
            br#"{"ZipFile":"QUJD"#,
            br#"["ZipFile":"x"]"#,
        ] {
            let out = skim(body, 2, 1024).unwrap();
            assert!(fields(body).is_err());
            assert!(fields(&out).is_err(), "{}", String::from_utf8_lossy(&out));
        }
    }

    #[test]
    fn nesting_past_the_cap_fails() {
        let deep = "[".repeat(DecodeLimits::DEPTH_CAP + 1);
        assert_eq!(skim(deep.as_bytes(), 64, 1 << 20), Err(SkimError::TooDeep));
    }

    /// Well-formed documents mixing payload members, tag containers and plain members, with
    /// escapes and non-ASCII text, at any nesting.
    fn document() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let keys = prop::sample::select(vec![
            "ZipFile",
            "Item",
            "Tags",
            "Key",
            "Value",
            "Code",
            "o",
            "Zip\\u0046ile",
            "x y",
        ]);
        let leaf = prop_oneof![
            "[a-zé@.\"\\\\\n😀]{0,8}".prop_map(serde_json::Value::from),
            Just(serde_json::Value::from(1)),
            Just(serde_json::Value::Null),
        ];
        leaf.prop_recursive(5, 48, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::vec((keys.clone(), inner), 0..5).prop_map(|entries| {
                    serde_json::Value::Object(
                        entries
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect(),
                    )
                }),
            ]
        })
    }

    proptest::proptest! {
        /// A well-formed document, cut anywhere, skims to one that decodes to the same fields
        /// with payload values replaced.
        #[test]
        fn well_formed_documents_skim_exactly(doc in document(), size in 1usize..12) {
            let body = serde_json::to_vec(&doc).unwrap();
            let out = skim(&body, size, 1 << 20).unwrap();
            let whole = fields(&body);
            proptest::prop_assume!(whole.is_ok());
            proptest::prop_assert_eq!(judged(whole.unwrap()), fields(&out).unwrap());
        }

        /// Whatever the document and however it is cut, the skimmed body decodes to the same
        /// fields as the whole one with payload values replaced, or fails where it fails.
        #[test]
        fn skimmed_bodies_decode_like_whole_ones(
            body in r#"[{}\[\],:" ]{0,3}(\{("(ZipFile|Tags|Item|Key|Value|o|Code|Zip\\u0046ile)":("[a-zé\\n@.]{0,6}"|\[|\{|1|"x"\}|\],?)[,}\]]?){0,8}\}?)"#,
            size in 1usize..9,
        ) {
            let whole = fields(body.as_bytes());
            match skim(body.as_bytes(), size, 1 << 20) {
                Ok(out) => match whole {
                    Ok(whole) => proptest::prop_assert_eq!(judged(whole), fields(&out).unwrap()),
                    Err(_) => proptest::prop_assert!(fields(&out).is_err()),
                },
                Err(_) => proptest::prop_assert!(whole.is_err()),
            }
        }
    }
}
