//! The proxy: listener, CONNECT handling, blind tunnels, interception, forwarding, shutdown.
//!
//! `Proxy::bind` validates everything and binds; `Proxy::run` accepts until the shutdown future
//! resolves, then lets connections finish for a short grace period.
//!
//! - `front`: the plain HTTP leg (CONNECT, absolute-form `http://`).
//! - `route`: the pure decision between intercepting, tunnelling and refusing a connection.
//! - `tunnel`: connections not intercepted (non-AWS hosts, other ports, non-HTTP protocols,
//!   client certificates, `passthrough`), bytes copied blind.
//! - `intercept`: AWS hosts, TLS terminated with a leaf certificate, HTTP served.
//! - `exchange`: one intercepted request: engine, forward or block, record.
//! - `upstream`: verified TLS connections, reused across client connections. `body`:
//!   buffered/streamed bodies.
//! - `dial`: the TCP side of every upstream connection, direct or through `--upstream-proxy`.

mod body;
mod continue_h2;
mod dial;
mod exchange;
mod front;
mod hello_peek;
mod intercept;
mod linger;
mod record;
mod relay;
mod rewind;
mod route;
mod tunnel;
mod upgrade;
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

/// How long connections cut after the grace period get to record their calls.
const CUT_WAIT: Duration = Duration::from_secs(1);

/// hyper's read-buffer bound for HTTP/1 connections: twice the documented head limit. A head
/// over the limit but within this is always read whole and answered by awsguard's own check
/// (an AWS-shaped 431 and a call event). At the limit itself, whether hyper or awsguard refused a
/// head would depend on how the client's bytes happened to arrive (hyper checks its bound only
/// between reads, and a read may carry it past); hyper's own refusal remains for heads far larger.
pub(crate) fn http1_buf_bound(limits: &crate::config::Limits) -> usize {
    limits.max_header_bytes.saturating_mul(2).max(8192)
}

/// One of `--max-connections`, held by a client connection for its whole life (shared by the
/// proxy-protocol leg and the tunnel or interception it turns into).
pub(crate) type ConnPermit = Arc<tokio::sync::OwnedSemaphorePermit>;

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
    /// Opens tunnels' upstream connections (the intercepted ones' go through `upstream`).
    pub(crate) dialer: Arc<dial::Dialer>,
    pub(crate) engine: Engine,
    pub(crate) recorder: Recorder,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Set when the grace period after shutdown is over: connections still open stop at once.
    pub(crate) cut: watch::Receiver<bool>,
    /// Inspection buffer budget shared by all requests, in KiB permits.
    pub(crate) inspect_budget: Arc<Semaphore>,
}

impl Shared {
    /// Where a connection to `host:port` goes, given what its client has sent so far.
    fn route(&self, host: &str, port: u16, hello: route::Hello<'_>) -> route::Route {
        let permits = |name: &str| self.ca.permits(name);
        let rules = route::Rules {
            permits: &permits,
            intercept_ports: &self.config.intercept_ports,
            passthrough: &self.config.passthrough,
            min_tls: self.config.handshake_min_tls(),
        };
        route::decide(host, port, hello, &rules)
    }
}

/// Resolves once shutdown has been requested.
async fn stopped(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await.is_ok();
}

/// Says so when the open-file limit cannot cover `--max-connections`: each intercepted client
/// connection may need an upstream one as well, and running out of descriptors stalls everyone.
fn warn_if_fds_are_short(max_connections: usize) {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let Some(soft) = limit.current else {
        return;
    };
    let needed = u64::try_from(max_connections)
        .unwrap_or(u64::MAX)
        .saturating_mul(2)
        .saturating_add(64);
    if soft < needed {
        tracing::warn!(
            soft,
            max_connections,
            "the open-file limit is below 2 x --max-connections + 64: raise `ulimit -n` or lower --max-connections"
        );
    }
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
    cut_tx: watch::Sender<bool>,
}

impl Proxy {
    /// Builds TLS configs and binds the listener. Nothing is accepted until [`Proxy::run`].
    pub async fn bind(config: Config, ca: Ca, recorder: Recorder) -> Result<Proxy, ProxyError> {
        let ca = Arc::new(ca);
        let cache = NonZeroUsize::new(config.limits.leaf_cache).unwrap_or(NonZeroUsize::MIN);
        let leaf = Arc::new(LeafIssuer::new(ca.clone(), cache)?);
        let min_tls = config.handshake_min_tls();
        let server_tls = Arc::new(tls::server_config(min_tls, leaf.clone())?);
        let mut anchors = Vec::new();
        for path in &config.upstream_ca {
            anchors.extend(tls::load_anchors(path)?);
        }
        let client_tls = Arc::new(tls::client_config(min_tls, &anchors)?);
        let dialer = Arc::new(dial::Dialer::new(
            config.upstream_proxy.clone(),
            config.limits.connect_timeout,
        ));
        let connector = upstream::Connector::new(
            dialer.clone(),
            client_tls,
            config.connect_to.clone(),
            min_tls,
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
        let (cut_tx, cut) = watch::channel(false);
        warn_if_fds_are_short(config.limits.max_connections);
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
            dialer,
            config,
            ca,
            leaf,
            server_tls,
            recorder,
            shutdown,
            cut,
        });
        Ok(Proxy {
            listener,
            shared,
            shutdown_tx,
            cut_tx,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections until `shutdown` resolves, then lets them finish for up to five
    /// seconds (calls in flight complete and are recorded), then cuts what is left.
    ///
    /// Every connection holds one of `--max-connections` permits for its whole life, through
    /// CONNECT, tunnel or interception; a connection over the limit is answered 503 and closed
    /// at once rather than left waiting in the backlog.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let max = self
            .shared
            .config
            .limits
            .max_connections
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        let permits = Arc::new(Semaphore::new(max));
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => match permits.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let shared = self.shared.clone();
                        tasks.spawn(front::serve(shared, stream, peer, Arc::new(permit)));
                    }
                    Err(_) => front::refuse_over_limit(&self.shared, &stream, peer),
                },
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            while tasks.try_join_next().is_some() {}
        }
        drop(self.listener);
        let _ = self.shutdown_tx.send(true);
        // Every connection, intercepted or tunnelled, gives its permit back when it ends.
        let all = u32::try_from(max).unwrap_or(u32::MAX);
        if tokio::time::timeout(GRACE, permits.acquire_many(all))
            .await
            .is_err()
        {
            tracing::info!(
                open = max - permits.available_permits(),
                "closing connections still open after grace period"
            );
            let _ = self.cut_tx.send(true);
            // Cut connections drop their calls, which record themselves as they go.
            let _ = tokio::time::timeout(CUT_WAIT, permits.acquire_many(all)).await;
        }
        tasks.shutdown().await;
        self.shared.recorder.flush();
    }
}
