//! Upstream response bodies on their way to the client. One from a pooled connection carries the
//! connection, and checks it back in to its route once the body has been read to its end. One
//! from an intercepted call carries the call's record, completed when the body ends or stops.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use super::connect::Conn;
use super::pool::Route;
use crate::events::Outcome;
use crate::proxy::body::IdleTimer;
use crate::proxy::record::CallRecord;

/// A response body from upstream.
pub(crate) struct UpstreamBody {
    inner: Incoming,
    /// The connection it arrived on, to check back in: `None` for the plain-http client's
    /// bodies, and once checked in.
    lease: Option<(Arc<Route>, Conn)>,
    ended: bool,
    /// The call's record, completed when the body ends, fails or is dropped.
    record: Option<CallRecord>,
    /// Longest wait for the upstream's next bytes ([`UpstreamBody::idle_after`]).
    idle: Option<IdleTimer>,
}

/// Why a response body stopped before its end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamBodyError {
    /// The upstream connection failed.
    #[error("upstream response body failed")]
    Upstream(#[source] hyper::Error),
    /// The upstream sent nothing for longer than `stream-idle-timeout`.
    #[error("the upstream stopped sending the response body")]
    Idle,
}

impl UpstreamBody {
    pub(crate) fn leased(inner: Incoming, route: Arc<Route>, conn: Conn) -> Self {
        UpstreamBody {
            inner,
            lease: Some((route, conn)),
            ended: false,
            record: None,
            idle: None,
        }
    }

    /// Fails the body (and completes its record) when the upstream goes `after` without a
    /// frame, instead of holding the client forever.
    pub(crate) fn idle_after(mut self, after: Duration) -> Self {
        self.idle = Some(IdleTimer::new(after));
        self
    }

    /// The body completes `record` with how it ends.
    pub(crate) fn with_record(mut self, record: CallRecord) -> Self {
        self.record = Some(record);
        self
    }
}

/// A body whose connection is pooled elsewhere (the plain-http client's).
impl From<Incoming> for UpstreamBody {
    fn from(inner: Incoming) -> Self {
        UpstreamBody {
            inner,
            lease: None,
            ended: false,
            record: None,
            idle: None,
        }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = UpstreamBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, UpstreamBodyError>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Some(idle) = this.idle.as_mut() {
            if frame.is_ready() {
                idle.restart();
            } else if idle.expired(cx) {
                if let Some(record) = this.record.take() {
                    record.finish(Outcome::UpstreamBodyTimeout);
                }
                return Poll::Ready(Some(Err(UpstreamBodyError::Idle)));
            }
        }
        match &frame {
            Poll::Ready(None) => {
                this.ended = true;
                if let Some(record) = this.record.take() {
                    record.finish(Outcome::Completed);
                }
            }
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(record), Some(data)) = (this.record.as_mut(), frame.data_ref()) {
                    record.observe(data);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(record) = this.record.take() {
                    record.finish(Outcome::UpstreamReset { during_body: true });
                }
            }
            Poll::Pending => {}
        }
        frame.map(|f| f.map(|r| r.map_err(UpstreamBodyError::Upstream)))
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
        let complete = self.ended || self.inner.is_end_stream();
        if let Some((route, conn)) = self.lease.take() {
            if complete {
                route.check_in(conn);
            }
        }
        // A body the server never polled to its end is complete only if nothing was left in it;
        // otherwise the record's own drop says why it stopped (client gone, or shutdown).
        if let Some(record) = self.record.take() {
            if complete {
                record.finish(Outcome::Completed);
            }
        }
    }
}
