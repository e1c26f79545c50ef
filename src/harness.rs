//! The embeddable proxy for Rust integration tests: a [`Guard`] runs awsguard on an ephemeral
//! loopback port with a temporary CA and a chosen policy, hands out the environment a client
//! needs, records every event in memory for typed assertions, and stops when dropped.
//!
//! The proxy runs on its own thread with its own Tokio runtime, so synchronous tests and async
//! tests (any runtime flavour) use it the same way.
//!
//! ```
//! use std::io::{Read, Write};
//! use awsguard::harness::Guard;
//!
//! let guard = Guard::builder().start()?;
//! // A plain-http call to an AWS endpoint, sent the way a proxied client would send it.
//! let mut client = std::net::TcpStream::connect(guard.proxy_addr())?;
//! client.write_all(
//!     b"GET http://sqs.us-east-1.amazonaws.com/ HTTP/1.1\r\n\
//!       Host: sqs.us-east-1.amazonaws.com\r\nConnection: close\r\n\r\n",
//! )?;
//! let mut response = String::new();
//! client.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 403"));
//!
//! let events = guard.wait_for_events(1, std::time::Duration::from_secs(5))?;
//! assert_eq!(events[0].request_host, "sqs.us-east-1.amazonaws.com");
//! assert_eq!(guard.findings()[0].rule, "cleartext");
//! // Child processes (the AWS CLI, curl, an SDK test binary) get the proxy and the CA bundle:
//! assert!(guard.env().iter().any(|(k, v)| k == "HTTPS_PROXY" && *v == guard.proxy_url()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! In-process clients connect through the guard with [`Guard::connect`] and speak HTTP over the
//! returned TLS stream, here with hyper. In enforce mode a violating call is answered by awsguard
//! itself, so no upstream is needed:
//!
//! ```
//! use awsguard::config::Mode;
//! use awsguard::harness::Guard;
//! use http_body_util::{BodyExt, Full};
//!
//! let guard = Guard::builder().mode(Mode::Enforce).start()?;
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let (status, body) = runtime.block_on(async {
//!     let tls = guard.connect("sqs.us-east-1.amazonaws.com", 443).await?;
//!     let io = hyper_util::rt::TokioIo::new(tls);
//!     let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
//!     tokio::spawn(connection);
//!     let request = http::Request::post("/")
//!         .header("host", "sqs.us-east-1.amazonaws.com")
//!         .header("x-amz-target", "AmazonSQS.CreateQueue")
//!         .header("content-type", "application/x-amz-json-1.0")
//!         .body(Full::new(bytes::Bytes::from_static(
//!             br#"{"QueueName":"orders","tags":{"owner":"jane.doe@example.com"}}"#,
//!         )))?;
//!     let response = sender.send_request(request).await?;
//!     let status = response.status();
//!     let body = response.into_body().collect().await?.to_bytes();
//!     Ok::<_, Box<dyn std::error::Error>>((status, body))
//! })?;
//! assert_eq!(status, 403);
//! assert!(String::from_utf8_lossy(&body).contains("AwsGuardPolicyViolation"));
//! assert_eq!(guard.api_calls()[0].event_name.as_deref(), Some("CreateQueue"));
//! assert_eq!(guard.findings()[0].location, "body:tags.owner");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod tunnel;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::sync::Arc;

use rustls::ClientConfig;
use rustls_pki_types::CertificateDer;
use tokio::sync::oneshot;

use crate::ca::{self, Ca, CaError};
use crate::config::{Config, ConfigError, FipsMissing, FipsMode, Mode, Settings};
use crate::events::{Event, EventType, Recorder};
use crate::exec::bundle::{self, BundleError};
use crate::exec::env::child_env;
use crate::inspect::{Finding, Severity};
use crate::proxy::{Proxy, ProxyError};
use crate::tls::{self, MinTls, TlsError};

/// How often [`Guard::wait_for_events`] looks.
const POLL: Duration = Duration::from_millis(10);

/// Why a guard could not start, or a wait ran out.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The settings are invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The temporary CA could not be created.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// The combined CA bundle could not be written.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The proxy could not start.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// The client TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The temporary directory, runtime or thread could not be created.
    #[error("cannot start the harness")]
    Io(#[from] std::io::Error),
    /// The proxy thread ended before reporting its address.
    #[error("the proxy thread stopped unexpectedly")]
    Stopped,
    /// Fewer events than expected arrived in time.
    #[error("expected {wanted} events within {timeout:?}, got {got}")]
    Timeout {
        /// Events waited for.
        wanted: usize,
        /// Events recorded.
        got: usize,
        /// How long the wait was.
        timeout: Duration,
    },
}

/// Chooses the policy before [`GuardBuilder::start`]. Defaults are `awsguard run`'s (audit mode,
/// TLS 1.2 minimum, FIPS audit), on `127.0.0.1:0`.
#[derive(Debug, Clone, Default)]
pub struct GuardBuilder {
    settings: Settings,
    permit: Vec<String>,
}

impl GuardBuilder {
    /// Audit (record and forward) or enforce (block violations).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.settings.mode = Some(mode);
        self
    }

    /// Lowest severity that blocks in enforce mode.
    pub fn block_severity(mut self, severity: Severity) -> Self {
        self.settings.block_severity = Some(severity);
        self
    }

    /// Minimum TLS version on both legs.
    pub fn min_tls(mut self, min: MinTls) -> Self {
        self.settings.min_tls = Some(min);
        self
    }

    /// FIPS endpoint policy.
    pub fn fips(mut self, fips: FipsMode) -> Self {
        self.settings.fips = Some(fips);
        self
    }

    /// What to do when no FIPS endpoint exists for the service and region.
    pub fn fips_missing(mut self, missing: FipsMissing) -> Self {
        self.settings.fips_missing = Some(missing);
        self
    }

    /// Sends upstream connections for `pattern` (a host or `*.suffix`) to `target` (`host:port`),
    /// e.g. every AWS host to a local moto or LocalStack.
    pub fn connect_to(mut self, pattern: &str, target: impl std::fmt::Display) -> Self {
        self.settings.connect_to.push(format!("{pattern}={target}"));
        self
    }

    /// Trusts `pem_file` when verifying upstream certificates (a local test upstream's CA).
    pub fn upstream_ca(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.settings.upstream_ca.push(pem_file.into());
        self
    }

    /// Lets the temporary CA also sign for `domain` (e.g. a LocalStack domain).
    pub fn permit(mut self, domain: &str) -> Self {
        self.permit.push(domain.to_owned());
        self
    }

    /// Everything else (rules, custom identifiers, allowlists, limits), as a config file would
    /// set it; values already set on the builder win.
    pub fn settings(mut self, base: Settings) -> Self {
        self.settings = self.settings.over(base);
        self
    }

    /// Creates the temporary CA and bundle, binds the proxy and starts it on its own thread.
    pub fn start(self) -> Result<Guard, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix("awsguard-harness-")
            .tempdir()?;
        let ca_dir = dir.path().join("ca");
        let now = time::OffsetDateTime::now_utc();
        let ca = Ca::init(&ca_dir, &ca::default_permitted(&self.permit), false, now)?;
        let mut settings = self.settings;
        settings.listen = settings
            .listen
            .or(Some(SocketAddr::from(([127, 0, 0, 1], 0))));
        let config = Config::resolve(settings, ca_dir)?;
        let bundle_path = dir.path().join("bundle.pem");
        bundle::write_bundle(&bundle_path, ca.cert_der())?;
        let ca_cert = ca.paths().cert.clone();
        let ca_der = ca.cert_der().clone();
        let mut client_tls = tls::client_config(MinTls::Tls12, std::slice::from_ref(&ca_der))?;
        // What `connect`'s documentation promises: a stream for hyper's HTTP/1.1 handshake.
        client_tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client_tls = Arc::new(client_tls);
        let recorder = Recorder::none().with_memory();
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop, stop_rx) = oneshot::channel();
        let proxy_recorder = recorder.clone();
        let thread = std::thread::Builder::new()
            .name("awsguard-harness".into())
            .spawn(move || serve(config, ca, proxy_recorder, ready_tx, stop_rx))?;
        let addr = ready_rx.recv().map_err(|_| HarnessError::Stopped)??;
        Ok(Guard {
            addr,
            recorder,
            ca_cert,
            ca_der,
            client_tls,
            bundle: bundle_path,
            no_proxy: std::env::var("NO_PROXY")
                .or_else(|_| std::env::var("no_proxy"))
                .ok(),
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        })
    }
}

/// The proxy thread: binds, reports the address (or the error), runs until told to stop.
fn serve(
    config: Config,
    ca: Ca,
    recorder: Recorder,
    ready: mpsc::Sender<Result<SocketAddr, HarnessError>>,
    stop: oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("awsguard-harness-worker")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready.send(Err(error.into()));
            return;
        }
    };
    runtime.block_on(async move {
        let bound = Proxy::bind(config, ca, recorder).await;
        let proxy = match bound {
            Ok(proxy) => proxy,
            Err(error) => {
                let _ = ready.send(Err(error.into()));
                return;
            }
        };
        match proxy.local_addr() {
            Ok(addr) => {
                let _ = ready.send(Ok(addr));
            }
            Err(error) => {
                let _ = ready.send(Err(error.into()));
                return;
            }
        }
        proxy
            .run(async move {
                let _ = stop.await;
            })
            .await;
    });
}

/// A running proxy for one test. Dropping it stops the proxy and deletes the temporary CA.
pub struct Guard {
    addr: SocketAddr,
    recorder: Recorder,
    ca_cert: PathBuf,
    ca_der: CertificateDer<'static>,
    client_tls: Arc<ClientConfig>,
    bundle: PathBuf,
    no_proxy: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("addr", &self.addr)
            .field("ca_cert", &self.ca_cert)
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// A builder with `awsguard run`'s defaults.
    pub fn builder() -> GuardBuilder {
        GuardBuilder::default()
    }

    /// The proxy's address (`127.0.0.1:<ephemeral>`).
    pub fn proxy_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, the value for `HTTPS_PROXY`.
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The temporary CA certificate alone (PEM), for trust stores that add to the system roots
    /// (`NODE_EXTRA_CA_CERTS`, a rustls `RootCertStore`).
    pub fn ca_cert_path(&self) -> &Path {
        &self.ca_cert
    }

    /// The temporary CA certificate in DER.
    pub fn ca_cert_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// System roots plus the temporary CA (PEM), for settings that replace the system roots
    /// (`AWS_CA_BUNDLE`, `SSL_CERT_FILE`).
    pub fn ca_bundle_path(&self) -> &Path {
        &self.bundle
    }

    /// The variables a child process needs (proxy in both cases, bundle under every name,
    /// `NO_PROXY` without AWS hosts), as `awsguard exec` sets them.
    pub fn env(&self) -> Vec<(String, String)> {
        child_env(
            &self.proxy_url(),
            &self.bundle,
            self.no_proxy.as_deref(),
            crate::aws::partition_dns_suffixes(),
        )
    }

    /// A command with [`Guard::env`] applied.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.envs(self.env());
        command
    }

    /// A rustls client configuration trusting the guard's CA (and the public web roots), with
    /// ALPN `http/1.1`: what an in-process client needs for hosts the guard intercepts.
    pub fn client_tls_config(&self) -> Arc<ClientConfig> {
        self.client_tls.clone()
    }

    /// Opens a TLS connection to `host:port` through the guard (`CONNECT`, then TLS with
    /// [`Guard::client_tls_config`]); hand it to hyper's `client::conn::http1::handshake`.
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        tunnel::connect(self.addr, self.client_tls.clone(), host, port).await
    }

    /// Every event recorded so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.recorder.events()
    }

    /// The API-call events recorded so far.
    pub fn api_calls(&self) -> Vec<Event> {
        let mut events = self.events();
        events.retain(|e| e.event_type == EventType::ApiCall);
        events
    }

    /// Every finding recorded so far, in event order.
    pub fn findings(&self) -> Vec<Finding> {
        self.events().into_iter().flat_map(|e| e.findings).collect()
    }

    /// Blocks until at least `n` events were recorded, or `timeout` passes. An event is recorded
    /// before its response is sent, so after a client call returns no wait is needed; this is for
    /// calls made concurrently.
    pub fn wait_for_events(&self, n: usize, timeout: Duration) -> Result<Vec<Event>, HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            let events = self.events();
            if events.len() >= n {
                return Ok(events);
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    wanted: n,
                    got: events.len(),
                    timeout,
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// Stops the proxy (open connections get up to five seconds to finish) and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_an_ephemeral_loopback_port_and_stops_on_drop() {
        let guard = Guard::builder().start().unwrap();
        let addr = guard.proxy_addr();
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0);
        assert!(guard.ca_cert_path().is_file());
        let bundle = std::fs::read_to_string(guard.ca_bundle_path()).unwrap();
        assert!(bundle::count_certs(&bundle) > 100);
        drop(guard);
        assert!(std::net::TcpStream::connect(addr).is_err());
    }

    #[test]
    fn wait_for_events_times_out_with_the_count() {
        let guard = Guard::builder().start().unwrap();
        let err = guard
            .wait_for_events(1, Duration::from_millis(30))
            .unwrap_err();
        assert_eq!(err.to_string(), "expected 1 events within 30ms, got 0");
    }

    #[test]
    fn invalid_settings_are_config_errors() {
        let err = Guard::builder()
            .connect_to("*.amazonaws.com", "no-port")
            .start()
            .unwrap_err();
        assert!(matches!(err, HarnessError::Config(_)), "{err:?}");
    }
}
