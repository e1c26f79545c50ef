//! One intercepted request: ask the engine, then block or forward, and record the event.
//!
//! The only I/O here is reading the body (bounded) and the upstream round trip; every decision is
//! the engine's.

use std::convert::Infallible;
use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderName};
use http::uri::PathAndQuery;
use http::{HeaderValue, Request, Response, StatusCode, Uri, Version};
use http_body_util::Either;
use hyper::body::Incoming;
use time::OffsetDateTime;

use super::body::{buffer, full, BodyError, Buffered, RequestBody, ResponseBody};
use super::record::CallRecord;
use super::relay::PumpError;
use super::upstream::{describe, Route, UpstreamError};
use super::Shared;
use crate::engine::{Body, Evaluation, HostProfile, RequestView};
use crate::events::{Decision, Event, Outcome, Refusal, TlsDetails};
use crate::inspect::decode::SkimError;
use crate::inspect::{Field, FieldKind, ScanContext, TLS_VERSION};
use crate::policy::{self, ErrorResponse};

/// What is known about the intercepted connection a request arrived on.
#[derive(Debug)]
pub(crate) struct ConnInfo {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The client's IP address as events give it, rendered once for the connection.
    pub(crate) source: String,
    pub(crate) tls_version: Option<String>,
    pub(crate) cipher_suite: Option<String>,
    /// What the engine decides from the host alone, once for the whole connection.
    pub(crate) profile: HostProfile,
    /// Where its calls go upstream: looked up once for the whole connection.
    pub(crate) route: Arc<Route>,
    /// The `exec --attach` run the CONNECT named ([`exec_id`]).
    pub(crate) exec_id: Option<String>,
}

/// Longest `exec --attach` id kept from a proxy URL's user name.
const MAX_EXEC_ID: usize = 40;

/// The `exec-<id>` user name of a `Proxy-Authorization: Basic` header, which `exec --attach`
/// puts in its command's proxy URL so that the running proxy can tell whose calls these are.
/// Anything else (other users, other schemes, odd bytes) is no id: the proxy asks for no
/// credentials and keeps none.
pub(crate) fn exec_id(headers: &HeaderMap) -> Option<String> {
    use base64::Engine as _;
    let value = headers.get(header::PROXY_AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let user = decoded.split(|&b| b == b':').next()?;
    let id = std::str::from_utf8(user).ok()?;
    let rest = id.strip_prefix("exec-")?;
    (id.len() <= MAX_EXEC_ID
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    .then(|| id.to_owned())
}

/// Handles one request from an intercepted connection.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ConnInfo>,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let (mut parts, body) = req.into_parts();
    let switch = super::upgrade::take_switch(&mut parts);
    let view = RequestView {
        method: parts.method.as_str(),
        host: &conn.host,
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
    };
    let head = shared.engine.head(&view, &conn.profile);
    let limits = &shared.config.limits;
    let refused = match &switch {
        Err(refusal) => Some(*refusal),
        Ok(_) => check_head(&conn, &parts, limits.max_header_bytes),
    };
    if let Some(refusal) = refused {
        let outcome = Outcome::Refused(refusal);
        return Ok(unforwarded(&shared, &conn, &parts, head, outcome));
    }
    let read = shared.engine.reads_body(&head, &parts.headers);
    let limit = limits.inspect_body_bytes;
    // Held until the call is answered: the buffered body lives that long.
    let mut _budget = None;
    // `Err(why)`: a body that should have been inspected was not read whole.
    let stream_idle = limits.stream_idle_timeout;
    let (inspected, upstream_body) = if !read {
        (
            Ok(None),
            RequestBody::streaming(body).idle_after(stream_idle),
        )
    } else {
        let wait = limits.budget_wait_timeout;
        let read = match tokio::time::timeout(wait, reserve(&shared, &parts.headers, limit)).await {
            Ok(permit) => {
                _budget = permit;
                buffer(body, limit, limits.body_timeouts()).await
            }
            Err(_) => Err(BodyError::BudgetWait),
        };
        match read {
            Ok(Buffered::Complete { bytes, trailers }) => (
                Ok(Some(bytes.clone())),
                Buffered::Complete { bytes, trailers }.into_body(),
            ),
            Ok(Buffered::Partial { read, rest }) => {
                if let Some(skimmer) = shared.engine.skimmer(&head, &parts.headers, limit) {
                    let relayed = Relayed {
                        read,
                        rest,
                        skimmer,
                    };
                    // Boxed, as the upgrade below: the common call's future stays small.
                    return Ok(Box::pin(skimmed(&shared, &conn, parts, head, relayed)).await);
                }
                (
                    Err("the body is larger than the inspection limit"),
                    Buffered::Partial { read, rest }
                        .into_body()
                        .idle_after(stream_idle),
                )
            }
            Err(error) => {
                tracing::info!(host = %conn.host, %error, "request body not read");
                let outcome = body_outcome(&error);
                return Ok(unforwarded(&shared, &conn, &parts, head, outcome));
            }
        }
    };
    let body_read = match &inspected {
        Ok(Some(bytes)) => Body::Read(bytes),
        Ok(None) => Body::Skipped,
        Err(why) => Body::Unread(why),
    };
    let evaluation = shared
        .engine
        .evaluate(&view, &conn.profile, head, body_read);
    let (event, protocol) = match judge(&shared, &conn, &parts, evaluation) {
        Judged::Blocked(response) => return Ok(*response),
        Judged::Allowed(event, protocol) => (event, protocol),
    };
    // From here the call is on its way to AWS: it is recorded however it ends.
    let record = CallRecord::new(event, shared.recorder.clone(), shared.shutdown.clone());
    let upstream_req = upstream_request(&conn, parts, upstream_body);
    if let Ok(Some(switch)) = switch {
        let forward = super::upgrade::forward(&shared, &conn, upstream_req, switch, record);
        return Ok(Box::pin(forward).await);
    }
    let answer = shared.upstream.send(&conn.route, upstream_req).await;
    Ok(answered(&shared, &conn, record, protocol, answer))
}

/// The decision on an evaluated call: its blocking answer (recorded), or its event to complete.
enum Judged {
    Blocked(Box<Response<ResponseBody>>),
    Allowed(Box<Event>, crate::aws::Protocol),
}

fn judge(
    shared: &Shared,
    conn: &ConnInfo,
    parts: &http::request::Parts,
    mut evaluation: Evaluation,
) -> Judged {
    let block = evaluation.block.take();
    let protocol = evaluation.protocol;
    let mut event = api_event(conn, &parts.headers, parts.method.as_str(), evaluation);
    record_user_agent(shared, &mut event);
    let Some(block) = block else {
        return Judged::Allowed(Box::new(event), protocol);
    };
    event.decision = Decision::Blocked;
    event.response_status = Some(block.status.as_u16());
    event.complete(Outcome::Blocked);
    tracing::warn!(host = %conn.host, operation = ?event.event_name, "blocked a call");
    shared.recorder.record(event);
    Judged::Blocked(Box::new(aws_error(block)))
}

/// The upstream's answer to a forwarded call, passed on with the record completed as its body
/// ends; or an AWS-shaped 502 when there was none.
fn answered(
    shared: &Shared,
    conn: &ConnInfo,
    mut record: CallRecord,
    protocol: crate::aws::Protocol,
    answer: Result<super::upstream::Answer, UpstreamError>,
) -> Response<ResponseBody> {
    let (response, tls) = match answer {
        Ok(answer) => answer,
        Err(error) => return upstream_failed(shared, conn, record, protocol, &error),
    };
    let (mut parts, body) = response.into_parts();
    if let Some(event) = record.event_mut() {
        if !shared.config.min_tls.admits_name(&tls.version) {
            // Accepted only because `[rules.tls-version]` is audit.
            let raised = TLS_VERSION.finding("transport", "upstream-leg", tls.version.clone());
            let verdict = policy::decide(shared.engine.policy(), [raised.into()]);
            event.findings.extend(verdict.findings);
        }
        event.tls_details.upstream_tls_version = Some(tls.version.clone());
        event.tls_details.upstream_cipher_suite = Some(tls.cipher_suite.clone());
    }
    record.response(parts.status, &parts.headers);
    strip_hop_by_hop(&mut parts.headers);
    let body = body
        .with_record(record)
        .idle_after(shared.config.limits.stream_idle_timeout);
    Response::from_parts(parts, Either::Left(body))
}

/// A body past the inspection limit that can be skimmed, and what of it was read so far.
struct Relayed {
    read: std::collections::VecDeque<bytes::Bytes>,
    rest: Incoming,
    skimmer: crate::inspect::decode::Skimmer,
}

/// Forwards a call whose body is skimmed as it streams upstream ([`super::relay`]): the end of
/// the body is held until the call is decided on every field but its payload members, and
/// withheld (the upstream request failed, never complete) unless it is allowed.
async fn skimmed(
    shared: &Arc<Shared>,
    conn: &Arc<ConnInfo>,
    parts: http::request::Parts,
    head: crate::aws::identify::Identity,
    relayed: Relayed,
) -> Response<ResponseBody> {
    let Relayed {
        read,
        rest,
        mut skimmer,
    } = relayed;
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (tx, body) = RequestBody::relayed(length, super::relay::DEPTH);
    let upstream_req = upstream_request(conn, copy_head(&parts), body);
    let send = shared.upstream.send(&conn.route, upstream_req);
    tokio::pin!(send);
    let timeouts = shared.config.limits.body_timeouts();
    // `Err(answer)`: the upstream answered (or failed) before the body was read to its end.
    let pumped = {
        let pump = super::relay::pump(read, rest, &mut skimmer, &tx, timeouts);
        tokio::pin!(pump);
        tokio::select! {
            biased;
            pumped = &mut pump => Ok(pumped),
            answer = &mut send => Err(answer),
        }
    };
    let view = RequestView {
        method: parts.method.as_str(),
        host: &conn.host,
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
    };
    let tail = match pumped {
        Ok(Ok(tail)) => tail,
        Ok(Err(PumpError::Body(error))) => {
            drop(tx);
            tracing::info!(host = %conn.host, %error, "relayed request body not read");
            return unforwarded(shared, conn, &parts, head, body_outcome(&error));
        }
        Ok(Err(PumpError::UpstreamGone)) | Err(_) => {
            drop(tx);
            // The upstream stopped taking the body: the call could not complete. It is judged on
            // what it showed, and the upstream's answer (or failure) passed on if allowed.
            let answer = match pumped {
                Err(answer) => answer,
                Ok(_) => send.await,
            };
            let why = "the upstream answered before the request body was complete";
            let evaluation = shared
                .engine
                .evaluate(&view, &conn.profile, head, Body::Unread(why));
            return match judge(shared, conn, &parts, evaluation) {
                Judged::Blocked(response) => *response,
                Judged::Allowed(event, protocol) => {
                    let record =
                        CallRecord::new(event, shared.recorder.clone(), shared.shutdown.clone());
                    answered(shared, conn, record, protocol, answer)
                }
            };
        }
    };
    let skipped = skimmer.skipped();
    let skim = skimmer.finish();
    let body_read = match &skim {
        Ok(kept) => Body::Read(kept),
        Err(SkimError::TooLarge) => {
            Body::Unread("the body's inspectable part is larger than the inspection limit")
        }
        Err(SkimError::TooDeep) => Body::Unread("body nested too deeply"),
        Err(SkimError::InvalidString { .. }) => {
            Body::Unread("invalid json string in a payload member")
        }
    };
    tracing::debug!(host = %conn.host, skipped, "body skimmed");
    let evaluation = shared
        .engine
        .evaluate(&view, &conn.profile, head, body_read);
    drop(skim);
    let (event, protocol) = match judge(shared, conn, &parts, evaluation) {
        Judged::Blocked(response) => {
            // The end of the body is withheld: the upstream request fails, never complete.
            drop(tx);
            return *response;
        }
        Judged::Allowed(event, protocol) => (event, protocol),
    };
    let record = CallRecord::new(event, shared.recorder.clone(), shared.shutdown.clone());
    tail.release(&tx).await;
    drop(tx);
    answered(shared, conn, record, protocol, send.await)
}

/// A copy of a request head (without extensions): the original stays for the event while the
/// copy goes upstream.
fn copy_head(parts: &http::request::Parts) -> http::request::Parts {
    let mut req = Request::new(());
    *req.method_mut() = parts.method.clone();
    *req.uri_mut() = parts.uri.clone();
    *req.version_mut() = parts.version;
    *req.headers_mut() = parts.headers.clone();
    req.into_parts().0
}

/// The call could not be sent upstream: an AWS-shaped 502 (or the TLS policy refusal), recorded.
fn upstream_failed(
    shared: &Shared,
    conn: &ConnInfo,
    mut record: CallRecord,
    protocol: crate::aws::Protocol,
    error: &UpstreamError,
) -> Response<ResponseBody> {
    let message = describe(error);
    let outcome = error.outcome();
    tracing::warn!(host = %conn.host, %message, "upstream request failed");
    let response = match outcome {
        // The client's own stall, not the upstream's: answered as the inspected-body timeout is.
        Outcome::BodyReadTimeout => policy::error_response(
            protocol,
            StatusCode::REQUEST_TIMEOUT,
            outcome.code().unwrap_or(policy::UPSTREAM_CODE),
            outcome.message().unwrap_or_default(),
        ),
        _ => policy::error_response(
            protocol,
            StatusCode::BAD_GATEWAY,
            policy::UPSTREAM_CODE,
            &format!("awsguard could not complete the call upstream: {message}"),
        ),
    };
    if let Some(event) = record.event_mut() {
        event.response_status = Some(response.status.as_u16());
        if error.is_tls_version() {
            event.decision = Decision::Blocked;
            let raised = TLS_VERSION.finding(
                "transport",
                "upstream-leg",
                format!("below {}", shared.config.min_tls.name()),
            );
            let verdict = policy::decide(shared.engine.policy(), [raised.into()]);
            event.findings.extend(verdict.findings);
        }
        if outcome != Outcome::BodyReadTimeout {
            event.connection = Some(crate::events::ConnectionDetails {
                outcome: "upstream-failed".into(),
                message: Some(message),
                ..Default::default()
            });
        }
    }
    record.finish(outcome);
    aws_error(response)
}

/// The call is answered by awsguard and not forwarded (a refused head, or a body it could not
/// read): an AWS-shaped error with the outcome's code, and the event recording why.
///
/// A body that was meant to be inspected is evaluated as if there were none, so the findings the
/// event carries are the head's.
fn unforwarded(
    shared: &Shared,
    conn: &ConnInfo,
    parts: &http::request::Parts,
    head: crate::aws::identify::Identity,
    outcome: Outcome,
) -> Response<ResponseBody> {
    let view = RequestView {
        method: parts.method.as_str(),
        host: &conn.host,
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
    };
    let mut evaluation = shared
        .engine
        .evaluate(&view, &conn.profile, head, Body::Skipped);
    evaluation.block = None;
    let protocol = evaluation.protocol;
    let mut event = api_event(conn, &parts.headers, parts.method.as_str(), evaluation);
    record_user_agent(shared, &mut event);
    let status = match outcome {
        Outcome::BodyReadTimeout => StatusCode::REQUEST_TIMEOUT,
        Outcome::InspectionBudgetTimeout => StatusCode::SERVICE_UNAVAILABLE,
        Outcome::Refused(Refusal::HeadTooLarge) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        Outcome::Refused(Refusal::UnsupportedProtocol) => StatusCode::NOT_IMPLEMENTED,
        _ => StatusCode::BAD_REQUEST,
    };
    let code = outcome.code().unwrap_or(policy::UPSTREAM_CODE);
    let message = outcome.message().unwrap_or("the request was refused");
    tracing::info!(host = %conn.host, %code, "call answered by awsguard, not forwarded");
    event.decision = Decision::Blocked;
    event.response_status = Some(status.as_u16());
    event.complete(outcome);
    shared.recorder.record(event);
    aws_error(policy::error_response(protocol, status, code, message))
}

/// Why a body could not be read, as the call's outcome.
fn body_outcome(error: &BodyError) -> Outcome {
    match error {
        BodyError::Timeout => Outcome::BodyReadTimeout,
        BodyError::BudgetWait => Outcome::InspectionBudgetTimeout,
        BodyError::Read(_) => Outcome::ClientReset,
    }
}

/// Checks the request head against the connection before anything else: the documented size
/// limit (the HTTP/1.1 parser's own bound is looser), exactly one `Host`, and a `Host` /
/// `:authority` naming the host the tunnel was opened and the certificate issued for (else
/// a request could be sent to one AWS host while audited as another).
fn check_head(conn: &ConnInfo, parts: &http::request::Parts, max_head: usize) -> Option<Refusal> {
    let target = parts.uri.path_and_query().map_or(0, |p| p.as_str().len())
        + parts.uri.authority().map_or(0, |a| a.as_str().len());
    let size = parts.method.as_str().len()
        + target
        + parts
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if size > max_head {
        return Some(Refusal::HeadTooLarge);
    }
    let mut hosts = parts.headers.get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Some(Refusal::DuplicateHost);
    }
    let named = host
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .into_iter()
        .chain(parts.uri.authority().map(|a| a.as_str().to_owned()));
    for authority in named {
        if !names_host(&authority, &conn.host, conn.port) {
            return Some(Refusal::HostMismatch);
        }
    }
    None
}

/// Whether `authority` (`host` or `host:port`) is `host` on `port` (case and a final dot aside).
fn names_host(authority: &str, host: &str, port: u16) -> bool {
    let Ok(authority) = authority.parse::<http::uri::Authority>() else {
        return false;
    };
    let named = authority.host().trim_end_matches('.');
    named.eq_ignore_ascii_case(host) && authority.port_u16().is_none_or(|p| p == port)
}

/// Reserves inspection buffer space for one request (its Content-Length, or the whole limit when
/// unknown), waiting while other requests hold the shared budget: aggregate memory stays bounded.
async fn reserve(
    shared: &Shared,
    headers: &HeaderMap,
    limit: usize,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let wanted = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(limit, |len| len.min(limit));
    let total = u32::try_from(shared.config.limits.inspect_budget_bytes / 1024).unwrap_or(u32::MAX);
    let kib = u32::try_from(wanted.div_ceil(1024))
        .unwrap_or(u32::MAX)
        .clamp(1, total.max(1));
    shared
        .inspect_budget
        .clone()
        .acquire_many_owned(kib)
        .await
        .ok()
}

fn api_event(conn: &ConnInfo, headers: &HeaderMap, method: &str, eval: Evaluation) -> Event {
    let mut event = eval.into_event(
        &conn.host,
        &conn.source,
        method,
        headers,
        OffsetDateTime::now_utc(),
    );
    event.decision = Decision::Allowed;
    event.response_status = None;
    event.exec_id = conn.exec_id.clone();
    event.tls_details = TlsDetails {
        tls_version: conn.tls_version.clone(),
        cipher_suite: conn.cipher_suite.clone(),
        ..TlsDetails::default()
    };
    event
}

/// Bounds the event's User-Agent, and redacts it when a detector finds anything in it: the
/// engine's own findings on `header:user-agent` if it judged the header, else a scan of it here
/// (URL and content detectors), which only decides the redaction and adds no finding.
fn record_user_agent(shared: &Shared, event: &mut Event) {
    let Some(user_agent) = event.user_agent.as_deref() else {
        return;
    };
    let judged = event
        .findings
        .iter()
        .any(|f| f.location.starts_with("header:user-agent"));
    let secret = judged || {
        let ctx = ScanContext {
            service: event.event_source.as_deref(),
            operation: event.event_name.as_deref(),
        };
        let field = Field::new("header:user-agent", FieldKind::FreeText, user_agent);
        let mut hits = Vec::new();
        shared
            .config
            .scanner
            .scan_field(&ctx, field.view(), &mut hits);
        !hits.is_empty()
    };
    if secret || user_agent.len() > crate::events::USER_AGENT_CAP {
        event.user_agent = Some(crate::events::recorded_user_agent(user_agent, secret));
    }
}

/// The request as it goes upstream over HTTP/1.1: origin-form target (an HTTP/1.1 client sends
/// one already; HTTP/2 and absolute-form ones carry scheme and authority), and a `Host` header.
fn upstream_request(
    conn: &ConnInfo,
    mut parts: http::request::Parts,
    body: RequestBody,
) -> Request<RequestBody> {
    if parts.uri.authority().is_some() || parts.uri.path_and_query().is_none() {
        let path_and_query = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        parts.uri = Uri::from(path_and_query);
    }
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers);
    if !parts.headers.contains_key(header::HOST) {
        let authority = if conn.port == 443 {
            conn.host.clone()
        } else {
            format!("{}:{}", conn.host, conn.port)
        };
        if let Ok(value) = HeaderValue::from_str(&authority) {
            parts.headers.insert(header::HOST, value);
        }
    }
    Request::from_parts(parts, body)
}

/// Connection-specific headers (RFC 9110 §7.6.1), and the non-standard ones clients still send.
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::PROXY_AUTHENTICATE,
];

/// Removes connection-specific headers (RFC 9110 §7.6.1), including those `Connection` names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none: one pass of cheap name comparisons instead of eleven hashed
    // removals.
    let any = headers.keys().any(|name| {
        HOP_BY_HOP.contains(name) || name == "proxy-connection" || name == "keep-alive"
    });
    if !any {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove("proxy-connection");
    headers.remove("keep-alive");
}

fn aws_error(error: ErrorResponse) -> Response<ResponseBody> {
    let mut response = Response::new(full(error.body));
    *response.status_mut() = error.status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(error.content_type),
    );
    headers.insert("x-amzn-requestid", HeaderValue::from_static("awsguard"));
    for (name, value) in error.headers {
        headers.insert(name, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_removed_with_those_connection_names() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("close, x-private"));
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("proxy-authorization", HeaderValue::from_static("Basic x"));
        h.insert("x-amz-date", HeaderValue::from_static("20240101T000000Z"));
        h.insert("content-length", HeaderValue::from_static("3"));
        strip_hop_by_hop(&mut h);
        let mut names: Vec<_> = h.keys().map(|k| k.as_str().to_owned()).collect();
        names.sort();
        assert_eq!(names, vec!["content-length", "x-amz-date"]);
    }

    #[test]
    fn exec_ids_come_only_from_a_basic_exec_user() {
        let id = |value: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("proxy-authorization", HeaderValue::from_static(value));
            exec_id(&h)
        };
        // exec-1a2b:awsguard, exec-1a2b (no password), bob:exec-1, exec-:x, exec-a/b:x
        assert_eq!(
            id("Basic ZXhlYy0xYTJiOmF3c2d1YXJk").as_deref(),
            Some("exec-1a2b")
        );
        assert_eq!(id("basic ZXhlYy0xYTJi").as_deref(), Some("exec-1a2b"));
        assert_eq!(id("Basic Ym9iOmV4ZWMtMQ=="), None);
        assert_eq!(id("Basic ZXhlYy06eA=="), None);
        assert_eq!(id("Basic ZXhlYy1hL2I6eA=="), None);
        assert_eq!(id("Bearer ZXhlYy0xYTJi"), None);
        assert_eq!(id("Basic !!!"), None);
        assert_eq!(exec_id(&HeaderMap::new()), None);
    }

    #[test]
    fn a_host_names_the_connection_host_on_its_port_only() {
        let host = "sqs.us-east-1.amazonaws.com";
        assert!(names_host(host, host, 443));
        assert!(names_host("SQS.us-east-1.amazonaws.com.:443", host, 443));
        assert!(!names_host("sqs.us-east-1.amazonaws.com:8443", host, 443));
        assert!(!names_host("sns.us-east-1.amazonaws.com", host, 443));
        assert!(!names_host("evil.example", host, 443));
        assert!(!names_host("", host, 443));
    }
}
