//! Request identification: which AWS service, operation, region and wire protocol a request is,
//! from its head (and, for the query protocols, its form body).
//!
//! Called by the proxy for every intercepted request, before and after the body is buffered, and
//! by `awsguard inspect`. Evidence, strongest first: `X-Amz-Target` (json), the rpcv2-cbor path,
//! `Action=` (query/ec2), the REST routes of the candidate services; candidates come from the
//! SigV4 scope (signing name) and the hostname (endpoint prefix).

use http::HeaderMap;

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
}

impl Identity {
    /// `eventSource` as in CloudTrail: `<signing name>.amazonaws.com`.
    pub fn event_source(&self) -> Option<String> {
        self.service.as_ref().map(|s| format!("{s}.amazonaws.com"))
    }
}

/// Identify a request. `body` is `Some` once buffered (query/ec2 carry `Action=` in the body);
/// with `None` the operation of a query call is unknown unless the URL carries it.
pub fn identify(head: &RequestHead<'_>, body: Option<&[u8]>) -> Identity {
    let signature = sigv4::from_request(head.headers, head.query);
    let host = HostInfo::parse(head.host);
    let signing_name = signature.as_ref().map(|s| s.service.as_str());
    let candidates = candidates(signing_name, &host);
    let found = by_target(head, &candidates)
        .or_else(|| by_cbor_path(head, &candidates))
        .or_else(|| by_action(head, body, &candidates))
        .or_else(|| by_route(head, &host, &candidates));
    let region = signature
        .as_ref()
        .and_then(|s| s.region.clone().or_else(|| single_region(&s.region_set)))
        .or(host.region.clone());
    let service = signature
        .as_ref()
        .map(|s| s.service.clone())
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
        access_key_id: signature.as_ref().map(|s| s.access_key_id.clone()),
        data_plane: streaming_op || streaming_headers(head.headers),
        model: found.map(|f| f.service.name.clone()).or_else(|| {
            (candidates.len() == 1)
                .then(|| candidates.first().map(|s| s.name.clone()))
                .flatten()
        }),
        presigned: signature.is_some_and(|s| s.presigned),
    }
}

/// Member hints of the identified operation; empty when the service or operation is unknown.
pub fn member_hints(identity: &Identity) -> MemberHints {
    identity
        .model
        .as_deref()
        .and_then(|m| models().service(m))
        .zip(identity.operation.as_deref())
        .and_then(|(service, op)| service.operation(op))
        .map(|op: &Operation| op.hints.clone())
        .unwrap_or_default()
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
    let from_path = match head.path.split('/').collect::<Vec<_>>().as_slice() {
        [.., "service", _, "operation", op] => Some(*op),
        _ => None,
    };
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

/// Candidate services: those with the signing name, narrowed by the hostname when that agrees;
/// without a signature, those with the hostname's endpoint prefix.
fn candidates(signing_name: Option<&str>, host: &HostInfo) -> Vec<&'static ServiceModel> {
    let by_host = host.services();
    let Some(signing_name) = signing_name else {
        return by_host;
    };
    let mut signed = models().by_signing_name(signing_name);
    if let Some((_, names)) = SIGNING_ALIASES
        .iter()
        .find(|(alias, _)| *alias == signing_name)
    {
        signed.extend(names.iter().filter_map(|n| models().service(n)));
    }
    if signed.is_empty() {
        return by_host;
    }
    // Services matching the host first, then the rest with the same signing name.
    signed.sort_by_key(|s| !by_host.iter().any(|h| h.name == s.name));
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
    let segments: Vec<&str> = head.path.split('/').collect();
    let [.., "service", name, "operation", operation] = segments.as_slice() else {
        return None;
    };
    let service = pick(models().by_target_prefix(name), candidates)?;
    Some(Found {
        service,
        operation: operation_name(operation),
        protocol: Protocol::RpcV2Cbor,
    })
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
    host: &HostInfo,
    candidates: &[&'static ServiceModel],
) -> Option<Found> {
    let path = host.rest_path(head.path);
    let base_path_dropped = path
        .strip_prefix('/')
        .and_then(|p| p.find('/').and_then(|i| p.get(i..)));
    std::iter::once(path.as_ref())
        .chain(base_path_dropped)
        .find_map(|path| route_in(head, host, path, candidates))
}

fn route_in(
    head: &RequestHead<'_>,
    host: &HostInfo,
    path: &str,
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
    let named = host.services();
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

/// aws-chunked uploads and unsigned streaming payloads are data plane whatever the operation.
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
    sha || chunked
}

/// Host → endpoint prefix / region / S3 bucket. A small stand-in the lead can swap for the
/// endpoints catalogue (`host.rs`) once merged.
mod host {
    use std::borrow::Cow;

    use crate::aws::models::{models, ServiceModel};

    const SUFFIXES: &[&str] = &[
        ".amazonaws.com.cn",
        ".amazonaws.com",
        ".api.aws",
        ".api.amazonwebservices.com.cn",
        ".c2s.ic.gov",
        ".sc2s.sgov.gov",
        ".aws.amazon.com",
    ];

    /// What the hostname says.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub(super) struct HostInfo {
        /// Region label, if the host has one.
        pub(super) region: Option<String>,
        /// Candidate endpoint prefixes, longest first (`api.ecr`, `ecr`).
        pub(super) prefixes: Vec<String>,
        /// S3 virtual-hosted-style bucket.
        pub(super) bucket: Option<String>,
    }

    impl HostInfo {
        pub(super) fn parse(host: &str) -> HostInfo {
            // Callers pass the host without a port; tolerate one anyway.
            let host = match host.rsplit_once(':') {
                Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
                _ => host,
            };
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            let Some(stem) = SUFFIXES.iter().find_map(|s| host.strip_suffix(s)) else {
                return HostInfo::default();
            };
            let labels: Vec<&str> = stem.split('.').take(32).collect();
            let mut info = HostInfo::default();
            let region_at = labels.iter().position(|l| is_region(l));
            info.region = region_at
                .and_then(|i| labels.get(i))
                .map(|r| (*r).to_owned());
            let before = labels
                .get(..region_at.unwrap_or(labels.len()))
                .unwrap_or(&[]);
            if let Some(s3_at) = before.iter().position(|l| is_s3_label(l)) {
                if s3_at > 0 {
                    info.bucket = before.get(..s3_at).map(|b| b.join("."));
                }
                if info.region.is_none() {
                    info.region = before
                        .get(s3_at)
                        .and_then(|l| l.strip_prefix("s3-"))
                        .filter(|r| is_region(r))
                        .map(str::to_owned);
                }
                info.prefixes = vec!["s3".to_owned()];
                return info;
            }
            // The region may also come first (`eu-central-1.signin.aws.amazon.com`).
            let kept: Vec<&str> = labels
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != region_at)
                .map(|(_, l)| l)
                .filter(|l| !matches!(**l, "fips" | "dualstack"))
                .map(|l| l.strip_suffix("-fips").unwrap_or(l))
                .collect();
            info.prefixes = (0..kept.len())
                .filter_map(|i| kept.get(i..).map(|rest| rest.join(".")))
                .collect();
            info
        }

        /// Services whose endpoint prefix is the longest matching candidate.
        pub(super) fn services(&self) -> Vec<&'static ServiceModel> {
            self.prefixes
                .iter()
                .map(|p| models().by_endpoint_prefix(p))
                .find(|found| !found.is_empty())
                .unwrap_or_default()
        }

        /// The path as path-style routes expect it: virtual-hosted S3 puts the bucket first.
        pub(super) fn rest_path<'p>(&self, path: &'p str) -> Cow<'p, str> {
            match &self.bucket {
                Some(bucket) => Cow::Owned(format!("/{bucket}{path}")),
                None => Cow::Borrowed(path),
            }
        }
    }

    /// `us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`.
    pub(super) fn is_region(label: &str) -> bool {
        let parts: Vec<&str> = label.split('-').collect();
        let [first, middle @ .., last] = parts.as_slice() else {
            return false;
        };
        first.len() == 2
            && first.bytes().all(|b| b.is_ascii_lowercase())
            && !middle.is_empty()
            && middle
                .iter()
                .all(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_lowercase()))
            && !last.is_empty()
            && last.bytes().all(|b| b.is_ascii_digit())
    }

    /// `s3`, `s3-fips`, `s3-accelerate`, `s3-external-1`, `s3-accesspoint`, `s3-us-west-2`, …
    /// but not `s3-control` (a service of its own).
    fn is_s3_label(label: &str) -> bool {
        // S3 Express One Zone data plane: `bucket--usw2-az1--x-s3.s3express-usw2-az1.<region>`.
        if label.starts_with("s3express-") {
            return label != "s3express-control";
        }
        match label.strip_prefix("s3-") {
            None => label == "s3",
            Some(rest) => {
                matches!(
                    rest,
                    "fips" | "accelerate" | "external-1" | "accesspoint" | "accesspoint-fips"
                ) || is_region(rest)
            }
        }
    }
}

use host::HostInfo;

#[cfg(test)]
mod tests {
    use super::host::{is_region, HostInfo};
    use super::*;

    fn auth(service: &str, region: &str) -> String {
        format!("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=00")
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
        assert_eq!(member_hints(&id), MemberHints::default());
    }

    #[test]
    fn host_parsing() {
        let info = HostInfo::parse("api.ecr.us-east-1.amazonaws.com");
        assert_eq!(info.prefixes, vec!["api.ecr", "ecr"]);
        assert_eq!(info.region.as_deref(), Some("us-east-1"));
        let info = HostInfo::parse("sqs-fips.us-gov-west-1.amazonaws.com");
        assert_eq!(info.prefixes, vec!["sqs"]);
        let info = HostInfo::parse("bucket.s3-us-west-2.amazonaws.com");
        assert_eq!(
            (info.bucket.as_deref(), info.region.as_deref()),
            (Some("bucket"), Some("us-west-2"))
        );
        assert!(
            is_region("us-isob-east-1")
                && is_region("cn-north-1")
                && !is_region("s3")
                && !is_region("us-east")
        );
        assert_eq!(HostInfo::parse("iam.amazonaws.com").region, None);
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
