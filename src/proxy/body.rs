//! Request bodies on their way upstream: buffered for inspection when small, streamed otherwise.
//!
//! A body is read into memory only up to the inspection limit. If it ends within the limit it is
//! inspected and sent from memory; if not, what was read is replayed and the rest streams through
//! untouched, so a multi-GiB upload passes in flat memory.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use tokio::sync::mpsc;

use super::upstream::UpstreamBody;

/// What the proxy sends back to clients: upstream bodies, or its own small answers.
pub(crate) type ResponseBody = Either<UpstreamBody, Full<Bytes>>;

/// A small in-memory response body.
pub(crate) fn full(bytes: impl Into<Bytes>) -> ResponseBody {
    Either::Right(Full::new(bytes.into()))
}

/// A request body: chunks already read, then (maybe) the rest of the client's stream, or the
/// frames a relay hands over while the call is skimmed ([`RequestBody::relayed`]).
pub(crate) struct RequestBody {
    read: VecDeque<Bytes>,
    trailers: Option<HeaderMap>,
    rest: Rest,
    /// Longest wait for the client's next bytes while they stream ([`RequestBody::idle_after`]).
    idle: Option<IdleTimer>,
}

/// A timer between the frames of a streamed body: restarted by each frame, armed at the first
/// poll (not while the upstream connection is still being opened).
pub(crate) struct IdleTimer {
    after: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl IdleTimer {
    pub(crate) fn new(after: Duration) -> Self {
        IdleTimer { after, timer: None }
    }

    /// Whether the wait that is pending now has lasted too long; registers `cx` for the expiry.
    pub(crate) fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let after = self.after;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(after)));
        timer.as_mut().poll(cx).is_ready()
    }

    /// Something arrived: the wait starts again.
    pub(crate) fn restart(&mut self) {
        if let Some(timer) = self.timer.as_mut() {
            timer
                .as_mut()
                .reset(tokio::time::Instant::now() + self.after);
        }
    }
}

/// Where a request body's frames come from once the buffered chunks are sent.
enum Rest {
    /// Nothing more (the buffered trailers, if any).
    Done,
    /// The client's stream, untouched.
    Client(Incoming),
    /// A relay: the body ends cleanly only at [`Relay::End`]; a relay dropped before it fails
    /// the body, so the upstream never sees a complete request.
    Relay {
        frames: mpsc::Receiver<Relay>,
        length: Option<u64>,
        ended: bool,
    },
}

/// One message of a relayed body.
#[derive(Debug)]
pub(crate) enum Relay {
    /// The next frame.
    Frame(Frame<Bytes>),
    /// The body is complete.
    End,
}

/// Why a body sent upstream failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendBodyError {
    /// The client's stream failed.
    #[error("client request body failed")]
    Client(#[source] hyper::Error),
    /// The client sent nothing for longer than `stream-idle-timeout`.
    #[error("the client stopped sending the request body")]
    Idle,
    /// awsguard withheld the end of the body: the call was refused (or its client went away)
    /// after the body had started upstream.
    #[error("request body withheld by awsguard")]
    Withheld,
}

/// Bodies carry whatever the caller sent: `Debug` shows sizes only.
impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody")
            .field("buffered", &self.read.iter().map(Bytes::len).sum::<usize>())
            .field("trailers", &self.trailers.is_some())
            .field("streaming", &!matches!(self.rest, Rest::Done))
            .finish()
    }
}

impl RequestBody {
    /// Streams `body` untouched.
    pub(crate) fn streaming(body: Incoming) -> Self {
        RequestBody {
            read: VecDeque::new(),
            trailers: None,
            rest: Rest::Client(body),
            idle: None,
        }
    }

    /// Fails the body when the client's stream (not what was read already) goes `after` without
    /// a frame: the upstream request is then cut instead of waiting on a stalled client.
    pub(crate) fn idle_after(mut self, after: Duration) -> Self {
        self.idle = Some(IdleTimer::new(after));
        self
    }

    /// A body fed through the returned sender, `length` bytes long when known (the client's
    /// `Content-Length`). The channel holds `depth` frames: memory stays flat.
    pub(crate) fn relayed(length: Option<u64>, depth: usize) -> (mpsc::Sender<Relay>, Self) {
        let (tx, frames) = mpsc::channel(depth.max(1));
        let body = RequestBody {
            read: VecDeque::new(),
            trailers: None,
            rest: Rest::Relay {
                frames,
                length,
                ended: false,
            },
            idle: None,
        };
        (tx, body)
    }
}

/// The outcome of reading a body up to a limit.
pub(crate) enum Buffered {
    /// The whole body (and its trailers), within the limit.
    Complete {
        bytes: Bytes,
        trailers: Option<HeaderMap>,
    },
    /// The limit was passed: the chunks read so far and the rest of the stream.
    Partial {
        read: VecDeque<Bytes>,
        rest: Incoming,
    },
}

impl Buffered {
    /// The body to send upstream.
    pub(crate) fn into_body(self) -> RequestBody {
        match self {
            Buffered::Complete { bytes, trailers } => RequestBody {
                read: if bytes.is_empty() {
                    VecDeque::new()
                } else {
                    VecDeque::from([bytes])
                },
                trailers,
                rest: Rest::Done,
                idle: None,
            },
            Buffered::Partial { read, rest } => RequestBody {
                read,
                trailers: None,
                rest: Rest::Client(rest),
                idle: None,
            },
        }
    }
}

/// How long a client may take to send a body that is read for inspection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimeouts {
    /// Longest wait for the next bytes.
    pub(crate) idle: Duration,
    /// Longest time for the whole body.
    pub(crate) total: Duration,
}

/// Why a body could not be read for inspection.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// The client's stream failed.
    #[error("request body read failed")]
    Read(#[source] hyper::Error),
    /// The client sent too slowly (between bytes, or in total).
    #[error("request body read timed out")]
    Timeout,
    /// No room in the shared inspection budget came free in time.
    #[error("timed out waiting for inspection memory")]
    BudgetWait,
}

/// Reads `body` until it ends or more than `limit` bytes have arrived, within `timeouts`.
///
/// Chunks are copied into one buffer grown exactly to need (never past `limit`): a body sent
/// as many tiny chunks or TLS records costs its own size, not one receive buffer per chunk
/// (each tiny `Bytes` would keep its whole receive buffer alive).
pub(crate) async fn buffer(
    mut body: Incoming,
    limit: usize,
    timeouts: BodyTimeouts,
) -> Result<Buffered, BodyError> {
    let deadline = tokio::time::Instant::now() + timeouts.total;
    let hint = usize::try_from(body.size_hint().exact().unwrap_or(0)).unwrap_or(usize::MAX);
    let mut all: Vec<u8> = Vec::with_capacity(hint.min(limit));
    let mut trailers = None;
    loop {
        let next = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + timeouts.idle),
            body.frame(),
        );
        let Some(frame) = next.await.map_err(|_| BodyError::Timeout)? else {
            break;
        };
        let frame = frame.map_err(BodyError::Read)?;
        match frame.into_data() {
            Ok(data) => {
                if all.len().saturating_add(data.len()) > limit {
                    let read = VecDeque::from([Bytes::from(all), data]);
                    return Ok(Buffered::Partial { read, rest: body });
                }
                grow(&mut all, data.len(), limit);
                all.extend_from_slice(&data);
            }
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers = Some(t);
                }
            }
        }
    }
    Ok(Buffered::Complete {
        bytes: Bytes::from(all),
        trailers,
    })
}

/// Makes room for `more` bytes: doubling (so copying stays linear) but never past `limit`.
fn grow(buf: &mut Vec<u8>, more: usize, limit: usize) {
    let need = buf.len().saturating_add(more);
    if need > buf.capacity() {
        let target = need
            .max(buf.capacity().saturating_mul(2))
            .min(limit.max(need));
        buf.reserve_exact(target - buf.len());
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = SendBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, SendBodyError>>> {
        let this = self.get_mut();
        if let Some(chunk) = this.read.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        match &mut this.rest {
            Rest::Client(rest) => {
                let polled = Pin::new(rest).poll_frame(cx);
                if let Some(idle) = this.idle.as_mut() {
                    if polled.is_ready() {
                        idle.restart();
                    } else if idle.expired(cx) {
                        return Poll::Ready(Some(Err(SendBodyError::Idle)));
                    }
                }
                polled.map_err(SendBodyError::Client)
            }
            Rest::Done => Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t)))),
            Rest::Relay { ended: true, .. } => Poll::Ready(None),
            Rest::Relay { frames, ended, .. } => match frames.poll_recv(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Some(Relay::Frame(frame))) => Poll::Ready(Some(Ok(frame))),
                Poll::Ready(Some(Relay::End)) => {
                    *ended = true;
                    Poll::Ready(None)
                }
                Poll::Ready(None) => {
                    *ended = true;
                    Poll::Ready(Some(Err(SendBodyError::Withheld)))
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.read.is_empty()
            && self.trailers.is_none()
            && match &self.rest {
                Rest::Done => true,
                Rest::Client(rest) => rest.is_end_stream(),
                Rest::Relay { ended, .. } => *ended,
            }
    }

    fn size_hint(&self) -> SizeHint {
        let read: u64 = self.read.iter().map(|c| c.len() as u64).sum();
        let rest = match &self.rest {
            Rest::Done => return SizeHint::with_exact(read),
            Rest::Client(rest) => rest.size_hint(),
            Rest::Relay {
                length: Some(length),
                ..
            } => SizeHint::with_exact(*length),
            Rest::Relay { length: None, .. } => SizeHint::new(),
        };
        let mut out = SizeHint::new();
        out.set_lower(rest.lower().saturating_add(read));
        if let Some(upper) = rest.upper() {
            out.set_upper(upper.saturating_add(read));
        }
        out
    }
}
