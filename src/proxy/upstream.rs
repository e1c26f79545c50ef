//! The upstream leg: pooled, verified TLS connections to AWS (or where `--connect-to` says).
//!
//! A hyper-util pooled client over a connector that dials TCP, runs the rustls handshake with the
//! original host as SNI, and attaches the negotiated version and suite to every response so events
//! can report both legs.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::body::RequestBody;
use crate::config::ConnectTo;
use crate::tls::{suite_name, version_name, MinTls};

/// The negotiated upstream TLS parameters, found in response extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpstreamTls {
    pub(crate) version: String,
    pub(crate) cipher_suite: String,
}

/// Why an upstream connection failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("request has no host")]
    NoHost,
    #[error("cannot connect to {target}")]
    Tcp {
        target: String,
        #[source]
        source: io::Error,
    },
    #[error("timed out connecting to {0}")]
    Timeout(String),
    #[error("upstream {host} does not support {min} or later")]
    TlsVersion { host: String, min: String },
    #[error("tls handshake with upstream {host} failed")]
    Tls {
        host: String,
        #[source]
        source: io::Error,
    },
}

/// Dials upstream connections.
#[derive(Clone)]
pub(crate) struct Connector {
    tls: TlsConnector,
    connect_to: Arc<Vec<ConnectTo>>,
    min_tls: MinTls,
    timeout: Duration,
}

impl Connector {
    pub(crate) fn new(
        tls: Arc<ClientConfig>,
        connect_to: Vec<ConnectTo>,
        min_tls: MinTls,
        timeout: Duration,
    ) -> Self {
        Connector {
            tls: TlsConnector::from(tls),
            connect_to: Arc::new(connect_to),
            min_tls,
            timeout,
        }
    }

    async fn connect(self, uri: Uri) -> Result<UpstreamConn, ConnectError> {
        let host = uri.host().ok_or(ConnectError::NoHost)?.to_owned();
        let port = uri.port_u16().unwrap_or(443);
        let target = self
            .connect_to
            .iter()
            .find(|c| c.matches(&host))
            .map(|c| c.target.clone())
            .unwrap_or_else(|| format!("{host}:{port}"));
        let tcp = tokio::time::timeout(self.timeout, TcpStream::connect(&target))
            .await
            .map_err(|_| ConnectError::Timeout(target.clone()))?
            .map_err(|source| ConnectError::Tcp {
                target: target.clone(),
                source,
            })?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::try_from(host.clone()).map_err(|_| ConnectError::NoHost)?;
        let handshake = self.tls.connect(name, tcp);
        let tls = tokio::time::timeout(self.timeout, handshake)
            .await
            .map_err(|_| ConnectError::Timeout(target.clone()))?
            .map_err(|source| self.tls_error(host, source))?;
        let (_, session) = tls.get_ref();
        let info = UpstreamTls {
            version: session
                .protocol_version()
                .map(version_name)
                .unwrap_or_default(),
            cipher_suite: session
                .negotiated_cipher_suite()
                .map(suite_name)
                .unwrap_or_default(),
        };
        Ok(UpstreamConn {
            io: TokioIo::new(tls),
            info,
        })
    }

    fn tls_error(&self, host: String, source: io::Error) -> ConnectError {
        let too_old = source
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
            .is_some_and(|e| {
                matches!(
                    e,
                    rustls::Error::PeerIncompatible(_)
                        | rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)
                )
            });
        if too_old {
            ConnectError::TlsVersion {
                host,
                min: self.min_tls.name(),
            }
        } else {
            ConnectError::Tls { host, source }
        }
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = UpstreamConn;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<UpstreamConn, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(self.clone().connect(uri))
    }
}

pin_project_lite::pin_project! {
    /// A verified TLS connection to upstream, carrying its negotiated parameters.
    pub(crate) struct UpstreamConn {
        #[pin]
        io: TokioIo<TlsStream<TcpStream>>,
        info: UpstreamTls,
    }
}

impl Connection for UpstreamConn {
    fn connected(&self) -> Connected {
        Connected::new().extra(self.info.clone())
    }
}

impl hyper::rt::Read for UpstreamConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

impl hyper::rt::Write for UpstreamConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

/// The pooled upstream client.
pub(crate) type UpstreamClient = Client<Connector, RequestBody>;

pub(crate) fn client(connector: Connector) -> UpstreamClient {
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(64)
        .build(connector)
}

/// The client for plain `http://` forwarding to non-AWS hosts.
pub(crate) type PlainClient =
    Client<hyper_util::client::legacy::connect::HttpConnector, RequestBody>;

pub(crate) fn plain_client() -> PlainClient {
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build_http()
}

/// Our connect error inside a client error, if that is what failed.
fn connect_error(error: &hyper_util::client::legacy::Error) -> Option<&ConnectError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(connect) = e.downcast_ref::<ConnectError>() {
            return Some(connect);
        }
        source = e.source();
    }
    None
}

/// Whether the upstream failed the minimum TLS version (a policy refusal, not an outage).
pub(crate) fn is_tls_version(error: &hyper_util::client::legacy::Error) -> bool {
    matches!(connect_error(error), Some(ConnectError::TlsVersion { .. }))
}

/// Finds our connect error inside a client error, for a precise message.
pub(crate) fn describe(error: &hyper_util::client::legacy::Error) -> String {
    if let Some(connect) = connect_error(error) {
        return match std::error::Error::source(connect) {
            Some(cause) => format!("{connect}: {cause}"),
            None => connect.to_string(),
        };
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        message.push_str(": ");
        message.push_str(&e.to_string());
        source = e.source();
    }
    message
}
