//! One value a request carries, where it sits, and what kind of field AWS considers it.
//!
//! Produced by the protocol decoders, consumed by the detectors. Decoders hand out borrowed
//! [`FieldRef`]s (most fields are scanned once and dropped, so copying them would be waste); an
//! owned [`Field`] is made only by callers that keep fields. `Debug` never shows the value:
//! fields hold whatever the caller sent, secrets included.

use std::fmt;

/// What kind of field a value sits in: decides which detectors run on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldKind {
    /// A tag key (`Tags[0].Key`, a key of a `tags` map, `x-amz-tagging` keys).
    TagKey,
    /// A tag value.
    TagValue,
    /// A free-form name (`Name`, `QueueName`, `*Name` members).
    Name,
    /// Free text (`Description` and similar).
    FreeText,
    /// Any other string in the body: only URL detectors look at it.
    Other,
    /// A header value (URL detectors only, unless the header carries tags).
    Header,
    /// A query-string parameter value of a REST call.
    Query,
    /// A URI path label.
    Path,
}

impl FieldKind {
    /// The `field` name used in findings (DESIGN.md): content kinds keep their own name, other
    /// places report where the value sat.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::TagKey => "tag-key",
            FieldKind::TagValue => "tag-value",
            FieldKind::Name => "name",
            FieldKind::FreeText => "free-text",
            FieldKind::Other | FieldKind::Path => "url",
            FieldKind::Header => "header",
            FieldKind::Query => "query",
        }
    }

    /// Whether content detectors (PII, secrets) apply, as opposed to URL detectors only.
    pub fn is_content(self) -> bool {
        matches!(
            self,
            FieldKind::TagKey | FieldKind::TagValue | FieldKind::Name | FieldKind::FreeText
        )
    }
}

/// One string value from a request.
#[derive(Clone, PartialEq, Eq)]
pub struct Field {
    /// Where it sits: `body:Tags[0].Value`, `body:tags.owner`, `header:x-amz-tagging`,
    /// `query:Endpoint`, `path:Bucket`.
    pub location: String,
    /// What kind of field it is.
    pub kind: FieldKind,
    /// The value as sent (decoded from its wire encoding).
    pub value: String,
    /// For tag values: the tag's key, so keyword-gated detectors can use it (`password=…`).
    pub tag_key: Option<String>,
}

impl Field {
    /// A field without an associated tag key.
    pub fn new(location: impl Into<String>, kind: FieldKind, value: impl Into<String>) -> Self {
        Field {
            location: location.into(),
            kind,
            value: value.into(),
            tag_key: None,
        }
    }
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("location", &self.location)
            .field("kind", &self.kind)
            .field("value", &format_args!("<{} bytes>", self.value.len()))
            .finish()
    }
}

impl Field {
    /// This field, borrowed.
    pub fn view(&self) -> FieldRef<'_> {
        FieldRef {
            location: &self.location,
            kind: self.kind,
            value: &self.value,
            tag_key: self.tag_key.as_deref(),
        }
    }
}

/// One string value from a request, borrowed from the request (or the decoder's scratch space)
/// for as long as a decoder hands it out. The same parts as [`Field`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FieldRef<'a> {
    /// Where it sits (see [`Field::location`]).
    pub location: &'a str,
    /// What kind of field it is.
    pub kind: FieldKind,
    /// The value as sent (decoded from its wire encoding).
    pub value: &'a str,
    /// For tag values: the tag's key.
    pub tag_key: Option<&'a str>,
}

impl FieldRef<'_> {
    /// An owned copy, for callers that keep fields.
    pub fn to_field(self) -> Field {
        Field {
            location: self.location.to_owned(),
            kind: self.kind,
            value: self.value.to_owned(),
            tag_key: self.tag_key.map(str::to_owned),
        }
    }
}

impl fmt::Debug for FieldRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldRef")
            .field("location", &self.location)
            .field("kind", &self.kind)
            .field("value", &format_args!("<{} bytes>", self.value.len()))
            .finish()
    }
}
