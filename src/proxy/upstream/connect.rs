//! Dialing one upstream connection: TCP (to where `--connect-to` says, through the upstream
//! proxy if there is one), the rustls handshake with
//! the original host as SNI, then an HTTP/1.1 client connection driven by its own task.
//!
//! Called by the upstream client when no idle connection is available for a route.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::client::conn::http1::{self, SendRequest};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio_rustls::TlsConnector;

use crate::config::ConnectTo;
use crate::proxy::body::RequestBody;
use crate::proxy::dial::{DialError, Dialer};
use crate::tls::{suite_name, version_name, MinTls};

/// The negotiated upstream TLS parameters, reported in events next to the client leg's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UpstreamTls {
    pub(crate) version: String,
    pub(crate) cipher_suite: String,
}

/// Why an upstream connection failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("invalid upstream host name {0}")]
    InvalidHost(String),
    #[error(transparent)]
    Dial(#[from] DialError),
    #[error("timed out connecting to {0}")]
    Timeout(String),
    #[error("upstream {host} does not support {min} or later")]
    TlsVersion { host: String, min: String },
    #[error(
        "upstream {host} asked for a client certificate, which awsguard cannot present: \
         add {host} to passthrough (config key or --passthrough) to tunnel it untouched"
    )]
    ClientCertificate { host: String },
    #[error("tls handshake with upstream {host} failed")]
    Tls {
        host: String,
        #[source]
        source: io::Error,
    },
    #[error("upstream {0} speaks only HTTP/2, which cannot carry this upgrade")]
    Http2Only(String),
    #[error("http handshake with upstream {host} failed")]
    Http {
        host: String,
        #[source]
        source: hyper::Error,
    },
}

/// An open HTTP/2 upstream connection: one is shared by every call to its route, each call a
/// stream on it (the peer's `MAX_CONCURRENT_STREAMS` queues the surplus).
#[derive(Clone)]
pub(crate) struct H2Conn {
    pub(crate) sender: http2::SendRequest<RequestBody>,
    pub(crate) tls: Arc<UpstreamTls>,
}

/// A new upstream connection, in the protocol the upstream chose by ALPN.
pub(crate) enum Dialed {
    Http1(Conn),
    Http2(H2Conn),
}

/// An open HTTP/1.1 upstream connection: where requests are sent, and what TLS it negotiated.
pub(crate) struct Conn {
    pub(crate) sender: SendRequest<RequestBody>,
    /// Shared by every request on the connection: computed once, at the handshake.
    pub(crate) tls: Arc<UpstreamTls>,
}

/// Dials upstream connections.
pub(crate) struct Connector {
    dialer: Arc<Dialer>,
    tls: TlsConnector,
    /// The same TLS settings offering HTTP/1.1 alone, for calls that take the connection over.
    tls_http1: TlsConnector,
    connect_to: Vec<ConnectTo>,
    min_tls: MinTls,
    timeout: Duration,
}

impl Connector {
    /// `timeout` bounds the TLS handshake; `dialer` opens the TCP connection (through the
    /// upstream proxy, if there is one).
    pub(crate) fn new(
        dialer: Arc<Dialer>,
        tls: Arc<ClientConfig>,
        connect_to: Vec<ConnectTo>,
        min_tls: MinTls,
        timeout: Duration,
    ) -> Self {
        let mut http1_only = (*tls).clone();
        http1_only.alpn_protocols = vec![b"http/1.1".to_vec()];
        Connector {
            dialer,
            tls: TlsConnector::from(tls),
            tls_http1: TlsConnector::from(Arc::new(http1_only)),
            connect_to,
            min_tls,
            timeout,
        }
    }

    /// Opens a verified connection to `host:port` (or its `--connect-to` target), HTTP/2 when
    /// the upstream offers it.
    pub(crate) async fn connect(&self, host: &str, port: u16) -> Result<Dialed, ConnectError> {
        self.dial(host, port, &self.tls).await
    }

    /// [`Connector::connect`] offering HTTP/1.1 alone (a WebSocket upgrade needs it).
    pub(crate) async fn connect_http1(&self, host: &str, port: u16) -> Result<Conn, ConnectError> {
        match self.dial(host, port, &self.tls_http1).await? {
            Dialed::Http1(conn) => Ok(conn),
            Dialed::Http2(_) => Err(ConnectError::Http2Only(host.to_owned())),
        }
    }

    async fn dial(
        &self,
        host: &str,
        port: u16,
        connector: &TlsConnector,
    ) -> Result<Dialed, ConnectError> {
        let target = self
            .connect_to
            .iter()
            .find(|c| c.matches(host))
            .map(|c| c.target.clone())
            .unwrap_or_else(|| format!("{host}:{port}"));
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| ConnectError::InvalidHost(host.to_owned()))?;
        let tcp = self.dialer.open(host, &target).await?;
        let tls = tokio::time::timeout(self.timeout, connector.connect(name, tcp))
            .await
            .map_err(|_| ConnectError::Timeout(target))?
            .map_err(|source| self.tls_error(host, source))?;
        let (_, session) = tls.get_ref();
        let h2 = session.alpn_protocol() == Some(b"h2");
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
        if h2 {
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .handshake(TokioIo::new(tls))
                .await
                .map_err(|source| ConnectError::Http {
                    host: host.to_owned(),
                    source,
                })?;
            // Ends when the connection closes or every clone of its sender is dropped.
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "upstream h2 connection ended with an error");
                }
            });
            return Ok(Dialed::Http2(H2Conn {
                sender,
                tls: Arc::new(info),
            }));
        }
        let (sender, connection) = http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|source| ConnectError::Http {
                host: host.to_owned(),
                source,
            })?;
        // The task ends when the connection closes, or once every sender is dropped (idle
        // expiry, pool bound, shutdown): nothing keeps it alive on its own.
        tokio::spawn(async move {
            // With upgrades: a WebSocket call takes the connection over after its 101.
            if let Err(error) = connection.with_upgrades().await {
                tracing::debug!(%error, "upstream connection ended with an error");
            }
        });
        Ok(Dialed::Http1(Conn {
            sender,
            tls: Arc::new(info),
        }))
    }

    fn tls_error(&self, host: &str, source: io::Error) -> ConnectError {
        if asked_for_client_certificate(&source) {
            return ConnectError::ClientCertificate {
                host: host.to_owned(),
            };
        }
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
                host: host.to_owned(),
                min: self.min_tls.name(),
            }
        } else {
            ConnectError::Tls {
                host: host.to_owned(),
                source,
            }
        }
    }
}

/// Whether `error` (or a cause) is the upstream refusing the handshake for want of a client
/// certificate. Over TLS 1.3 that alert comes after awsguard's side of the handshake is done,
/// so it shows up on the first request rather than at connect.
pub(crate) fn asked_for_client_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        // io::Error::source skips the error it wraps: look inside it too.
        let inner = e
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        for candidate in [Some(e), inner].into_iter().flatten() {
            if let Some(rustls::Error::AlertReceived(
                rustls::AlertDescription::CertificateRequired,
            )) = candidate.downcast_ref::<rustls::Error>()
            {
                return true;
            }
        }
        next = e.source();
    }
    false
}
