//! How a call ended, and the CloudTrail-style members derived from the call itself.
//!
//! The proxy completes every api-call event with one [`Outcome`]; the event renders it as
//! `errorCode` / `errorMessage` the way CloudTrail does for calls AWS refused. When AWS answered
//! with an error, its own code wins ([`aws_error_code`] reads it from the response). The other
//! helpers here are pure functions of the operation: `readOnly`, `eventCategory`, `eventID`.

use http::HeaderMap;

/// The `eventVersion` written in every event: the CloudTrail record version whose member names
/// the events follow.
pub const EVENT_VERSION: &str = "1.10";

/// How one intercepted call ended. Each variant other than [`Outcome::Completed`] has a stable
/// `errorCode`, so scripts can count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The response was sent to the client to its end (AWS's own error code, if any, is kept).
    Completed,
    /// awsguard answered with a policy error; nothing was sent upstream.
    Blocked,
    /// The client went away (closed, cancelled the stream) before the response ended.
    ClientCancelled,
    /// The client's connection failed while it was sending the request body.
    ClientReset,
    /// The upstream connection closed or failed, before the response head or during its body.
    UpstreamReset {
        /// Whether the response head had already been forwarded.
        during_body: bool,
    },
    /// The upstream did not answer in time.
    UpstreamTimeout,
    /// The upstream stopped sending the response body (longer than `stream-idle-timeout`
    /// between bytes).
    UpstreamBodyTimeout,
    /// No connection to the upstream could be made (DNS, refused, TLS failure).
    UpstreamUnreachable,
    /// The upstream offered only TLS versions below the minimum.
    UpstreamTlsRefused,
    /// The request was refused by awsguard before any policy decision could apply.
    Refused(Refusal),
    /// The client stopped sending its body (too long between bytes, or in total).
    BodyReadTimeout,
    /// Waiting for room in the shared inspection memory budget took too long.
    InspectionBudgetTimeout,
    /// The proxy shut down before the call finished.
    ProxyShutdown,
}

/// Why awsguard refused a request outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request head passed the documented limit (431).
    HeadTooLarge,
    /// `Host` / `:authority` names another host than the tunnel was opened for (400).
    HostMismatch,
    /// More than one `Host` header (400).
    DuplicateHost,
    /// The request body could not be read as HTTP (400).
    BadBody,
    /// An HTTP/2 extended CONNECT for a protocol other than WebSocket (501).
    UnsupportedProtocol,
}

impl Outcome {
    /// The `errorCode` awsguard writes for this outcome; `None` for a completed call.
    pub fn code(self) -> Option<&'static str> {
        Some(match self {
            Outcome::Completed => return None,
            Outcome::Blocked => "AwsGuardPolicyViolation",
            Outcome::ClientCancelled => "ClientClosedRequest",
            Outcome::ClientReset => "ClientReset",
            Outcome::UpstreamReset { .. } => "UpstreamReset",
            Outcome::UpstreamTimeout => "UpstreamTimeout",
            Outcome::UpstreamBodyTimeout => "UpstreamBodyTimeout",
            Outcome::UpstreamUnreachable => "UpstreamUnreachable",
            Outcome::UpstreamTlsRefused => "UpstreamTlsVersion",
            Outcome::Refused(Refusal::HeadTooLarge) => "RequestHeaderFieldsTooLarge",
            Outcome::Refused(Refusal::HostMismatch) => "MisdirectedRequest",
            Outcome::Refused(Refusal::DuplicateHost) => "DuplicateHost",
            Outcome::Refused(Refusal::BadBody) => "MalformedRequestBody",
            Outcome::Refused(Refusal::UnsupportedProtocol) => "UnsupportedProtocol",
            Outcome::BodyReadTimeout => "BodyReadTimeout",
            Outcome::InspectionBudgetTimeout => "InspectionBudgetTimeout",
            Outcome::ProxyShutdown => "ProxyShutdown",
        })
    }

    /// The fixed `errorMessage` for this outcome: no request data, so nothing to redact.
    pub fn message(self) -> Option<&'static str> {
        Some(match self {
            Outcome::Completed => return None,
            Outcome::Blocked => "awsguard blocked the call by policy",
            Outcome::ClientCancelled => "the client closed the request before the response ended",
            Outcome::ClientReset => "the client connection failed while sending the request",
            Outcome::UpstreamReset { during_body: false } => {
                "the upstream connection closed before the response"
            }
            Outcome::UpstreamReset { during_body: true } => {
                "the upstream connection closed during the response body"
            }
            Outcome::UpstreamTimeout => "the upstream did not answer in time",
            Outcome::UpstreamBodyTimeout => {
                "the upstream stopped sending the response body (too long between bytes)"
            }
            Outcome::UpstreamUnreachable => "the upstream could not be reached",
            Outcome::UpstreamTlsRefused => "the upstream offered only TLS below the minimum",
            Outcome::Refused(Refusal::HeadTooLarge) => "the request head is larger than allowed",
            Outcome::Refused(Refusal::HostMismatch) => {
                "the Host header names another host than the tunnel"
            }
            Outcome::Refused(Refusal::DuplicateHost) => "the request has more than one Host header",
            Outcome::Refused(Refusal::BadBody) => "the request body could not be read",
            Outcome::Refused(Refusal::UnsupportedProtocol) => {
                "extended CONNECT is relayed for the websocket protocol only"
            }
            Outcome::BodyReadTimeout => "the client was too slow sending the request body",
            Outcome::InspectionBudgetTimeout => {
                "no inspection memory became free in time (too many large calls at once)"
            }
            Outcome::ProxyShutdown => "the proxy shut down before the call finished",
        })
    }

    /// The outcome an `errorCode` stands for (reading events back); AWS's own codes give `None`.
    pub fn from_code(code: &str) -> Option<Outcome> {
        ALL.iter().copied().find(|o| o.code() == Some(code))
    }
}

/// One of each outcome, for [`Outcome::from_code`] (`UpstreamReset` once: both share a code).
const ALL: [Outcome; 17] = [
    Outcome::Completed,
    Outcome::Blocked,
    Outcome::ClientCancelled,
    Outcome::ClientReset,
    Outcome::UpstreamReset { during_body: false },
    Outcome::UpstreamTimeout,
    Outcome::UpstreamBodyTimeout,
    Outcome::UpstreamUnreachable,
    Outcome::UpstreamTlsRefused,
    Outcome::Refused(Refusal::HeadTooLarge),
    Outcome::Refused(Refusal::HostMismatch),
    Outcome::Refused(Refusal::DuplicateHost),
    Outcome::Refused(Refusal::BadBody),
    Outcome::Refused(Refusal::UnsupportedProtocol),
    Outcome::BodyReadTimeout,
    Outcome::InspectionBudgetTimeout,
    Outcome::ProxyShutdown,
];

/// Longest AWS error code kept (real ones are under 64 characters).
const MAX_CODE: usize = 128;

/// Operation-name prefixes of calls that only read (CloudTrail's `readOnly`).
const READ_PREFIXES: &[&str] = &[
    "Describe", "Get", "List", "Head", "Lookup", "Search", "Scan", "Query", "BatchGet", "Select",
    "Filter", "Check", "Validate", "Estimate", "Preview", "Detect", "Test",
];

/// Whether `operation` only reads: its name starts with a read verb followed by a capital or
/// nothing (`GetObject`, `Scan`; not `Getaway`).
pub fn read_only(operation: &str) -> bool {
    READ_PREFIXES.iter().any(|prefix| {
        operation
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.chars().next().is_none_or(|c| c.is_ascii_uppercase()))
    })
}

/// Data-plane operations per signing name: what CloudTrail logs as data events.
const DATA_EVENTS: &[(&str, &[&str])] = &[
    (
        "s3",
        &[
            "GetObject",
            "PutObject",
            "DeleteObject",
            "DeleteObjects",
            "HeadObject",
            "CopyObject",
            "CreateMultipartUpload",
            "UploadPart",
            "UploadPartCopy",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
            "ListParts",
            "ListObjects",
            "ListObjectsV2",
            "ListObjectVersions",
            "GetObjectAcl",
            "PutObjectAcl",
            "GetObjectTagging",
            "PutObjectTagging",
            "DeleteObjectTagging",
            "GetObjectAttributes",
            "RestoreObject",
            "SelectObjectContent",
            "GetObjectRetention",
            "PutObjectRetention",
            "GetObjectLegalHold",
            "PutObjectLegalHold",
        ],
    ),
    (
        "lambda",
        &["Invoke", "InvokeAsync", "InvokeWithResponseStream"],
    ),
    (
        "dynamodb",
        &[
            "GetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchGetItem",
            "BatchWriteItem",
            "Query",
            "Scan",
            "TransactGetItems",
            "TransactWriteItems",
            "ExecuteStatement",
            "BatchExecuteStatement",
            "ExecuteTransaction",
        ],
    ),
];

/// CloudTrail's `eventCategory`: `Data` for object/item/invoke operations, else `Management`.
/// `event_source` is `<signing name>.amazonaws.com`.
pub fn category(event_source: Option<&str>, operation: Option<&str>) -> &'static str {
    let service = event_source.and_then(|s| s.strip_suffix(".amazonaws.com"));
    let data = match (service, operation) {
        (Some(service), Some(operation)) => DATA_EVENTS
            .iter()
            .any(|(s, ops)| *s == service && ops.contains(&operation)),
        _ => false,
    };
    if data {
        "Data"
    } else {
        "Management"
    }
}

/// The request id AWS gave the call (`x-amzn-RequestId`, or S3's `x-amz-request-id`).
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-amzn-requestid", "x-amz-request-id"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .filter(|id| id.len() <= MAX_CODE)
        .map(str::to_owned)
}

/// AWS's error code from the `x-amzn-ErrorType` header (`Code:http://…` or `Code`), when there.
pub fn aws_error_code_header(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-amzn-errortype")?.to_str().ok()?;
    clean_code(value.split(':').next().unwrap_or(value))
}

/// AWS's error code from a (small, whole) error body: JSON `__type` or `code`, XML `<Code>`, CBOR
/// `__type`. A JSON `__type` may carry a namespace (`com.amazon…#Code`): only the code is kept.
pub fn aws_error_code(body: &[u8]) -> Option<String> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    match first {
        b'{' => json_code(body),
        b'<' => xml_code(body),
        _ => cbor_code(body),
    }
}

fn json_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    ["__type", "code", "Code"]
        .iter()
        .find_map(|key| object.get(*key)?.as_str())
        .and_then(clean_code)
}

fn xml_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text.get(start..)?.find("</Code>")? + start;
    clean_code(text.get(start..end)?)
}

fn cbor_code(body: &[u8]) -> Option<String> {
    let value: ciborium::Value = ciborium::from_reader(body).ok()?;
    let map = value.as_map()?;
    map.iter()
        .find(|(k, _)| k.as_text() == Some("__type"))
        .and_then(|(_, v)| v.as_text())
        .and_then(clean_code)
}

/// The code part of a namespaced type, if it looks like a code (letters, digits, `.`, `_`).
fn clean_code(raw: &str) -> Option<String> {
    let code = raw.rsplit('#').next().unwrap_or(raw).trim();
    let valid = !code.is_empty()
        && code.len() <= MAX_CODE
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    valid.then(|| code.to_owned())
}

/// Longest User-Agent kept in an event, in bytes (SDKs send ~200; 60 KB ones have been seen).
pub const USER_AGENT_CAP: usize = 1024;

/// What ends a User-Agent cut at [`USER_AGENT_CAP`].
pub const TRUNCATED: &str = "…[truncated]";

/// The User-Agent as events record it: cut at [`USER_AGENT_CAP`] bytes (on a character
/// boundary, with [`TRUNCATED`] after it), or, when `secret` (a detector found something in
/// it), only its first product token's name, redacted like an excerpt.
pub fn recorded_user_agent(user_agent: &str, secret: bool) -> String {
    if secret {
        let product = user_agent
            .split(['/', ' '])
            .next()
            .unwrap_or_default()
            .chars()
            .take(32)
            .collect::<String>();
        return format!("{product}/… [redacted]");
    }
    if user_agent.len() <= USER_AGENT_CAP {
        return user_agent.to_owned();
    }
    let mut end = USER_AGENT_CAP;
    while !user_agent.is_char_boundary(end) {
        end -= 1;
    }
    let mut kept = String::with_capacity(end + TRUNCATED.len());
    kept.push_str(&user_agent[..end]);
    kept.push_str(TRUNCATED);
    kept
}

/// A random (version 4) UUID in its hyphenated text form, for `eventID`.
pub(super) fn event_id() -> String {
    let mut bytes = random_16();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut text = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    text
}

/// Random bytes taken from the system generator a page at a time.
const RANDOM_POOL: usize = 4096;

/// Sixteen bytes from the system generator. Each thread keeps a page of them: one `getrandom`
/// call serves 256 events instead of one each (a system call per event was a measurable part
/// of a busy proxy's time).
fn random_16() -> [u8; 16] {
    use ring::rand::SecureRandom;
    use std::cell::RefCell;
    thread_local! {
        static POOL: RefCell<(Box<[u8; RANDOM_POOL]>, usize)> =
            RefCell::new((Box::new([0; RANDOM_POOL]), RANDOM_POOL));
    }
    POOL.with(|pool| {
        let (bytes, used) = &mut *pool.borrow_mut();
        if *used + 16 > RANDOM_POOL {
            // The system generator does not fail on supported platforms; an all-zero id would
            // still be a valid (if not unique) member rather than a reason to lose the event.
            let _ = ring::rand::SystemRandom::new().fill(&mut bytes[..]);
            *used = 0;
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(&bytes[*used..*used + 16]);
        *used += 16;
        out
    })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_follows_the_operation_verb() {
        for op in [
            "GetObject",
            "ListQueues",
            "DescribeInstances",
            "Scan",
            "BatchGetItem",
        ] {
            assert!(read_only(op), "{op}");
        }
        for op in [
            "PutObject",
            "CreateQueue",
            "Getaway",
            "TagResource",
            "Listen",
        ] {
            assert!(!read_only(op), "{op}");
        }
    }

    #[test]
    fn object_item_and_invoke_calls_are_data_events() {
        assert_eq!(
            category(Some("s3.amazonaws.com"), Some("PutObject")),
            "Data"
        );
        assert_eq!(
            category(Some("lambda.amazonaws.com"), Some("Invoke")),
            "Data"
        );
        assert_eq!(
            category(Some("dynamodb.amazonaws.com"), Some("GetItem")),
            "Data"
        );
        assert_eq!(
            category(Some("s3.amazonaws.com"), Some("CreateBucket")),
            "Management"
        );
        assert_eq!(
            category(Some("sqs.amazonaws.com"), Some("GetItem")),
            "Management"
        );
        assert_eq!(category(None, None), "Management");
    }

    #[test]
    fn aws_error_codes_are_read_from_every_wire_format() {
        let json = br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"x"}"#;
        assert_eq!(aws_error_code(json).as_deref(), Some("QueueDoesNotExist"));
        let json = br#"{"code":"ResourceNotFoundException"}"#;
        assert_eq!(
            aws_error_code(json).as_deref(),
            Some("ResourceNotFoundException")
        );
        let xml = b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code></Error>";
        assert_eq!(aws_error_code(xml).as_deref(), Some("NoSuchBucket"));
        let query = b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameterValue</Code>\
                      </Error></ErrorResponse>";
        assert_eq!(
            aws_error_code(query).as_deref(),
            Some("InvalidParameterValue")
        );
        let mut cbor = Vec::new();
        let value = ciborium::Value::Map(vec![(
            ciborium::Value::Text("__type".into()),
            ciborium::Value::Text("smithy#ThrottlingException".into()),
        )]);
        ciborium::into_writer(&value, &mut cbor).unwrap();
        assert_eq!(
            aws_error_code(&cbor).as_deref(),
            Some("ThrottlingException")
        );
        assert_eq!(aws_error_code(b"<Code>has space</Code>"), None);
        assert_eq!(aws_error_code(b"not an error"), None);
        assert_eq!(aws_error_code(b""), None);
    }

    #[test]
    fn the_error_type_header_gives_the_code_before_its_colon() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            "AccessDeniedException:http://internal.amazon.com/"
                .parse()
                .unwrap(),
        );
        headers.insert("x-amz-request-id", "4442587FB7D0A2F9".parse().unwrap());
        assert_eq!(
            aws_error_code_header(&headers).as_deref(),
            Some("AccessDeniedException")
        );
        assert_eq!(request_id(&headers).as_deref(), Some("4442587FB7D0A2F9"));
    }

    #[test]
    fn every_outcome_code_reads_back() {
        for outcome in ALL {
            match outcome.code() {
                Some(code) => assert_eq!(Outcome::from_code(code), Some(outcome)),
                None => assert_eq!(outcome, Outcome::Completed),
            }
            assert_eq!(outcome.code().is_some(), outcome.message().is_some());
        }
    }

    #[test]
    fn user_agents_are_bounded_and_redacted() {
        let sdk = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 botocore/2.4.5";
        assert_eq!(recorded_user_agent(sdk, false), sdk);
        let long = "é".repeat(5000);
        let kept = recorded_user_agent(&long, false);
        assert!(kept.ends_with(TRUNCATED));
        assert!(kept.len() <= USER_AGENT_CAP + TRUNCATED.len());
        assert_eq!(
            recorded_user_agent("curl/8.5 token=ghp_secretsecret", true),
            "curl/… [redacted]"
        );
    }

    #[test]
    fn event_ids_are_version_4_uuids() {
        let id = event_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, event_id());
    }

    #[test]
    fn event_ids_stay_distinct_across_refills_of_the_random_pool() {
        let count = 3 * RANDOM_POOL / 16 + 5;
        let ids: std::collections::HashSet<String> = (0..count).map(|_| event_id()).collect();
        assert_eq!(ids.len(), count);
        assert!(!ids.contains("00000000-0000-4000-8000-000000000000"));
    }
}
