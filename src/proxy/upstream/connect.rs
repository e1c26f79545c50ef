//! Dialing one upstream connection: TCP (to where `--connect-to` says, through the upstream
//! proxy if there is one), the rustls handshake with
//! the original host as SNI, then an HTTP/1.1 client connection driven by its own task.
//!
//! Called by the upstream client when no idle connection is available for a route.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
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
    #[error("http handshake with upstream {host} failed")]
    Http {
        host: String,
        #[source]
        source: hyper::Error,
    },
}

/// An open upstream connection: where requests are sent, and what TLS it negotiated.
pub(crate) struct Conn {
    pub(crate) sender: SendRequest<RequestBody>,
    /// Shared by every request on the connection: computed once, at the handshake.
    pub(crate) tls: Arc<UpstreamTls>,
}

/// Dials upstream connections.
pub(crate) struct Connector {
    dialer: Arc<Dialer>,
    tls: TlsConnector,
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
        Connector {
            dialer,
            tls: TlsConnector::from(tls),
            connect_to,
            min_tls,
            timeout,
        }
    }

    /// Opens a verified connection to `host:port` (or its `--connect-to` target).
    pub(crate) async fn connect(&self, host: &str, port: u16) -> Result<Conn, ConnectError> {
        let target = self
            .connect_to
            .iter()
            .find(|c| c.matches(host))
            .map(|c| c.target.clone())
            .unwrap_or_else(|| format!("{host}:{port}"));
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| ConnectError::InvalidHost(host.to_owned()))?;
        let tcp = self.dialer.open(host, &target).await?;
        let tls = tokio::time::timeout(self.timeout, self.tls.connect(name, tcp))
            .await
            .map_err(|_| ConnectError::Timeout(target))?
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
        let (sender, connection) = http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|source| ConnectError::Http {
                host: host.to_owned(),
                source,
            })?;
        // The task ends when the connection closes, or once every sender is dropped (idle
        // expiry, pool bound, shutdown): nothing keeps it alive on its own.
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "upstream connection ended with an error");
            }
        });
        Ok(Conn {
            sender,
            tls: Arc::new(info),
        })
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
