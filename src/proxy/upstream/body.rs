//! Upstream response bodies on their way to the client. One from a pooled connection carries the
//! connection, and checks it back in to its route once the body has been read to its end.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use super::connect::Conn;
use super::pool::Route;

/// A response body from upstream.
pub(crate) struct UpstreamBody {
    inner: Incoming,
    /// The connection it arrived on, to check back in: `None` for the plain-http client's
    /// bodies, and once checked in.
    lease: Option<(Arc<Route>, Conn)>,
    ended: bool,
}

impl UpstreamBody {
    pub(crate) fn leased(inner: Incoming, route: Arc<Route>, conn: Conn) -> Self {
        UpstreamBody {
            inner,
            lease: Some((route, conn)),
            ended: false,
        }
    }
}

/// A body whose connection is pooled elsewhere (the plain-http client's).
impl From<Incoming> for UpstreamBody {
    fn from(inner: Incoming) -> Self {
        UpstreamBody {
            inner,
            lease: None,
            ended: false,
        }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            this.ended = true;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The server drops a body once it has sent it (or given up on it): only a body read to its end
/// leaves the connection fit for another request. Any other is dropped with the body, which
/// closes the connection.
impl Drop for UpstreamBody {
    fn drop(&mut self) {
        if let Some((route, conn)) = self.lease.take() {
            if self.ended || self.inner.is_end_stream() {
                route.check_in(conn);
            }
        }
    }
}
