//! CBOR bodies (`rpcv2-cbor` protocol) → [`Node`] tree.
//!
//! Called by [`super::extract`]. Walks the item headers with `ciborium-ll` (the decoder under
//! `ciborium`) rather than `ciborium::from_reader`: the high-level API cannot carry our node
//! budget, and its `Value` would allocate for every number. Here:
//! - nesting is checked against [`super::DecodeLimits::max_depth`] before each container;
//! - declared lengths are never trusted for allocation (a `0x9b ff…` array reads until the input
//!   ends and fails); text grows only as bytes actually arrive;
//! - tags are unwrapped (iteratively, so a chain of tags cannot recurse);
//! - byte strings, numbers, simple values are read and dropped; indefinite lengths are supported.

use ciborium_ll::{Decoder, Header};

use super::tree::{Budget, Node};
use super::DecodeError;

type CborDecoder<'a> = Decoder<&'a [u8]>;

/// Parses one CBOR data item (trailing bytes are an error).
pub(crate) fn parse(body: &[u8], budget: &mut Budget) -> Result<Node, DecodeError> {
    let mut decoder = Decoder::from(body);
    let node = item(&mut decoder, budget, 0)?;
    if decoder.offset() != body.len() {
        return Err(DecodeError::InvalidCbor {
            offset: decoder.offset(),
        });
    }
    Ok(node)
}

/// Reads the next header, mapping failures to an offset-only error.
fn pull(decoder: &mut CborDecoder<'_>) -> Result<Header, DecodeError> {
    let offset = decoder.offset();
    decoder
        .pull()
        .map_err(|_| DecodeError::InvalidCbor { offset })
}

/// Reads one data item at nesting `depth`.
fn item(
    decoder: &mut CborDecoder<'_>,
    budget: &mut Budget,
    depth: usize,
) -> Result<Node, DecodeError> {
    let offset = decoder.offset();
    let mut header = pull(decoder)?;
    while let Header::Tag(_) = header {
        header = pull(decoder)?;
    }
    match header {
        Header::Positive(_) | Header::Negative(_) | Header::Float(_) | Header::Simple(_) => {
            Ok(Node::Skip)
        }
        // A break outside an indefinite container is malformed; tags were unwrapped above.
        Header::Break | Header::Tag(_) => Err(DecodeError::InvalidCbor { offset }),
        Header::Bytes(len) => skip_bytes(decoder, len).map(|()| Node::Skip),
        Header::Text(len) => {
            budget.take()?;
            text(decoder, len).map(Node::Str)
        }
        Header::Array(len) => {
            budget.enter(depth + 1)?;
            array(decoder, budget, depth + 1, len)
        }
        Header::Map(len) => {
            budget.enter(depth + 1)?;
            map(decoder, budget, depth + 1, len)
        }
    }
}

/// Whether the next item of an indefinite-length container is the closing break.
fn at_break(decoder: &mut CborDecoder<'_>) -> Result<bool, DecodeError> {
    let header = pull(decoder)?;
    if header == Header::Break {
        return Ok(true);
    }
    decoder.push(header);
    Ok(false)
}

/// Whether another element follows: counts down a definite length or looks for a break.
fn more(decoder: &mut CborDecoder<'_>, remaining: &mut Option<usize>) -> Result<bool, DecodeError> {
    match remaining {
        Some(0) => Ok(false),
        Some(n) => {
            *n -= 1;
            Ok(true)
        }
        None => Ok(!at_break(decoder)?),
    }
}

/// Reads the elements of an array whose header said `len`.
fn array(
    decoder: &mut CborDecoder<'_>,
    budget: &mut Budget,
    depth: usize,
    mut len: Option<usize>,
) -> Result<Node, DecodeError> {
    let mut items = Vec::new();
    while more(decoder, &mut len)? {
        let node = item(decoder, budget, depth)?;
        if node != Node::Skip {
            items.push(node);
        }
    }
    Ok(Node::List(items))
}

/// Reads the entries of a map whose header said `len`; non-text keys become `?`.
fn map(
    decoder: &mut CborDecoder<'_>,
    budget: &mut Budget,
    depth: usize,
    mut len: Option<usize>,
) -> Result<Node, DecodeError> {
    let mut entries = Vec::new();
    while more(decoder, &mut len)? {
        let key = match item(decoder, budget, depth)? {
            Node::Str(key) => key,
            _ => String::from("?"),
        };
        let value = item(decoder, budget, depth)?;
        if value != Node::Skip {
            entries.push((key, value));
        }
    }
    Ok(Node::Map(entries))
}

/// Reads a (possibly chunked) text string; invalid UTF-8 is an error.
fn text(decoder: &mut CborDecoder<'_>, len: Option<usize>) -> Result<String, DecodeError> {
    let offset = decoder.offset();
    let invalid = |_| DecodeError::InvalidCbor { offset };
    let mut out = String::new();
    let mut scratch = [0u8; 1024];
    let mut segments = decoder.text(len);
    while let Some(mut segment) = segments.pull().map_err(invalid)? {
        while let Some(chunk) = segment.pull(&mut scratch).map_err(invalid)? {
            out.push_str(chunk);
        }
    }
    Ok(out)
}

/// Reads and discards a (possibly chunked) byte string.
fn skip_bytes(decoder: &mut CborDecoder<'_>, len: Option<usize>) -> Result<(), DecodeError> {
    let offset = decoder.offset();
    let invalid = |_| DecodeError::InvalidCbor { offset };
    let mut scratch = [0u8; 1024];
    let mut segments = decoder.bytes(len);
    while let Some(mut segment) = segments.pull().map_err(invalid)? {
        while segment.pull(&mut scratch).map_err(invalid)?.is_some() {}
    }
    Ok(())
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

    fn parse_all(body: &[u8]) -> Result<Node, DecodeError> {
        parse(body, &mut Budget::new(64, 1000))
    }

    fn s(v: &str) -> Node {
        Node::Str(v.to_owned())
    }

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
