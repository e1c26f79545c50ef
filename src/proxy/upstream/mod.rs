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

use super::body::RequestBody;
pub(crate) use body::UpstreamBody;
use connect::Conn;
pub(crate) use connect::{ConnectError, Connector, UpstreamTls};
use pool::Pool;
pub(crate) use pool::{PoolLimits, Route};

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
}

impl UpstreamError {
    /// Whether the upstream failed the minimum TLS version (a policy refusal, not an outage).
    pub(crate) fn is_tls_version(&self) -> bool {
        matches!(
            self,
            UpstreamError::Connect(ConnectError::TlsVersion { .. })
        )
    }
}

/// An upstream response, and the TLS its connection negotiated.
pub(crate) type Answer = (Response<UpstreamBody>, Arc<UpstreamTls>);

/// The upstream client for intercepted requests.
pub(crate) struct Upstream {
    connector: Connector,
    pool: Arc<Pool>,
}

impl Upstream {
    pub(crate) fn new(connector: Connector, limits: PoolLimits) -> Self {
        Upstream {
            connector,
            pool: Pool::new(limits),
        }
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
        let conn = self.connector.connect(route.host(), route.port()).await?;
        send_on(route, conn, req)
            .await
            .map_err(|error| UpstreamError::Exchange(error.into_error()))
    }
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
