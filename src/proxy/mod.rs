//! The proxy: listener, CONNECT handling, blind tunnels, interception, forwarding, shutdown.
//!
//! `Proxy::bind` validates everything and binds; `Proxy::run` accepts until the shutdown future
//! resolves, then lets connections finish for a short grace period.
//!
//! - `front`: the plain HTTP leg (CONNECT, absolute-form `http://`).
//! - `tunnel`: non-AWS hosts, bytes copied blind.
//! - `intercept`: AWS hosts, TLS terminated with a leaf certificate, HTTP served.
//! - `exchange`: one intercepted request: engine, forward or block, record.
//! - `upstream`: verified TLS connections, reused across client connections. `body`:
//!   buffered/streamed bodies.

mod body;
mod exchange;
mod front;
mod hello_peek;
mod intercept;
mod record;
mod rewind;
mod tunnel;
mod upstream;

pub(crate) use body::BodyTimeouts;

use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::ca::{Ca, CaError, LeafIssuer};
use crate::config::Config;
use crate::engine::Engine;
use crate::events::Recorder;
use crate::tls::{self, TlsError};

/// How long connections may finish after shutdown is requested.
const GRACE: Duration = Duration::from_secs(5);

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// TLS configuration failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The CA failed.
    #[error(transparent)]
    Ca(#[from] CaError),
}

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) ca: Arc<Ca>,
    pub(crate) leaf: Arc<LeafIssuer>,
    pub(crate) server_tls: Arc<ServerConfig>,
    pub(crate) upstream: upstream::Upstream,
    pub(crate) plain: upstream::PlainClient,
    pub(crate) engine: Engine,
    pub(crate) recorder: Recorder,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Inspection buffer budget shared by all requests, in KiB permits.
    pub(crate) inspect_budget: Arc<Semaphore>,
}

/// Resolves once shutdown has been requested.
async fn stopped(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await.is_ok();
}

/// Run on the warm-up thread once the detectors have loaded their data (see [`after_warm_up`]).
static AFTER_WARM_UP: OnceLock<fn()> = OnceLock::new();

/// Sets what runs once the detectors have loaded their data at start-up (once per process; a
/// second call is ignored). The binary uses it to hand the pages freed while loading back to the
/// operating system: it chose the allocator, so the library leaves that to it.
pub fn after_warm_up(hook: fn()) {
    let _ = AFTER_WARM_UP.set(hook);
}

/// A bound proxy, ready to run.
pub struct Proxy {
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown_tx: watch::Sender<bool>,
}

impl Proxy {
    /// Builds TLS configs and binds the listener. Nothing is accepted until [`Proxy::run`].
    pub async fn bind(config: Config, ca: Ca, recorder: Recorder) -> Result<Proxy, ProxyError> {
        let ca = Arc::new(ca);
        let cache = NonZeroUsize::new(config.limits.leaf_cache).unwrap_or(NonZeroUsize::MIN);
        let leaf = Arc::new(LeafIssuer::new(ca.clone(), cache)?);
        let server_tls = Arc::new(tls::server_config(config.min_tls, leaf.clone())?);
        let mut anchors = Vec::new();
        for path in &config.upstream_ca {
            anchors.extend(tls::load_anchors(path)?);
        }
        let client_tls = Arc::new(tls::client_config(config.min_tls, &anchors)?);
        let connector = upstream::Connector::new(
            client_tls,
            config.connect_to.clone(),
            config.min_tls,
            config.limits.connect_timeout,
        );
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ProxyError::Bind {
                    addr: config.listen,
                    source,
                })?;
        if config.inspect {
            // Off the accept path: listening starts at once, and no call waits for it.
            let scanner = config.scanner.clone();
            let _ = std::thread::Builder::new()
                .name("awsguard-warm-up".into())
                .spawn(move || {
                    scanner.warm_up();
                    if let Some(hook) = AFTER_WARM_UP.get() {
                        hook();
                    }
                    tracing::debug!("detectors warmed up");
                });
        }
        let (shutdown_tx, shutdown) = watch::channel(false);
        let budget_kib =
            (config.limits.inspect_budget_bytes / 1024).clamp(1, Semaphore::MAX_PERMITS);
        let shared = Arc::new(Shared {
            inspect_budget: Arc::new(Semaphore::new(budget_kib)),
            engine: Engine::new(&config),
            upstream: upstream::Upstream::new(
                connector,
                upstream::POOL_LIMITS,
                config.limits.upstream_response_timeout,
            ),
            plain: upstream::plain_client(),
            config,
            ca,
            leaf,
            server_tls,
            recorder,
            shutdown,
        });
        Ok(Proxy {
            listener,
            shared,
            shutdown_tx,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections until `shutdown` resolves, then drains them for up to five seconds.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let permits = Arc::new(Semaphore::new(self.shared.config.limits.max_connections));
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => {
                    let shared = self.shared.clone();
                    tasks.spawn(async move {
                        front::serve(shared, stream, peer).await;
                        drop(permit);
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            while tasks.try_join_next().is_some() {}
        }
        drop(self.listener);
        let _ = self.shutdown_tx.send(true);
        let drained =
            tokio::time::timeout(GRACE, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::info!(
                open = tasks.len(),
                "closing connections still open after grace period"
            );
        }
        tasks.shutdown().await;
        self.shared.recorder.flush();
    }
}
