//! One value a request carries, where it sits, and what kind of field AWS considers it.
//!
//! Produced by the protocol decoders, consumed by the detectors. Decoders hand out borrowed
//! [`FieldRef`]s (most fields are scanned once and dropped, so copying them would be waste); an
//! owned [`Field`] is made only by callers that keep fields. `Debug` never shows the value:
//! fields hold whatever the caller sent, secrets included.

use std::borrow::Cow;
use std::fmt;

use super::decode::{push_form_location, push_path_location, Step};

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
    /// A configuration URL member (webhook, endpoint, connection string): URL rules only.
    Url,
    /// A member that holds a secret on purpose (`SecretString`, a SecureString parameter value,
    /// a password, an SDK-made presigned URL): no rule judges it.
    Secret,
    /// A member that must hold an email address or phone number: URL rules only.
    Contact,
    /// Application data (message bodies, DynamoDB items, blobs, customer endpoint bodies): no
    /// rule judges it unless `scan-payloads` is on.
    Payload,
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
            FieldKind::Other | FieldKind::Path | FieldKind::Url => "url",
            FieldKind::Header => "header",
            FieldKind::Query => "query",
            FieldKind::Secret => "secret",
            FieldKind::Contact => "required-contact",
            FieldKind::Payload => "payload",
        }
    }

    /// Whether no rule judges a value of this kind, by its purpose (the event lists such fields).
    pub fn is_exempt(self) -> bool {
        matches!(self, FieldKind::Secret | FieldKind::Payload)
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
            location: Location::from(self.location.as_str()),
            kind: self.kind,
            value: &self.value,
            tag_key: self.tag_key.as_deref(),
        }
    }
}

/// One string value from a request, borrowed from the request (or the decoder's scratch space)
/// for as long as a decoder hands it out. The same parts as [`Field`].
#[derive(Clone, Copy)]
pub struct FieldRef<'a> {
    /// Where it sits (see [`Field::location`]), rendered on demand.
    pub location: Location<'a>,
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
            location: self.location.render().into_owned(),
            kind: self.kind,
            value: self.value.to_owned(),
            tag_key: self.tag_key.map(str::to_owned),
        }
    }
}

impl fmt::Debug for FieldRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldRef")
            .field("location", &self.location.render())
            .field("kind", &self.kind)
            .field("value", &format_args!("<{} bytes>", self.value.len()))
            .finish()
    }
}

/// Where a borrowed field sits, as [`Field::location`] spells it. Decoders hand out the parts a
/// location is made of, not the text: most fields raise nothing and are never asked where they
/// are, so rendering every location (and checking every key in it for safety) would be waste.
#[derive(Clone, Copy)]
pub struct Location<'a>(Repr<'a>);

#[derive(Clone, Copy)]
enum Repr<'a> {
    /// Already rendered.
    Text(&'a str),
    /// A form parameter or header: `prefix` + its key if the key may be shown, else its
    /// position.
    Form {
        prefix: &'a str,
        key: &'a str,
        position: usize,
    },
    /// A value in a decoded document: `prefix` + the steps to it.
    Path {
        prefix: &'a str,
        steps: &'a [Step<'a>],
    },
}

impl<'a> Location<'a> {
    /// The form parameter (or header) `key` at `position` ([`push_form_location`]).
    pub(crate) fn form(prefix: &'a str, key: &'a str, position: usize) -> Self {
        Location(Repr::Form {
            prefix,
            key,
            position,
        })
    }

    /// The document value reached by `steps` ([`push_path_location`]).
    pub(crate) fn path(prefix: &'a str, steps: &'a [Step<'a>]) -> Self {
        Location(Repr::Path { prefix, steps })
    }

    /// The location as text: borrowed when it already is, rendered otherwise.
    pub fn render(self) -> Cow<'a, str> {
        match self.0 {
            Repr::Text(text) => Cow::Borrowed(text),
            Repr::Form {
                prefix,
                key,
                position,
            } => {
                let mut out = String::with_capacity(prefix.len() + key.len());
                out.push_str(prefix);
                push_form_location(&mut out, key, position);
                Cow::Owned(out)
            }
            Repr::Path { prefix, steps } => {
                let mut out = String::with_capacity(64);
                out.push_str(prefix);
                push_path_location(&mut out, steps);
                Cow::Owned(out)
            }
        }
    }
}

impl<'a> From<&'a str> for Location<'a> {
    fn from(text: &'a str) -> Self {
        Location(Repr::Text(text))
    }
}

impl fmt::Debug for Location<'_> {
    /// Locations never carry request data (unsafe keys are replaced by positions).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.render(), f)
    }
}
