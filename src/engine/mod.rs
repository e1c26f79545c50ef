//! The pure per-request pipeline: identify → decode fields → inspect → decide.
//!
//! Shared by the proxy (live traffic) and `awsguard inspect` (files). No I/O: the caller passes
//! the request head and, when it was buffered, the body; the answer says what to record and
//! whether to block.

use http::{HeaderMap, StatusCode};

use crate::aws::endpoints::{fips_verdict, fips_verdict_in};
use crate::aws::identify::{
    body_may_name_operation, identify_at, member_hints, HostFacts, Identity, RequestHead,
};
use crate::aws::Protocol;
use crate::capture::CapturedRequest;
use crate::config::{Config, FipsMissing, FipsMode};
use crate::events::{
    Decision, Event, EventType, FipsDetails, SkippedField, UserIdentity, MAX_SKIPPED,
};
use crate::inspect::decode::{self, DecodeInput, DecodeLimits};
use crate::inspect::{
    FieldKind, FieldRef, Finding, Location, ScanContext, Scanner, UNINSPECTABLE_BODY,
};
use crate::policy::{self, ErrorResponse, Policy, Raised};
use std::sync::Arc;

mod explain;

pub use explain::Explained;

/// The request head as the engine sees it.
#[derive(Clone, Copy)]
pub struct RequestView<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Host the client asked for, without port.
    pub host: &'a str,
    /// URI path (still percent-encoded).
    pub path: &'a str,
    /// Raw query string.
    pub query: Option<&'a str>,
    /// Request headers.
    pub headers: &'a HeaderMap,
}

/// Header values and the query can hold secrets: `Debug` shows only their shape.
impl std::fmt::Debug for RequestView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestView")
            .field("method", &self.method)
            .field("host", &self.host)
            .field("path_len", &self.path.len())
            .field("query_len", &self.query.map(str::len))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<'a> RequestView<'a> {
    /// The view of a captured request (`awsguard inspect`).
    pub fn of(request: &'a CapturedRequest) -> Self {
        RequestView {
            method: &request.method,
            host: &request.host,
            path: &request.path,
            query: request.query.as_deref(),
            headers: &request.headers,
        }
    }

    fn head(&self) -> RequestHead<'a> {
        RequestHead {
            method: self.method,
            host: self.host,
            path: self.path,
            query: self.query,
            headers: self.headers,
        }
    }
}

/// What became of a request body before the call is evaluated.
#[derive(Clone, Copy)]
pub enum Body<'a> {
    /// Read whole, to be inspected.
    Read(&'a [u8]),
    /// Not read, by design: data-plane bodies, or inspection off.
    Skipped,
    /// Should have been read for inspection but was not (why, for the finding): enforce mode
    /// fails closed on it through `uninspectable-body`.
    Unread(&'static str),
}

/// The bytes are the request's own: `Debug` shows only their length.
impl std::fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Read(bytes) => write!(f, "Read(<{} bytes>)", bytes.len()),
            Body::Skipped => f.write_str("Skipped"),
            Body::Unread(why) => write!(f, "Unread({why})"),
        }
    }
}

impl<'a> Body<'a> {
    fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Body::Read(bytes) => Some(bytes),
            Body::Skipped | Body::Unread(_) => None,
        }
    }
}

/// What the host alone decides for every call sent to it: identification facts and the FIPS
/// outcome. Worked out once per intercepted connection ([`Engine::profile`]), since every request
/// on it goes to the same host.
#[derive(Debug, Clone)]
pub struct HostProfile {
    facts: HostFacts,
    fips: policy::FipsOutcome,
    /// The host does not name its region (`ec2.amazonaws.com`): each call's SigV4 scope does.
    regionless: bool,
    transport: Vec<Raised>,
}

impl HostProfile {
    /// Adds a transport finding (a TLS leg below the minimum, accepted because the rule is in
    /// audit) raised on every call of the connection.
    pub fn with_transport(mut self, finding: Finding) -> Self {
        self.transport.push(finding.into());
        self
    }
}

/// The outcome for one call.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// `<signing name>.amazonaws.com`.
    pub event_source: Option<String>,
    /// Operation name.
    pub event_name: Option<String>,
    /// Region.
    pub aws_region: Option<String>,
    /// Wire protocol.
    pub protocol: Protocol,
    /// Masked access key id.
    pub access_key_id: Option<String>,
    /// FIPS verdict.
    pub fips: FipsDetails,
    /// All findings, redacted.
    pub findings: Vec<Finding>,
    /// The answer to send instead of forwarding, when blocked.
    pub block: Option<ErrorResponse>,
    /// Why the body could not be decoded (headers, path and query were still inspected).
    pub inspection_error: Option<String>,
    /// The whole body was decoded and scanned.
    pub body_inspected: bool,
    /// Fields no rule judged because of their purpose.
    pub skipped: Vec<SkippedField>,
    /// The id a customer endpoint's host names, for calls to one.
    pub customer_endpoint: Option<String>,
}

impl Evaluation {
    /// The event for this call, without TLS details or response status (the proxy adds those).
    pub fn into_event(
        self,
        host: &str,
        source: &str,
        method: &str,
        headers: &HeaderMap,
        now: time::OffsetDateTime,
    ) -> Event {
        let mut event = Event::new(EventType::ApiCall, host, source, now);
        event.event_source = self.event_source;
        event.event_name = self.event_name;
        event.aws_region = self.aws_region;
        event.protocol = self.protocol;
        event.user_agent = headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        event.user_identity = UserIdentity {
            access_key_id: self.access_key_id,
        };
        event.fips = self.fips;
        event.findings = self.findings;
        event.request_method = Some(method.to_owned());
        event.inspection_error = self.inspection_error;
        event.body_inspected = Some(self.body_inspected);
        event.customer_endpoint = self.customer_endpoint.is_some();
        event.customer_endpoint_id = self.customer_endpoint;
        event.skipped_fields = self.skipped;
        if let Some(block) = &self.block {
            event.decision = Decision::Blocked;
            event.response_status = Some(block.status.as_u16());
        }
        event
    }
}

/// The fields of one call no rule judged by purpose, bounded and without repeats.
#[derive(Debug, Default)]
struct Skipped {
    list: Vec<SkippedField>,
}

impl Skipped {
    /// Notes a decoded field; its location is rendered only while there is room for it (a
    /// DynamoDB batch holds thousands of payload fields).
    fn note_field(&mut self, field: &FieldRef<'_>) {
        if self.list.len() < MAX_SKIPPED {
            self.note(&field.location.render(), field.kind);
        }
    }

    fn note(&mut self, location: &str, kind: FieldKind) {
        let purpose = kind.as_str();
        let seen = self
            .list
            .iter()
            .any(|s| s.location == location && s.purpose == purpose);
        if !seen && self.list.len() < MAX_SKIPPED {
            self.list.push(SkippedField {
                location: location.to_owned(),
                purpose: purpose.to_owned(),
            });
        }
    }
}

/// The `uninspectable-body` finding for a call whose body was not inspected whole (`why`).
///
/// An operation whose model has payload members (DynamoDB items, message bodies) legitimately
/// sends bodies past the inspection limit: when such a body could not be skimmed either
/// ([`Engine::skimmer`]: a gzip-encoded or non-JSON one), a body too large to read is recorded at
/// low severity (below the default block severity) rather than blocking every large call; a body
/// that was read (or skimmed) and did not decode still blocks.
fn uninspectable(identity: &Identity, why: String, too_large: bool) -> Raised {
    let hints = member_hints(identity);
    let mut finding = UNINSPECTABLE_BODY.finding("body", "body", why);
    if too_large && !hints.payloads.is_empty() {
        finding.severity = crate::inspect::Severity::Low;
        finding.excerpt = format!(
            "{}; the operation carries payload members ({})",
            finding.excerpt,
            hints.payloads.join(", ")
        );
    }
    Raised::from(finding)
}

/// A query string without its SigV4 presign parameters (`X-Amz-Signature`, `X-Amz-Credential`,
/// `X-Amz-Security-Token`…).
fn without_presign(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !name
                .get(..6)
                .is_some_and(|p| p.eq_ignore_ascii_case("x-amz-"))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether a request carries a body (a length above zero, or chunked).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(http::header::TRANSFER_ENCODING)
        || headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// The configured pipeline, shared by all connections.
#[derive(Debug)]
pub struct Engine {
    policy: Policy,
    fips: FipsMode,
    fips_missing: FipsMissing,
    decode_limits: DecodeLimits,
    scanner: Arc<Scanner>,
    inspect: bool,
    scan_payloads: bool,
}

impl Engine {
    /// Builds the pipeline from a validated configuration.
    pub fn new(config: &Config) -> Self {
        Engine {
            policy: Policy {
                mode: config.mode,
                block_severity: config.block_severity,
                rules: config.scanner.settings().clone(),
            },
            fips: config.fips,
            fips_missing: config.fips_missing,
            decode_limits: DecodeLimits::default(),
            scanner: config.scanner.clone(),
            inspect: config.inspect,
            scan_payloads: config.scan_payloads,
        }
    }

    /// The decision settings, for findings raised outside [`Engine::evaluate`] (transport).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// What `host` alone decides, for every call sent to it.
    pub fn profile(&self, host: &str) -> HostProfile {
        let verdict = fips_verdict(host);
        HostProfile {
            facts: HostFacts::of(host),
            fips: policy::fips_outcome(host, verdict.as_ref(), self.fips, self.fips_missing),
            regionless: verdict.is_some_and(|v| v.region.is_none()),
            transport: Vec::new(),
        }
    }

    /// Identifies the call from its head alone: says whether the body is data-plane (stream it,
    /// never buffer it). `profile` is [`Engine::profile`] of `view.host`.
    pub fn head(&self, view: &RequestView<'_>, profile: &HostProfile) -> Identity {
        identify_at(&view.head(), &profile.facts, None)
    }

    /// Whether the body of the call `head` identifies is read before forwarding: to inspect it,
    /// or, with inspection off, only when a form body must name the operation.
    pub fn reads_body(&self, head: &Identity, headers: &HeaderMap) -> bool {
        let payload_opted_in = self.scan_payloads && head.customer_endpoint.is_some();
        (!head.data_plane || payload_opted_in)
            && (self.inspect || (head.operation.is_none() && body_may_name_operation(headers)))
    }

    /// A skimmer for the body of the call `head` identifies, when that body is too large to hold
    /// and can still be inspected whole as it streams: a JSON body (`json`, `rest-json`) sent
    /// without a content encoding, of an operation whose model has payload members, which are
    /// dropped as they pass (unless `scan-payloads` asks to judge them). `limit` bounds what is
    /// kept. `None`: the body is judged as read or unread as before.
    pub fn skimmer(
        &self,
        head: &Identity,
        headers: &HeaderMap,
        limit: usize,
    ) -> Option<decode::Skimmer> {
        self.skims(head, headers)
            .then(|| decode::Skimmer::new(member_hints(head), limit))
    }

    /// Whether [`Engine::skimmer`] gives one for this call.
    fn skims(&self, identity: &Identity, headers: &HeaderMap) -> bool {
        let identity_encoded = headers
            .get(http::header::CONTENT_ENCODING)
            .is_none_or(|v| v.as_bytes().eq_ignore_ascii_case(b"identity"));
        self.inspect
            && !self.scan_payloads
            && identity_encoded
            && identity.operation.is_some()
            && identity.customer_endpoint.is_none()
            && !identity.data_plane
            && matches!(identity.protocol, Protocol::Json | Protocol::RestJson)
            && !member_hints(identity).payloads.is_empty()
    }

    /// Evaluates a call.
    pub fn evaluate(
        &self,
        view: &RequestView<'_>,
        profile: &HostProfile,
        head: Identity,
        read: Body<'_>,
    ) -> Evaluation {
        let body = read.bytes();
        let identity = self.identity(view, profile, head, body);
        let ctx = ScanContext {
            service: identity.service.as_deref(),
            operation: identity.operation.as_deref(),
        };
        let mut skipped = Skipped::default();
        let (mut findings, inspection_error) = if self.inspect {
            self.findings(view, &identity, body, &ctx, &mut skipped)
        } else {
            (Vec::new(), None)
        };
        let own_url_judged = identity.customer_endpoint.is_some() || identity.operation.is_none();
        if let Some(url) = view.query.filter(|_| self.inspect && own_url_judged) {
            // The request's own URL is a credential in a URL given to a server when its query
            // names a secret; its SigV4 presign parameters are its signing material, not that.
            let url = format!(
                "https://{}{}?{}",
                view.host,
                view.path,
                without_presign(url)
            );
            let field = FieldRef {
                location: Location::from("request:url"),
                kind: FieldKind::Query,
                value: &url,
                tag_key: None,
            };
            self.scanner.scan_field(&ctx, field, &mut findings);
        }
        if identity.customer_endpoint.is_some() && body.is_none() && has_body(view.headers) {
            skipped.note("body", FieldKind::Payload);
        }
        let body_inspected = self.inspect && body.is_some() && inspection_error.is_none();
        let fips = match identity.region.as_deref().filter(|_| profile.regionless) {
            Some(region) => policy::fips_outcome(
                view.host,
                fips_verdict_in(view.host, Some(region)).as_ref(),
                self.fips,
                self.fips_missing,
            ),
            None => profile.fips.clone(),
        };
        // A body that should have been inspected and was not: enforce fails closed on it.
        let unread = match read {
            Body::Unread(why) => Some(why.to_owned()),
            Body::Read(_) | Body::Skipped => None,
        };
        let undecoded = inspection_error.clone().filter(|_| body.is_some());
        let uninspectable = self
            .inspect
            .then(|| unread.or(undecoded))
            .flatten()
            .map(|why| {
                // Too large to read is judged leniently only where skimming could not help.
                let relaxed = body.is_none() && !self.skims(&identity, view.headers);
                uninspectable(&identity, why, relaxed)
            });
        let raised = findings
            .into_iter()
            .map(Raised::from)
            .chain(uninspectable)
            .chain(profile.transport.iter().cloned())
            .chain(fips.raised());
        let verdict = policy::decide(&self.policy, raised);
        let block = verdict.block.map(|message| {
            policy::error_response(
                identity.protocol,
                StatusCode::FORBIDDEN,
                policy::VIOLATION_CODE,
                &message,
            )
        });
        Evaluation {
            event_source: identity.event_source(),
            event_name: identity.operation.clone(),
            aws_region: identity.region.clone(),
            protocol: identity.protocol,
            access_key_id: identity.access_key_id.as_ref().map(|k| k.masked()),
            fips: fips.details,
            findings: verdict.findings,
            block,
            inspection_error,
            body_inspected,
            skipped: skipped.list,
            customer_endpoint: identity.customer_endpoint.map(|c| c.id),
        }
    }

    /// The call's identity once its body is known: query and EC2 calls name their operation in
    /// a form body.
    fn identity(
        &self,
        view: &RequestView<'_>,
        profile: &HostProfile,
        head: Identity,
        body: Option<&[u8]>,
    ) -> Identity {
        match body {
            Some(body) if head.operation.is_none() && body_may_name_operation(view.headers) => {
                identify_at(&view.head(), &profile.facts, Some(body))
            }
            _ => head,
        }
    }

    /// Evaluates a captured request (`awsguard inspect`): its body is always inspected unless it
    /// is data-plane.
    pub fn inspect(&self, request: &CapturedRequest, now: time::OffsetDateTime) -> Event {
        let view = RequestView::of(request);
        let profile = self.profile(&request.host);
        let head = self.head(&view, &profile);
        let body = if self.reads_body(&head, &request.headers) {
            Body::Read(request.body.as_slice())
        } else {
            Body::Skipped
        };
        let evaluation = self.evaluate(&view, &profile, head, body);
        evaluation.into_event(
            &request.host,
            "capture",
            &request.method,
            &request.headers,
            now,
        )
    }

    /// The FIPS verdict alone, for connections that are not intercepted (from their SNI).
    pub fn fips_details(&self, host: &str) -> FipsDetails {
        policy::fips_outcome(
            host,
            fips_verdict(host).as_ref(),
            self.fips,
            self.fips_missing,
        )
        .details
    }

    /// The findings in every field of the request, scanned as they are decoded (no field is
    /// copied); a body that does not decode still leaves the head's fields.
    fn findings(
        &self,
        view: &RequestView<'_>,
        identity: &Identity,
        body: Option<&[u8]>,
        ctx: &ScanContext<'_>,
        skipped: &mut Skipped,
    ) -> (Vec<Finding>, Option<String>) {
        let customer = identity.customer_endpoint.is_some();
        let hints = member_hints(identity);
        let mut input = DecodeInput {
            protocol: identity.protocol,
            method: view.method,
            path: view.path,
            query: view.query,
            headers: view.headers,
            body: body.filter(|_| !identity.data_plane),
            hints,
        };
        match self.scan_fields(&input, ctx, customer, skipped) {
            Ok(findings) => (findings, None),
            Err(error) => {
                // What the body's fields raised before the error goes with the body: the head is
                // scanned again on its own.
                input.body = None;
                *skipped = Skipped::default();
                let findings = self
                    .scan_fields(&input, ctx, customer, skipped)
                    .unwrap_or_default();
                (
                    findings,
                    Some(format!("request body not inspected: {error}")),
                )
            }
        }
    }

    /// The kind a decoded field is judged as: a customer endpoint's body is payload, and payload
    /// is judged like free text with `scan-payloads`.
    fn purpose(&self, kind: FieldKind, customer: bool) -> FieldKind {
        let in_body = !matches!(kind, FieldKind::Header | FieldKind::Path | FieldKind::Query);
        let kind = if customer && in_body {
            FieldKind::Payload
        } else {
            kind
        };
        if kind == FieldKind::Payload && self.scan_payloads {
            FieldKind::FreeText
        } else {
            kind
        }
    }

    /// Decodes `input` and scans each field as it comes: the findings, or why decoding failed.
    /// Fields are judged by purpose: a customer endpoint's body is payload; payload is scanned
    /// like free text only with `scan-payloads`; secret and payload fields are noted as skipped.
    fn scan_fields(
        &self,
        input: &DecodeInput<'_>,
        ctx: &ScanContext<'_>,
        customer: bool,
        skipped: &mut Skipped,
    ) -> Result<Vec<Finding>, decode::DecodeError> {
        let mut findings = Vec::new();
        let mut scan = |mut field: FieldRef<'_>| {
            field.kind = self.purpose(field.kind, customer);
            if field.kind.is_exempt() {
                skipped.note_field(&field);
                return;
            }
            self.scanner.scan_field(ctx, field, &mut findings);
        };
        decode::visit(input, &self.decode_limits, &mut scan)?;
        Ok(findings)
    }
}
