//! The event record (one per API call or refused connection), and where events go.
//!
//! Shaped after CloudTrail records (DESIGN.md). Events hold only redacted data: the access key id
//! is masked by the identification code and finding excerpts by the detectors, so serialising an
//! event can never leak a secret.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::aws::Protocol;
use crate::inspect::Finding;

mod line;
mod outcome;

pub use outcome::{
    aws_error_code, aws_error_code_header, category, read_only, recorded_user_agent, request_id,
    Outcome, Refusal, EVENT_VERSION, TRUNCATED, USER_AGENT_CAP,
};

/// Most events kept in memory for `exec` summaries and the test harness.
const MEMORY_CAP: usize = 100_000;

/// Event lines queued for the writer before recording waits for it: bounds memory when the
/// writer is slower than the calls.
const QUEUE_LINES: usize = 8192;

/// Most bytes the writer gathers into one write.
const BATCH_BYTES: usize = 64 * 1024;

/// How long the woken writer lets lines gather before it writes. While it waits it is not
/// parked on the channel, so recording a call wakes no thread: under load one wake-up and one
/// write serve every call of the interval (a wake-up per event cost a busy proxy a third of its
/// rate). An idle writer is parked and woken by the next event.
const GATHER: std::time::Duration = std::time::Duration::from_millis(5);

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
    /// Why a connection was tunnelled blind or refused, for machines: `not-aws`, `sni-not-aws`,
    /// `port`, `non-http-alpn`, `client-certificate`, `passthrough` (see `proxy::route`).
    /// Left out when there is none, so events of other outcomes keep their shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A relayed WebSocket, when it closed: bytes each way, duration, why.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub relay: Option<RelayStats>,
}

/// What a relayed WebSocket carried (`websocket-closed` connection events).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayStats {
    /// Bytes the client sent after the upgrade.
    pub bytes_from_client: u64,
    /// Bytes the upstream sent after the upgrade.
    pub bytes_from_upstream: u64,
    /// From the 101 to the close, in milliseconds.
    pub duration_ms: u64,
    /// `closed`, or what failed.
    pub close_reason: String,
}

/// A field no rule judged because of its purpose (`secret`, `payload`): where it sat, never its
/// value, so a reviewer sees what was not judged and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedField {
    /// Where it sat (`body:SecretString`, `body:Item`, `body` for a whole payload body).
    pub location: String,
    /// Its purpose (`secret`, `payload`).
    pub purpose: String,
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
    /// AWS's error code when AWS answered with an error; an awsguard [`Outcome`] code when the
    /// call failed on the proxy's side; null on success.
    #[serde(default)]
    pub error_code: Option<String>,
    /// Short and fixed for awsguard outcomes (never request data); null on success.
    #[serde(default)]
    pub error_message: Option<String>,
    /// HTTP method.
    pub request_method: Option<String>,
    /// Whether the body was inspected; false for streamed data-plane or oversized bodies.
    pub body_inspected: Option<bool>,
    /// Why inspection was partial (an undecodable body), if it was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub inspection_error: Option<String>,
    /// Random UUID (v4) naming this event.
    #[serde(rename = "eventID", default)]
    pub event_id: String,
    /// AWS's request id from the response (`x-amzn-RequestId` / `x-amz-request-id`).
    #[serde(rename = "requestID", default)]
    pub request_id: Option<String>,
    /// Whether the operation only reads (api-call events with a known operation).
    #[serde(default)]
    pub read_only: Option<bool>,
    /// `Management` or `Data` (api-call events).
    #[serde(default)]
    pub event_category: Option<String>,
    /// The CloudTrail record version the member names follow ([`EVENT_VERSION`]).
    #[serde(default)]
    pub event_version: String,
    /// Connection events only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub connection: Option<ConnectionDetails>,
    /// The host serves the customer's own application (API Gateway, a function URL…).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub customer_endpoint: bool,
    /// The API id, function URL id, load balancer or domain the customer endpoint names.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub customer_endpoint_id: Option<String>,
    /// Fields no rule judged because of their purpose (at most [`MAX_SKIPPED`]).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub skipped_fields: Vec<SkippedField>,
    /// The `exec --attach` run that made the call: the user name of the proxy URL the command
    /// was given (`http://exec-<id>:…@host:port`), from its `Proxy-Authorization`.
    #[serde(rename = "execId", skip_serializing_if = "Option::is_none", default)]
    pub exec_id: Option<String>,
}

/// Most skipped fields listed in one event (a DynamoDB batch has thousands of attribute values).
pub const MAX_SKIPPED: usize = 16;

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
            error_code: None,
            error_message: None,
            event_id: outcome::event_id(),
            request_id: None,
            read_only: None,
            event_category: None,
            event_version: EVENT_VERSION.to_owned(),
            connection: None,
            customer_endpoint: false,
            customer_endpoint_id: None,
            skipped_fields: Vec::new(),
            exec_id: None,
        }
    }

    /// Completes the record with how the call ended. A completed call keeps the error code AWS
    /// answered with (set from the response); any other outcome replaces it with its own.
    pub fn complete(&mut self, outcome: Outcome) {
        if let Some(code) = outcome.code() {
            self.error_code = Some(code.to_owned());
            self.error_message = outcome.message().map(str::to_owned);
        }
    }

    /// Fills `readOnly` and `eventCategory` from the operation, for api-call events.
    fn classify(&mut self) {
        if self.event_type != EventType::ApiCall {
            return;
        }
        if self.read_only.is_none() {
            self.read_only = self.event_name.as_deref().map(read_only);
        }
        if self.event_category.is_none() {
            let category = category(self.event_source.as_deref(), self.event_name.as_deref());
            self.event_category = Some(category.to_owned());
        }
    }
}

/// Where events go: a JSON-lines writer and/or memory (for `exec` summaries and the harness).
///
/// Each recording task serialises its event and sends the line down a bounded channel to one
/// writer thread, which writes whatever has queued up in one go: under load many events share
/// one write ([`GATHER`]), and a call never waits for the file (unless the writer falls
/// [`QUEUE_LINES`] behind). A failed write is reported on stderr at once and kept:
/// [`Recorder::sink_error`] lets `exec` exit non-zero rather than claim a complete record.
#[derive(Clone, Default)]
pub struct Recorder {
    writer: Option<Arc<Output>>,
    memory: Option<Arc<Mutex<VecDeque<Event>>>>,
    observer: Option<Observer>,
}

/// A callback that sees every recorded event (see [`Recorder::with_observer`]).
pub type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// What the writer thread is sent.
enum Message {
    /// One serialised event, newline included.
    Line(Vec<u8>),
    /// Write everything queued, then answer.
    Flush(mpsc::SyncSender<()>),
}

/// The channel to the writer thread, and what it reports back.
struct Output {
    queue: mpsc::SyncSender<Message>,
    health: Arc<Health>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// The first write error, and how many events were lost since.
#[derive(Default)]
struct Health {
    error: Mutex<Option<String>>,
    lost: AtomicU64,
}

impl Drop for Output {
    /// The last recorder is gone: the writer drains what is queued and stops; nothing recorded
    /// may stay unwritten, so this waits for it.
    fn drop(&mut self) {
        let (closed, _) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.queue, closed));
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
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

/// Why the events output cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file could not be opened for append.
    #[error("cannot open events file {path}")]
    Open {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The writer thread could not be started.
    #[error("cannot start the event writer")]
    Thread(#[source] std::io::Error),
}

impl Recorder {
    /// Records nothing.
    pub fn none() -> Self {
        Recorder::default()
    }

    /// Also writes one JSON line per event to `writer` (a file opened for append, or stdout),
    /// from a thread of its own.
    pub fn with_writer(mut self, writer: Box<dyn Write + Send>) -> Result<Self, OpenError> {
        let (queue, lines) = mpsc::sync_channel(QUEUE_LINES);
        let health = Arc::new(Health::default());
        let report = health.clone();
        let thread = std::thread::Builder::new()
            .name("awsguard-events".into())
            .spawn(move || write_lines(&lines, writer, &report))
            .map_err(OpenError::Thread)?;
        self.writer = Some(Arc::new(Output {
            queue,
            health,
            thread: Mutex::new(Some(thread)),
        }));
        Ok(self)
    }

    /// The recorder `--events` asks for: nothing, stdout, or a file opened for append. A path
    /// that cannot be opened for writing is an error here, before any port is bound.
    pub fn open(target: Option<&crate::config::EventsTarget>) -> Result<Self, OpenError> {
        use crate::config::EventsTarget;
        match target {
            None => Ok(Recorder::none()),
            Some(EventsTarget::Stdout) => Recorder::none().with_writer(Box::new(std::io::stdout())),
            Some(EventsTarget::File(path)) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| OpenError::Open {
                        path: path.clone(),
                        source,
                    })?;
                Recorder::none().with_writer(Box::new(file))
            }
        }
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

    /// Records one event. A failing writer is reported on stderr, never fatal to the call.
    pub fn record(&self, mut event: Event) {
        event.classify();
        if let Some(observer) = &self.observer {
            observer(&event);
        }
        if let Some(writer) = &self.writer {
            // Serialised whole before it is queued, so a write never cuts a line: readers of the
            // file only ever see complete events.
            let mut line = Vec::with_capacity(2048);
            match line::write(&event, &mut line) {
                Ok(()) => {
                    line.push(b'\n');
                    if writer.queue.send(Message::Line(line)).is_err() {
                        writer.health.lost.fetch_add(1, Ordering::Relaxed);
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

    /// Writes out every event recorded so far, and waits until it is written.
    pub fn flush(&self) {
        if let Some(writer) = &self.writer {
            let (done, wait) = mpsc::sync_channel(1);
            if writer.queue.send(Message::Flush(done)).is_ok() {
                let _ = wait.recv();
            }
        }
    }

    /// Why events could not be written, if a write ever failed: the first error and how many
    /// events were lost. `exec` fails on it; `run` has reported it on stderr already.
    pub fn sink_error(&self) -> Option<String> {
        let health = &self.writer.as_ref()?.health;
        let error = health.error.lock().ok()?.clone()?;
        let lost = health.lost.load(Ordering::Relaxed);
        Some(format!("{error} ({lost} events lost)"))
    }

    /// The events kept in memory so far (empty without [`Recorder::with_memory`]).
    pub fn events(&self) -> Vec<Event> {
        self.memory
            .as_ref()
            .and_then(|m| m.lock().ok().map(|e| e.iter().cloned().collect()))
            .unwrap_or_default()
    }
}

/// The writer thread: takes every line queued so far, writes them in one go, repeats until the
/// last recorder is gone.
fn write_lines(
    lines: &mpsc::Receiver<Message>,
    mut writer: Box<dyn Write + Send>,
    health: &Health,
) {
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    let mut count = 0u64;
    let mut waiting = Vec::new();
    loop {
        // Lines already queued (a batch was full) are taken at once; only a writer that found
        // the queue empty parks, and once woken it lets more gather.
        let first = match lines.try_recv() {
            Ok(message) => message,
            Err(mpsc::TryRecvError::Disconnected) => break,
            Err(mpsc::TryRecvError::Empty) => match lines.recv() {
                Ok(message) => {
                    if matches!(message, Message::Line(_)) {
                        std::thread::sleep(GATHER);
                    }
                    message
                }
                Err(_) => break,
            },
        };
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Line(line) => {
                    batch.extend_from_slice(&line);
                    count += 1;
                }
                Message::Flush(done) => waiting.push(done),
            }
            if batch.len() < BATCH_BYTES {
                next = lines.try_recv().ok();
            }
        }
        let result = writer.write_all(&batch).and_then(|()| writer.flush());
        if let Err(error) = result {
            health.lost.fetch_add(count, Ordering::Relaxed);
            if let Ok(mut first) = health.error.lock() {
                if first.is_none() {
                    // Loud and at once: a run that loses its audit record must not look fine.
                    eprintln!("awsguard: cannot write events: {error}; events are being lost");
                    *first = Some(format!("cannot write events: {error}"));
                }
            }
        }
        batch.clear();
        count = 0;
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A sink that refuses every write, as a full disk does.
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_sink_is_reported_with_the_events_lost() {
        let recorder = Recorder::none().with_writer(Box::new(Full)).unwrap();
        assert_eq!(recorder.sink_error(), None);
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for _ in 0..3 {
            recorder.record(Event::new(
                EventType::ApiCall,
                "s3.amazonaws.com",
                "::1",
                now,
            ));
        }
        recorder.flush();
        let error = recorder.sink_error().unwrap();
        assert!(
            error.starts_with("cannot write events: No space left"),
            "{error}"
        );
        assert!(error.ends_with("(3 events lost)"), "{error}");
    }

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
        let recorder = Recorder::none().with_writer(Box::new(out.clone())).unwrap();
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
        let recorder = Recorder::none().with_writer(Box::new(out.clone())).unwrap();
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
            .unwrap()
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
