//! TLS policy for both legs: the client-facing server config and the upstream client config.
//!
//! Policy is data ([`MinTls`] maps to a list of rustls protocol versions); the proxy builds both
//! configs once at start-up and shares them across connections.

mod hello;

pub use hello::{parse_client_hello, ClientHello, HelloError, WireVersion, MAX_HELLO_LEN};

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::ResolvesServerCert;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::CertificateDer;

static TLS12_AND_UP: &[&SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];
static TLS13_ONLY: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];

/// The lowest TLS version accepted on either leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Deserialize)]
pub enum MinTls {
    /// TLS 1.2 and 1.3 (the default).
    #[default]
    #[serde(rename = "1.2")]
    Tls12,
    /// TLS 1.3 only.
    #[serde(rename = "1.3")]
    Tls13,
}

impl MinTls {
    /// The rustls versions this policy allows.
    pub fn versions(self) -> &'static [&'static SupportedProtocolVersion] {
        match self {
            MinTls::Tls12 => TLS12_AND_UP,
            MinTls::Tls13 => TLS13_ONLY,
        }
    }

    /// The wire version of the minimum.
    pub fn wire(self) -> WireVersion {
        match self {
            MinTls::Tls12 => WireVersion::TLS12,
            MinTls::Tls13 => WireVersion::TLS13,
        }
    }

    /// Whether a ClientHello offers at least one allowed version.
    pub fn accepts(self, hello: &ClientHello) -> bool {
        hello.versions.iter().any(|v| *v >= self.wire())
    }

    /// Whether a negotiated version meets this minimum.
    pub fn admits(self, version: rustls::ProtocolVersion) -> bool {
        match self {
            MinTls::Tls12 => true,
            MinTls::Tls13 => version == rustls::ProtocolVersion::TLSv1_3,
        }
    }

    /// Whether a negotiated version, by its event name (`TLSv1.3`), meets this minimum.
    pub fn admits_name(self, version: &str) -> bool {
        match self {
            MinTls::Tls12 => true,
            MinTls::Tls13 => version == "TLSv1.3",
        }
    }

    /// `TLSv1.2` / `TLSv1.3`, for messages.
    pub fn name(self) -> String {
        self.wire().name()
    }
}

impl std::str::FromStr for MinTls {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1.2" => Ok(MinTls::Tls12),
            "1.3" => Ok(MinTls::Tls13),
            other => Err(format!(
                "unsupported TLS version {other:?} (use 1.2 or 1.3)"
            )),
        }
    }
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rustls refused the configuration.
    #[error("invalid tls configuration")]
    Rustls(#[from] rustls::Error),
    /// An extra trust anchor file is unreadable or holds no certificate.
    #[error("cannot load trust anchors from {path}")]
    Anchors {
        /// The file.
        path: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
}

/// The ring provider with AES-128-GCM/SHA-256 suites first: on CPUs with SHA extensions the
/// SHA-256 key schedule and AES-128 records cost measurably less than SHA-384 and AES-256 (both
/// are FIPS-approved TLS 1.3/1.2 suites; the others stay available to peers that want them).
fn provider() -> Arc<CryptoProvider> {
    use rustls::crypto::ring::cipher_suite as cs;
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![
        cs::TLS13_AES_128_GCM_SHA256,
        cs::TLS13_AES_256_GCM_SHA384,
        cs::TLS13_CHACHA20_POLY1305_SHA256,
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];
    Arc::new(provider)
}

/// The client-facing config: certificates from `resolver`, h2 and http/1.1 by ALPN, stateless
/// session tickets plus a session cache so reconnecting clients resume.
pub fn server_config(
    min: MinTls,
    resolver: Arc<dyn ResolvesServerCert>,
) -> Result<ServerConfig, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(min.versions())?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.ignore_client_order = true;
    config.ticketer = rustls::crypto::ring::Ticketer::new()?;
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(4096);
    Ok(config)
}

/// The upstream config: Mozilla roots plus `extra_anchors`, always verified, http/1.1.
pub fn client_config(
    min: MinTls,
    extra_anchors: &[CertificateDer<'static>],
) -> Result<ClientConfig, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for anchor in extra_anchors {
        roots.add(anchor.clone())?;
    }
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(min.versions())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    // HTTP/2 first: many client streams share one upstream connection, and h2-only upstreams
    // work. A WebSocket upgrade dials with HTTP/1.1 alone (`Connector::connect_http1`).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Reads every certificate in a PEM file (for `--upstream-ca`).
pub fn load_anchors(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    use rustls_pki_types::pem::PemObject;
    let err = |source| TlsError::Anchors {
        path: path.display().to_string(),
        source,
    };
    let bytes = std::fs::read(path).map_err(err)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                e.to_string(),
            ))
        })?;
    if certs.is_empty() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "no PEM certificate in file",
        )));
    }
    Ok(certs)
}

/// Event name of a negotiated protocol version.
pub fn version_name(v: rustls::ProtocolVersion) -> String {
    WireVersion(u16::from(v)).name()
}

/// Event name of a negotiated cipher suite (IANA name).
pub fn suite_name(suite: rustls::SupportedCipherSuite) -> String {
    // rustls prefixes TLS 1.3 suites with `TLS13_`; the IANA registry names them `TLS_`.
    let name = suite
        .suite()
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{:?}", suite.suite()));
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}
