//! Member name → field role: is a value a tag key, a tag value, a name, free text or other?
//!
//! Called by every body decoder (through [`super::tree`] and [`super::form`]) with the path of
//! segments that leads to a string value. The rules, in order:
//!
//! 1. **Inside a tag container** (a strict ancestor named `Tags`, `tags`, `Tag`, `TagSet`,
//!    `TagList`, `TagsList`, `TagMap`, `Tagging`, `TagSpecification(s)`, `TagsToAdd`, anything
//!    ending in `Tags`/`TagSet`/`TagList`/`TagMap`/`TagKeys` (`ResourceTags`), or listed in
//!    [`MemberHints::tags`]; names compare without regard to ASCII case):
//!    - a member named `Key`/`key`/`TagKey`/`tagKey` is a tag key;
//!    - a member named `Value`/`value`/`TagValue`/`tagValue` is a tag value (its key is the
//!      sibling key member);
//!    - a string directly under a container that is a map (`{"tags": {"owner": "x"}}`) is a
//!      map tag: the map key is a tag key, the string its value;
//!    - anything under a `TagKeys` container (`UntagResource`) is a tag key;
//!    - anything else (EC2 `TagSpecification.1.ResourceType`) is `Other`.
//! 2. **Names**: a member listed in [`MemberHints::names`], `Name`/`name`, or a camel-case member
//!    ending in `Name` (`QueueName`, `functionName`, `BucketName`, `UserName`). Bucket names are
//!    DNS names, but they are chosen by the user and are public, so PII in them matters as much.
//! 3. **Free text**: a member listed in [`MemberHints::free_text`], `Description`/`Comment` or a
//!    member ending in `Description`/`Comment` (`AlarmDescription`, Route 53 `Comment`).
//!    Payload members (SNS `Message`, SQS `MessageBody`, `Subject`) are *not* free text: they carry
//!    the application's data, not metadata about the resource, so they stay `Other`.
//! 4. **Purposes** from the service model ([`MemberHints`] `secrets`, `payloads`, `contacts`,
//!    `urls`), checked before names and free text: the value's own member first, then (secrets,
//!    payloads and contacts) any ancestor, so a DynamoDB `Item` or Cognito `UserAttributes`
//!    covers everything under it. A conditional secret (`Value?Type=SecureString`) is
//!    [`Role::SecretIf`]: the decoder checks the sibling.
//! 5. Every other string is `Other` (URL detectors still run on it).

use crate::aws::MemberHints;
use crate::inspect::FieldKind;

/// One step in the path to a value: a member/map key or a list position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    /// A member name, map key, XML element name or form key segment.
    Key(&'a str),
    /// A position in a list.
    Index(usize),
}

/// What a string value is, as decided from its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role<'h> {
    /// A tag key.
    TagKey,
    /// A tag value whose key is a sibling `Key` member.
    TagValue,
    /// A value in a tag map: the last segment is the tag key.
    MapTag,
    /// Not a tag: a name, free text or other.
    Plain(FieldKind),
    /// A secret if the sibling member `.0` holds `.1` (the hint's condition); otherwise `Other`.
    SecretIf(&'h str, &'h str),
}

/// Decides the role of the string at `path` (the last segment is the value's own).
pub(crate) fn role<'h>(hints: &'h MemberHints, path: &[Seg<'_>]) -> Role<'h> {
    let Some((_, ancestors)) = path.split_last() else {
        return Role::Plain(FieldKind::Other);
    };
    let container = ancestors
        .iter()
        .rposition(|seg| is_container_seg(hints, *seg));
    role_in(hints, path, container)
}

/// [`role`], for a caller that already knows `container`: the position in `path` of the
/// innermost tag container among the value's ancestors (every segment but the last). A tree
/// walk keeps it per level, so the ancestors are not searched again for every string.
pub(crate) fn role_in<'h>(
    hints: &'h MemberHints,
    path: &[Seg<'_>],
    container: Option<usize>,
) -> Role<'h> {
    let Some((own, ancestors)) = path.split_last() else {
        return Role::Plain(FieldKind::Other);
    };
    match container {
        Some(at) => tag_role(ancestors, at, *own),
        None => plain_role(hints, ancestors, *own),
    }
}

/// Whether a path segment names a tag container (a list position never does).
pub(crate) fn is_container_seg(hints: &MemberHints, seg: Seg<'_>) -> bool {
    match seg {
        Seg::Key(name) => is_tag_container(hints, name),
        Seg::Index(_) => false,
    }
}

/// Role of a value inside the tag container at `ancestors[at]`.
fn tag_role(ancestors: &[Seg<'_>], at: usize, own: Seg<'_>) -> Role<'static> {
    let keys_only = match ancestors.get(at) {
        Some(Seg::Key(name)) => is_tag_keys_container(name),
        _ => false,
    };
    let direct_child = at + 1 == ancestors.len();
    match own {
        Seg::Key(name) if is_key_member(name) => Role::TagKey,
        Seg::Key(name) if is_value_member(name) && !keys_only => Role::TagValue,
        _ if keys_only => Role::TagKey,
        Seg::Key(_) if direct_child => Role::MapTag,
        _ => Role::Plain(FieldKind::Other),
    }
}

/// Role of a value outside any tag container.
fn plain_role<'h>(hints: &'h MemberHints, ancestors: &[Seg<'_>], own: Seg<'_>) -> Role<'h> {
    let Seg::Key(name) = own else {
        return Role::Plain(ancestor_purpose(hints, ancestors).unwrap_or(FieldKind::Other));
    };
    if let Some(role) = own_purpose(hints, name) {
        return role;
    }
    if let Some(kind) = ancestor_purpose(hints, ancestors) {
        return Role::Plain(kind);
    }
    let kind = if matches_hint(&hints.names, name) {
        FieldKind::Name
    } else if matches_hint(&hints.free_text, name) {
        FieldKind::FreeText
    } else if is_name_member(name) {
        FieldKind::Name
    } else if is_free_text_member(name) {
        FieldKind::FreeText
    } else {
        FieldKind::Other
    };
    Role::Plain(kind)
}

/// The purpose the model gives the value's own member, if any.
fn own_purpose<'h>(hints: &'h MemberHints, name: &str) -> Option<Role<'h>> {
    for hint in &hints.secrets {
        match hint.split_once('?') {
            None if matches_hint(std::slice::from_ref(hint), name) => {
                return Some(Role::Plain(FieldKind::Secret))
            }
            Some((member, condition)) if member.eq_ignore_ascii_case(name) => {
                if let Some((sibling, value)) = condition.split_once('=') {
                    return Some(Role::SecretIf(sibling, value));
                }
            }
            _ => {}
        }
    }
    [
        (&hints.payloads, FieldKind::Payload),
        (&hints.contacts, FieldKind::Contact),
        (&hints.urls, FieldKind::Url),
    ]
    .into_iter()
    .find(|(list, _)| matches_hint(list, name))
    .map(|(_, kind)| Role::Plain(kind))
}

/// The purpose of the nearest ancestor member that is a secret, payload or contact container.
fn ancestor_purpose(hints: &MemberHints, ancestors: &[Seg<'_>]) -> Option<FieldKind> {
    if hints.secrets.is_empty() && hints.payloads.is_empty() && hints.contacts.is_empty() {
        return None;
    }
    ancestors.iter().rev().find_map(|seg| {
        let Seg::Key(name) = seg else {
            return None;
        };
        let plain_secret = hints
            .secrets
            .iter()
            .any(|h| !h.contains('?') && matches_hint(std::slice::from_ref(h), name));
        if plain_secret {
            Some(FieldKind::Secret)
        } else if matches_hint(&hints.payloads, name) {
            Some(FieldKind::Payload)
        } else if matches_hint(&hints.contacts, name) {
            Some(FieldKind::Contact)
        } else {
            None
        }
    })
}

/// Whether a member holds tags (list of Key/Value structures, string map, tag specifications).
pub(crate) fn is_tag_container(hints: &MemberHints, name: &str) -> bool {
    if matches_hint(&hints.tags, name) || starts_with_ci(name, "tagspecification") {
        return true;
    }
    // Every other built-in container ends in `g`, `d`, `s`, `t` or `p` (`Tag`, `TagsToAdd`,
    // `ResourceTags`, `TagSet`, `TagMap`): most member names are ruled out by one comparison,
    // and this runs for every ancestor of every string.
    let ends_right = name
        .as_bytes()
        .last()
        .is_some_and(|b| matches!(b.to_ascii_lowercase(), b'g' | b'd' | b's' | b't' | b'p'));
    ends_right
        && (["tag", "tagging", "tagstoadd"]
            .iter()
            .any(|whole| name.eq_ignore_ascii_case(whole))
            || ["tags", "tagset", "taglist", "tagslist", "tagmap", "tagkeys"]
                .iter()
                .any(|suffix| ends_with_ci(name, suffix)))
}

/// Whether a tag container holds only keys (`TagKeys` of `UntagResource`).
fn is_tag_keys_container(name: &str) -> bool {
    ends_with_ci(name, "tagkeys")
}

/// `name` ends with `suffix`, ignoring ASCII case.
fn ends_with_ci(name: &str, suffix: &str) -> bool {
    let start = name.len().saturating_sub(suffix.len());
    name.len() >= suffix.len()
        && name
            .as_bytes()
            .get(start..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix.as_bytes()))
}

/// `name` starts with `prefix`, ignoring ASCII case.
fn starts_with_ci(name: &str, prefix: &str) -> bool {
    name.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Whether a member inside a tag container is the tag's key.
pub(crate) fn is_key_member(name: &str) -> bool {
    name.eq_ignore_ascii_case("key") || name.eq_ignore_ascii_case("tagkey")
}

/// Whether a member inside a tag container is the tag's value.
fn is_value_member(name: &str) -> bool {
    name.eq_ignore_ascii_case("value") || name.eq_ignore_ascii_case("tagvalue")
}

/// `Name`, `name`, or camel case ending in `Name` (`QueueName`, `functionName`).
fn is_name_member(name: &str) -> bool {
    name == "Name" || name == "name" || (name.len() > 4 && name.ends_with("Name"))
}

/// `Description`, `Comment`, or members ending in them (`AlarmDescription`).
fn is_free_text_member(name: &str) -> bool {
    name.eq_ignore_ascii_case("description")
        || name.eq_ignore_ascii_case("comment")
        || name.ends_with("Description")
        || name.ends_with("Comment")
}

/// A model member name matches a wire name case-insensitively, singular or plural
/// (`TagSpecifications` in the model is `TagSpecification.N` on the EC2 wire).
fn matches_hint(hints: &[String], name: &str) -> bool {
    let name = name.as_bytes();
    // By length first: most hints are ruled out without comparing bytes.
    hints.iter().any(|hint| {
        let hint = hint.as_bytes();
        if hint.len() == name.len() {
            hint.eq_ignore_ascii_case(name)
        } else if hint.len() == name.len() + 1 {
            is_plural_of(hint, name)
        } else if name.len() == hint.len() + 1 {
            is_plural_of(name, hint)
        } else {
            false
        }
    })
}

/// `plural` is `singular` and one `s` or `S`, ignoring ASCII case.
fn is_plural_of(plural: &[u8], singular: &[u8]) -> bool {
    match plural.split_last() {
        Some((b's' | b'S', stem)) => stem.eq_ignore_ascii_case(singular),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys<'a>(names: &[&'a str]) -> Vec<Seg<'a>> {
        names.iter().map(|n| Seg::Key(n)).collect()
    }

    fn plain(kind: FieldKind) -> Role<'static> {
        Role::Plain(kind)
    }

    #[test]
    fn tag_lists_in_every_casing() {
        let h = MemberHints::default();
        let cases: &[(&[Seg<'_>], Role)] = &[
            (
                &[Seg::Key("Tags"), Seg::Index(0), Seg::Key("Key")],
                Role::TagKey,
            ),
            (
                &[Seg::Key("Tags"), Seg::Index(0), Seg::Key("Value")],
                Role::TagValue,
            ),
            (
                &[Seg::Key("tags"), Seg::Index(1), Seg::Key("key")],
                Role::TagKey,
            ),
            (
                &[Seg::Key("tags"), Seg::Index(1), Seg::Key("value")],
                Role::TagValue,
            ),
            (
                &[Seg::Key("TagList"), Seg::Index(0), Seg::Key("TagKey")],
                Role::TagKey,
            ),
            (
                &[Seg::Key("TagList"), Seg::Index(0), Seg::Key("TagValue")],
                Role::TagValue,
            ),
        ];
        for (path, want) in cases {
            assert_eq!(role(&h, path), *want, "{path:?}");
        }
    }

    #[test]
    fn form_and_xml_tag_paths() {
        let h = MemberHints::default();
        let cases: &[(&[&str], Role)] = &[
            (&["TagSpecification", "1", "Tag", "1", "Key"], Role::TagKey),
            (
                &["TagSpecification", "1", "Tag", "1", "Value"],
                Role::TagValue,
            ),
            (
                &["TagSpecification", "1", "ResourceType"],
                plain(FieldKind::Other),
            ),
            (&["Tags", "member", "1", "Value"], Role::TagValue),
            (&["Tag", "1", "Key"], Role::TagKey),
            (&["Tagging", "TagSet", "Tag", "Value"], Role::TagValue),
            (&["TagKeys", "member", "1"], Role::TagKey),
        ];
        for (path, want) in cases {
            assert_eq!(role(&h, &keys(path)), *want, "{path:?}");
        }
    }

    #[test]
    fn tag_maps_and_tag_key_lists() {
        let h = MemberHints::default();
        assert_eq!(role(&h, &keys(&["Tags", "owner"])), Role::MapTag);
        assert_eq!(role(&h, &keys(&["ResourceTags", "team"])), Role::MapTag);
        assert_eq!(role(&h, &keys(&["TagsList", "1", "Value"])), Role::TagValue);
        assert_eq!(
            role(&h, &[Seg::Key("TagKeys"), Seg::Index(0)]),
            Role::TagKey
        );
        assert_eq!(
            role(&h, &[Seg::Key("Tags"), Seg::Index(0)]),
            plain(FieldKind::Other)
        );
    }

    #[test]
    fn hints_make_containers_names_and_free_text() {
        let h = MemberHints {
            tags: vec!["Labels".into()],
            names: vec!["Alias".into()],
            free_text: vec!["Notes".into()],
            ..MemberHints::default()
        };
        assert_eq!(role(&h, &keys(&["Labels", "env"])), Role::MapTag);
        assert_eq!(role(&h, &keys(&["Alias"])), plain(FieldKind::Name));
        assert_eq!(
            role(&h, &keys(&["Config", "notes"])),
            plain(FieldKind::FreeText)
        );
        let plural = MemberHints {
            tags: vec!["Markers".into()],
            ..MemberHints::default()
        };
        assert_eq!(role(&plural, &keys(&["Marker", "1", "Key"])), Role::TagKey);
    }

    #[test]
    fn names_free_text_and_payloads() {
        let h = MemberHints::default();
        let cases: &[(&str, FieldKind)] = &[
            ("Name", FieldKind::Name),
            ("name", FieldKind::Name),
            ("QueueName", FieldKind::Name),
            ("functionName", FieldKind::Name),
            ("BucketName", FieldKind::Name),
            ("Description", FieldKind::FreeText),
            ("description", FieldKind::FreeText),
            ("AlarmDescription", FieldKind::FreeText),
            ("Comment", FieldKind::FreeText),
            ("Message", FieldKind::Other),
            ("MessageBody", FieldKind::Other),
            ("Subject", FieldKind::Other),
            ("Namespace", FieldKind::Other),
            ("PropagateTags", FieldKind::Other),
            ("Endpoint", FieldKind::Other),
        ];
        for (name, kind) in cases {
            assert_eq!(role(&h, &keys(&[name])), plain(*kind), "{name}");
        }
        assert_eq!(
            role(&h, &[Seg::Key("Names"), Seg::Index(0)]),
            plain(FieldKind::Other)
        );
        assert_eq!(role(&h, &[]), plain(FieldKind::Other));
    }
}
