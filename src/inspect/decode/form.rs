//! `application/x-www-form-urlencoded` parameters (`query` and `ec2` protocols) → fields.
//!
//! Called by [`super::extract`] for query/ec2 bodies and for their GET query strings. Keys are
//! kept as sent (`Tags.member.1.Value`, `TagSpecification.1.Tag.1.Value`) and split on `.` only
//! to classify them. `Action`, `Version` and signing parameters (SigV4 presigning, SigV2) are not
//! fields. A tag value's key is the sibling parameter with the same prefix and a `Key` suffix.

use std::borrow::Cow;
use std::collections::HashMap;

use percent_encoding::percent_decode;
use url::form_urlencoded;

use super::classify::{self, Role, Seg};
use super::sink::Sink;
use super::uri::is_signing_param;
use super::DecodeError;
use crate::aws::MemberHints;
use crate::inspect::{FieldKind, Location};

/// Limits for one form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FormLimits {
    /// Most `.`-separated segments in a key.
    pub(crate) max_depth: usize,
    /// Most parameters read.
    pub(crate) max_pairs: usize,
}

/// One decoded parameter: borrowed from the form unless `+` or `%` escapes had to be decoded.
type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Emits the parameters of `raw` as fields with locations `prefix` + key (`body:QueueName`).
pub(crate) fn extract(
    raw: &[u8],
    prefix: &str,
    limits: FormLimits,
    sink: &mut Sink<'_, '_>,
) -> Result<(), DecodeError> {
    let pairs = read_pairs(raw, limits.max_pairs)?;
    let mut siblings = Siblings::new(&pairs);
    // Reused for every pair: the key's segments.
    let mut segments: Vec<Seg<'_>> = Vec::new();
    let mut containers = Containers::default();
    for (position, (key, value)) in pairs.iter().enumerate() {
        split_key(key, limits.max_depth, &mut segments)?;
        let location = Location::form(prefix, key, position);
        let container = containers.innermost(sink.hints, &segments);
        let role = classify::role_in(sink.hints, &segments, container);
        // The same answer as searching every ancestor afresh (tests run with this on).
        debug_assert_eq!(role, classify::role(sink.hints, &segments));
        match role {
            Role::TagKey => sink.plain(location, FieldKind::TagKey, value)?,
            Role::TagValue => sink.tag_value(location, siblings.key_of(key), value)?,
            Role::MapTag => {
                let tag_key = rsplit_around(key, b'.').map_or(key.as_ref(), |(_, last)| last);
                sink.tag(location, tag_key, value)?;
            }
            Role::Plain(kind) => sink.plain(location, kind, value)?,
            // Form (query/EC2) calls carry no conditional secrets: judged like any other value.
            Role::SecretIf(..) => sink.plain(location, FieldKind::Other, value)?,
        }
    }
    Ok(())
}

/// Whether each segment of the previous key names a tag container: consecutive keys share
/// their leading segments (`Tags.member.1.Key`, `Tags.member.1.Value`), so most segments are
/// classified once per form rather than once per key.
#[derive(Default)]
struct Containers<'k> {
    known: Vec<(&'k str, bool)>,
}

impl<'k> Containers<'k> {
    /// The position of the innermost tag container among the ancestors of the value at
    /// `segments` (every segment but the last), as [`classify::role_in`] wants it.
    fn innermost(&mut self, hints: &MemberHints, segments: &[Seg<'k>]) -> Option<usize> {
        let ancestors = segments
            .split_last()
            .map_or(&[][..], |(_, ancestors)| ancestors);
        let mut innermost = None;
        for (at, seg) in ancestors.iter().enumerate() {
            let Seg::Key(name) = *seg else {
                continue;
            };
            let container = match self.known.get(at) {
                Some(&(known, container)) if known == name => container,
                _ => {
                    let container = classify::is_tag_container(hints, name);
                    self.known.truncate(at);
                    self.known.push((name, container));
                    container
                }
            };
            if container {
                innermost = Some(at);
            }
        }
        innermost
    }
}

/// Splits `key` on `.` into `segments` (at most `max_depth` of them). Whether the key may be
/// written into a location is decided only if the location is asked for
/// ([`super::sink::push_form_location`]).
fn split_key<'k>(
    key: &'k str,
    max_depth: usize,
    segments: &mut Vec<Seg<'k>>,
) -> Result<(), DecodeError> {
    segments.clear();
    let mut rest = Some(key);
    while let Some(remaining) = rest {
        let (segment, after) = match split_around(remaining, b'.') {
            Some((segment, after)) => (segment, Some(after)),
            None => (remaining, None),
        };
        if segments.len() >= max_depth {
            return Err(DecodeError::TooDeep);
        }
        segments.push(Seg::Key(segment));
        rest = after;
    }
    Ok(())
}

/// Decoded parameters, without the ones that are not request data.
fn read_pairs(raw: &[u8], max_pairs: usize) -> Result<Vec<Pair<'_>>, DecodeError> {
    let mut pairs = Vec::new();
    for (key, value) in parse(raw) {
        if is_signing_param(&key) || key == "Action" || key == "Version" {
            continue;
        }
        if pairs.len() >= max_pairs {
            return Err(DecodeError::TooManyFields);
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// The parameters of a form, decoded exactly as `url::form_urlencoded::parse` does (split on `&`,
/// empty pieces skipped, name and value split at the first `=`, `+` is a space, percent escapes
/// decoded, invalid UTF-8 replaced). A form is nearly always UTF-8 with little to decode: then it
/// is checked once and the names and values without escapes are borrowed from it, where the
/// generic decoder makes three passes over each. A form that is not UTF-8 goes to the generic
/// decoder.
fn parse(raw: &[u8]) -> impl Iterator<Item = Pair<'_>> {
    // One of the two is empty.
    let (mut text, not_utf8) = match std::str::from_utf8(raw) {
        Ok(text) => (text, &[][..]),
        Err(_) => ("", raw),
    };
    // Most forms have no escape at all: one vectorised search says so for every piece.
    let escaped = memchr::memchr2(b'+', b'%', text.as_bytes()).is_some();
    let unescape = move |piece| {
        if escaped {
            decode(piece)
        } else {
            Cow::Borrowed(piece)
        }
    };
    let utf8 = std::iter::from_fn(move || {
        while !text.is_empty() {
            let (piece, rest) = split_around(text, b'&').unwrap_or((text, ""));
            text = rest;
            if !piece.is_empty() {
                let (name, value) = split_around(piece, b'=').unwrap_or((piece, ""));
                return Some((unescape(name), unescape(value)));
            }
        }
        None
    });
    utf8.chain(form_urlencoded::parse(not_utf8))
}

/// `text` split around its first `separator` (an ASCII byte). A plain byte scan: form pieces
/// and keys are short, and `str::split_once` spends more setting up `memchr` than it saves.
fn split_around(text: &str, separator: u8) -> Option<(&str, &str)> {
    let at = text.bytes().position(|b| b == separator)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// `text` split around its last `separator` (an ASCII byte); see [`split_around`].
fn rsplit_around(text: &str, separator: u8) -> Option<(&str, &str)> {
    let at = text.bytes().rposition(|b| b == separator)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// One name or value of a UTF-8 form, decoded.
fn decode(encoded: &str) -> Cow<'_, str> {
    if !encoded.bytes().any(|b| b == b'+' || b == b'%') {
        return Cow::Borrowed(encoded);
    }
    let spaced: Vec<u8> = encoded
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded: Vec<u8> = percent_decode(&spaced).collect();
    Cow::Owned(String::from_utf8_lossy(&decoded).into_owned())
}

/// The member names of a tag's key, in order of preference, for a tag value `Prefix.Value`.
const KEY_SUFFIXES: [&str; 4] = ["Key", "key", "TagKey", "tagKey"];

/// Forms with at most this many parameters find a tag value's key by scanning them all (at most
/// `SCAN_MAX` comparisons per tag value); larger ones build an index once, so a huge form of
/// tags stays linear.
const SCAN_MAX: usize = 32;

/// Finds the key parameter of a tag value among the form's parameters.
struct Siblings<'p, 'a> {
    pairs: &'p [Pair<'a>],
    /// Every parameter by name (the last one wins), built on first use for large forms.
    index: Option<HashMap<&'p str, &'p str>>,
}

impl<'p, 'a> Siblings<'p, 'a> {
    fn new(pairs: &'p [Pair<'a>]) -> Self {
        Siblings { pairs, index: None }
    }

    /// The value of `Prefix.Key` (or the first of [`KEY_SUFFIXES`] present; the last such
    /// parameter if it repeats) for the tag value `Prefix.Value`.
    fn key_of(&mut self, value_key: &str) -> Option<&'p str> {
        let (prefix, _) = rsplit_around(value_key, b'.')?;
        if self.pairs.len() <= SCAN_MAX {
            return scan(self.pairs, prefix);
        }
        let pairs = self.pairs;
        let index = self.index.get_or_insert_with(|| {
            pairs
                .iter()
                .map(|(k, v)| (k.as_ref(), v.as_ref()))
                .collect()
        });
        // Room for the longest suffix, `.TagKey`.
        let mut name = String::with_capacity(prefix.len() + 7);
        KEY_SUFFIXES.iter().find_map(|suffix| {
            name.clear();
            name.push_str(prefix);
            name.push('.');
            name.push_str(suffix);
            index.get(name.as_str()).copied()
        })
    }
}

/// [`Siblings::key_of`] by one pass over the parameters, last to first: the same answer as the
/// index gives.
fn scan<'p>(pairs: &'p [Pair<'_>], prefix: &str) -> Option<&'p str> {
    let mut best: Option<(usize, &str)> = None;
    for (key, value) in pairs.iter().rev() {
        // Lengths first: most parameters are ruled out without comparing bytes.
        if !KEY_SUFFIXES
            .iter()
            .any(|suffix| key.len() == prefix.len() + 1 + suffix.len())
        {
            continue;
        }
        let Some(rank) = key
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|suffix| KEY_SUFFIXES.iter().position(|s| *s == suffix))
        else {
            continue;
        };
        if best.is_none_or(|(best_rank, _)| rank < best_rank) {
            best = Some((rank, value.as_ref()));
        }
        if rank == 0 {
            break;
        }
    }
    best.map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::MemberHints;
    use crate::inspect::decode::sink::collect;
    use crate::inspect::Field;
    use proptest::prelude::*;

    const LIMITS: FormLimits = FormLimits {
        max_depth: 64,
        max_pairs: 100,
    };

    fn run(body: &str) -> Result<Vec<Field>, DecodeError> {
        let hints = MemberHints::default();
        collect(&hints, 100, |sink| {
            extract(body.as_bytes(), "body:", LIMITS, sink)
        })
    }

    fn tag_value(location: &str, key: &str, value: &str) -> Field {
        let mut f = Field::new(location, FieldKind::TagValue, value);
        f.tag_key = Some(key.to_owned());
        f
    }

    #[test]
    fn ec2_tag_specifications() {
        let body = "Action=RunInstances&Version=2016-11-15&ImageId=ami-1&\
            TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=owner&\
            TagSpecification.1.Tag.1.Value=alice%40example.com";
        assert_eq!(
            run(body).unwrap(),
            vec![
                Field::new("body:ImageId", FieldKind::Other, "ami-1"),
                Field::new(
                    "body:TagSpecification.1.ResourceType",
                    FieldKind::Other,
                    "instance"
                ),
                Field::new(
                    "body:TagSpecification.1.Tag.1.Key",
                    FieldKind::TagKey,
                    "owner"
                ),
                tag_value(
                    "body:TagSpecification.1.Tag.1.Value",
                    "owner",
                    "alice@example.com"
                ),
            ]
        );
    }

    #[test]
    fn value_before_key_and_signing_params_skipped() {
        let body = "Tags.member.1.Value=v+1&Tags.member.1.Key=k&X-Amz-Signature=abc&\
            X-Amz-Credential=AKIA%2F&Signature=s&QueueName=q";
        assert_eq!(
            run(body).unwrap(),
            vec![
                tag_value("body:Tags.member.1.Value", "k", "v 1"),
                Field::new("body:Tags.member.1.Key", FieldKind::TagKey, "k"),
                Field::new("body:QueueName", FieldKind::Name, "q"),
            ]
        );
    }

    #[test]
    fn large_forms_find_tag_keys_through_the_index_like_small_ones() {
        let tags = "Tags.member.1.key=lower&Tags.member.1.Key=first&Tags.member.1.Value=v&\
            Tags.member.1.Key=second&Tags.member.2.TagKey=k2&Tags.member.2.Value=v2&\
            Tags.member.3.Value=v3";
        for fillers in [0, SCAN_MAX] {
            let body: String = (0..fillers).map(|i| format!("P{i}=x&")).collect();
            let fields = run(&(body + tags)).unwrap();
            let keys: Vec<(&str, Option<&str>)> = fields
                .iter()
                .filter(|f| f.kind == FieldKind::TagValue)
                .map(|f| (f.value.as_str(), f.tag_key.as_deref()))
                .collect();
            assert_eq!(
                keys,
                [("v", Some("second")), ("v2", Some("k2")), ("v3", None)],
                "{fillers} fillers"
            );
        }
    }

    #[test]
    fn unsafe_keys_use_positions_and_limits_hold() {
        assert_eq!(
            run("a%40b.c=x").unwrap(),
            vec![Field::new("body:[#0]", FieldKind::Other, "x")]
        );
        assert_eq!(run(&"a.".repeat(64).to_string()), Err(DecodeError::TooDeep));
        assert_eq!(run(&"a=b&".repeat(101)), Err(DecodeError::TooManyFields));
        assert_eq!(
            run("Tags.member.1.Value=v").unwrap(),
            vec![Field {
                tag_key: None,
                ..tag_value("body:Tags.member.1.Value", "", "v")
            }]
        );
    }

    proptest! {
        #[test]
        fn parse_decodes_like_form_urlencoded(raw in proptest::collection::vec(
            prop_oneof![
                Just(b'&'), Just(b'='), Just(b'+'), Just(b'%'), b'0'..=b'9', b'a'..=b'f',
                Just(0xc3), Just(0xa9), any::<u8>(),
            ],
            0..48,
        )) {
            let ours: Vec<Pair<'_>> = parse(&raw).collect();
            let theirs: Vec<Pair<'_>> = url::form_urlencoded::parse(&raw).collect();
            prop_assert_eq!(ours, theirs);
        }

        /// Keys sharing and changing leading segments classify as if each were searched
        /// afresh: `extract` asserts it for every key.
        #[test]
        fn remembered_containers_classify_like_path_search(
            keys in proptest::collection::vec(
                proptest::collection::vec(
                    prop::sample::select(vec!["Tags", "Tag", "member", "1", "Key", "Value", "Name", "TagKeys", "x"]),
                    1..5,
                ),
                0..8,
            )
        ) {
            let body: Vec<String> = keys.iter().map(|k| format!("{}=v", k.join("."))).collect();
            prop_assert!(run(&body.join("&")).is_ok());
        }

        /// A key is shown in its location exactly when it is short enough and every segment
        /// `split_key` finds is location-safe.
        #[test]
        fn form_locations_check_the_segments_split_key_finds(
            key in "([a-zA-Z0-9]{0,3}|[.@ =]|[A-Z0-9]{16,20}){0,6}",
            long in any::<bool>(),
        ) {
            let key = if long { key.repeat(40) } else { key };
            let mut segments = Vec::new();
            let _ = split_key(&key, usize::MAX, &mut segments);
            let safe = key.len() <= 256
                && segments.iter().all(|seg| match seg {
                    Seg::Key(name) => super::super::sink::is_location_safe(name),
                    Seg::Index(_) => false,
                });
            let mut location = String::from("body:");
            super::super::sink::push_form_location(&mut location, &key, 7);
            let want = if safe { format!("body:{key}") } else { "body:[#7]".to_owned() };
            prop_assert_eq!(location, want);
        }
    }
}
