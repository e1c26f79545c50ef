//! The upstream leg: verified TLS connections to AWS (or where `--connect-to` says), reused
//! across requests and across client connections.
//!
//! - `connect`: dials one connection (TCP, rustls with the original host as SNI, HTTP/1.1).
//! - `pool`: idle connections per route, bounded in number and age.
//! - `body`: response bodies that check their connection back in when they end.
//!
//! Plain `http://` forwarding to non-AWS hosts (rare) keeps hyper-util's pooled client.

mod body;
mod connect;
mod pool;

use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::client::conn::TrySendError;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::body::{RequestBody, SendBodyError};
use crate::events::Outcome;
pub(crate) use body::UpstreamBody;

pub(crate) use connect::{Conn, ConnectError, Connector, Dialed, H2Conn, UpstreamTls};
use pool::Pool;
pub(crate) use pool::{PoolLimits, Route, PROTOCOL_HTTP1, PROTOCOL_HTTP2};

/// How long an idle upstream connection is kept, and how many per route.
pub(crate) const POOL_LIMITS: PoolLimits = PoolLimits {
    idle_timeout: Duration::from_secs(60),
    max_idle: 64,
};

/// Why an upstream exchange failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("upstream exchange failed")]
    Exchange(#[source] hyper::Error),
    #[error("no upstream response within {0:?}")]
    Timeout(Duration),
}

impl UpstreamError {
    /// Whether the upstream failed the minimum TLS version (a policy refusal, not an outage).
    pub(crate) fn is_tls_version(&self) -> bool {
        matches!(
            self,
            UpstreamError::Connect(ConnectError::TlsVersion { .. })
        )
    }

    /// How the call ended, for its event: nothing answered (unreachable, timeout), the
    /// connection failed before the response head, or the client's own body failed.
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            UpstreamError::Connect(ConnectError::TlsVersion { .. }) => Outcome::UpstreamTlsRefused,
            UpstreamError::Connect(ConnectError::Timeout(_)) => Outcome::UpstreamTimeout,
            UpstreamError::Connect(ConnectError::Dial(error)) if error.is_timeout() => {
                Outcome::UpstreamTimeout
            }
            UpstreamError::Connect(_) => Outcome::UpstreamUnreachable,
            UpstreamError::Exchange(error) if error.is_timeout() => Outcome::UpstreamTimeout,
            UpstreamError::Exchange(error) if body_stalled(error) => Outcome::BodyReadTimeout,
            // A body error is the client's: its request body stream failed while being sent.
            UpstreamError::Exchange(error) if error.is_user() => Outcome::ClientReset,
            UpstreamError::Exchange(_) => Outcome::UpstreamReset { during_body: false },
            UpstreamError::Timeout(_) => Outcome::UpstreamTimeout,
        }
    }
}

/// Whether the request body failed because the client stopped sending it
/// ([`SendBodyError::Idle`], somewhere in the error's sources).
fn body_stalled(error: &hyper::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if matches!(cause.downcast_ref(), Some(SendBodyError::Idle)) {
            return true;
        }
        source = cause.source();
    }
    false
}

/// An upstream response, and the TLS its connection negotiated.
pub(crate) type Answer = (Response<UpstreamBody>, Arc<UpstreamTls>);

/// The upstream client for intercepted requests.
pub(crate) struct Upstream {
    connector: Connector,
    pool: Arc<Pool>,
    /// Longest wait for a response head, from the start of the send.
    response_timeout: Duration,
}

impl Upstream {
    pub(crate) fn new(
        connector: Connector,
        limits: PoolLimits,
        response_timeout: Duration,
    ) -> Self {
        Upstream {
            connector,
            pool: Pool::new(limits),
            response_timeout,
        }
    }

    /// A new connection of `route` outside the pool, for a call that takes the connection over
    /// (a WebSocket upgrade): it never goes back to the pool.
    pub(crate) async fn dial(&self, route: &Route) -> Result<Conn, ConnectError> {
        self.connector
            .connect_http1(route.host(), route.port())
            .await
    }

    /// The route to `host:port`: looked up once per client connection, used for its requests.
    pub(crate) fn route(&self, host: &str, port: u16) -> Arc<Route> {
        self.pool.route(host, port)
    }

    /// Sends `req` (origin-form, with a `Host` header) on an idle connection of `route`, or on a
    /// new one. A request is retried, once, on a new connection only when the idle one closed
    /// before taking it: hyper hands such a request back whole, its body untouched.
    pub(crate) async fn send(
        &self,
        route: &Arc<Route>,
        req: Request<RequestBody>,
    ) -> Result<Answer, UpstreamError> {
        tokio::time::timeout(self.response_timeout, self.send_untimed(route, req))
            .await
            .map_err(|_| UpstreamError::Timeout(self.response_timeout))?
    }

    async fn send_untimed(
        &self,
        route: &Arc<Route>,
        req: Request<RequestBody>,
    ) -> Result<Answer, UpstreamError> {
        let req = match route.shared_h2() {
            None => req,
            Some(conn) => match send_h2(route, conn, req).await {
                Ok(answer) => return Ok(answer),
                Err(mut error) => match error.take_message() {
                    Some(req) => {
                        tracing::debug!(host = %route.host(), "shared h2 upstream connection closed; retrying on a new one");
                        req
                    }
                    None => return Err(UpstreamError::Exchange(error.into_error())),
                },
            },
        };
        let req = match route.checkout() {
            None => req,
            Some(conn) => match send_on(route, conn, req).await {
                Ok(answer) => return Ok(answer),
                Err(mut error) => match error.take_message() {
                    Some(req) => {
                        tracing::debug!(host = %route.host(), "idle upstream connection closed; retrying on a new one");
                        req
                    }
                    None => return Err(UpstreamError::Exchange(error.into_error())),
                },
            },
        };
        // Boxed: a new connection's path (the dial's turn, TCP, proxy CONNECT, TLS handshake) is
        // a future of several KiB that every call's future would otherwise carry and copy,
        // though most calls reuse a connection.
        Box::pin(self.send_on_new(route, req)).await
    }

    /// Sends `req` on a new connection of `route`, which is then kept for later calls.
    async fn send_on_new(
        &self,
        route: &Arc<Route>,
        req: Request<RequestBody>,
    ) -> Result<Answer, UpstreamError> {
        // Until the route is known to speak HTTP/1.1 only, dials take turns: the calls of a
        // burst then find the first one's HTTP/2 connection and share it.
        let turn = match route.protocol() {
            PROTOCOL_HTTP1 => None,
            _ => Some(route.dialing().lock().await),
        };
        if let Some(conn) = route.shared_h2() {
            drop(turn);
            return send_h2(route, conn, req)
                .await
                .map_err(|error| exchange_error(route, error.into_error()));
        }
        let dialed = self.connector.connect(route.host(), route.port()).await;
        let sent = match dialed? {
            Dialed::Http1(conn) => {
                route.set_protocol(PROTOCOL_HTTP1);
                drop(turn);
                send_on(route, conn, req).await
            }
            Dialed::Http2(conn) => {
                route.set_protocol(PROTOCOL_HTTP2);
                route.share_h2(conn.clone());
                drop(turn);
                send_h2(route, conn, req).await
            }
        };
        sent.map_err(|error| exchange_error(route, error.into_error()))
    }
}

/// An exchange that failed on a new connection: a TLS 1.3 upstream that asks for a client
/// certificate only says so once the request is sent.
fn exchange_error(route: &Route, error: hyper::Error) -> UpstreamError {
    if connect::asked_for_client_certificate(&error) {
        UpstreamError::Connect(ConnectError::ClientCertificate {
            host: route.host().to_owned(),
        })
    } else {
        UpstreamError::Exchange(error)
    }
}

/// Sends `req` as a stream on the route's shared HTTP/2 connection: the URI carries the
/// authority (`:authority`), which replaces the `Host` header.
async fn send_h2(
    route: &Arc<Route>,
    mut conn: H2Conn,
    mut req: Request<RequestBody>,
) -> Result<Answer, TrySendError<Request<RequestBody>>> {
    let authority = if route.port() == 443 {
        route.host().to_owned()
    } else {
        format!("{}:{}", route.host(), route.port())
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str)
        .to_owned();
    if let Ok(uri) = http::Uri::try_from(format!("https://{authority}{path}")) {
        *req.uri_mut() = uri;
    }
    *req.version_mut() = http::Version::HTTP_2;
    req.headers_mut().remove(http::header::HOST);
    let response = conn.sender.try_send_request(req).await?;
    Ok((response.map(UpstreamBody::from), conn.tls.clone()))
}

async fn send_on(
    route: &Arc<Route>,
    mut conn: Conn,
    req: Request<RequestBody>,
) -> Result<Answer, TrySendError<Request<RequestBody>>> {
    let response = conn.sender.try_send_request(req).await?;
    let tls = conn.tls.clone();
    let response = response.map(|body| UpstreamBody::leased(body, route.clone(), conn));
    Ok((response, tls))
}

/// The client for plain `http://` forwarding to non-AWS hosts.
pub(crate) type PlainClient =
    Client<hyper_util::client::legacy::connect::HttpConnector, RequestBody>;

pub(crate) fn plain_client() -> PlainClient {
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_LIMITS.idle_timeout)
        .build_http()
}

/// An error and its causes on one line, for events and logs.
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        message.push_str(": ");
        message.push_str(&e.to_string());
        source = e.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::num::NonZeroUsize;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;
    use tokio::sync::Notify;

    use super::*;
    use crate::ca::{default_permitted, Ca, LeafIssuer};
    use crate::config::ConnectTo;
    use crate::proxy::body::Buffered;
    use crate::tls::{self, MinTls};

    const HOST: &str = "sqs.us-east-1.amazonaws.com";

    /// A TLS upstream on a leaf of a fresh awsguard CA, answering `hello` to every request.
    struct TestUpstream {
        upstream: Upstream,
        /// TCP connections it accepted.
        accepted: Arc<AtomicUsize>,
        /// Closes every open connection, without a `Connection: close` first.
        close: Arc<Notify>,
        _dir: tempfile::TempDir,
    }

    async fn start() -> TestUpstream {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::init(
            dir.path(),
            &default_permitted(&[]),
            false,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
        let anchor = ca.cert_der().clone();
        let leaf = LeafIssuer::new(Arc::new(ca), NonZeroUsize::MIN).unwrap();
        let mut server = tls::server_config(MinTls::Tls12, Arc::new(leaf)).unwrap();
        // It serves HTTP/1.1 alone, so it must not accept h2 by ALPN.
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let close = Arc::new(Notify::new());
        let (count, closer) = (accepted.clone(), close.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (acceptor, closer) = (acceptor.clone(), closer.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(|_| async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello"))))
                    });
                    let serve = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service);
                    tokio::select! {
                        _ = serve => {}
                        () = closer.notified() => {}
                    }
                });
            }
        });
        let client = tls::client_config(MinTls::Tls12, &[anchor]).unwrap();
        let route = ConnectTo::parse(&format!("*.amazonaws.com=127.0.0.1:{port}")).unwrap();
        let dialer = crate::proxy::dial::Dialer::new(None, Duration::from_secs(5));
        let connector = Connector::new(
            Arc::new(dialer),
            Arc::new(client),
            vec![route],
            MinTls::Tls12,
            Duration::from_secs(5),
        );
        TestUpstream {
            upstream: Upstream::new(connector, POOL_LIMITS, Duration::from_secs(30)),
            accepted,
            close,
            _dir: dir,
        }
    }

    fn get() -> Request<RequestBody> {
        let body = Buffered::Complete {
            bytes: Bytes::new(),
            trailers: None,
        };
        Request::builder()
            .uri("/")
            .header(http::header::HOST, HOST)
            .body(body.into_body())
            .unwrap()
    }

    /// One call on a client connection of its own, its response read to the end.
    async fn call(t: &TestUpstream) -> Arc<UpstreamTls> {
        let route = t.upstream.route(HOST, 443);
        let (response, tls) = t.upstream.send(&route, get()).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "hello");
        tls
    }

    #[tokio::test]
    async fn a_connection_is_reused_across_client_connections() {
        let t = start().await;
        let tls = call(&t).await;
        call(&t).await;
        call(&t).await;
        assert_eq!(t.accepted.load(Ordering::SeqCst), 1);
        assert_eq!(tls.version, "TLSv1.3");
        assert!(!tls.cipher_suite.is_empty());
    }

    #[tokio::test]
    async fn an_idle_connection_the_upstream_closed_is_replaced() {
        let t = start().await;
        call(&t).await;
        t.close.notify_waiters();
        tokio::time::sleep(Duration::from_millis(100)).await;
        call(&t).await;
        assert_eq!(t.accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_request_an_idle_connection_closed_on_unsent_is_retried_on_a_new_one() {
        let t = start().await;
        let route = t.upstream.route(HOST, 443);
        // An idle connection whose peer is gone, though its task has not seen that yet: it still
        // looks ready when the request is sent (the current-thread runtime runs that task only
        // once the request waits).
        let (client, server) = tokio::io::duplex(4096);
        route
            .clone()
            .check_in(pool::tests::ready_conn(client, "stale").await);
        drop(server);
        let (response, tls) = t.upstream.send(&route, get()).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(tls.version, "TLSv1.3", "answered on the new connection");
        assert_eq!(t.accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_response_not_read_to_its_end_closes_its_connection() {
        let t = start().await;
        let route = t.upstream.route(HOST, 443);
        let (response, _) = t.upstream.send(&route, get()).await.unwrap();
        drop(response);
        call(&t).await;
        assert_eq!(t.accepted.load(Ordering::SeqCst), 2);
    }
}
