//! JSON bodies (`json` and `rest-json` protocols) → [`Node`] tree.
//!
//! Called by [`super::extract`]. Parses with `serde_json` through a depth- and size-counting
//! seed, so the tree keeps document order (no sorted maps), numbers and booleans are dropped as
//! they are read, strings without escapes are borrowed from the body, and a nesting bomb stops
//! at [`super::DecodeLimits::max_depth`] (serde_json's own limit of 128 is a backstop).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::tree::{Budget, Node};
use super::DecodeError;

/// Parses a JSON document into a tree.
pub(crate) fn parse<'a>(body: &'a [u8], budget: &mut Budget) -> Result<Node<'a>, DecodeError> {
    // A body that is UTF-8 as a whole is read as a `str`, which spares serde_json validating each
    // string again; one that is not goes through the byte reader, which reports where.
    match std::str::from_utf8(body) {
        Ok(text) => read(serde_json::Deserializer::from_str(text), budget),
        Err(_) => read(serde_json::Deserializer::from_slice(body), budget),
    }
}

/// Builds the tree with `de`, turning its errors into [`DecodeError`]s.
fn read<'a, R: serde_json::de::Read<'a>>(
    mut de: serde_json::Deserializer<R>,
    budget: &mut Budget,
) -> Result<Node<'a>, DecodeError> {
    let mut tripped = None;
    let seed = NodeSeed {
        budget,
        tripped: &mut tripped,
        depth: 0,
    };
    let parsed = seed
        .deserialize(&mut de)
        .and_then(|node| de.end().map(|()| node));
    match (parsed, tripped) {
        (Ok(node), _) => Ok(node),
        (Err(_), Some(limit)) => Err(limit),
        // serde_json's own nesting limit (128) is reached first when max_depth is above it.
        (Err(e), None) if e.to_string().starts_with("recursion limit exceeded") => {
            Err(DecodeError::TooDeep)
        }
        (Err(e), None) => Err(DecodeError::InvalidJson {
            line: e.line(),
            column: e.column(),
        }),
    }
}

/// Builds one [`Node`]; records which limit stopped it in `tripped`.
struct NodeSeed<'b> {
    budget: &'b mut Budget,
    tripped: &'b mut Option<DecodeError>,
    depth: usize,
}

impl NodeSeed<'_> {
    /// A seed for a child of this node.
    fn child(&mut self) -> NodeSeed<'_> {
        NodeSeed {
            budget: self.budget,
            tripped: self.tripped,
            depth: self.depth + 1,
        }
    }

    /// Runs a budget check, turning a failure into a serde error and remembering the cause.
    fn check<E: de::Error>(&mut self, result: Result<(), DecodeError>) -> Result<(), E> {
        result.map_err(|limit| {
            *self.tripped = Some(limit);
            E::custom("decode limit")
        })
    }
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node<'de>, E> {
        Ok(Node::Skip)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node<'de>, E> {
        Ok(Node::Skip)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node<'de>, E> {
        Ok(Node::Skip)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node<'de>, E> {
        Ok(Node::Skip)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node<'de>, E> {
        Ok(Node::Skip)
    }

    fn visit_borrowed_str<E: de::Error>(mut self, v: &'de str) -> Result<Node<'de>, E> {
        let taken = self.budget.take();
        self.check(taken)?;
        Ok(Node::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<Node<'de>, E> {
        let taken = self.budget.take();
        self.check(taken)?;
        Ok(Node::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let entered = self.budget.enter(self.depth + 1);
        self.check(entered)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child())? {
            if item != Node::Skip {
                items.push(item);
            }
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Node<'de>, A::Error> {
        let entered = self.budget.enter(self.depth + 1);
        self.check(entered)?;
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value_seed(self.child())?;
            if value != Node::Skip {
                entries.push((key, value));
            }
        }
        Ok(Node::Map(entries))
    }
}

/// Reads a map key, borrowed from the body unless it has escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(body: &str) -> Result<Node<'_>, DecodeError> {
        parse(body.as_bytes(), &mut Budget::new(64, 1000))
    }

    use crate::inspect::decode::tree::build::s;

    #[test]
    fn keeps_document_order_and_drops_scalars() {
        let node = parse_all(r#"{"z":"1","a":[2,"x",null,true],"m":{"k":"v"},"n":3}"#).unwrap();
        let want = Node::Map(vec![
            ("z".into(), s("1")),
            ("a".into(), Node::List(vec![s("x")])),
            ("m".into(), Node::Map(vec![("k".into(), s("v"))])),
        ]);
        assert_eq!(node, want);
    }

    #[test]
    fn nesting_past_the_limit_is_too_deep() {
        let ok = "[".repeat(64) + &"]".repeat(64);
        assert!(parse_all(&ok).is_ok());
        let deep = "[".repeat(65) + &"]".repeat(65);
        assert_eq!(parse_all(&deep), Err(DecodeError::TooDeep));
        let bomb = "[".repeat(100_000);
        assert_eq!(parse_all(&bomb), Err(DecodeError::TooDeep));
    }

    #[test]
    fn serde_json_limit_also_reads_as_too_deep() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        let result = parse(deep.as_bytes(), &mut Budget::new(256, 1000));
        assert_eq!(result, Err(DecodeError::TooDeep));
    }

    #[test]
    fn node_budget_is_enforced() {
        let body = format!("[{}\"x\"]", "\"x\",".repeat(1000));
        assert_eq!(parse_all(&body), Err(DecodeError::TooManyFields));
    }

    #[test]
    fn invalid_utf8_is_reported_where_it_is() {
        let body = b"{\"a\": \"x\xff\"}";
        let want = serde_json::from_slice::<serde_json::Value>(body).unwrap_err();
        assert_eq!(
            parse(body, &mut Budget::new(64, 1000)),
            Err(DecodeError::InvalidJson {
                line: want.line(),
                column: want.column()
            })
        );
    }

    proptest::proptest! {
        /// Reading a UTF-8 body as a `str` gives what the byte reader gives: the same tree, or
        /// the same error at the same place.
        #[test]
        fn str_reader_agrees_with_byte_reader(
            body in r#"[{}\[\],:" a-z0-9\\\u{0}-\u{1f}éΩ😀]{0,40}|\{"[a-z\\"]{0,6}":\["[a-zé\\u0-9]{0,8}"\]\}"#
        ) {
            let by_str = parse(body.as_bytes(), &mut Budget::new(4, 20));
            let by_bytes = read(
                serde_json::Deserializer::from_slice(body.as_bytes()),
                &mut Budget::new(4, 20),
            );
            proptest::prop_assert_eq!(by_str, by_bytes);
        }
    }

    #[test]
    fn syntax_errors_report_position_only() {
        let err = parse_all("{\"secret\": \"hunter2\" ").unwrap_err();
        assert_eq!(
            err,
            DecodeError::InvalidJson {
                line: 1,
                column: 21
            }
        );
        assert_eq!(err.to_string(), "invalid json body at line 1, column 21");
        assert!(matches!(
            parse_all("{} x"),
            Err(DecodeError::InvalidJson { .. })
        ));
    }
}
