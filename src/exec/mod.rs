//! `awsguard exec -- CMD ARGS...`: a proxy on a free loopback port, CMD run with the environment
//! that sends its AWS calls through it (Node.js programs get a preload, see [`node`]; Java
//! programs `JAVA_TOOL_OPTIONS`, see [`java`]), signals forwarded, and a summary at exit.
//!
//! Called by `main.rs` ([`run`]). The pure parts live in submodules: [`env`](mod@env) (child
//! variables), [`bundle`] (system roots + awsguard CA), [`FailOn`] (`--fail-on`), [`summary`] and
//! [`sarif`] (reports). This file does the I/O: CA, proxy, child process, signals, the report.

pub mod bundle;
pub mod env;
mod fail_on;
pub mod java;
pub mod node;
pub mod sarif;
mod signals;
pub mod summary;
pub mod trust;

pub use fail_on::{FailOn, FailOnError};
pub use summary::Summary;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::str::FromStr;
use std::time::Duration;

use crate::ca::{self, Ca, CaError};
use crate::config::{Config, EventsTarget};
use crate::events::{Event, Recorder};
use crate::proxy::{Proxy, ProxyError};
use bundle::BundleError;

/// Exit code when the command succeeded but `--fail-on` findings were recorded (DESIGN.md).
pub const FAIL_ON_EXIT: u8 = 3;
/// How long the proxy may drain after the command exits.
const DRAIN: Duration = Duration::from_secs(6);

/// How the summary is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object ([`Summary`]).
    Json,
    /// A SARIF 2.1.0 log.
    Sarif,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            _ => Err("expected text, json or sarif".to_owned()),
        }
    }
}

/// What `exec` runs and how it reports. `Debug` shows the program but not its arguments, which
/// may carry secrets (`--secret-string`, tokens).
#[derive(Clone, Default)]
pub struct ExecOptions {
    /// The command and its arguments.
    pub command: Vec<OsString>,
    /// Findings that turn success into exit code 3.
    pub fail_on: FailOn,
    /// Summary format.
    pub format: Format,
    /// Write the summary here instead of standard error.
    pub summary_file: Option<PathBuf>,
    /// What the events file holds.
    pub events_format: crate::export::EventsFormat,
    /// Also write the OCSF records as Parquet for Security Lake, after the command exits.
    #[cfg(feature = "parquet")]
    pub parquet: Option<crate::export::lake::LakeLayout>,
}

impl std::fmt::Debug for ExecOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecOptions")
            .field("program", &self.command.first())
            .field(
                "args",
                &format_args!("<{} args>", self.command.len().saturating_sub(1)),
            )
            .field("fail_on", &self.fail_on)
            .field("format", &self.format)
            .field("summary_file", &self.summary_file)
            .field("events_format", &self.events_format)
            .finish_non_exhaustive()
    }
}

/// Why `exec` could not run the command.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// No command after `--`.
    #[error("no command given (usage: awsguard exec [options] -- CMD [ARGS...])")]
    NoCommand,
    /// The CA could not be loaded or created.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// The combined bundle could not be built.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The proxy could not start.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// A file could not be opened or written (events file, summary file).
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The running proxy's events file could not be read (`--attach`).
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The events output could not be opened.
    #[error(transparent)]
    Events(#[from] crate::events::OpenError),
    /// The Parquet files could not be written.
    #[cfg(feature = "parquet")]
    #[error(transparent)]
    Parquet(#[from] crate::export::lake::LakeError),
    /// Events could not be written while the command ran: the record is incomplete.
    #[error("the event record is incomplete: {0}")]
    EventsLost(String),
    /// The command could not be started.
    #[error("cannot run {program}")]
    Spawn {
        /// The program, as given.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The runtime, signal handlers or waiting on the command failed.
    #[error("process supervision failed")]
    Io(#[from] std::io::Error),
}

/// Runs `exec` on its own async runtime; returns the exit code awsguard should exit with.
pub fn run(config: Config, options: ExecOptions) -> Result<u8, ExecError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(exec(config, options))
}

/// Starts the proxy, runs the command through it, reports, and returns the exit code.
pub async fn exec(config: Config, options: ExecOptions) -> Result<u8, ExecError> {
    if options.command.is_empty() {
        return Err(ExecError::NoCommand);
    }
    let ca = Ca::load_or_init_with(
        &config.ca_dir,
        &ca::default_permitted(&[]),
        time::OffsetDateTime::now_utc(),
        config.ca_policy(),
    )?;
    let roots = bundle::system_roots()?;
    let bundle = bundle::temp_bundle(&roots, ca.cert_der())?;
    let truststore =
        java::temp_truststore(&roots, ca.cert_der()).map_err(|source| ExecError::Write {
            path: std::env::temp_dir(),
            source,
        })?;
    let artifact = sarif_artifact(&config, &options);
    let events_error = |source| ExecError::Write {
        path: match &config.events {
            Some(EventsTarget::File(path)) => path.clone(),
            _ => PathBuf::from("-"),
        },
        source,
    };
    let recorder = match options.events_format {
        crate::export::EventsFormat::CloudTrail => Recorder::open(config.events.as_ref())?,
        crate::export::EventsFormat::Ocsf => match open_writer(config.events.as_ref()) {
            Ok(Some(writer)) => Recorder::none().with_observer(crate::export::ocsf_writer(writer)),
            Ok(None) => Recorder::none(),
            Err(source) => return Err(events_error(source)),
        },
    }
    .with_memory();
    let proxy = Proxy::bind(config, ca, recorder.clone()).await?;
    let addr = proxy.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(proxy.run(async move {
        let _ = stopped.await;
    }));
    let no_proxy = std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .ok();
    let aws_suffixes = crate::aws::partition_dns_suffixes();
    let mut vars = env::child_env(
        &format!("http://{addr}"),
        bundle.path(),
        no_proxy.as_deref(),
        aws_suffixes,
    );
    let kept = env::without_aws(no_proxy.as_deref().unwrap_or_default(), aws_suffixes);
    let java_options = std::env::var("JAVA_TOOL_OPTIONS").ok();
    vars.push((
        "JAVA_TOOL_OPTIONS".to_owned(),
        java::java_tool_options(java_options.as_deref(), addr, truststore.path(), &kept),
    ));
    let preload = node::temp_preload().map_err(|source| ExecError::Write {
        path: std::env::temp_dir(),
        source,
    })?;
    let node_options = std::env::var("NODE_OPTIONS").ok();
    vars.push((
        "NODE_OPTIONS".to_owned(),
        node::node_options(node_options.as_deref(), preload.path()),
    ));
    let status = run_child(&options.command, &vars).await;
    let _ = stop.send(());
    let _ = tokio::time::timeout(DRAIN, server).await;
    recorder.flush();
    let command_code = exit_code(status?);
    let events = recorder.events();
    let code = if command_code == 0 && summary::any_fails(&events, &options.fail_on) {
        FAIL_ON_EXIT
    } else {
        command_code
    };
    report(&events, &options, &artifact, command_code, code)?;
    let program = options
        .command
        .first()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(note) = node::no_traffic_note(&program, &events) {
        eprint!("{note}");
    }
    #[cfg(feature = "parquet")]
    if let Some(layout) = &options.parquet {
        let records: Vec<_> = events.iter().flat_map(crate::export::from_event).collect();
        let files = crate::export::lake::write(layout, &records)?;
        eprintln!(
            "awsguard: wrote {} OCSF records to {} Parquet files under {}",
            records.len(),
            files.len(),
            layout.dir.display()
        );
    }
    if let Some(error) = recorder.sink_error() {
        return Err(ExecError::EventsLost(error));
    }
    Ok(code)
}

/// A proxy already running (`awsguard run`) that `exec --attach` sends the command through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attach {
    /// Where it listens.
    pub listen: std::net::SocketAddr,
    /// Its combined bundle (system roots + its CA).
    pub bundle: PathBuf,
    /// The file it appends CloudTrail-shaped events to.
    pub events: PathBuf,
}

/// Longest tail of the running proxy's events file read after the command (64 MiB); an
/// attached command that makes more calls than that gets a summary of the first ones.
const MAX_ATTACH_READ: u64 = 64 * 1024 * 1024;
/// How often, and how many unchanged times in a row, the events file is looked at before the
/// running proxy is taken to have written this command's calls (its recorder writes every 50 ms).
const ATTACH_POLL: Duration = Duration::from_millis(100);
const ATTACH_SETTLED: u32 = 3;

/// `exec --attach`: runs the command through `target` instead of a proxy of its own. The
/// command's proxy URL carries a fresh id as its user name (`http://exec-<id>:awsguard@addr`),
/// which clients send in `Proxy-Authorization` on CONNECT and the proxy records as the
/// `execId` of every call on that connection; the summary and exit code come from the events
/// the proxy appended with that id while the command ran.
pub fn attach(target: &Attach, options: ExecOptions) -> Result<u8, ExecError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(attach_async(target, options))
}

async fn attach_async(target: &Attach, options: ExecOptions) -> Result<u8, ExecError> {
    if options.command.is_empty() {
        return Err(ExecError::NoCommand);
    }
    let id = new_exec_id();
    let start = std::fs::metadata(&target.events).map_or(0, |m| m.len());
    let no_proxy = std::env::var("NO_PROXY")
        .or_else(|_| std::env::var("no_proxy"))
        .ok();
    let mut vars = env::child_env(
        &format!("http://{id}:awsguard@{}", target.listen),
        &target.bundle,
        no_proxy.as_deref(),
        crate::aws::partition_dns_suffixes(),
    );
    let preload = node::temp_preload().map_err(|source| ExecError::Write {
        path: std::env::temp_dir(),
        source,
    })?;
    let node_options = std::env::var("NODE_OPTIONS").ok();
    vars.push((
        "NODE_OPTIONS".to_owned(),
        node::node_options(node_options.as_deref(), preload.path()),
    ));
    let status = run_child(&options.command, &vars).await;
    let command_code = exit_code(status?);
    settle(&target.events).await;
    let events = attached_events(&target.events, start, &id)?;
    let code = if command_code == 0 && summary::any_fails(&events, &options.fail_on) {
        FAIL_ON_EXIT
    } else {
        command_code
    };
    let program = options
        .command
        .first()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    report(
        &events,
        &options,
        &sarif::Artifact::command(&program),
        command_code,
        code,
    )?;
    if let Some(note) = node::no_traffic_note(&program, &events) {
        eprint!("{note}");
    }
    Ok(code)
}

/// `exec-` and 16 random hex digits.
fn new_exec_id() -> String {
    let mut bytes = [0u8; 8];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("exec-{hex}")
}

/// Waits until the events file has stopped growing (or [`DRAIN`] has passed).
async fn settle(path: &std::path::Path) {
    let deadline = tokio::time::Instant::now() + DRAIN;
    let mut last = None;
    let mut same = 0;
    while same < ATTACH_SETTLED && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(ATTACH_POLL).await;
        let len = std::fs::metadata(path).map(|m| m.len()).ok();
        if len == last {
            same += 1;
        } else {
            same = 0;
            last = len;
        }
    }
}

/// The events with `execId == id` appended to `path` after byte `start`. Lines that are not
/// events (another writer, a torn last line) are skipped.
fn attached_events(path: &std::path::Path, start: u64, id: &str) -> Result<Vec<Event>, ExecError> {
    use std::io::{BufRead, Read, Seek};
    let read_error = |source| ExecError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    // A file that shrank was replaced (a new day's file): read it from its start.
    let start = if file.metadata().map_or(0, |m| m.len()) < start {
        0
    } else {
        start
    };
    file.seek(std::io::SeekFrom::Start(start))
        .map_err(read_error)?;
    let mut events = Vec::new();
    let reader = std::io::BufReader::new(file.take(MAX_ATTACH_READ));
    for line in reader.split(b'\n') {
        let line = line.map_err(read_error)?;
        if memchr::memmem::find(&line, id.as_bytes()).is_none() {
            continue;
        }
        if let Ok(event) = serde_json::from_slice::<Event>(&line) {
            if event.exec_id.as_deref() == Some(id) {
                events.push(event);
            }
        }
    }
    Ok(events)
}

/// Where SARIF results point: the events file (counting the lines already in it, since events
/// are appended) or, without one, the command's program.
fn sarif_artifact(config: &Config, options: &ExecOptions) -> sarif::Artifact {
    let program = options
        .command
        .first()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    match &config.events {
        // An OCSF file has several lines per event, so lines would not point at one call.
        Some(EventsTarget::File(path))
            if options.events_format == crate::export::EventsFormat::CloudTrail =>
        {
            sarif::Artifact::file(path, count_lines(path) + 1, &program)
        }
        _ => sarif::Artifact::command(&program),
    }
}

/// The `--events` writer for OCSF records: stdout or a file opened for append.
fn open_writer(
    target: Option<&EventsTarget>,
) -> std::io::Result<Option<Box<dyn std::io::Write + Send>>> {
    Ok(match target {
        None => None,
        Some(EventsTarget::Stdout) => Some(Box::new(std::io::stdout())),
        Some(EventsTarget::File(path)) => Some(Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        )),
    })
}

/// Lines in `path` (0 when it does not exist yet, or is not a regular file: a device such as
/// `/dev/full` reads forever), read in chunks.
fn count_lines(path: &std::path::Path) -> usize {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return 0;
    }
    let Ok(mut file) = std::fs::File::open(path) else {
        return 0;
    };
    let mut buf = [0u8; 64 * 1024];
    let mut lines = 0;
    while let Ok(n) = file.read(&mut buf) {
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
    }
    lines
}

/// Spawns the command with `vars` added, forwards signals to it, and waits for it.
async fn run_child(
    command: &[OsString],
    vars: &[(String, String)],
) -> Result<ExitStatus, ExecError> {
    let (program, args) = command.split_first().ok_or(ExecError::NoCommand)?;
    let mut handlers = signals::Handlers::install()?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .spawn()
        .map_err(|source| ExecError::Spawn {
            program: program.to_string_lossy().into_owned(),
            source,
        })?;
    let pid = child.id();
    loop {
        tokio::select! {
            status = child.wait() => return Ok(status?),
            signal = handlers.next() => signals::forward(pid, signal),
        }
    }
}

/// The command's exit code, or 128 + the signal that killed it.
fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    let code = status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1);
    u8::try_from(code).unwrap_or(1)
}

/// The summary in the chosen format.
pub fn render(
    events: &[Event],
    options: &ExecOptions,
    artifact: &sarif::Artifact,
    command_code: u8,
    code: u8,
) -> String {
    let summary = || Summary::new(events, &options.fail_on, command_code.into(), code.into());
    match options.format {
        Format::Text => summary().to_text(),
        Format::Json => summary().to_json() + "\n",
        Format::Sarif => {
            let log = sarif::sarif_log(events, code.into(), true, artifact);
            serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
        }
    }
}

/// Writes the summary to the summary file (then one line on standard error, so a CI log still
/// says what happened) or to standard error.
fn report(
    events: &[Event],
    options: &ExecOptions,
    artifact: &sarif::Artifact,
    command_code: u8,
    code: u8,
) -> Result<(), ExecError> {
    let text = render(events, options, artifact, command_code, code);
    match &options.summary_file {
        Some(path) => {
            std::fs::write(path, text).map_err(|source| ExecError::Write {
                path: path.clone(),
                source,
            })?;
            let summary = Summary::new(events, &options.fail_on, command_code.into(), code.into());
            eprintln!("{} ({})", summary.headline(), path.display());
            Ok(())
        }
        None => {
            eprint!("{text}");
            Ok(())
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(42 << 8)), 42);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }

    #[test]
    fn debug_hides_the_command_arguments() {
        let options = ExecOptions {
            command: vec![
                "aws".into(),
                "--secret-string".into(),
                "hunter2hunter2".into(),
            ],
            ..ExecOptions::default()
        };
        let debug = format!("{options:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            debug.contains("program: Some(\"aws\"), args: <2 args>"),
            "{debug}"
        );
    }

    #[test]
    fn formats_parse() {
        assert_eq!("sarif".parse::<Format>(), Ok(Format::Sarif));
        assert_eq!("json".parse::<Format>(), Ok(Format::Json));
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn render_text_json_and_sarif() {
        let events = fixtures::events();
        let mut options = ExecOptions {
            fail_on: "medium".parse().unwrap(),
            ..ExecOptions::default()
        };
        let artifact = sarif::Artifact::command("aws");
        let text = render(&events, &options, &artifact, 0, 3);
        assert!(
            text.starts_with(
                "awsguard: 2 AWS calls (0 blocked), 3 findings; command exited 0; awsguard exits 3\n"
            ),
            "{text}"
        );
        options.format = Format::Json;
        let json: serde_json::Value =
            serde_json::from_str(&render(&events, &options, &artifact, 0, 3)).unwrap();
        assert_eq!(json["exitCode"], 3);
        assert_eq!(json["findings"][0]["rule"], "email-address");
        options.format = Format::Sarif;
        let sarif: serde_json::Value =
            serde_json::from_str(&render(&events, &options, &artifact, 0, 3)).unwrap();
        assert_eq!(sarif["version"], "2.1.0");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error() {
        let err = run_child(&["/nonexistent/awsguard-test".into()], &[])
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "cannot run /nonexistent/awsguard-test");
    }
}
