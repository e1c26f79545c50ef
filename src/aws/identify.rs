//! Request identification: which AWS service, operation, region and wire protocol a request is,
//! from its head (and, for the query protocols, its form body).
//!
//! Called by the proxy for every intercepted request, before and after the body is buffered, and
//! by `awsguard inspect`. Evidence, strongest first: `X-Amz-Target` (json), the rpcv2-cbor path,
//! `Action=` (query/ec2), the REST routes of the candidate services; candidates come from the
//! SigV4 scope (signing name) and the hostname (endpoint prefix, read by [`crate::aws::host`]).

use std::borrow::Cow;
use std::sync::OnceLock;

use http::HeaderMap;

use super::customer::{customer_endpoint, CustomerEndpoint};
use super::host::{parse_host, HostInfo};
use super::models::{models, Operation, ServiceModel};
use super::routes::{Rank, RouteRequest};
use super::sigv4::{self, AccessKeyId};
use super::{MemberHints, Protocol};

/// Signing names no model declares, and the models whose operations they sign.
const SIGNING_ALIASES: &[(&str, &[&str])] = &[
    ("s3express", &["s3", "s3control"]),
    ("s3-object-lambda", &["s3"]),
    ("s3-outposts", &["s3control", "s3outposts"]),
];

/// Endpoint prefixes the host parser names that the models key otherwise: S3 Express zonal
/// hosts (`s3express-usw2-az1`) serve the operations of the `s3` model.
const ENDPOINT_ALIASES: &[(&str, &str)] = &[("s3express", "s3")];

/// Largest form body scanned for `Action=`.
const MAX_FORM_BODY: usize = 1024 * 1024;

/// The parts of a request identification looks at.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    /// HTTP method, uppercase.
    pub method: &'a str,
    /// Host the client asked for, without port.
    pub host: &'a str,
    /// Raw (percent-encoded) path, without the query.
    pub path: &'a str,
    /// Raw query string, without `?`.
    pub query: Option<&'a str>,
    /// Request headers.
    pub headers: &'a HeaderMap,
}

/// What a request is. Every field is best effort: unknown stays `None` / `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// SigV4 signing name (`sqs`, `s3`, `monitoring` for CloudWatch): `eventSource` without
    /// `.amazonaws.com`.
    pub service: Option<String>,
    /// Operation name (`CreateQueue`): `eventName`.
    pub operation: Option<String>,
    /// Region from the SigV4 scope, else the hostname.
    pub region: Option<String>,
    /// Wire protocol of this request (services that speak several are told apart per request).
    pub protocol: Protocol,
    /// Access key id from the signature (shown masked only).
    pub access_key_id: Option<AccessKeyId>,
    /// The body is a data-plane stream (object data, aws-chunked, event stream): do not buffer it.
    pub data_plane: bool,
    /// botocore model name of the service (`s3control`, `sesv2`), to look up member hints.
    pub model: Option<String>,
    /// Signed with a presigned URL rather than an `Authorization` header.
    pub presigned: bool,
    /// The host serves the customer's own application (API Gateway, a function URL…): the call
    /// is not an AWS API call and its body is application payload.
    pub customer_endpoint: Option<CustomerEndpoint>,
}

impl Identity {
    /// `eventSource` as in CloudTrail: `<signing name>.amazonaws.com`, or the service hosting a
    /// customer endpoint.
    pub fn event_source(&self) -> Option<String> {
        if let Some(customer) = &self.customer_endpoint {
            return Some(customer.event_source.to_owned());
        }
        self.service.as_ref().map(|s| format!("{s}.amazonaws.com"))
    }
}

/// What a hostname alone says about the calls sent to it: the parsed host and the services
/// it names. Parsing the host costs most of identification, and every request on an
/// intercepted connection goes to the same host, so the proxy works this out once per
/// connection ([`identify_at`]).
#[derive(Debug, Clone)]
pub struct HostFacts {
    info: Option<HostInfo>,
    services: Vec<&'static ServiceModel>,
    /// The candidates for the first signing name seen: the clients of one connection sign
    /// every call with the same one.
    signed: OnceLock<(String, Vec<&'static ServiceModel>)>,
}

impl HostFacts {
    /// Facts about `host` (no port needed, any case).
    pub fn of(host: &str) -> HostFacts {
        let info = parse_host(host);
        let services = host_services(info.as_ref());
        HostFacts {
            info,
            services,
            signed: OnceLock::new(),
        }
    }

    /// [`candidates`] for these facts, remembered for the first signing name.
    fn candidates(&self, signing_name: Option<&str>) -> Cow<'_, [&'static ServiceModel]> {
        let Some(name) = signing_name else {
            return Cow::Borrowed(&self.services);
        };
        let (first, services) = self
            .signed
            .get_or_init(|| (name.to_owned(), candidates(Some(name), &self.services)));
        if first == name {
            Cow::Borrowed(services)
        } else {
            Cow::Owned(candidates(Some(name), &self.services))
        }
    }
}

/// Identify a request. `body` is `Some` once buffered (query/ec2 carry `Action=` in the body);
/// with `None` the operation of a query call is unknown unless the URL carries it.
pub fn identify(head: &RequestHead<'_>, body: Option<&[u8]>) -> Identity {
    identify_at(head, &HostFacts::of(head.host), body)
}

/// [`identify`] with the facts about `head.host` already worked out.
pub fn identify_at(head: &RequestHead<'_>, facts: &HostFacts, body: Option<&[u8]>) -> Identity {
    if let Some(customer) = facts.info.as_ref().and_then(customer_endpoint) {
        return customer_call(head, facts, customer);
    }
    let signature = sigv4::from_request(head.headers, head.query);
    let host = facts.info.as_ref();
    let named = facts.services.as_slice();
    let signing_name = signature.as_ref().map(|s| s.service.as_str());
    let candidates = facts.candidates(signing_name);
    let found = by_target(head, &candidates)
        .or_else(|| by_cbor_path(head, &candidates))
        .or_else(|| by_action(head, body, &candidates))
        .or_else(|| by_route(head, host, named, &candidates));
    let presigned = signature.as_ref().is_some_and(|s| s.presigned);
    let (signed_region, signed_service, access_key_id) = match signature {
        Some(s) => {
            let region = s.region.or_else(|| single_region(&s.region_set));
            (region, Some(s.service), Some(s.access_key_id))
        }
        None => (None, None, None),
    };
    let region = signed_region.or_else(|| host.and_then(|h| h.region.clone()));
    let service = signed_service
        .or_else(|| found.as_ref().map(|f| f.service.signing_name.clone()))
        .or_else(|| candidates.first().map(|s| s.signing_name.clone()));
    let protocol = found
        .as_ref()
        .map(|f| f.protocol)
        .or_else(|| only_protocol(&candidates))
        .or_else(|| protocol_from_headers(head.headers))
        .unwrap_or(Protocol::Unknown);
    let operation = found
        .as_ref()
        .and_then(|f| f.operation.clone())
        .or_else(|| unmodelled_operation(head));
    let streaming_op = found
        .as_ref()
        .and_then(|f| {
            f.operation
                .as_deref()
                .and_then(|op| f.service.operation(op))
        })
        .is_some_and(|op| op.streaming);
    Identity {
        service,
        operation,
        region,
        protocol,
        access_key_id,
        data_plane: streaming_op || streaming_headers(head.headers),
        model: found.map(|f| f.service.name.clone()).or_else(|| {
            (candidates.len() == 1)
                .then(|| candidates.first().map(|s| s.name.clone()))
                .flatten()
        }),
        presigned,
        customer_endpoint: None,
    }
}

/// A call to a customer endpoint: no operation, no AWS protocol, and a body that is the
/// application's payload (streamed, never buffered for inspection).
fn customer_call(
    head: &RequestHead<'_>,
    facts: &HostFacts,
    customer: CustomerEndpoint,
) -> Identity {
    let signature = sigv4::from_request(head.headers, head.query);
    let presigned = signature.as_ref().is_some_and(|s| s.presigned);
    let (region, access_key_id) = match signature {
        Some(s) => (s.region, Some(s.access_key_id)),
        None => (None, None),
    };
    Identity {
        service: None,
        operation: None,
        region: region.or_else(|| facts.info.as_ref().and_then(|h| h.region.clone())),
        protocol: Protocol::Unknown,
        access_key_id,
        data_plane: true,
        model: None,
        presigned,
        customer_endpoint: Some(customer),
    }
}

/// Whether a body can name the operation (`Action=` in a form body): for any other body,
/// identifying with it gives the same answer as identifying from the head alone.
pub fn body_may_name_operation(headers: &HeaderMap) -> bool {
    content_type(headers).starts_with("application/x-www-form-urlencoded")
}

/// Member hints of the identified operation (borrowed from the loaded models); empty when the
/// service or operation is unknown.
pub fn member_hints(identity: &Identity) -> &'static MemberHints {
    static NONE: MemberHints = MemberHints {
        tags: Vec::new(),
        names: Vec::new(),
        free_text: Vec::new(),
        secrets: Vec::new(),
        urls: Vec::new(),
        contacts: Vec::new(),
        payloads: Vec::new(),
    };
    identity
        .model
        .as_deref()
        .and_then(|m| models().service(m))
        .zip(identity.operation.as_deref())
        .and_then(|(service, op)| service.operation(op))
        .map_or(&NONE, |op: &Operation| &op.hints)
}

/// The operation named by `X-Amz-Target` or an rpcv2-cbor path of a service the models do not
/// know (newer than the embedded botocore): the name is on the wire all the same.
fn unmodelled_operation(head: &RequestHead<'_>) -> Option<String> {
    let from_target = head
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit_once('.'))
        .map(|(_, op)| op);
    let from_path = cbor_path(head.path).map(|(_, op)| op);
    from_target.or(from_path).and_then(operation_name)
}

/// An operation name as it may appear in an event: 1 to 128 ASCII letters and digits. Anything
/// else on the wire (a crafted target, a stray `Action=`) is not an operation.
fn operation_name(raw: &str) -> Option<String> {
    let valid = (1..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then(|| raw.to_owned())
}

/// A service (and maybe operation) found, with the protocol that found it.
struct Found {
    service: &'static ServiceModel,
    operation: Option<String>,
    protocol: Protocol,
}

/// Services whose endpoint prefix is the most specific of the host's candidate prefixes.
fn host_services(host: Option<&HostInfo>) -> Vec<&'static ServiceModel> {
    let Some(host) = host else {
        return Vec::new();
    };
    host.prefix_candidates()
        .iter()
        .map(|prefix| {
            let prefix = ENDPOINT_ALIASES
                .iter()
                .find(|(alias, _)| alias == prefix)
                .map_or(prefix.as_str(), |(_, model)| model);
            models().by_endpoint_prefix(prefix)
        })
        .find(|found| !found.is_empty())
        .unwrap_or_default()
}

/// The path as path-style routes expect it: a virtual-hosted S3 bucket (or access point) goes
/// first.
fn rest_path<'p>(host: Option<&HostInfo>, path: &'p str) -> Cow<'p, str> {
    let front = host.and_then(|h| {
        let access_point = (h.endpoint_prefix == "s3")
            .then_some(h.access_point.as_deref())
            .flatten();
        h.bucket.as_deref().or(access_point)
    });
    match front {
        Some(label) => Cow::Owned(format!("/{label}{path}")),
        None => Cow::Borrowed(path),
    }
}

/// Candidate services: those with the signing name, narrowed by the hostname when that agrees;
/// without a signature, those the hostname names (`by_host`).
fn candidates(
    signing_name: Option<&str>,
    by_host: &[&'static ServiceModel],
) -> Vec<&'static ServiceModel> {
    let Some(signing_name) = signing_name else {
        return by_host.to_vec();
    };
    let mut signed = models().by_signing_name(signing_name);
    if let Some((_, names)) = SIGNING_ALIASES
        .iter()
        .find(|(alias, _)| *alias == signing_name)
    {
        signed.extend(names.iter().filter_map(|n| models().service(n)));
    }
    if signed.is_empty() {
        return by_host.to_vec();
    }
    // Services matching the host first, then the rest with the same signing name; among them
    // the model named like the signing name (`rds` before `docdb` and `neptune`, which share
    // its signing name and operation names but not its members).
    signed.sort_by_key(|s| {
        (
            !by_host.iter().any(|h| h.name == s.name),
            s.name != signing_name,
        )
    });
    signed
}

/// json protocol: `X-Amz-Target: Prefix.Operation`.
fn by_target(head: &RequestHead<'_>, candidates: &[&'static ServiceModel]) -> Option<Found> {
    let target = head.headers.get("x-amz-target")?.to_str().ok()?;
    let (prefix, operation) = target.rsplit_once('.')?;
    let service = pick(models().by_target_prefix(prefix), candidates)?;
    let protocol = if content_type(head.headers).contains("cbor") {
        Protocol::RpcV2Cbor
    } else {
        Protocol::Json
    };
    Some(Found {
        service,
        operation: operation_name(operation),
        protocol,
    })
}

/// rpcv2-cbor: `POST /service/{Service}/operation/{Operation}` (may follow a path prefix).
fn by_cbor_path(head: &RequestHead<'_>, candidates: &[&'static ServiceModel]) -> Option<Found> {
    let (name, operation) = cbor_path(head.path)?;
    let service = pick(models().by_target_prefix(name), candidates)?;
    Some(Found {
        service,
        operation: operation_name(operation),
        protocol: Protocol::RpcV2Cbor,
    })
}

/// The service and operation of an rpcv2-cbor path: its last four segments are
/// `service/{Service}/operation/{Operation}`.
fn cbor_path(path: &str) -> Option<(&str, &str)> {
    let mut last = path.rsplit('/');
    let operation = last.next()?;
    let literal = last.next()?;
    let name = last.next()?;
    let service = last.next()?;
    (literal == "operation" && service == "service").then_some((name, operation))
}

/// query / ec2: `Action=` in the URL or in a form body.
fn by_action(
    head: &RequestHead<'_>,
    body: Option<&[u8]>,
    candidates: &[&'static ServiceModel],
) -> Option<Found> {
    let service = candidates
        .iter()
        .copied()
        .find(|s| s.speaks(Protocol::Query) || s.speaks(Protocol::Ec2))?;
    let protocol = if service.speaks(Protocol::Ec2) {
        Protocol::Ec2
    } else {
        Protocol::Query
    };
    let from_query = head.query.and_then(|q| action(q.as_bytes()));
    let is_form = content_type(head.headers).starts_with("application/x-www-form-urlencoded");
    let from_body = body
        .filter(|b| is_form && b.len() <= MAX_FORM_BODY)
        .and_then(action);
    // Head only: a form POST to a query service is a query call whose Action is in the body.
    // With the body read and no Action in it, it is something else (a REST form post).
    let awaiting_body = is_form && head.method == "POST" && body.is_none();
    if from_query.is_none() && from_body.is_none() && !awaiting_body {
        return None;
    }
    Some(Found {
        service,
        operation: from_query.or(from_body),
        protocol,
    })
}

/// rest-json / rest-xml: the best route among the candidates that speak a REST protocol. Some
/// endpoints put a base path before the model's routes (`/v2/tiles/…`): when nothing matches,
/// the first segment is dropped and the routes tried once more.
fn by_route(
    head: &RequestHead<'_>,
    host: Option<&HostInfo>,
    named: &[&'static ServiceModel],
    candidates: &[&'static ServiceModel],
) -> Option<Found> {
    let path = rest_path(host, head.path);
    let base_path_dropped = path
        .strip_prefix('/')
        .and_then(|p| p.find('/').and_then(|i| p.get(i..)));
    std::iter::once(path.as_ref())
        .chain(base_path_dropped)
        .find_map(|path| route_in(head, path, named, candidates))
}

/// The best route for `path`; `named` are the services the hostname names.
fn route_in(
    head: &RequestHead<'_>,
    path: &str,
    named: &[&'static ServiceModel],
    candidates: &[&'static ServiceModel],
) -> Option<Found> {
    let request = RouteRequest {
        method: head.method,
        path,
        query: head.query,
        headers: head.headers,
    };
    // Services the hostname names first; among them (else among the rest) the most specific
    // route wins, the earlier candidate on a tie.
    let (by_host, others): (Vec<_>, Vec<_>) = candidates
        .iter()
        .copied()
        .filter(|s| s.speaks(Protocol::RestJson) || s.speaks(Protocol::RestXml))
        .partition(|s| named.iter().any(|n| n.name == s.name));
    let (service, op) = best_route(&by_host, &request).or_else(|| best_route(&others, &request))?;
    let protocol = if service.speaks(Protocol::RestXml) {
        Protocol::RestXml
    } else {
        Protocol::RestJson
    };
    Some(Found {
        service,
        operation: Some(op.name.clone()),
        protocol,
    })
}

fn best_route(
    services: &[&'static ServiceModel],
    request: &RouteRequest<'_>,
) -> Option<(&'static ServiceModel, &'static Operation)> {
    let mut best: Option<(&'static ServiceModel, &'static Operation, Rank)> = None;
    for &service in services {
        if let Some((op, rank)) = service.route(request) {
            if best.is_none_or(|b| rank > b.2) {
                best = Some((service, op, rank));
            }
        }
    }
    best.map(|(service, op, _)| (service, op))
}

/// Prefer a service that is also a candidate (signing name / host); else the only match.
fn pick(
    matches: Vec<&'static ServiceModel>,
    candidates: &[&'static ServiceModel],
) -> Option<&'static ServiceModel> {
    matches
        .iter()
        .copied()
        .find(|m| candidates.iter().any(|c| c.name == m.name))
        .or_else(|| matches.first().copied())
}

/// The protocol the headers declare, whatever the service.
fn protocol_from_headers(headers: &HeaderMap) -> Option<Protocol> {
    let smithy = headers
        .get("smithy-protocol")
        .is_some_and(|v| v.as_bytes() == b"rpc-v2-cbor");
    let content_type = content_type(headers);
    if smithy || content_type == "application/cbor" {
        Some(Protocol::RpcV2Cbor)
    } else if content_type.starts_with("application/x-amz-json-") {
        Some(Protocol::Json)
    } else {
        None
    }
}

fn only_protocol(candidates: &[&'static ServiceModel]) -> Option<Protocol> {
    match candidates {
        [service] => service.protocols.first().copied(),
        _ => None,
    }
}

fn single_region(set: &[String]) -> Option<String> {
    match set {
        [region] if region != "*" => Some(region.clone()),
        _ => None,
    }
}

fn action(form: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(form)
        .find(|(k, _)| k == "Action")
        .and_then(|(_, v)| operation_name(&v))
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// aws-chunked uploads, streaming payloads and event streams are data plane whatever the operation.
fn streaming_headers(headers: &HeaderMap) -> bool {
    let sha = headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("STREAMING-"));
    let chunked = headers
        .get(http::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|e| e.trim().eq_ignore_ascii_case("aws-chunked"))
        });
    // An event stream is full duplex: its messages must flow as they come, whether or not the
    // operation is in the models (Transcribe streaming is not).
    let event_stream = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/vnd.amazon.eventstream")
            })
        });
    sha || chunked || event_stream
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_candidates_match_fresh_ones_for_every_signing_name() {
        let facts = HostFacts::of("sqs.us-east-1.amazonaws.com");
        let names = |c: &[&ServiceModel]| c.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        for signing_name in [Some("sqs"), Some("sns"), None, Some("sqs"), Some("nope")] {
            assert_eq!(
                names(&facts.candidates(signing_name)),
                names(&candidates(signing_name, &facts.services)),
                "{signing_name:?}"
            );
        }
        assert_eq!(names(&facts.candidates(Some("sqs"))), ["sqs"]);
    }

    #[test]
    fn cbor_paths_name_service_and_operation_in_their_last_four_segments() {
        assert_eq!(
            cbor_path("/service/GraniteServiceVersion20100801/operation/PutMetricData"),
            Some(("GraniteServiceVersion20100801", "PutMetricData"))
        );
        assert_eq!(
            cbor_path("/prefix/service/S/operation/Op"),
            Some(("S", "Op"))
        );
        assert_eq!(cbor_path("/service/S/operation"), None);
        assert_eq!(cbor_path("/services/S/operation/Op"), None);
        assert_eq!(cbor_path(""), None);
    }

    fn auth(service: &str, region: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=00")
    }

    #[test]
    fn event_streams_aws_chunked_and_streaming_payloads_are_data_plane_by_their_headers() {
        let event_stream = "application/vnd.amazon.eventstream";
        assert!(streaming_headers(&headers(&[(
            "content-type",
            event_stream
        )])));
        assert!(streaming_headers(&headers(&[(
            "content-type",
            "Application/Vnd.Amazon.EventStream; charset=binary"
        )])));
        assert!(streaming_headers(&headers(&[(
            "x-amz-content-sha256",
            "STREAMING-AWS4-HMAC-SHA256-EVENTS"
        )])));
        assert!(streaming_headers(&headers(&[(
            "content-encoding",
            "gzip, aws-chunked"
        )])));
        assert!(!streaming_headers(&headers(&[(
            "content-type",
            "application/x-amz-json-1.1"
        )])));
        assert!(!streaming_headers(&headers(&[(
            "content-type",
            "application/vnd.amazon.eventstreams"
        )])));
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    fn run(
        method: &str,
        host: &str,
        path: &str,
        query: Option<&str>,
        h: &HeaderMap,
        body: Option<&[u8]>,
    ) -> Identity {
        identify(
            &RequestHead {
                method,
                host,
                path,
                query,
                headers: h,
            },
            body,
        )
    }

    #[test]
    fn sqs_json_by_target() {
        let h = headers(&[
            ("authorization", &auth("sqs", "eu-west-1")),
            ("x-amz-target", "AmazonSQS.CreateQueue"),
            ("content-type", "application/x-amz-json-1.0"),
        ]);
        let id = run("POST", "sqs.eu-west-1.amazonaws.com", "/", None, &h, None);
        assert_eq!(id.service.as_deref(), Some("sqs"));
        assert_eq!(id.operation.as_deref(), Some("CreateQueue"));
        assert_eq!(id.region.as_deref(), Some("eu-west-1"));
        assert_eq!(id.protocol, Protocol::Json);
        assert_eq!(id.access_key_id.unwrap().masked(), "AKIA…MPLE");
        assert_eq!(
            member_hints(&run(
                "POST",
                "sqs.eu-west-1.amazonaws.com",
                "/",
                None,
                &h,
                None
            ))
            .names,
            vec!["QueueName"]
        );
    }

    #[test]
    fn sqs_query_needs_the_body_for_the_operation() {
        let h = headers(&[
            ("authorization", &auth("sqs", "us-east-1")),
            (
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
        ]);
        let head_only = run("POST", "sqs.us-east-1.amazonaws.com", "/", None, &h, None);
        assert_eq!(head_only.protocol, Protocol::Query);
        assert_eq!(head_only.operation, None);
        let full = run(
            "POST",
            "sqs.us-east-1.amazonaws.com",
            "/",
            None,
            &h,
            Some(b"Action=CreateQueue&QueueName=q&Version=2012-11-05"),
        );
        assert_eq!(full.operation.as_deref(), Some("CreateQueue"));
        assert_eq!(full.protocol, Protocol::Query);
    }

    #[test]
    fn cloudwatch_cbor_by_path() {
        let h = headers(&[
            ("authorization", &auth("monitoring", "us-west-2")),
            ("smithy-protocol", "rpc-v2-cbor"),
        ]);
        let id = run(
            "POST",
            "monitoring.us-west-2.amazonaws.com",
            "/service/GraniteServiceVersion20100801/operation/PutMetricData",
            None,
            &h,
            None,
        );
        assert_eq!(id.service.as_deref(), Some("monitoring"));
        assert_eq!(id.operation.as_deref(), Some("PutMetricData"));
        assert_eq!(id.protocol, Protocol::RpcV2Cbor);
        assert_eq!(id.model.as_deref(), Some("cloudwatch"));
    }

    #[test]
    fn ec2_action_in_body() {
        let h = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let id = run(
            "POST",
            "ec2.us-east-1.amazonaws.com",
            "/",
            None,
            &h,
            Some(b"Action=RunInstances&Version=2016-11-15"),
        );
        assert_eq!(id.service.as_deref(), Some("ec2"));
        assert_eq!(id.operation.as_deref(), Some("RunInstances"));
        assert_eq!(id.region.as_deref(), Some("us-east-1"));
        assert_eq!(id.protocol, Protocol::Ec2);
    }

    #[test]
    fn s3_virtual_hosted_routes_like_path_style() {
        let h = headers(&[
            ("authorization", &auth("s3", "us-east-1")),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ]);
        let virt = run(
            "PUT",
            "my.bucket.s3.us-east-1.amazonaws.com",
            "/a/b.txt",
            None,
            &h,
            None,
        );
        let path = run(
            "PUT",
            "s3.us-east-1.amazonaws.com",
            "/my.bucket/a/b.txt",
            None,
            &h,
            None,
        );
        assert_eq!(virt.operation.as_deref(), Some("PutObject"));
        assert_eq!(virt, path);
        assert!(virt.data_plane);
        assert_eq!(virt.protocol, Protocol::RestXml);
        let tagging = run("GET", "b.s3.amazonaws.com", "/", Some("tagging"), &h, None);
        assert_eq!(tagging.operation.as_deref(), Some("GetBucketTagging"));
        let list = run(
            "GET",
            "b.s3.us-east-1.amazonaws.com",
            "/",
            Some("list-type=2&prefix=x"),
            &h,
            None,
        );
        assert_eq!(list.operation.as_deref(), Some("ListObjectsV2"));
    }

    #[test]
    fn s3_express_data_plane_routes_like_s3() {
        let h = headers(&[("authorization", &auth("s3express", "us-west-2"))]);
        let host = "b--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com";
        let id = run("GET", host, "/photos/cat.jpg", None, &h, None);
        assert_eq!(id.service.as_deref(), Some("s3express"));
        assert_eq!(id.operation.as_deref(), Some("GetObject"));
        assert_eq!(id.model.as_deref(), Some("s3"));
    }

    #[test]
    fn s3_control_shares_the_signing_name() {
        let h = headers(&[
            ("authorization", &auth("s3", "us-east-1")),
            ("x-amz-account-id", "123456789012"),
        ]);
        let id = run(
            "GET",
            "123456789012.s3-control.us-east-1.amazonaws.com",
            "/v20180820/jobs",
            None,
            &h,
            None,
        );
        assert_eq!(id.service.as_deref(), Some("s3"));
        assert_eq!(id.operation.as_deref(), Some("ListJobs"));
        assert_eq!(id.model.as_deref(), Some("s3control"));
    }

    #[test]
    fn unsigned_request_uses_the_host() {
        let h = HeaderMap::new();
        let id = run(
            "GET",
            "lambda.eu-central-1.amazonaws.com",
            "/2015-03-31/functions/",
            None,
            &h,
            None,
        );
        assert_eq!(id.service.as_deref(), Some("lambda"));
        assert_eq!(id.operation.as_deref(), Some("ListFunctions"));
        assert_eq!(id.region.as_deref(), Some("eu-central-1"));
        assert_eq!(id.protocol, Protocol::RestJson);
        assert_eq!(id.access_key_id, None);
    }

    #[test]
    fn unmodelled_services_still_name_the_operation() {
        let h = headers(&[
            ("authorization", &auth("newsvc", "us-east-1")),
            ("x-amz-target", "NewService_20300101.DoThing"),
            ("content-type", "application/x-amz-json-1.1"),
        ]);
        let id = run(
            "POST",
            "newsvc.us-east-1.amazonaws.com:443",
            "/",
            None,
            &h,
            None,
        );
        assert_eq!(id.service.as_deref(), Some("newsvc"));
        assert_eq!(id.operation.as_deref(), Some("DoThing"));
        assert_eq!(id.protocol, Protocol::Json);
        assert_eq!(id.model, None);
    }

    #[test]
    fn crafted_operation_names_are_dropped() {
        let h = headers(&[
            ("x-amz-target", "AmazonSQS.Create<script>"),
            ("content-type", "application/x-amz-json-1.0"),
        ]);
        let id = run("POST", "sqs.us-east-1.amazonaws.com", "/", None, &h, None);
        assert_eq!((id.service.as_deref(), id.operation), (Some("sqs"), None));
        let form = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        let id = run(
            "POST",
            "sns.us-east-1.amazonaws.com",
            "/",
            None,
            &form,
            Some(b"Action=Publish%0A"),
        );
        assert_eq!((id.service.as_deref(), id.operation), (Some("sns"), None));
    }

    #[test]
    fn unknown_host_and_no_signature_is_unknown() {
        let id = run("GET", "example.com", "/", None, &HeaderMap::new(), None);
        assert_eq!(id.service, None);
        assert_eq!(id.operation, None);
        assert_eq!(id.protocol, Protocol::Unknown);
        assert_eq!(member_hints(&id), &MemberHints::default());
    }

    /// Unsigned requests: the service comes from the host alone, through `crate::aws::host`.
    fn unsigned(
        method: &str,
        host: &str,
        path: &str,
    ) -> (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) {
        let id = run(method, host, path, None, &HeaderMap::new(), None);
        (id.service, id.operation, id.region, id.model)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn host_spelling_beats_the_endpoints_json_key() {
        // endpoints.json keys these hosts `bedrock`, whose model has no such route.
        assert_eq!(
            unsigned(
                "POST",
                "bedrock-runtime.us-west-2.amazonaws.com",
                "/model/m/invoke"
            ),
            (
                some("bedrock"),
                some("InvokeModel"),
                some("us-west-2"),
                some("bedrock-runtime")
            )
        );
        // `ecr-fips` is `api.ecr` in the data; the model is keyed `api.ecr` too.
        let id = run(
            "POST",
            "ecr-fips.us-east-1.amazonaws.com",
            "/",
            None,
            &headers(&[
                (
                    "x-amz-target",
                    "AmazonEC2ContainerRegistry_V20150921.ListImages",
                ),
                ("content-type", "application/x-amz-json-1.1"),
            ]),
            None,
        );
        assert_eq!(
            (
                id.service.as_deref(),
                id.operation.as_deref(),
                id.model.as_deref()
            ),
            (Some("ecr"), Some("ListImages"), Some("ecr"))
        );
    }

    #[test]
    fn region_first_and_sign_in_hosts_name_their_service() {
        let graph = headers(&[("graphidentifier", "g-1")]);
        let host = "g-1.eu-central-1.neptune-graph.amazonaws.com";
        let id = run("GET", host, "/summary", None, &graph, None);
        assert_eq!(
            (id.service, id.operation, id.region),
            (
                some("neptune-graph"),
                some("GetGraphSummary"),
                some("eu-central-1")
            )
        );
        assert_eq!(
            unsigned("POST", "eu-central-1.signin.aws.amazon.com", "/v1/token"),
            (
                some("signin"),
                some("CreateOAuth2Token"),
                some("eu-central-1"),
                some("signin")
            )
        );
    }

    #[test]
    fn unsigned_global_endpoint_takes_its_signing_region() {
        assert_eq!(
            unsigned("GET", "route53.amazonaws.com", "/2013-04-01/hostedzone"),
            (
                some("route53"),
                some("ListHostedZones"),
                some("us-east-1"),
                some("route53")
            )
        );
    }

    #[test]
    fn s3_hosts_without_a_signature() {
        let zonal = "b--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com";
        assert_eq!(
            unsigned("GET", zonal, "/photos/cat.jpg"),
            (some("s3"), some("GetObject"), some("us-west-2"), some("s3"))
        );
        let access_point = "reports-123456789012.s3-accesspoint.us-east-1.amazonaws.com";
        assert_eq!(unsigned("PUT", access_point, "/a.csv").1, some("PutObject"));
        assert_eq!(
            unsigned("GET", "bucket.s3-accelerate.amazonaws.com", "/k").1,
            some("GetObject")
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_requests_never_panic(host in ".{0,80}", path in ".{0,80}", target in "[ -~]{0,60}", body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut h = HeaderMap::new();
            if let Ok(v) = target.parse() { h.insert("x-amz-target", v); }
            h.insert("content-type", http::HeaderValue::from_static("application/x-www-form-urlencoded"));
            let _ = run("POST", &host, &path, Some(&target), &h, Some(&body));
        }
    }
}
