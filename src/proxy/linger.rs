//! Lingering close: a client connection is shut down for writing and its remaining input read
//! and dropped (bounded in bytes and time) before the socket is closed.
//!
//! Why: when awsguard refuses a request early (431 head too large, 400) the client may still be
//! writing. Closing a socket with unread input makes the kernel send a reset instead of a FIN,
//! and a client that receives the reset before reading discards the answer already in its
//! receive buffer: it sees "connection reset" instead of the 431. Shutting down the write side
//! first (the answer, then a FIN) and draining lets the client read the answer; the bounds keep
//! a client that never stops sending from holding the connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::ConnPermit;

/// Longest a closing connection is drained.
const LINGER_TIME: Duration = Duration::from_secs(2);

/// How long a closing connection may stay silent before it is closed without draining.
const LINGER_IDLE: Duration = Duration::from_millis(50);
/// Most input read and dropped while draining.
const LINGER_BYTES: usize = 1024 * 1024;

/// A client connection that lingers when dropped: a task shuts it down for writing and drains
/// it, holding the connection's permit until done (so the connection limit still counts it).
pub(crate) struct Lingering<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> {
    io: Option<I>,
    permit: Option<ConnPermit>,
}

impl<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> Lingering<I> {
    pub(crate) fn new(io: I, permit: ConnPermit) -> Self {
        Lingering {
            io: Some(io),
            permit: Some(permit),
        }
    }

    fn io(&mut self) -> io::Result<&mut I> {
        self.io
            .as_mut()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "connection closed"))
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> Drop for Lingering<I> {
    fn drop(&mut self) {
        let (Some(io), permit) = (self.io.take(), self.permit.take()) else {
            return;
        };
        // Outside a runtime (shutting down) the socket is simply closed.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(linger(io, permit));
        }
    }
}

/// Shuts `io` down for writing, then reads and drops its input until the client closes, or
/// [`LINGER_BYTES`] or [`LINGER_TIME`] are reached.
async fn linger<I: AsyncRead + AsyncWrite + Unpin>(mut io: I, permit: Option<ConnPermit>) {
    let _permit = permit;
    let deadline = tokio::time::Instant::now() + LINGER_TIME;
    if !matches!(
        tokio::time::timeout_at(deadline, io.shutdown()).await,
        Ok(Ok(()))
    ) {
        return;
    }
    let mut buf = [0u8; 8192];
    // A client still writing has input waiting or arriving within moments; an idle keep-alive
    // client (the common close, and every close at shutdown) has none and is closed at once.
    match tokio::time::timeout(LINGER_IDLE, io.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => {}
        _ => return,
    }
    let mut drained = 0;
    while drained < LINGER_BYTES {
        match tokio::time::timeout_at(deadline, io.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => drained += n,
            _ => return,
        }
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncRead for Lingering<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_read(cx, buf),
            Err(error) => Poll::Ready(Err(error)),
        }
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncWrite for Lingering<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_write(cx, buf),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.as_ref().is_some_and(AsyncWrite::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_flush(cx),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().io() {
            Ok(io) => Pin::new(io).poll_shutdown(cx),
            Err(error) => Poll::Ready(Err(error)),
        }
    }
}
