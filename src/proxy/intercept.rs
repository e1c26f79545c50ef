//! Intercepted connections: route again on the ClientHello (it may still turn the connection
//! into a blind tunnel, or refuse it), terminate TLS with a leaf certificate for the host, then
//! serve HTTP/1.1 or HTTP/2 (by ALPN) request by request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::watch;

use http::{Method, Request};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

use super::body::ResponseBody;
use super::continue_h2::ContinueH2;
use super::exchange::{self, ConnInfo};
use super::hello_peek::{peek_hello, Peeked};
use super::record::connection_event;
use super::rewind::Rewind;
use super::route::{self, RefuseReason, Route};
use super::Shared;
use crate::ca::FixedCert;
use crate::events::Decision;
use crate::inspect::{CLEARTEXT, TLS_VERSION};
use crate::policy;
use crate::tls::{suite_name, version_name, ClientHello};

/// A fatal `protocol_version` alert (RFC 8446 §6), sent to clients that offer only old versions.
const PROTOCOL_VERSION_ALERT: [u8; 7] = [0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46];

/// Handles one CONNECT tunnel to an intercepted host.
pub(crate) async fn run<S>(
    shared: Arc<Shared>,
    mut client: S,
    host: String,
    port: u16,
    peer: SocketAddr,
    exec_id: Option<String>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let timeout = shared.config.limits.handshake_timeout;
    let (peeked, replay) = peek_hello(&mut client, timeout).await;
    let hello = match &peeked {
        Peeked::Hello(hello) => route::Hello::Seen(hello),
        Peeked::NotTls(_) => route::Hello::NotTls,
        Peeked::Nothing => return,
    };
    match shared.route(&host, port, hello) {
        Route::Intercept => {}
        Route::Tunnel { reason } => {
            tracing::info!(%host, %reason, "not intercepted");
            return match super::tunnel::dial(&shared, &host, port).await {
                Ok(upstream) => {
                    let client = Rewind::new(replay, client);
                    super::tunnel::run(shared, client, upstream, host, peer, reason).await
                }
                Err(message) => {
                    super::tunnel::record_dial_failure(&shared, &host, peer, &reason, message)
                }
            };
        }
        Route::Refuse { reason } => {
            return match (reason, peeked) {
                (RefuseReason::TlsVersion, Peeked::Hello(hello)) => {
                    let _ = client.write_all(&PROTOCOL_VERSION_ALERT).await;
                    refuse_tls_version(&shared, &host, peer, &hello)
                }
                (_, Peeked::NotTls(error)) => refuse_non_tls(&shared, &host, peer, &replay, error),
                (_, _) => {}
            }
        }
    }
    let Peeked::Hello(hello) = peeked else {
        return;
    };
    let config = match &hello.server_name {
        Some(_) => shared.server_tls.clone(),
        None => match shared.leaf.certified(&host) {
            Ok(certified) => {
                let mut config = (*shared.server_tls).clone();
                config.cert_resolver = Arc::new(FixedCert(certified));
                Arc::new(config)
            }
            Err(error) => {
                tracing::warn!(%host, %error, "cannot issue a leaf certificate");
                return;
            }
        },
    };
    let accept = TlsAcceptor::from(config).accept(Rewind::new(replay, client));
    let tls = match tokio::time::timeout(timeout, accept).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            return record_handshake_failure(&shared, &host, peer, &hello, error.to_string())
        }
        Err(_) => {
            return record_handshake_failure(
                &shared,
                &host,
                peer,
                &hello,
                "tls handshake timed out".into(),
            )
        }
    };
    let (_, session) = tls.get_ref();
    let h2 = session.alpn_protocol() == Some(b"h2");
    let host = hello.server_name.clone().unwrap_or(host);
    let mut profile = shared.engine.profile(&host);
    if let Some(version) = session
        .protocol_version()
        .filter(|v| !shared.config.min_tls.admits(*v))
    {
        // Accepted only because `[rules.tls-version]` is audit: every call records it.
        profile = profile.with_transport(TLS_VERSION.finding(
            "transport",
            "client-leg",
            version_name(version),
        ));
    }
    let info = Arc::new(ConnInfo {
        profile,
        route: shared.upstream.route(&host, port),
        host,
        port,
        source: peer.ip().to_string(),
        tls_version: session.protocol_version().map(version_name),
        cipher_suite: session.negotiated_cipher_suite().map(suite_name),
        exec_id,
    });
    if h2 {
        let io = TokioIo::new(ContinueH2::new(tls));
        serve_http(shared, io, info, h2, peer).await;
    } else {
        serve_http(shared, TokioIo::new(tls), info, h2, peer).await;
    }
}

async fn serve_http<I>(
    shared: Arc<Shared>,
    io: TokioIo<I>,
    info: Arc<ConnInfo>,
    h2: bool,
    peer: SocketAddr,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let host = info.host.clone();
    let svc_shared = shared.clone();
    let activity = Arc::new(Activity::default());
    let busy = activity.clone();
    // Boxed: hyper keeps a slot the size of the service's future for each connection, even an
    // idle one; a box makes that slot a pointer and costs one allocation per request instead.
    let service = service_fn(move |mut req: Request<Incoming>| {
        // Counted from the request's arrival until its response body is gone, however it ends.
        let call = Busy::new(busy.clone());
        if req.method() == Method::CONNECT {
            // An extended CONNECT (RFC 8441) turns into a WebSocket relay that outlives its
            // response: the relay holds this, so the connection is not closed as idle under it.
            req.extensions_mut()
                .insert(Arc::new(Busy::new(busy.clone())));
        }
        let handled = exchange::handle(svc_shared.clone(), info.clone(), req);
        Box::pin(async move {
            let response = handled.await?;
            Ok::<_, Infallible>(response.map(|body| Tracked::new(body, call)))
        })
    });
    let limits = &shared.config.limits;
    let ends = Ends {
        shutdown: shared.shutdown.clone(),
        cut: shared.cut.clone(),
        activity,
        idle: limits.idle_timeout,
    };
    let result = if h2 {
        let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        // Pings find peers that are gone; the idle timer (which pings do not reset) closes
        // connections that are alive but unused. Extended CONNECT carries WebSockets.
        builder
            .timer(TokioTimer::new())
            .enable_connect_protocol()
            .keep_alive_interval(Some(limits.header_read_timeout))
            .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
        ends.run(builder.serve_connection(io, service), |c| {
            c.graceful_shutdown()
        })
        .await
    } else {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(super::http1_buf_bound(limits));
        // With upgrades: a WebSocket call switches protocols after its decision.
        let conn = builder.serve_connection(io, service).with_upgrades();
        ends.run(conn, |c| c.graceful_shutdown()).await
    };
    if let Err(error) = result {
        tracing::debug!(%error, "intercepted connection ended with an error");
        if error.is_parse_too_large() || error.is_parse() {
            // The request never reached a decision: hyper answered it (431 or 400); a
            // connection event says why.
            let mut event = connection_event(&host, peer, "malformed");
            if let Some(details) = event.connection.as_mut() {
                details.message =
                    Some(format!("bad request on an intercepted connection: {error}"));
            }
            shared.recorder.record(event);
        }
    }
}

/// What ends an intercepted connection besides its client: shutdown (requests in flight
/// finish), the end of the grace period (cut), or being idle too long.
struct Ends {
    shutdown: watch::Receiver<bool>,
    cut: watch::Receiver<bool>,
    activity: Arc<Activity>,
    idle: Duration,
}

impl Ends {
    /// Runs `conn` to completion; closes it gracefully on shutdown or when idle for `idle`, and
    /// drops it (its calls record themselves as cut) when the grace period is over.
    /// `close` starts a graceful close (hyper-util's `GracefulConnection` does not cover HTTP/1
    /// connections with upgrades).
    async fn run<C, E>(self, conn: C, close: fn(Pin<&mut C>)) -> Result<(), E>
    where
        C: std::future::Future<Output = Result<(), E>>,
    {
        tokio::pin!(conn);
        let mut closing = false;
        // An idle HTTP/2 connection closes only once the client acknowledges the GOAWAY's
        // ping: one that never does is dropped after another idle period.
        let mut idle_close: Option<tokio::time::Instant> = None;
        loop {
            let give_up = idle_close.unwrap_or_else(tokio::time::Instant::now);
            tokio::select! {
                result = conn.as_mut() => return result,
                () = super::stopped(self.cut.clone()) => return Ok(()),
                () = tokio::time::sleep_until(give_up), if idle_close.is_some() => return Ok(()),
                () = super::stopped(self.shutdown.clone()), if !closing => {
                    close(conn.as_mut());
                    closing = true;
                }
                () = tokio::time::sleep(self.activity.idle_left(self.idle)), if !closing => {
                    if self.activity.idle_left(self.idle).is_zero() {
                        tracing::debug!("closing an idle intercepted connection");
                        close(conn.as_mut());
                        closing = true;
                        idle_close = Some(tokio::time::Instant::now() + self.idle);
                    }
                }
            }
        }
    }
}

/// Calls in flight on one connection, and when the last one ended.
#[derive(Debug)]
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
        }
    }
}

impl Activity {
    /// How much longer the connection may stay idle: all of `idle` while a call is in flight.
    fn idle_left(&self, idle: Duration) -> Duration {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return idle;
        }
        let since = self
            .last
            .lock()
            .map_or(Duration::ZERO, |last| last.elapsed());
        idle.saturating_sub(since)
    }
}

/// One call in flight on a connection (see [`Activity`]).
pub(crate) struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Ok(mut last) = self.0.last.lock() {
            *last = Instant::now();
        }
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its call counted as in flight until it is dropped.
struct Tracked {
    inner: ResponseBody,
    _call: Busy,
}

impl Tracked {
    fn new(inner: ResponseBody, call: Busy) -> Self {
        Tracked { inner, _call: call }
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = <ResponseBody as Body>::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn refuse_non_tls(
    shared: &Shared,
    host: &str,
    peer: SocketAddr,
    first: &[u8],
    error: crate::tls::HelloError,
) {
    let looks_like_http = first
        .split(|b| *b == b' ')
        .next()
        .is_some_and(|m| !m.is_empty() && m.iter().all(u8::is_ascii_uppercase));
    let outcome = if looks_like_http {
        "cleartext-refused"
    } else {
        "malformed"
    };
    let mut event = connection_event(host, peer, outcome);
    event.decision = Decision::Blocked;
    if looks_like_http {
        let raised = CLEARTEXT.finding("transport", "connection", "plain HTTP inside CONNECT");
        event.findings = policy::decide(shared.engine.policy(), [raised.into()]).findings;
    }
    if let Some(details) = event.connection.as_mut() {
        details.message = Some(format!(
            "client sent no TLS ClientHello to an AWS host: {error}"
        ));
    }
    tracing::warn!(%host, %outcome, "refused a non-TLS connection to an AWS host");
    shared.recorder.record(event);
}

fn refuse_tls_version(shared: &Shared, host: &str, peer: SocketAddr, hello: &ClientHello) {
    let offered = hello.version_names();
    let min = shared.config.min_tls.name();
    let mut event = connection_event(host, peer, "tls-refused");
    event.decision = Decision::Blocked;
    let raised = TLS_VERSION.finding("transport", "client-leg", offered.join(","));
    event.findings = policy::decide(shared.engine.policy(), [raised.into()]).findings;
    if let Some(details) = event.connection.as_mut() {
        details.server_name = hello.server_name.clone();
        details.offered_tls_versions = offered.clone();
        details.message = Some(format!(
            "client offered only {}; the minimum is {min}",
            offered.join(", ")
        ));
    }
    tracing::warn!(%host, offered = %offered.join(","), %min, "refused a TLS handshake below the minimum version");
    shared.recorder.record(event);
}

fn record_handshake_failure(
    shared: &Shared,
    host: &str,
    peer: SocketAddr,
    hello: &ClientHello,
    message: String,
) {
    let mut event = connection_event(host, peer, "tls-failed");
    event.decision = Decision::Blocked;
    if let Some(details) = event.connection.as_mut() {
        details.server_name = hello.server_name.clone();
        details.offered_tls_versions = hello.version_names();
        details.message = Some(format!("tls handshake with client failed: {message}"));
    }
    tracing::info!(%host, %message, "client tls handshake failed");
    shared.recorder.record(event);
}
