//! CBOR bodies (`rpcv2-cbor` protocol) → [`Node`] tree.
//!
//! Called by [`super::extract`]. Item headers (an initial byte and up to 8 bytes of argument) are
//! read here, by the rules of `ciborium-ll` (the decoder under `ciborium`): going through its
//! generic reader cost more per header than everything else, so it only reads the rare chunked
//! strings. `ciborium::from_reader` is not used: the high-level API cannot carry our node budget,
//! and its `Value` would allocate for every number. Here:
//! - nesting is checked against [`super::DecodeLimits::max_depth`] before each container;
//! - declared lengths are never trusted for allocation (a `0x9b ff…` array reads until the input
//!   ends and fails): a definite-length string is borrowed straight from the body once all its
//!   bytes are there, chunked text grows only as bytes arrive;
//! - tags are unwrapped (iteratively, so a chain of tags cannot recurse);
//! - byte strings, numbers, simple values are read and dropped; indefinite lengths are supported.

use std::borrow::Cow;

use ciborium_ll::Decoder;

use super::tree::{Budget, Node};
use super::DecodeError;

/// Parses one CBOR data item (trailing bytes are an error).
pub(crate) fn parse<'a>(body: &'a [u8], budget: &mut Budget) -> Result<Node<'a>, DecodeError> {
    let mut items = Items {
        body,
        at: 0,
        budget,
    };
    let node = items.item(0)?;
    if items.at != body.len() {
        return Err(DecodeError::InvalidCbor { offset: items.at });
    }
    Ok(node)
}

/// What an item header says, as far as the tree is concerned: numbers, floats and simple values
/// are all dropped alike. `None` lengths are indefinite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    Scalar,
    Break,
    Tag,
    Bytes(Option<usize>),
    Text(Option<usize>),
    Array(Option<usize>),
    Map(Option<usize>),
}

/// One body being read, from offset `at`.
struct Items<'a, 'b> {
    body: &'a [u8],
    at: usize,
    budget: &'b mut Budget,
}

impl<'a> Items<'a, '_> {
    /// The next `len` bytes; `None` when fewer remain, so a declared length is never believed
    /// beyond the bytes present.
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(len)?;
        let bytes = self.body.get(self.at..end)?;
        self.at = end;
        Some(bytes)
    }

    /// Reads the next item header. Malformed (reserved additional information 28–30, an
    /// indefinite number or tag) or truncated headers are errors at the header's offset.
    fn head(&mut self) -> Result<Head, DecodeError> {
        let offset = self.at;
        let invalid = || DecodeError::InvalidCbor { offset };
        let initial = self
            .take(1)
            .and_then(|b| b.first().copied())
            .ok_or_else(invalid)?;
        let argument = match initial & 0x1f {
            n @ 0..=23 => Some(u64::from(n)),
            n @ 24..=27 => {
                let bytes = self.take(1 << (n - 24)).ok_or_else(invalid)?;
                Some(bytes.iter().fold(0, |value, &b| value << 8 | u64::from(b)))
            }
            31 => None,
            _ => return Err(invalid()),
        };
        let len = |argument: Option<u64>| {
            argument
                .map(usize::try_from)
                .transpose()
                .map_err(|_| invalid())
        };
        Ok(match (initial >> 5, argument) {
            (0 | 1 | 7, Some(_)) => Head::Scalar,
            (7, None) => Head::Break,
            (6, Some(_)) => Head::Tag,
            (2, argument) => Head::Bytes(len(argument)?),
            (3, argument) => Head::Text(len(argument)?),
            (4, argument) => Head::Array(len(argument)?),
            (5, argument) => Head::Map(len(argument)?),
            _ => return Err(invalid()),
        })
    }

    /// Reads one data item at nesting `depth`.
    fn item(&mut self, depth: usize) -> Result<Node<'a>, DecodeError> {
        let offset = self.at;
        let mut header = self.at;
        let mut head = self.head()?;
        while head == Head::Tag {
            header = self.at;
            head = self.head()?;
        }
        match head {
            Head::Scalar => Ok(Node::Skip),
            // A break outside an indefinite container is malformed; tags were unwrapped above.
            Head::Break | Head::Tag => Err(DecodeError::InvalidCbor { offset }),
            Head::Bytes(len) => self.skip_bytes(header, len).map(|()| Node::Skip),
            Head::Text(len) => {
                self.budget.take()?;
                self.text(header, len).map(Node::Str)
            }
            Head::Array(len) => {
                self.budget.enter(depth + 1)?;
                self.array(depth + 1, len)
            }
            Head::Map(len) => {
                self.budget.enter(depth + 1)?;
                self.map(depth + 1, len)
            }
        }
    }

    /// Whether the next item of an indefinite-length container is the closing break (which is
    /// then consumed); anything else, malformed or not, is left for the next [`Self::item`].
    fn at_break(&mut self) -> bool {
        if self.body.get(self.at) == Some(&0xff) {
            self.at += 1;
            return true;
        }
        false
    }

    /// Whether another element follows: counts down a definite length or looks for a break.
    fn more(&mut self, remaining: &mut Option<usize>) -> bool {
        match remaining {
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
            None => !self.at_break(),
        }
    }

    /// Reads the elements of an array whose header said `len`.
    fn array(&mut self, depth: usize, mut len: Option<usize>) -> Result<Node<'a>, DecodeError> {
        let mut items = Vec::new();
        while self.more(&mut len) {
            let node = self.item(depth)?;
            if node != Node::Skip {
                items.push(node);
            }
        }
        Ok(Node::List(items))
    }

    /// Reads the entries of a map whose header said `len`; non-text keys become `?`.
    fn map(&mut self, depth: usize, mut len: Option<usize>) -> Result<Node<'a>, DecodeError> {
        let mut entries = Vec::new();
        while self.more(&mut len) {
            let key = match self.item(depth)? {
                Node::Str(key) => key,
                _ => Cow::Borrowed("?"),
            };
            let value = self.item(depth)?;
            if value != Node::Skip {
                entries.push((key, value));
            }
        }
        Ok(Node::Map(entries))
    }

    /// Reads a text string whose header (at `header`) said `len`; invalid UTF-8 is an error.
    fn text(&mut self, header: usize, len: Option<usize>) -> Result<Cow<'a, str>, DecodeError> {
        let offset = self.at;
        let invalid = || DecodeError::InvalidCbor { offset };
        let Some(len) = len else {
            return self.chunked_text(header).map(Cow::Owned);
        };
        let bytes = self.take(len).ok_or_else(invalid)?;
        std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|_| invalid())
    }

    /// Reads and discards a byte string whose header (at `header`) said `len`.
    fn skip_bytes(&mut self, header: usize, len: Option<usize>) -> Result<(), DecodeError> {
        let offset = self.at;
        let Some(len) = len else {
            return self.skip_chunked_bytes(header);
        };
        self.take(len)
            .map(|_| ())
            .ok_or(DecodeError::InvalidCbor { offset })
    }

    /// Reads chunked text (an indefinite-length string, whose one-byte header is at `header`)
    /// with `ciborium-ll`'s segment reader; text grows only as chunks actually arrive.
    fn chunked_text(&mut self, header: usize) -> Result<String, DecodeError> {
        let offset = self.at;
        let invalid = |_| DecodeError::InvalidCbor { offset };
        let mut decoder = Decoder::from(self.body.get(header..).unwrap_or_default());
        // The header again: `text` puts it back and reads the chunks after it.
        decoder.pull().map_err(invalid)?;
        let mut out = String::new();
        let mut scratch = [0u8; 1024];
        let mut segments = decoder.text(None);
        while let Some(mut segment) = segments.pull().map_err(invalid)? {
            while let Some(chunk) = segment.pull(&mut scratch).map_err(invalid)? {
                out.push_str(chunk);
            }
        }
        self.at = header + decoder.offset();
        Ok(out)
    }

    /// Reads and discards chunked bytes, as [`Self::chunked_text`] reads chunked text.
    fn skip_chunked_bytes(&mut self, header: usize) -> Result<(), DecodeError> {
        let offset = self.at;
        let invalid = |_| DecodeError::InvalidCbor { offset };
        let mut decoder = Decoder::from(self.body.get(header..).unwrap_or_default());
        decoder.pull().map_err(invalid)?;
        let mut scratch = [0u8; 1024];
        let mut segments = decoder.bytes(None);
        while let Some(mut segment) = segments.pull().map_err(invalid)? {
            while segment.pull(&mut scratch).map_err(invalid)?.is_some() {}
        }
        self.at = header + decoder.offset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciborium::value::Value;

    fn encode(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(value, &mut out).unwrap();
        out
    }

    fn parse_all(body: &[u8]) -> Result<Node<'_>, DecodeError> {
        parse(body, &mut Budget::new(64, 1000))
    }

    use crate::inspect::decode::tree::build::s;

    #[test]
    fn maps_lists_tags_and_bytes() {
        let value = Value::Map(vec![
            (Value::Text("QueueName".into()), Value::Text("q".into())),
            (Value::Text("n".into()), Value::Integer(5.into())),
            (Value::Text("blob".into()), Value::Bytes(vec![1, 2, 3])),
            (
                Value::Text("list".into()),
                Value::Array(vec![
                    Value::Tag(1, Box::new(Value::Text("t".into()))),
                    Value::Null,
                ]),
            ),
            (Value::Integer(7.into()), Value::Text("int-key".into())),
        ]);
        let want = Node::Map(vec![
            ("QueueName".into(), s("q")),
            ("list".into(), Node::List(vec![s("t")])),
            ("?".into(), s("int-key")),
        ]);
        assert_eq!(parse_all(&encode(&value)).unwrap(), want);
    }

    #[test]
    fn indefinite_lengths_and_chunked_text() {
        // {_ "a": (_ "he", "llo"), "b": [_ "x"] }
        let body = [
            0xbf, 0x61, b'a', 0x7f, 0x62, b'h', b'e', 0x63, b'l', b'l', b'o', 0xff, 0x61, b'b',
            0x9f, 0x61, b'x', 0xff, 0xff,
        ];
        let want = Node::Map(vec![
            ("a".into(), s("hello")),
            ("b".into(), Node::List(vec![s("x")])),
        ]);
        assert_eq!(parse_all(&body).unwrap(), want);
    }

    #[test]
    fn invalid_and_truncated_items_are_errors() {
        assert_eq!(parse_all(&[]), Err(DecodeError::InvalidCbor { offset: 0 }));
        assert_eq!(
            parse_all(&[0xff]),
            Err(DecodeError::InvalidCbor { offset: 0 })
        );
        // An array claiming 2^64-1 elements, with one present.
        let huge = [0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert!(matches!(
            parse_all(&huge),
            Err(DecodeError::InvalidCbor { .. })
        ));
        // A text string claiming 4 GiB, with 3 bytes present.
        let text = [0x7a, 0xff, 0xff, 0xff, 0xff, b'a', b'b', b'c'];
        assert!(matches!(
            parse_all(&text),
            Err(DecodeError::InvalidCbor { .. })
        ));
        // Invalid UTF-8 in text.
        assert!(matches!(
            parse_all(&[0x61, 0xff]),
            Err(DecodeError::InvalidCbor { .. })
        ));
        // Trailing bytes after the item.
        assert_eq!(
            parse_all(&[0x61, b'a', 0x00]),
            Err(DecodeError::InvalidCbor { offset: 2 })
        );
    }

    #[test]
    fn offsets_stay_absolute_after_strings_taken_directly() {
        // [ "a", break ]: the break is misplaced, at byte 3.
        assert_eq!(
            parse_all(&[0x82, 0x61, b'a', 0xff]),
            Err(DecodeError::InvalidCbor { offset: 3 })
        );
        // [ h'0102', <reserved header> ]
        assert_eq!(
            parse_all(&[0x82, 0x42, 1, 2, 0x1c]),
            Err(DecodeError::InvalidCbor { offset: 4 })
        );
        // { "k": "é" } then a trailing byte.
        let body = [0xa1, 0x61, b'k', 0x62, 0xc3, 0xa9, 0x00];
        assert_eq!(
            parse_all(&body),
            Err(DecodeError::InvalidCbor { offset: 6 })
        );
        assert_eq!(
            parse_all(&body[..6]),
            Ok(Node::Map(vec![("k".into(), s("é"))]))
        );
    }

    #[test]
    fn chunked_strings_after_tags_are_read_from_their_own_header() {
        // { "a": 1(_ "he", "llo"), "b": 2(_ h'01'), "c": "x" }
        let body = [
            0xa3, 0x61, b'a', 0xc1, 0x7f, 0x62, b'h', b'e', 0x63, b'l', b'l', b'o', 0xff, 0x61,
            b'b', 0xc2, 0x5f, 0x41, 0x01, 0xff, 0x61, b'c', 0x61, b'x',
        ];
        let want = Node::Map(vec![("a".into(), s("hello")), ("c".into(), s("x"))]);
        assert_eq!(parse_all(&body).unwrap(), want);
    }

    #[test]
    fn nesting_bombs_and_tag_chains() {
        let mut nested = Value::Text("x".into());
        for _ in 0..64 {
            nested = Value::Array(vec![nested]);
        }
        assert!(parse_all(&encode(&nested)).is_ok());
        let deeper = encode(&Value::Array(vec![nested]));
        assert_eq!(parse_all(&deeper), Err(DecodeError::TooDeep));
        let bomb = vec![0x81; 1_000_000];
        assert_eq!(parse_all(&bomb), Err(DecodeError::TooDeep));
        let mut tags = vec![0xc1; 100_000];
        tags.extend_from_slice(&[0x61, b'z']);
        assert_eq!(parse_all(&tags), Ok(s("z")));
    }
}
