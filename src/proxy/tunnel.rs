//! Blind tunnels for connections awsguard does not intercept (see `route` for why): bytes are
//! copied, never decrypted.
//!
//! The first client bytes are read (and then passed on unchanged) only to record the SNI and the
//! TLS versions offered in a `connection` event, next to the reason for the tunnel.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
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

/// Copies bytes between `client` and `upstream` until either side closes.
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
    // A tunnel cannot be drained (its bytes are opaque): it runs until the grace period after
    // shutdown is over.
    tokio::select! {
        copied = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {
            if let Err(error) = copied {
                tracing::debug!(%host, %error, "tunnel closed with an error");
            }
        }
        () = super::stopped(shared.cut.clone()) => {}
    }
}
