//! The record of one call, from its decision to the end of its response: written exactly once.
//!
//! `exchange` creates a [`CallRecord`] when the engine has decided; it travels with the call
//! (inside the request future, then inside the response body) and is completed with how the
//! call ended. Whatever drops it first records it: a response body read to its end
//! (`Completed`), an upstream body that fails (`UpstreamReset`), a client that goes away while
//! the call waits or streams (`ClientClosedRequest`), or a proxy shutting down (`ProxyShutdown`).

use tokio::sync::watch;

use std::net::SocketAddr;

use time::OffsetDateTime;

use crate::events::{self, ConnectionDetails, Event, EventType, Outcome, Recorder};

/// Most bytes of an error response body kept to read AWS's error code from.
const SNIFF_CAP: usize = 16 * 1024;

/// One call's event, recorded once whatever happens to the call.
pub(crate) struct CallRecord {
    /// Boxed: the record travels inside every call's future and response body, which hyper
    /// moves; a pointer keeps them small.
    event: Option<Box<Event>>,
    recorder: Recorder,
    shutdown: watch::Receiver<bool>,
    /// The start of an error response body without `x-amzn-ErrorType`, to find AWS's code in.
    sniff: Option<Vec<u8>>,
}

impl CallRecord {
    pub(crate) fn new(
        event: Box<Event>,
        recorder: Recorder,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        CallRecord {
            event: Some(event),
            recorder,
            shutdown,
            sniff: None,
        }
    }

    /// The event, to add what is learnt before the call ends (status, request id, TLS).
    pub(crate) fn event_mut(&mut self) -> Option<&mut Event> {
        self.event.as_deref_mut()
    }

    /// Takes down AWS's answer: its status and request id, and for an error its code (from
    /// `x-amzn-ErrorType`, or else from the start of the body as it streams past).
    pub(crate) fn response(&mut self, status: http::StatusCode, headers: &http::HeaderMap) {
        let Some(event) = self.event.as_mut() else {
            return;
        };
        event.response_status = Some(status.as_u16());
        event.request_id = events::request_id(headers);
        if status.is_client_error() || status.is_server_error() {
            event.error_message = Some(format!("AWS answered HTTP {}", status.as_u16()));
            event.error_code = events::aws_error_code_header(headers);
            if event.error_code.is_none() {
                self.sniff = Some(Vec::new());
            }
        }
    }

    /// Sees a chunk of the response body on its way to the client.
    pub(crate) fn observe(&mut self, data: &[u8]) {
        if let Some(sniff) = self.sniff.as_mut() {
            let room = SNIFF_CAP.saturating_sub(sniff.len());
            sniff.extend_from_slice(data.get(..room).unwrap_or(data));
        }
    }

    /// Records the call with `outcome`.
    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.complete(outcome);
    }

    fn complete(&mut self, outcome: Outcome) {
        let Some(mut event) = self.event.take() else {
            return;
        };
        if let Some(sniff) = self.sniff.take() {
            if event.error_code.is_none() {
                event.error_code = events::aws_error_code(&sniff);
            }
        }
        event.complete(outcome);
        self.recorder.record(*event);
    }
}

/// Dropped unfinished: the client went away, or the proxy is shutting down.
impl Drop for CallRecord {
    fn drop(&mut self) {
        let outcome = if *self.shutdown.borrow() {
            Outcome::ProxyShutdown
        } else {
            Outcome::ClientCancelled
        };
        self.complete(outcome);
    }
}

/// A connection event for `host` with `outcome`.
pub(crate) fn connection_event(host: &str, peer: SocketAddr, outcome: &str) -> Event {
    let mut event = Event::new(
        EventType::Connection,
        host,
        &peer.ip().to_string(),
        OffsetDateTime::now_utc(),
    );
    event.connection = Some(ConnectionDetails {
        outcome: outcome.to_owned(),
        ..ConnectionDetails::default()
    });
    event
}
