//! The small document tree the JSON, CBOR and XML decoders build, and the walk that turns it
//! into classified fields.
//!
//! Only strings and containers are kept (numbers, booleans, nulls and byte strings carry nothing
//! the detectors look at). Strings and keys borrow from the body unless decoding changed them
//! (escapes, entities, chunked CBOR text): most fields are scanned once and dropped. Building is bounded by a [`Budget`] (depth and node count); walking
//! is bounded by the same depth, so recursion stays shallow.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use super::classify::{self, Role, Seg};
use super::sink::{Sink, Step};
use super::DecodeError;
use crate::inspect::{FieldKind, Location};

/// A decoded value. `Debug` shows string sizes, not contents.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Node<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// A list, in order.
    List(Vec<Node<'a>>),
    /// A map or structure, in document order; XML may repeat keys.
    Map(Vec<Entry<'a>>),
    /// Something without strings (number, bool, null, bytes): dropped by the walk.
    Skip,
}

/// One member of a map: its key and value.
pub(crate) type Entry<'a> = (Cow<'a, str>, Node<'a>);

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Str(value) => write!(f, "Str(<{} bytes>)", value.len()),
            Node::List(items) => f.debug_list().entries(items).finish(),
            Node::Map(entries) => f
                .debug_list()
                .entries(entries.iter().map(|(key, node)| (key.len(), node)))
                .finish(),
            Node::Skip => f.write_str("Skip"),
        }
    }
}

/// Limits on the tree a decoder may build.
#[derive(Debug)]
pub(crate) struct Budget {
    max_depth: usize,
    nodes_left: usize,
}

impl Budget {
    /// At most `max_depth` nested containers and `max_nodes` strings and containers.
    pub(crate) fn new(max_depth: usize, max_nodes: usize) -> Self {
        Budget {
            max_depth,
            nodes_left: max_nodes,
        }
    }

    /// Accounts for one more string or container.
    pub(crate) fn take(&mut self) -> Result<(), DecodeError> {
        self.nodes_left = self
            .nodes_left
            .checked_sub(1)
            .ok_or(DecodeError::TooManyFields)?;
        Ok(())
    }

    /// Checks that a container opened at nesting `depth` (1 = top level) is allowed.
    pub(crate) fn enter(&mut self, depth: usize) -> Result<(), DecodeError> {
        if depth > self.max_depth {
            return Err(DecodeError::TooDeep);
        }
        self.take()
    }
}

/// Emits every string of `root` into `sink`, classified, with locations under `prefix`
/// (`body:`).
pub(crate) fn emit(
    root: &Node<'_>,
    prefix: &str,
    sink: &mut Sink<'_, '_>,
) -> Result<(), DecodeError> {
    let mut walk = Walk {
        sink,
        path: Vec::new(),
        container: None,
        prefix,
        steps: Vec::new(),
    };
    walk.node(root, None)
}

/// State of one walk: the path of segments to the current node, and the steps its location is
/// rendered from if a field there is asked where it is.
struct Walk<'s, 'h, 'o, 'n> {
    sink: &'s mut Sink<'h, 'o>,
    path: Vec<Seg<'n>>,
    /// The position in `path` of the innermost tag container on it, kept as segments are
    /// pushed so that no string searches its ancestors again ([`classify::role_in`]).
    container: Option<usize>,
    prefix: &'n str,
    /// One per segment of `path`.
    steps: Vec<Step<'n>>,
}

impl<'n> Walk<'_, '_, '_, 'n> {
    /// Visits `node`; `parent` is the map it sits in (for a tag value's sibling key).
    fn node(
        &mut self,
        node: &'n Node<'_>,
        parent: Option<&'n [Entry<'_>]>,
    ) -> Result<(), DecodeError> {
        match node {
            Node::Str(value) => self.leaf(value, parent),
            Node::List(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.child(Seg::Index(index), Step::Index(index), item, None)?;
                }
                Ok(())
            }
            Node::Map(entries) => self.map(entries),
            Node::Skip => Ok(()),
        }
    }

    /// Visits a map's entries; a key repeated in the same map (XML lists) gets its occurrence
    /// number: `Tag[0]`, `Tag[1]`.
    fn map(&mut self, entries: &'n [Entry<'_>]) -> Result<(), DecodeError> {
        let mut occurrences = Occurrences::new(entries);
        for (position, (key, value)) in entries.iter().enumerate() {
            let step = Step::Key {
                key,
                position,
                occurrence: occurrences.next(position, key),
            };
            self.child(Seg::Key(key), step, value, Some(entries))?;
        }
        Ok(())
    }

    /// Descends into `node` under segment `seg`, restoring the path afterwards.
    fn child(
        &mut self,
        seg: Seg<'n>,
        step: Step<'n>,
        node: &'n Node<'_>,
        parent: Option<&'n [Entry<'_>]>,
    ) -> Result<(), DecodeError> {
        // Only a container can be an ancestor: a string's own segment is never asked about.
        let outer = self.container;
        let nested = matches!(node, Node::List(_) | Node::Map(_));
        if nested && classify::is_container_seg(self.sink.hints, seg) {
            self.container = Some(self.path.len());
        }
        self.path.push(seg);
        self.steps.push(step);
        let result = self.node(node, parent);
        self.steps.pop();
        self.path.pop();
        self.container = outer;
        result
    }

    /// Emits one string according to its role.
    fn leaf(&mut self, value: &str, parent: Option<&'n [Entry<'_>]>) -> Result<(), DecodeError> {
        let location = Location::path(self.prefix, &self.steps);
        let role = classify::role_in(self.sink.hints, &self.path, self.container);
        // The kept container is what searching the ancestors finds (tests run with this on).
        debug_assert_eq!(role, classify::role(self.sink.hints, &self.path));
        match role {
            Role::TagKey => self.sink.plain(location, FieldKind::TagKey, value),
            Role::TagValue => self
                .sink
                .tag_value(location, parent.and_then(sibling_key), value),
            Role::MapTag => match self.path.last() {
                Some(Seg::Key(key)) => self.sink.tag(location, key, value),
                _ => self.sink.plain(location, FieldKind::Other, value),
            },
            Role::Plain(kind) => self.sink.plain(location, kind, value),
            Role::SecretIf(sibling, expected) => {
                let kind = if parent.and_then(|p| sibling_str(p, sibling)) == Some(expected) {
                    FieldKind::Secret
                } else {
                    FieldKind::Other
                };
                self.sink.plain(location, kind, value)
            }
        }
    }
}

/// The string value of the member `name` among `entries`.
fn sibling_str<'n>(entries: &'n [Entry<'_>], name: &str) -> Option<&'n str> {
    entries.iter().find_map(|(key, node)| match node {
        Node::Str(value) if key.as_ref() == name => Some(value.as_ref()),
        _ => None,
    })
}

/// The string of the `Key`-like member among a tag value's siblings.
fn sibling_key<'n>(entries: &'n [Entry<'_>]) -> Option<&'n str> {
    entries.iter().find_map(|(name, node)| match node {
        Node::Str(key) if classify::is_key_member(name) => Some(key.as_ref()),
        _ => None,
    })
}

/// Maps with at most this many entries number repeated keys by comparing keys directly (at most
/// `SCAN_MAX²` comparisons); larger ones count them in hash maps, so a huge map stays linear.
const SCAN_MAX: usize = 16;

/// Numbers the occurrences of repeated keys in one map, visited in order.
enum Occurrences<'n> {
    /// A small map: keys are compared with the other entries' keys.
    Scan(&'n [Entry<'n>]),
    /// A large map: how often each key occurs, and how often it has been visited so far.
    Counted {
        totals: HashMap<&'n str, usize>,
        seen: HashMap<&'n str, usize>,
    },
}

impl<'n> Occurrences<'n> {
    fn new(entries: &'n [Entry<'n>]) -> Self {
        if entries.len() <= SCAN_MAX {
            return Occurrences::Scan(entries);
        }
        let mut totals: HashMap<&str, usize> = HashMap::new();
        for (key, _) in entries {
            *totals.entry(key.as_ref()).or_default() += 1;
        }
        Occurrences::Counted {
            totals,
            seen: HashMap::new(),
        }
    }

    /// The occurrence number of `key`, the entry at `position`, when the map repeats it;
    /// `None` for a key that occurs once. Called once per entry, in order.
    fn next(&mut self, position: usize, key: &'n str) -> Option<usize> {
        match self {
            Occurrences::Scan(entries) => {
                let (before, from) = entries.split_at(position.min(entries.len()));
                let earlier = before.iter().filter(|(other, _)| other == key).count();
                let later = from.iter().skip(1).any(|(other, _)| other == key);
                (earlier > 0 || later).then_some(earlier)
            }
            Occurrences::Counted { totals, seen } => match totals.get(key) {
                Some(&total) if total > 1 => {
                    let n = seen.entry(key).or_default();
                    *n += 1;
                    Some(*n - 1)
                }
                _ => None,
            },
        }
    }
}

/// Trees written out by hand, for the decoders' tests.
#[cfg(test)]
pub(crate) mod build {
    use super::Node;

    /// A string node.
    pub(crate) fn s(v: &str) -> Node<'static> {
        Node::Str(v.to_owned().into())
    }

    /// A map node with `entries` in order.
    pub(crate) fn map(entries: Vec<(&str, Node<'static>)>) -> Node<'static> {
        Node::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned().into(), v))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::MemberHints;
    use crate::inspect::decode::sink::collect;
    use crate::inspect::Field;

    use super::build::{map, s};

    fn walk(root: &Node<'_>) -> Vec<Field> {
        let hints = MemberHints::default();
        collect(&hints, 100, |sink| emit(root, "body:", sink)).unwrap()
    }

    fn tag_value(location: &str, key: &str, value: &str) -> Field {
        let mut f = Field::new(location, FieldKind::TagValue, value);
        f.tag_key = Some(key.to_owned());
        f
    }

    #[test]
    fn tag_list_values_carry_their_sibling_key() {
        let root = map(vec![(
            "Tags",
            Node::List(vec![map(vec![("Key", s("owner")), ("Value", s("bob"))])]),
        )]);
        assert_eq!(
            walk(&root),
            vec![
                Field::new("body:Tags[0].Key", FieldKind::TagKey, "owner"),
                tag_value("body:Tags[0].Value", "owner", "bob"),
            ]
        );
    }

    #[test]
    fn repeated_xml_keys_get_occurrence_numbers() {
        let tag = |k: &str, v: &str| map(vec![("Key", s(k)), ("Value", s(v))]);
        let root = map(vec![(
            "TagSet",
            map(vec![("Tag", tag("a", "1")), ("Tag", tag("b", "2"))]),
        )]);
        let fields = walk(&root);
        let locations: Vec<&str> = fields.iter().map(|f| f.location.as_str()).collect();
        assert_eq!(
            locations,
            [
                "body:TagSet.Tag[0].Key",
                "body:TagSet.Tag[0].Value",
                "body:TagSet.Tag[1].Key",
                "body:TagSet.Tag[1].Value"
            ]
        );
        assert_eq!(fields[3], tag_value("body:TagSet.Tag[1].Value", "b", "2"));
    }

    #[test]
    fn large_maps_number_repeated_keys_like_small_ones() {
        for len in [SCAN_MAX - 1, SCAN_MAX, SCAN_MAX + 1, 3 * SCAN_MAX] {
            let keys: Vec<String> = (0..len)
                .map(|i| match i % 3 {
                    0 => "Tag".to_owned(),
                    1 => "Other".to_owned(),
                    _ => format!("k{i}"),
                })
                .collect();
            let root = Node::Map(keys.iter().map(|k| (k.into(), s("v"))).collect());
            let mut seen: HashMap<&str, usize> = HashMap::new();
            let want: Vec<String> = keys
                .iter()
                .map(|k| {
                    let repeated = keys.iter().filter(|other| *other == k).count() > 1;
                    let n = seen.entry(k).or_default();
                    *n += 1;
                    if repeated {
                        format!("body:{k}[{}]", *n - 1)
                    } else {
                        format!("body:{k}")
                    }
                })
                .collect();
            let got: Vec<String> = walk(&root).into_iter().map(|f| f.location).collect();
            assert_eq!(got, want, "{len} entries");
        }
    }

    #[test]
    fn map_tags_emit_key_and_value_and_skip_non_strings() {
        let root = map(vec![
            ("tags", map(vec![("owner", s("x")), ("n", Node::Skip)])),
            ("Name", s("q")),
        ]);
        assert_eq!(
            walk(&root),
            vec![
                Field::new("body:tags.owner", FieldKind::TagKey, "owner"),
                tag_value("body:tags.owner", "owner", "x"),
                Field::new("body:Name", FieldKind::Name, "q"),
            ]
        );
    }

    /// Trees of tag containers, tag members, names and lists, nested in any order.
    fn tag_tree() -> impl proptest::strategy::Strategy<Value = Node<'static>> {
        use proptest::prelude::*;
        let names = prop::sample::select(vec![
            "Tags", "tags", "Tag", "TagSet", "TagKeys", "Key", "Value", "Name", "Other", "Labels",
        ]);
        let leaf = prop_oneof![Just(Node::Skip), "[a-z]{1,3}".prop_map(|v| s(&v))];
        leaf.prop_recursive(5, 40, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Node::List),
                prop::collection::vec((names.clone(), inner), 0..4).prop_map(map),
            ]
        })
    }

    proptest::proptest! {
        /// Every string gets the role searching its whole path gives: `leaf` asserts it.
        #[test]
        fn kept_containers_classify_like_path_search(root in tag_tree()) {
            let hints = MemberHints {
                tags: vec!["Labels".into()],
                ..MemberHints::default()
            };
            let fields = collect(&hints, 1000, |sink| emit(&root, "body:", sink));
            proptest::prop_assert!(fields.is_ok());
        }
    }

    #[test]
    fn budget_limits_depth_and_nodes() {
        let mut budget = Budget::new(2, 3);
        assert_eq!(budget.enter(1), Ok(()));
        assert_eq!(budget.enter(3), Err(DecodeError::TooDeep));
        assert_eq!(budget.take(), Ok(()));
        assert_eq!(budget.take(), Ok(()));
        assert_eq!(budget.take(), Err(DecodeError::TooManyFields));
    }
}
