//! `awsguard inspect --explain`: every field of a captured call, the purpose it was given, which
//! rules judge it and why — so a reviewer can see what was not judged and on what grounds. Pure:
//! decodes the request as [`Engine::evaluate`] does, without scanning.

use super::{Engine, RequestView};
use crate::aws::identify::{member_hints, Identity};
use crate::aws::MemberHints;
use crate::capture::CapturedRequest;
use crate::inspect::decode::{self, DecodeInput};
use crate::inspect::{FieldKind, FieldRef};

/// Most fields explained for one request.
const MAX_EXPLAINED: usize = 4096;

/// One field of a call and how it is judged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Explained {
    /// Where it sits (`body:Tags[0].Value`).
    pub location: String,
    /// Its purpose (`tag-value`, `secret`, `payload`, `url`…).
    pub purpose: &'static str,
    /// Which rules judge it.
    pub judged_by: &'static str,
    /// Why it has that purpose.
    pub why: String,
}

impl Engine {
    /// Every field of `request` with its purpose and the reason for it, in decoding order; a body
    /// that is not read (data plane, customer endpoint) is one entry.
    pub fn explain(&self, request: &CapturedRequest) -> Vec<Explained> {
        let view = RequestView::of(request);
        let profile = self.profile(&request.host);
        let head = self.head(&view, &profile);
        let reads = self.reads_body(&head, &request.headers);
        let body = reads.then_some(request.body.as_slice());
        let identity = self.identity(&view, &profile, head, body);
        let hints = member_hints(&identity);
        let customer = identity.customer_endpoint.is_some();
        let mut out = Vec::new();
        let input = DecodeInput {
            protocol: identity.protocol,
            method: view.method,
            path: view.path,
            query: view.query,
            headers: view.headers,
            body,
            hints,
        };
        let mut each = |field: FieldRef<'_>| {
            if out.len() < MAX_EXPLAINED {
                let kind = self.purpose(field.kind, customer);
                let location = field.location.render().into_owned();
                let why = why(&identity, hints, field.kind, kind, &location);
                out.push(Explained {
                    location,
                    purpose: kind.as_str(),
                    judged_by: judged_by(kind),
                    why,
                });
            }
        };
        let result = decode::visit(&input, &self.decode_limits, &mut each);
        if let Err(error) = result {
            out.push(Explained {
                location: "body".into(),
                purpose: "body",
                judged_by: "uninspectable-body",
                why: format!("the body did not decode: {error}"),
            });
        }
        if !reads && !request.body.is_empty() {
            let why = match &identity.customer_endpoint {
                Some(c) => format!(
                    "customer endpoint ({}): the body is the application's payload",
                    c.event_source
                ),
                None => "data-plane body (object data, stream or blob payload): streamed, not read"
                    .to_owned(),
            };
            out.push(Explained {
                location: "body".into(),
                purpose: FieldKind::Payload.as_str(),
                judged_by: judged_by(FieldKind::Payload),
                why,
            });
        }
        out
    }
}

/// Which rules judge a field of `kind`.
fn judged_by(kind: FieldKind) -> &'static str {
    if kind.is_exempt() {
        "no rule (listed in skippedFields)"
    } else if kind.is_content() {
        "content and URL rules"
    } else {
        "URL rules"
    }
}

/// Why a field has its purpose: the model member that gave it, a container, or a heuristic.
fn why(
    identity: &Identity,
    hints: &MemberHints,
    decoded: FieldKind,
    kind: FieldKind,
    location: &str,
) -> String {
    let operation = format!(
        "{}.{}",
        identity.model.as_deref().unwrap_or("?"),
        identity.operation.as_deref().unwrap_or("?")
    );
    if decoded != kind {
        return match &identity.customer_endpoint {
            Some(c) if kind == FieldKind::Payload => {
                format!(
                    "customer endpoint ({}): application payload",
                    c.event_source
                )
            }
            _ => "payload, judged like free text because scan-payloads is on".to_owned(),
        };
    }
    let list = match kind {
        FieldKind::Secret => &hints.secrets,
        FieldKind::Payload => &hints.payloads,
        FieldKind::Contact => &hints.contacts,
        FieldKind::Url => &hints.urls,
        FieldKind::Name => &hints.names,
        FieldKind::FreeText => &hints.free_text,
        FieldKind::TagKey | FieldKind::TagValue => &hints.tags,
        FieldKind::Header => return "a request header".to_owned(),
        FieldKind::Path => return "a label of the URI path".to_owned(),
        FieldKind::Query => return "a query string parameter".to_owned(),
        FieldKind::Other => {
            return format!("no purpose in the model of {operation}: only URL rules apply")
        }
    };
    let members = members(location);
    let hint = list.iter().find_map(|hint| {
        let member = hint.split('?').next().unwrap_or(hint);
        members
            .iter()
            .rev()
            .find(|m| m.eq_ignore_ascii_case(member))
            .map(|_| hint.as_str())
    });
    match hint {
        Some(hint) => match hint.split_once('?') {
            Some((member, condition)) => {
                format!("model {operation}: member {member} is a secret when {condition}")
            }
            None if matches!(kind, FieldKind::TagKey | FieldKind::TagValue) => {
                format!("model {operation}: member {hint} holds tags")
            }
            None => format!("model {operation}: member {hint} is {}", kind.as_str()),
        },
        None if matches!(kind, FieldKind::TagKey | FieldKind::TagValue) => {
            "inside a tag container (Tags, TagSet, tags map…)".to_owned()
        }
        None => format!("member name looks like {} (heuristic)", kind.as_str()),
    }
}

/// The member names along a location (`body:Tags[0].Value` → `Tags`, `Value`).
fn members(location: &str) -> Vec<&str> {
    let path = location.split_once(':').map_or(location, |(_, p)| p);
    path.split('.')
        .map(|seg| seg.split('[').next().unwrap_or(seg))
        .filter(|seg| !seg.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::members;

    #[test]
    fn members_along_a_location() {
        assert_eq!(members("body:Tags[0].Value"), vec!["Tags", "Value"]);
        assert_eq!(members("body:Item.email.S"), vec!["Item", "email", "S"]);
        assert_eq!(members("header:x-amz-tagging"), vec!["x-amz-tagging"]);
    }
}
