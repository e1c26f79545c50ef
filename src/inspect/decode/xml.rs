//! XML bodies (`rest-xml` protocol: S3, Route 53, CloudFront) → [`Node`] tree.
//!
//! Called by [`super::extract`]. Streams events with `quick-xml` (no DOM, no DTD processing):
//! an element with child elements becomes a map keyed by local name (namespace prefixes and
//! attributes dropped), an element without children becomes its text. Only the five predefined
//! entities and character references are resolved; any other `&name;` is kept literally, so a
//! DOCTYPE cannot make the decoder expand anything. Depth is checked on every start tag.
//! Element names, and text without references or line ends to normalise, are borrowed from the
//! body.

use std::borrow::Cow;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use super::tree::{Budget, Entry, Node};
use super::DecodeError;

/// An element being read: its name, where its children start in [`Tree::entries`], and its text.
struct Open<'a> {
    name: Cow<'a, str>,
    first: usize,
    text: Cow<'a, str>,
}

/// The elements being read, innermost last (the first is a pseudo element collecting the root),
/// and the children of all of them in document order. Children share one list and are moved out
/// of it (`split_off`: one allocation, sized for them) when their parent closes: a `Vec` per
/// element would be allocated small and then grown again while it fills.
struct Tree<'a> {
    open: Vec<Open<'a>>,
    entries: Vec<Entry<'a>>,
}

impl<'a> Tree<'a> {
    fn new() -> Self {
        let mut tree = Tree {
            open: Vec::with_capacity(8),
            entries: Vec::with_capacity(16),
        };
        tree.start(Cow::Borrowed(""));
        tree
    }

    /// How many elements are open, the pseudo element included.
    fn depth(&self) -> usize {
        self.open.len()
    }

    fn start(&mut self, name: Cow<'a, str>) {
        self.open.push(Open {
            name,
            first: self.entries.len(),
            text: Cow::Borrowed(""),
        });
    }

    /// Adds an element without content (`<a/>`) to the innermost one.
    fn empty(&mut self, name: Cow<'a, str>) {
        self.entries.push((name, Node::Str(Cow::Borrowed(""))));
    }

    /// Closes the innermost element, which becomes a map when it has children and its text
    /// otherwise; `false` when no element is open.
    fn end(&mut self) -> bool {
        if self.open.len() < 2 {
            return false;
        }
        let Some(done) = self.open.pop() else {
            return false;
        };
        let node = if done.first < self.entries.len() {
            Node::Map(self.entries.split_off(done.first))
        } else {
            Node::Str(done.text)
        };
        self.entries.push((done.name, node));
        true
    }

    /// Appends character data to the innermost open element (outside the root it is ignored).
    /// The first piece is kept as it came (borrowed, usually); a second one makes the text owned.
    fn text(&mut self, text: Cow<'a, str>) {
        if self.open.len() > 1 {
            if let Some(open) = self.open.last_mut() {
                if open.text.is_empty() {
                    open.text = text;
                } else {
                    open.text.to_mut().push_str(&text);
                }
            }
        }
    }

    /// The document once every element is closed: exactly one root element.
    fn finish(self) -> Option<Node<'a>> {
        (self.open.len() == 1 && self.entries.len() == 1).then_some(Node::Map(self.entries))
    }
}

/// Parses an XML document into a tree whose root is a one-entry map: `{root_name: …}`.
pub(crate) fn parse<'a>(body: &'a [u8], budget: &mut Budget) -> Result<Node<'a>, DecodeError> {
    let text = std::str::from_utf8(body).map_err(|e| DecodeError::InvalidXml {
        position: e.valid_up_to() as u64,
    })?;
    let mut reader = Reader::from_str(text);
    let mut tree = Tree::new();
    loop {
        let invalid = |reader: &Reader<&[u8]>| DecodeError::InvalidXml {
            position: reader.buffer_position(),
        };
        let event = reader.read_event().map_err(|_| invalid(&reader))?;
        match event {
            Event::Start(start) => {
                budget.enter(tree.depth())?;
                tree.start(element_name(text, &start));
            }
            Event::Empty(start) => {
                budget.enter(tree.depth())?;
                tree.empty(element_name(text, &start));
            }
            Event::End(_) => {
                if !tree.end() {
                    return Err(invalid(&reader));
                }
            }
            Event::Text(t) => {
                let content = match char_data(text, &t) {
                    Some(content) => Cow::Borrowed(content),
                    None => t.xml_content().map_err(|_| invalid(&reader))?,
                };
                tree.text(content);
            }
            Event::CData(t) => {
                let content = match char_data(text, &t) {
                    Some(content) => Cow::Borrowed(content),
                    None => t.xml_content().map_err(|_| invalid(&reader))?,
                };
                tree.text(content);
            }
            Event::GeneralRef(r) => {
                tree.text(Cow::Owned(resolve(&r).ok_or_else(|| invalid(&reader))?));
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    tree.finish().ok_or(DecodeError::InvalidXml {
        position: reader.buffer_position(),
    })
}

/// `part` as a string borrowed from the document `text`, when it is a slice of it. `quick-xml`
/// lends event contents only for as long as the event, but reading from a `&str` they point into
/// `text`: the part is found there by address (checked, char boundaries included, so `None` just
/// means "not found" and callers fall back), which also spares validating its UTF-8 again.
fn in_document<'a>(text: &'a str, part: &[u8]) -> Option<&'a str> {
    let offset = (part.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    let found = text.get(offset..offset.checked_add(part.len())?)?;
    std::ptr::eq(found.as_ptr(), part.as_ptr()).then_some(found)
}

/// Text or CDATA content exactly as `xml_content()` gives it, borrowed from the document, when
/// that needs no work; `None` sends the caller to `xml_content()`. That method (quick-xml 0.38,
/// no `encoding` feature) validates the bytes as UTF-8, then normalises XML 1.1 line ends, which
/// changes nothing unless the bytes hold `\r` or a lead byte of U+0085 (`C2`) or U+2028 (`E2`):
/// without those its result is the content as it stands. Checking for those bytes ourselves and
/// borrowing the content saves its decode and normalisation passes on every piece of text.
fn char_data<'a>(text: &'a str, content: &[u8]) -> Option<&'a str> {
    // Most text (tag keys and values) is a few bytes long, where a plain loop beats `memchr3`'s
    // set-up; past that the vectorised search wins.
    let needs_normalising = if content.len() <= 32 {
        content.iter().any(|&b| matches!(b, b'\r' | 0xC2 | 0xE2))
    } else {
        memchr::memchr3(b'\r', 0xC2, 0xE2, content).is_some()
    };
    if needs_normalising {
        return None;
    }
    in_document(text, content)
}

/// An element's local name as a string, borrowed from the document `text` (see
/// [`in_document`]). Names of a UTF-8 document end at ASCII delimiters, so they are UTF-8
/// themselves.
fn element_name<'a>(text: &'a str, start: &BytesStart<'_>) -> Cow<'a, str> {
    // What `local_name()` gives (all after the first ':'), found with a plain loop: it uses
    // `memchr`, whose set-up costs more than scanning a name of a few bytes.
    let name = start.name().into_inner();
    let local = match name.iter().position(|&b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    };
    if let Some(name) = in_document(text, local) {
        return Cow::Borrowed(name);
    }
    match std::str::from_utf8(local) {
        Ok(name) => Cow::Owned(name.to_owned()),
        Err(_) => Cow::Owned(String::from_utf8_lossy(local).into_owned()),
    }
}

/// The text an entity or character reference stands for; unknown entities stay literal.
fn resolve(reference: &BytesRef<'_>) -> Option<String> {
    if reference.is_char_ref() {
        return reference
            .resolve_char_ref()
            .ok()
            .flatten()
            .map(String::from);
    }
    let name = reference.decode().ok()?;
    let text = match name.as_ref() {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        other => return Some(format!("&{other};")),
    };
    Some(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(body: &str) -> Result<Node<'_>, DecodeError> {
        parse(body.as_bytes(), &mut Budget::new(64, 1000))
    }

    use crate::inspect::decode::tree::build::{map, s};

    #[test]
    fn elements_become_maps_and_text() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>
  <Tag><Key>a&amp;b</Key><Value>x&#x41;<![CDATA[<y>]]></Value></Tag>
  <Tag><Key>c</Key><Value/></Tag>
</TagSet></Tagging>"#;
        let tag = |k: &str, v: &str| map(vec![("Key", s(k)), ("Value", s(v))]);
        let want = map(vec![(
            "Tagging",
            map(vec![(
                "TagSet",
                map(vec![("Tag", tag("a&b", "xA<y>")), ("Tag", tag("c", ""))]),
            )]),
        )]);
        assert_eq!(parse_all(body).unwrap(), want);
    }

    #[test]
    fn namespace_prefixes_are_dropped_and_unknown_entities_kept() {
        let body = r#"<!DOCTYPE x [<!ENTITY e "boom">]><p:A xmlns:p="urn:x"><p:B>&e;</p:B></p:A>"#;
        assert_eq!(
            parse_all(body).unwrap(),
            map(vec![("A", map(vec![("B", s("&e;"))]))])
        );
    }

    #[test]
    fn children_stay_with_their_own_parent() {
        let body = "<r><a><b>1</b><c/></a>x<a>2</a><d><e><f>3</f></e><g/></d><h></h></r>";
        let want = map(vec![(
            "r",
            map(vec![
                ("a", map(vec![("b", s("1")), ("c", s(""))])),
                ("a", s("2")),
                (
                    "d",
                    map(vec![("e", map(vec![("f", s("3"))])), ("g", s(""))]),
                ),
                ("h", s("")),
            ]),
        )]);
        assert_eq!(parse_all(body).unwrap(), want);
    }

    #[test]
    fn local_names_are_what_follows_the_first_colon() {
        assert_eq!(
            parse_all("<a:b:c><:d>x</:d><e:/><f/></a:b:c>").unwrap(),
            map(vec![(
                "b:c",
                map(vec![("d", s("x")), ("", s("")), ("f", s(""))])
            )])
        );
    }

    /// The text of the root element of `body`.
    fn text_of(body: &str) -> Cow<'_, str> {
        match parse_all(body).unwrap() {
            Node::Map(mut root) => match root.pop() {
                Some((_, Node::Str(text))) => text,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn line_ends_are_normalised_as_xml_1_1_says() {
        let long = "x".repeat(40);
        for (inner, want) in [
            ("a\r\nb", "a\nb"),
            ("a\rb\r", "a\nb\n"),
            ("a\u{85}b", "a\nb"),
            ("a\u{2028}b", "a\nb"),
            ("a\r\u{85}b", "a\nb"),
            ("<![CDATA[a\r\nb\u{2028}]]>", "a\nb\n"),
            ("a\r<![CDATA[\rb]]>&amp;\r\n", "a\n\nb&\n"),
            // Other characters starting with the same bytes as U+0085 and U+2028 stay.
            ("£ € \u{80} \u{2029}", "£ € \u{80} \u{2029}"),
        ] {
            assert_eq!(text_of(&format!("<a>{inner}</a>")), want, "{inner:?}");
            let (inner, want) = (format!("{long}{inner}"), format!("{long}{want}"));
            assert_eq!(text_of(&format!("<a>{inner}</a>")), want, "{inner:?}");
        }
    }

    #[test]
    fn text_needing_no_normalisation_is_borrowed_as_it_stands() {
        let long = "é ü 日本 🙂\n".repeat(8);
        for inner in ["payments", "é ü 日本 🙂\n", "", long.as_str()] {
            for body in [
                format!("<a>{inner}</a>"),
                format!("<a><![CDATA[{inner}]]></a>"),
            ] {
                let text = text_of(&body);
                assert!(matches!(text, Cow::Borrowed(_)), "{body:?}");
                assert_eq!(text, inner);
            }
        }
    }

    #[test]
    fn mixed_content_keeps_its_text_in_order() {
        assert_eq!(
            text_of("<a>x &lt; <![CDATA[<y>]]>&#x2028;z</a>"),
            "x < <y>\u{2028}z"
        );
        assert_eq!(
            parse_all("<a>x<b>y</b>z</a>").unwrap(),
            map(vec![("a", map(vec![("b", s("y"))]))])
        );
    }

    #[test]
    fn malformed_documents_are_errors() {
        for body in [
            "",
            "<a>",
            "<a></b>",
            "</a>",
            "<a/><b/>",
            "<a>&#0;</a>",
            "text",
        ] {
            assert!(
                matches!(parse_all(body), Err(DecodeError::InvalidXml { .. })),
                "{body}"
            );
        }
        assert!(matches!(
            parse(b"<a>\xff</a>", &mut Budget::new(64, 10)),
            Err(DecodeError::InvalidXml { position: 3 })
        ));
    }

    #[test]
    fn nesting_past_the_limit_is_too_deep() {
        let ok = "<a>".repeat(64) + &"</a>".repeat(64);
        assert!(parse_all(&ok).is_ok());
        let deep = "<a>".repeat(65) + &"</a>".repeat(65);
        assert_eq!(parse_all(&deep), Err(DecodeError::TooDeep));
        assert_eq!(parse_all(&"<a>".repeat(100_000)), Err(DecodeError::TooDeep));
    }
}
