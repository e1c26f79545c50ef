//! Blind tunnels for connections awsguard does not intercept (see `route` for why): bytes are
//! copied, never decrypted.
//!
//! The first client bytes are read (and then passed on unchanged) only to record the SNI and the
//! TLS versions offered in a `connection` event, next to the reason for the tunnel.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use super::hello_peek::{peek_hello, Peeked};
use super::record::connection_event;
use super::route::TunnelReason;
use super::Shared;

/// Server-speaks-first protocols (SSH, SMTP) send no ClientHello: the peek gives up after this.
const PEEK_TIMEOUT: Duration = Duration::from_millis(500);

/// Opens the upstream side of a tunnel, before the client is told the CONNECT succeeded.
pub(crate) async fn dial(shared: &Shared, host: &str, port: u16) -> Result<TcpStream, String> {
    let target = shared.config.upstream_target(host, port);
    shared
        .dialer
        .open(host, &target)
        .await
        .map_err(|error| super::upstream::describe(&error))
}

/// Records a tunnel whose upstream could not be reached (the client is told so by its caller).
pub(crate) fn record_dial_failure(
    shared: &Shared,
    host: &str,
    peer: SocketAddr,
    reason: &TunnelReason,
    message: String,
) {
    tracing::warn!(%host, %message, "tunnel failed");
    let mut event = connection_event(host, peer, "upstream-failed");
    event.response_status = Some(http::StatusCode::BAD_GATEWAY.as_u16());
    if let Some(details) = event.connection.as_mut() {
        details.message = Some(format!("{reason}; {message}"));
        details.reason = Some(reason.code().to_owned());
    }
    shared.recorder.record(event);
}

/// Copies bytes between `client` and `upstream` until either side closes, the tunnel goes idle
/// (`tunnel-idle-timeout`, recorded as an `idle-timeout` connection event) or the proxy stops.
pub(crate) async fn run<S>(
    shared: Arc<Shared>,
    mut client: S,
    mut upstream: TcpStream,
    host: String,
    peer: SocketAddr,
    reason: TunnelReason,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut event = connection_event(&host, peer, "tunnelled");
    let (peeked, first) = peek_hello(&mut client, PEEK_TIMEOUT).await;
    if let Some(details) = event.connection.as_mut() {
        if let Peeked::Hello(hello) = &peeked {
            details.server_name = hello.server_name.clone();
            details.offered_tls_versions = hello.version_names();
        }
        details.reason = Some(reason.code().to_owned());
        details.message = Some(reason.to_string());
    }
    let name = event
        .connection
        .as_ref()
        .and_then(|c| c.server_name.clone())
        .unwrap_or_else(|| host.clone());
    event.fips = shared.engine.fips_details(&name);
    shared.recorder.record(event);
    if !first.is_empty() && upstream.write_all(&first).await.is_err() {
        return;
    }
    let activity = Arc::new(Activity::new());
    let mut client = Watched::new(client, activity.clone());
    let mut upstream = Watched::new(upstream, activity.clone());
    let idle = shared.config.limits.tunnel_idle_timeout;
    let copy = tokio::io::copy_bidirectional(&mut client, &mut upstream);
    tokio::pin!(copy);
    // A tunnel cannot be drained (its bytes are opaque): it runs until the grace period after
    // shutdown is over, or until no byte has crossed it either way for `idle`.
    loop {
        tokio::select! {
            copied = &mut copy => {
                if let Err(error) = copied {
                    tracing::debug!(%host, %error, "tunnel closed with an error");
                }
                return;
            }
            () = super::stopped(shared.cut.clone()) => return,
            () = tokio::time::sleep_until(activity.last() + idle) => {
                if activity.last() + idle <= tokio::time::Instant::now() {
                    record_idle(&shared, &host, peer, &reason, idle);
                    return;
                }
            }
        }
    }
}

/// Records a tunnel closed for carrying no bytes for `idle`.
fn record_idle(
    shared: &Shared,
    host: &str,
    peer: SocketAddr,
    reason: &TunnelReason,
    idle: Duration,
) {
    tracing::info!(%host, "closing an idle tunnel");
    let mut event = connection_event(host, peer, "idle-timeout");
    if let Some(details) = event.connection.as_mut() {
        details.message = Some(format!(
            "no bytes crossed the tunnel either way for {} s (tunnel-idle-timeout); closed",
            idle.as_secs()
        ));
        details.reason = Some(reason.code().to_owned());
    }
    shared.recorder.record(event);
}

/// When bytes last crossed a tunnel, either way.
struct Activity {
    origin: tokio::time::Instant,
    /// Milliseconds from `origin` to the last read of at least one byte.
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            origin: tokio::time::Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn stamp(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> tokio::time::Instant {
        self.origin + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// One side of a tunnel, stamping [`Activity`] whenever it reads bytes (every byte written was
/// read from the other side first).
struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    fn new(inner: S, activity: Arc<Activity>) -> Self {
        Watched { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.stamp();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
