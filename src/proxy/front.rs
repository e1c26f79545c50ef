//! The client-facing plain HTTP leg: CONNECT requests and absolute-form `http://` requests.
//!
//! CONNECT to a host the CA may sign for is intercepted; any other CONNECT is tunnelled blind.
//! Plain `http://` to AWS is refused (`cleartext`); plain `http://` elsewhere is forwarded as an
//! ordinary forward proxy would.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;

use http_body_util::Either;

use super::body::{full, RequestBody, ResponseBody};
use super::linger::Lingering;
use super::record::connection_event;
use super::route::{Hello, Route};
use super::{intercept, tunnel, ConnPermit, Shared};
use crate::events::Decision;
use crate::policy;

/// Serves one client connection to the proxy port.
///
/// `permit` is this connection's place under `--max-connections`: passed on to the tunnel or
/// interception a CONNECT turns into, and so held until that ends too.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    permit: ConnPermit,
) {
    let _ = stream.set_nodelay(true);
    let limits = &shared.config.limits;
    let svc_shared = shared.clone();
    // Closed lingering, whoever ends it (hyper on a refused head, an intercepted or tunnelled
    // session): a client still writing reads the answer instead of a reset.
    let stream = Lingering::new(stream, permit.clone());
    let service = service_fn(move |req| handle(svc_shared.clone(), peer, req, permit.clone()));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(super::http1_buf_bound(limits));
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    let shutdown = shared.shutdown.clone();
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = super::stopped(shutdown.clone()) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "client connection ended with an error");
        if error.is_parse() || error.is_parse_too_large() || error.is_timeout() {
            let mut event = connection_event("", peer, "malformed");
            if let Some(details) = event.connection.as_mut() {
                details.message = Some(format!("bad request to the proxy: {error}"));
            }
            shared.recorder.record(event);
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    peer: SocketAddr,
    req: Request<Incoming>,
    permit: ConnPermit,
) -> Result<Response<ResponseBody>, Infallible> {
    // hyper's own bound on the head is its read buffer, looser than the documented limit.
    let head_size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + req.uri().path_and_query().map_or(0, |p| p.as_str().len())
        + req.uri().authority().map_or(0, |a| a.as_str().len());
    if head_size > shared.config.limits.max_header_bytes {
        let mut event = connection_event("", peer, "malformed");
        event.response_status = Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.as_u16());
        if let Some(details) = event.connection.as_mut() {
            details.message = Some(format!("request head of {head_size} bytes to the proxy"));
        }
        shared.recorder.record(event);
        return Ok(text(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request head too large\n",
        ));
    }
    if req.method() == Method::CONNECT {
        return Ok(connect(shared, peer, req, permit).await);
    }
    if req.uri().scheme().is_some() && req.uri().host().is_some() {
        return Ok(plain_http(shared, peer, req).await);
    }
    Ok(text(
        StatusCode::BAD_REQUEST,
        "awsguard is a proxy: send CONNECT or absolute-form requests (set HTTPS_PROXY)\n",
    ))
}

/// Answers a CONNECT and, once the client has the 200, takes over the raw connection.
async fn connect(
    shared: Arc<Shared>,
    peer: SocketAddr,
    req: Request<Incoming>,
    permit: ConnPermit,
) -> Response<ResponseBody> {
    let Some(authority) = req.uri().authority().cloned() else {
        return text(StatusCode::BAD_REQUEST, "CONNECT needs host:port\n");
    };
    let Some(port) = authority.port_u16() else {
        return text(StatusCode::BAD_REQUEST, "CONNECT needs host:port\n");
    };
    let host = authority.host().trim_end_matches('.').to_ascii_lowercase();
    let reason = match shared.route(&host, port, Hello::Pending) {
        Route::Intercept => {
            let exec_id = super::exchange::exec_id(req.headers());
            tokio::spawn(async move {
                if let Ok(upgraded) = hyper::upgrade::on(req).await {
                    intercept::run(shared, TokioIo::new(upgraded), host, port, peer, exec_id).await;
                }
                drop(permit);
            });
            return Response::new(full(""));
        }
        Route::Tunnel { reason } => reason,
        // Refusals need the client's first bytes, which come only after the 200.
        Route::Refuse { .. } => return text(StatusCode::FORBIDDEN, "refused by awsguard\n"),
    };
    let upstream = match tunnel::dial(&shared, &host, port).await {
        Ok(upstream) => upstream,
        Err(message) => {
            tunnel::record_dial_failure(&shared, &host, peer, &reason, message);
            return text(
                StatusCode::BAD_GATEWAY,
                "awsguard could not reach the host\n",
            );
        }
    };
    tokio::spawn(async move {
        if let Ok(upgraded) = hyper::upgrade::on(req).await {
            tunnel::run(shared, TokioIo::new(upgraded), upstream, host, peer, reason).await;
        }
        drop(permit);
    });
    Response::new(full(""))
}

/// Absolute-form `http://`: refused for AWS hosts, forwarded for others.
async fn plain_http(
    shared: Arc<Shared>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<ResponseBody> {
    let host = req.uri().host().unwrap_or_default().to_ascii_lowercase();
    if shared.ca.permits(&host) {
        let signed = crate::aws::sigv4::from_request(req.headers(), req.uri().query()).is_some();
        let raised = policy::cleartext(&host, signed);
        let verdict = policy::decide(shared.engine.policy(), raised);
        let outcome = if verdict.blocks() {
            "cleartext-refused"
        } else {
            "forwarded"
        };
        let mut event = connection_event(&host, peer, outcome);
        event.request_method = Some(req.method().to_string());
        event.findings = verdict.findings;
        if let Some(message) = verdict.block {
            event.decision = Decision::Blocked;
            event.response_status = Some(StatusCode::FORBIDDEN.as_u16());
            if let Some(details) = event.connection.as_mut() {
                details.message = Some(message);
            }
            shared.recorder.record(event);
            return text(
                StatusCode::FORBIDDEN,
                "awsguard refused a cleartext http:// request to AWS: use https\n",
            );
        }
        shared.recorder.record(event);
    }
    let (mut parts, body) = req.into_parts();
    super::exchange::strip_hop_by_hop(&mut parts.headers);
    let upstream_req = Request::from_parts(parts, RequestBody::streaming(body));
    let via = shared
        .config
        .upstream_proxy
        .as_ref()
        .and_then(|proxy| proxy.for_host(&host));
    let answer = match via {
        Some(proxy) => shared
            .dialer
            .forward(proxy, upstream_req)
            .await
            .map_err(|error| super::upstream::describe(&error)),
        None => shared
            .plain
            .request(upstream_req)
            .await
            .map_err(|error| super::upstream::describe(&error)),
    };
    match answer {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            super::exchange::strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, Either::Left(body.into()))
        }
        Err(error) => {
            tracing::warn!(%host, %error, "plain http forward failed");
            text(
                StatusCode::BAD_GATEWAY,
                "awsguard could not reach the host\n",
            )
        }
    }
}

/// A connection over `--max-connections`: told so and closed at once (never left waiting), and
/// recorded.
pub(crate) fn refuse_over_limit(shared: &Shared, stream: &TcpStream, peer: SocketAddr) {
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
content-length: 40\r\nconnection: close\r\n\r\nawsguard: too many connections (limit)\r\n";
    // A fresh socket has room for this: it goes out without waiting, or not at all.
    let _ = stream.try_write(BUSY);
    tracing::warn!(%peer, "refused a connection over --max-connections");
    let mut event = connection_event("", peer, "refused-over-limit");
    event.decision = Decision::Blocked;
    event.response_status = Some(StatusCode::SERVICE_UNAVAILABLE.as_u16());
    if let Some(details) = event.connection.as_mut() {
        details.message = Some("too many connections open (--max-connections)".into());
    }
    shared.recorder.record(event);
}

pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<ResponseBody> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
