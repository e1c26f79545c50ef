//! A do-nothing MITM proxy built on hudsucker, used as a comparison peer by
//! awsguard's `benches/proxy.rs` (built on demand by `tools/bench --hudsucker`).
//!
//!   hudsucker-peer --upstream 127.0.0.1:PORT --upstream-ca CA.pem --ca-out OUT.pem
//!                  [--crypto ring|aws-lc-rs]
//!
//! It makes a fresh ECDSA P-256 CA, writes its certificate to --ca-out, listens
//! on an ephemeral loopback port and prints `listening on 127.0.0.1:N`. Every
//! CONNECT is decrypted and handed to hudsucker's NoopHandler. Each upstream
//! connection dials the fixed --upstream address whatever the request's host
//! is (no DNS), then does TLS with SNI and certificate checks for that host,
//! trusting only --upstream-ca. `--crypto` picks the rustls provider for both
//! legs; the default is ring, the one awsguard uses.

use hudsucker::{
    certificate_authority::RcgenAuthority,
    hyper::Uri,
    hyper_util::rt::TokioIo,
    rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        PKCS_ECDSA_P256_SHA256,
    },
    Proxy,
};
use rustls::{
    crypto::CryptoProvider,
    pki_types::{pem::PemObject, CertificateDer},
    ClientConfig, RootCertStore,
};
use std::{
    error::Error,
    future::Future,
    io::Write,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn Error + Send + Sync>;

/// Plain-TCP half of the upstream connector: ignores the URI and always dials
/// one address. hyper-rustls wraps it and still takes SNI and the name to
/// verify from the URI.
#[derive(Clone)]
struct FixedUpstream(SocketAddr);

impl tower_service::Service<Uri> for FixedUpstream {
    type Response = TokioIo<TcpStream>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let addr = self.0;
        Box::pin(async move {
            let tcp = TcpStream::connect(addr).await?;
            tcp.set_nodelay(true)?;
            Ok(TokioIo::new(tcp))
        })
    }
}

struct Args {
    upstream: SocketAddr,
    upstream_ca: String,
    ca_out: String,
    crypto: String,
}

fn parse_args() -> Result<Args, BoxError> {
    let (mut upstream, mut upstream_ca, mut ca_out) = (None, None, None);
    let mut crypto = "ring".to_string();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--upstream" => upstream = Some(value()?.parse()?),
            "--upstream-ca" => upstream_ca = Some(value()?),
            "--ca-out" => ca_out = Some(value()?),
            "--crypto" => crypto = value()?,
            _ => return Err(format!("unknown argument {flag}").into()),
        }
    }
    Ok(Args {
        upstream: upstream.ok_or("--upstream is required")?,
        upstream_ca: upstream_ca.ok_or("--upstream-ca is required")?,
        ca_out: ca_out.ok_or("--ca-out is required")?,
        crypto,
    })
}

fn provider(name: &str) -> Result<CryptoProvider, BoxError> {
    match name {
        "ring" => Ok(rustls::crypto::ring::default_provider()),
        "aws-lc-rs" => Ok(rustls::crypto::aws_lc_rs::default_provider()),
        _ => Err(format!("--crypto must be ring or aws-lc-rs, not {name}").into()),
    }
}

/// A fresh self-signed P-256 CA; its certificate goes to `ca_out`.
fn make_ca(ca_out: &str) -> Result<Issuer<'static, KeyPair>, BoxError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "hudsucker benchmark peer CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key)?;
    std::fs::write(ca_out, cert.pem())?;
    Ok(Issuer::new(params, key))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let args = parse_args()?;

    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&args.upstream_ca)? {
        roots.add(cert?)?;
    }
    let tls = ClientConfig::builder_with_provider(Arc::new(provider(&args.crypto)?))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .wrap_connector(FixedUpstream(args.upstream));

    let ca = RcgenAuthority::new(make_ca(&args.ca_out)?, 1_000, provider(&args.crypto)?);

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", listener.local_addr()?)?;
    out.flush()?;
    drop(out);

    Proxy::builder()
        .with_listener(listener)
        .with_ca(ca)
        .with_http_connector(connector)
        .build()?
        .start()
        .await?;
    Ok(())
}
