//! The event record (one per API call or refused connection), and where events go.
//!
//! Shaped after CloudTrail records (DESIGN.md). Events hold only redacted data: the access key id
//! is masked by the identification code and finding excerpts by the detectors, so serialising an
//! event can never leak a secret.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::aws::Protocol;
use crate::inspect::Finding;

mod line;

/// Most events kept in memory for `exec` summaries and the test harness.
const MEMORY_CAP: usize = 100_000;

/// Bytes of event lines held before a recording task writes them out itself rather than wait
/// for the flusher: bounds memory when the writer is slower than the calls.
const PENDING_CAP: usize = 64 * 1024;

/// How often pending event lines are written out.
const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventType {
    /// One HTTP request inside an intercepted connection.
    ApiCall,
    /// A connection-level outcome: tunnel, refused handshake, cleartext, upstream failure.
    Connection,
}

/// Whether the call reached AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Forwarded upstream (or tunnelled).
    Allowed,
    /// Answered by awsguard; nothing was sent upstream.
    Blocked,
}

/// The masked access key id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// First 4 + last 4 characters only (`AKIA…WXYZ`).
    pub access_key_id: Option<String>,
}

/// Negotiated TLS on both legs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    /// Client leg version (`TLSv1.3`).
    pub tls_version: Option<String>,
    /// Client leg cipher suite (IANA name).
    pub cipher_suite: Option<String>,
    /// Upstream leg version.
    pub upstream_tls_version: Option<String>,
    /// Upstream leg cipher suite.
    pub upstream_cipher_suite: Option<String>,
}

/// The FIPS verdict for the request host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FipsDetails {
    /// Whether the host is a FIPS endpoint; null when unknown or `--fips off`.
    pub endpoint_is_fips: Option<bool>,
    /// The FIPS endpoint serving the same service and region, if one exists.
    pub fips_endpoint: Option<String>,
}

/// Connection-level details (connection events only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionDetails {
    /// `tunnelled`, `tls-refused`, `tls-failed`, `cleartext-refused`, `upstream-failed`,
    /// `malformed`, `forwarded`.
    pub outcome: String,
    /// SNI the client sent.
    pub server_name: Option<String>,
    /// TLS versions the client offered, highest first.
    pub offered_tls_versions: Vec<String>,
    /// What happened, for people.
    pub message: Option<String>,
}

/// One event (DESIGN.md schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// `api-call` or `connection`.
    pub event_type: EventType,
    /// RFC 3339 UTC.
    pub event_time: String,
    /// `<signing name>.amazonaws.com`, or null.
    pub event_source: Option<String>,
    /// Operation name, or null.
    pub event_name: Option<String>,
    /// Region from the SigV4 scope or host.
    pub aws_region: Option<String>,
    /// The Host the client asked for.
    pub request_host: String,
    /// Wire protocol.
    pub protocol: Protocol,
    /// The client's User-Agent.
    pub user_agent: Option<String>,
    /// The client's address (CloudTrail spells it `sourceIPAddress`).
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// Masked caller identity.
    pub user_identity: UserIdentity,
    /// TLS on both legs.
    pub tls_details: TlsDetails,
    /// FIPS verdict.
    pub fips: FipsDetails,
    /// Findings, redacted.
    pub findings: Vec<Finding>,
    /// Allowed or blocked.
    pub decision: Decision,
    /// HTTP status returned to the client (null when no HTTP response was possible).
    pub response_status: Option<u16>,
    /// HTTP method.
    pub request_method: Option<String>,
    /// Whether the body was inspected; false for streamed data-plane or oversized bodies.
    pub body_inspected: Option<bool>,
    /// Why inspection was partial (an undecodable body), if it was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub inspection_error: Option<String>,
    /// Connection events only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub connection: Option<ConnectionDetails>,
}

impl Event {
    /// An event with every identification field empty, stamped `now`.
    pub fn new(event_type: EventType, host: &str, source: &str, now: OffsetDateTime) -> Self {
        Event {
            event_type,
            event_time: now.format(&Rfc3339).unwrap_or_default(),
            event_source: None,
            event_name: None,
            aws_region: None,
            request_host: host.to_owned(),
            protocol: Protocol::Unknown,
            user_agent: None,
            source_ip_address: source.to_owned(),
            user_identity: UserIdentity::default(),
            tls_details: TlsDetails::default(),
            fips: FipsDetails::default(),
            findings: Vec::new(),
            decision: Decision::Allowed,
            response_status: None,
            request_method: None,
            body_inspected: None,
            inspection_error: None,
            connection: None,
        }
    }
}

/// Where events go: a JSON-lines writer and/or memory (for `exec` summaries and the harness).
///
/// Lines are appended to a pending buffer under a short lock; a flusher thread writes them out
/// every 50 ms, so under load many events share one write, and a request never waits for the
/// file (unless the writer falls behind by [`PENDING_CAP`]).
#[derive(Clone, Default)]
pub struct Recorder {
    writer: Option<Arc<Output>>,
    memory: Option<Arc<Mutex<VecDeque<Event>>>>,
    observer: Option<Observer>,
}

/// A callback that sees every recorded event (see [`Recorder::with_observer`]).
pub type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// The JSON-lines output: lines waiting, and the writer with its spare buffer. Whoever writes
/// holds `sink` while taking and writing `pending`, so lines reach the writer in order.
struct Output {
    pending: Mutex<Vec<u8>>,
    sink: Mutex<Sink>,
}

struct Sink {
    writer: Box<dyn Write + Send>,
    /// Swapped with `pending` on each write, so neither buffer is reallocated.
    spare: Vec<u8>,
    /// The last write failed (logged once until one succeeds).
    failed: bool,
}

impl Output {
    /// Writes out every pending line. A failure is logged (once until a write succeeds), never
    /// fatal to a call.
    fn write_pending(&self) {
        let Ok(mut sink) = self.sink.lock() else {
            return;
        };
        let sink = &mut *sink;
        if let Ok(mut pending) = self.pending.lock() {
            std::mem::swap(&mut *pending, &mut sink.spare);
        }
        let result = sink
            .writer
            .write_all(&sink.spare)
            .and_then(|()| sink.writer.flush());
        sink.spare.clear();
        match result {
            Ok(()) => sink.failed = false,
            Err(error) if !sink.failed => {
                tracing::error!(%error, "cannot write events");
                sink.failed = true;
            }
            Err(_) => {}
        }
    }
}

impl Drop for Output {
    /// The last recorder is gone: nothing recorded may stay unwritten.
    fn drop(&mut self) {
        self.write_pending();
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("writer", &self.writer.is_some())
            .field("memory", &self.memory.is_some())
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl Recorder {
    /// Records nothing.
    pub fn none() -> Self {
        Recorder::default()
    }

    /// Also writes one JSON line per event to `writer` (a file opened for append, or stdout).
    pub fn with_writer(mut self, writer: Box<dyn Write + Send>) -> Self {
        let writer = Arc::new(Output {
            pending: Mutex::new(Vec::with_capacity(PENDING_CAP)),
            sink: Mutex::new(Sink {
                writer,
                spare: Vec::with_capacity(PENDING_CAP),
                failed: false,
            }),
        });
        let weak = Arc::downgrade(&writer);
        std::thread::Builder::new()
            .name("awsguard-events".into())
            .spawn(move || flush_periodically(&weak))
            .map_err(|error| tracing::error!(%error, "cannot start the event flusher"))
            .ok();
        self.writer = Some(writer);
        self
    }

    /// The recorder `--events` asks for: nothing, stdout, or a file opened for append.
    pub fn open(target: Option<&crate::config::EventsTarget>) -> std::io::Result<Self> {
        use crate::config::EventsTarget;
        Ok(match target {
            None => Recorder::none(),
            Some(EventsTarget::Stdout) => Recorder::none().with_writer(Box::new(std::io::stdout())),
            Some(EventsTarget::File(path)) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                Recorder::none().with_writer(Box::new(file))
            }
        })
    }

    /// Also keeps events in memory (at most 100,000; older ones are dropped first).
    pub fn with_memory(mut self) -> Self {
        self.memory = Some(Arc::new(Mutex::new(VecDeque::new())));
        self
    }

    /// Also hands every event to `observer` as it is recorded, on the recording task: the live
    /// per-call line and the exit summary of `awsguard run` are built this way, from the same
    /// events the file gets. The observer must be quick and must not block.
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Records one event. A failing writer is logged, never fatal to the call.
    pub fn record(&self, event: Event) {
        if let Some(observer) = &self.observer {
            observer(&event);
        }
        if let Some(writer) = &self.writer {
            // Serialised whole before it reaches the buffer, so a flush never cuts a line: readers
            // of the file only ever see complete events.
            let mut line = Vec::with_capacity(2048);
            match line::write(&event, &mut line) {
                Ok(()) => {
                    line.push(b'\n');
                    let full = writer.pending.lock().is_ok_and(|mut pending| {
                        pending.extend_from_slice(&line);
                        pending.len() >= PENDING_CAP
                    });
                    if full {
                        writer.write_pending();
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot serialise event"),
            }
        }
        if let Some(memory) = &self.memory {
            if let Ok(mut events) = memory.lock() {
                if events.len() >= MEMORY_CAP {
                    events.pop_front();
                }
                events.push_back(event);
            }
        }
    }

    /// Writes out every event recorded so far.
    pub fn flush(&self) {
        if let Some(writer) = &self.writer {
            writer.write_pending();
        }
    }

    /// The events kept in memory so far (empty without [`Recorder::with_memory`]).
    pub fn events(&self) -> Vec<Event> {
        self.memory
            .as_ref()
            .and_then(|m| m.lock().ok().map(|e| e.iter().cloned().collect()))
            .unwrap_or_default()
    }
}

/// Writes pending lines out every [`FLUSH_EVERY`] until the last `Recorder` holding them is gone.
fn flush_periodically(writer: &Weak<Output>) {
    loop {
        std::thread::sleep(FLUSH_EVERY);
        let Some(writer) = writer.upgrade() else {
            return;
        };
        writer.write_pending();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Keeps each write the buffer hands down separately.
    #[derive(Clone, Default)]
    struct Writes(Arc<Mutex<Vec<Vec<u8>>>>);
    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn buffered_writes_never_cut_an_event_line() {
        let out = Writes::default();
        let recorder = Recorder::none().with_writer(Box::new(out.clone()));
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        // Far more than one 64 KiB buffer, in lines of odd sizes.
        for i in 0..400 {
            let host = format!("{}.sqs.us-east-1.amazonaws.com", "q".repeat(i % 97));
            recorder.record(Event::new(EventType::ApiCall, &host, "127.0.0.1", now));
        }
        recorder.flush();
        let writes = out.0.lock().unwrap();
        assert!(writes.len() > 2, "the buffer filled several times");
        for write in writes.iter() {
            assert_eq!(write.last(), Some(&b'\n'), "a write ends mid-line");
        }
        let lines: usize = writes
            .iter()
            .map(|w| w.split(|&b| b == b'\n').count() - 1)
            .sum();
        assert_eq!(lines, 400);
    }

    #[test]
    fn lines_still_pending_are_written_when_the_last_recorder_goes() {
        let out = Shared::default();
        let recorder = Recorder::none().with_writer(Box::new(out.clone()));
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        recorder.record(Event::new(
            EventType::ApiCall,
            "s3.amazonaws.com",
            "::1",
            now,
        ));
        let copy = recorder.clone();
        drop(recorder);
        drop(copy);
        // The flusher thread may hold the output for a moment; it writes the line as it drops it.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while out.0.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn writes_one_camel_case_json_line_per_event() {
        let out = Shared::default();
        let recorder = Recorder::none()
            .with_writer(Box::new(out.clone()))
            .with_memory();
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut event = Event::new(
            EventType::ApiCall,
            "sqs.us-east-1.amazonaws.com",
            "127.0.0.1",
            now,
        );
        event.response_status = Some(200);
        recorder.record(event.clone());
        recorder.record(event);
        recorder.flush();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["eventType"], "api-call");
        assert_eq!(v["eventTime"], "2023-11-14T22:13:20Z");
        assert_eq!(v["requestHost"], "sqs.us-east-1.amazonaws.com");
        assert_eq!(v["protocol"], "unknown");
        assert_eq!(v["decision"], "allowed");
        assert_eq!(v["responseStatus"], 200);
        assert_eq!(v["sourceIPAddress"], "127.0.0.1");
        assert!(v["userIdentity"]["accessKeyId"].is_null());
        assert!(v.get("connection").is_none());
        assert_eq!(recorder.events().len(), 2);
    }
}
