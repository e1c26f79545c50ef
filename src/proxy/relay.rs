//! A skimmed body on its way upstream: each chunk is read by the skimmer and passed on, except
//! the last, which is held until the call is decided.
//!
//! Why this keeps enforce mode closed: the upstream learns that a request is complete only from
//! its last byte (Content-Length reached, or the final chunk), and AWS acts on no request before
//! that — it cannot even check the SigV4 signature, which covers the payload. The relay never
//! forwards the last non-empty chunk before [`pump`] returns; the caller sends it only for an
//! allowed call. A blocked call, a client that stops, a timeout or any error drops the relay's
//! sender instead, which fails the upstream body ([`super::body::SendBodyError::Withheld`]): the
//! upstream connection is closed mid-request and the call is never executed. What does reach
//! the upstream before the decision is part of a request it discards. The alternative, holding
//! the whole body until decided, would need the payload (tens of MiB of customer code) spooled to
//! disk.

use std::collections::VecDeque;

use bytes::Bytes;
use http::HeaderMap;
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::mpsc;

use super::body::{BodyError, BodyTimeouts, Relay};
use crate::inspect::decode::Skimmer;

/// Frames queued between the relay and the upstream connection: with hyper's read buffers of at
/// most a few hundred KiB, a relayed call holds about a MiB whatever the body's size.
pub(crate) const DEPTH: usize = 2;

/// What is left to send once the whole body was read.
#[derive(Debug)]
pub(crate) struct Tail {
    /// The last non-empty chunk, held back.
    pub(crate) last: Option<Bytes>,
    /// The client's trailers.
    pub(crate) trailers: Option<HeaderMap>,
}

impl Tail {
    /// Sends the held end of the body and completes it: the call was allowed.
    pub(crate) async fn release(self, tx: &mpsc::Sender<Relay>) {
        // A failed send means the upstream side is gone: the request errors there instead.
        if let Some(last) = self.last {
            if tx.send(Relay::Frame(Frame::data(last))).await.is_err() {
                return;
            }
        }
        if let Some(trailers) = self.trailers {
            if tx
                .send(Relay::Frame(Frame::trailers(trailers)))
                .await
                .is_err()
            {
                return;
            }
        }
        let _ = tx.send(Relay::End).await;
    }
}

/// Why the relay stopped before the end of the body.
#[derive(Debug)]
pub(crate) enum PumpError {
    /// The client's body failed or was too slow.
    Body(BodyError),
    /// The upstream stopped taking the body (its connection failed or it answered).
    UpstreamGone,
}

/// Reads the rest of a body (`read` first, then `rest`) through `skimmer`, passing every chunk but
/// the last to `tx`, within `timeouts` (between chunks, and in total).
pub(crate) async fn pump(
    read: VecDeque<Bytes>,
    mut rest: Incoming,
    skimmer: &mut Skimmer,
    tx: &mpsc::Sender<Relay>,
    timeouts: BodyTimeouts,
) -> Result<Tail, PumpError> {
    let deadline = tokio::time::Instant::now() + timeouts.total;
    let mut held: Option<Bytes> = None;
    let mut pass = |chunk: Bytes, skimmer: &mut Skimmer| {
        skimmer.feed(&chunk);
        held.replace(chunk)
    };
    for chunk in read.into_iter().filter(|c| !c.is_empty()) {
        if let Some(previous) = pass(chunk, skimmer) {
            send(tx, previous).await?;
        }
    }
    let mut trailers = None;
    loop {
        let next = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + timeouts.idle),
            rest.frame(),
        );
        let frame = match next.await {
            Err(_) => return Err(PumpError::Body(BodyError::Timeout)),
            Ok(None) => break,
            Ok(Some(frame)) => frame.map_err(|e| PumpError::Body(BodyError::Read(e)))?,
        };
        match frame.into_data() {
            Ok(data) if data.is_empty() => {}
            Ok(data) => {
                if let Some(previous) = pass(data, skimmer) {
                    send(tx, previous).await?;
                }
            }
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    trailers = Some(t);
                }
            }
        }
    }
    Ok(Tail {
        last: held,
        trailers,
    })
}

async fn send(tx: &mpsc::Sender<Relay>, chunk: Bytes) -> Result<(), PumpError> {
    tx.send(Relay::Frame(Frame::data(chunk)))
        .await
        .map_err(|_| PumpError::UpstreamGone)
}
