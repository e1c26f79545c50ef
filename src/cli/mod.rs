//! The `awsguard` command line: parses arguments, builds a `Config`, calls the library, and
//! renders errors once. Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error.
//!
//! [`live`] is what `run` prints per call and at stop; [`home`] the files `run` keeps in its home
//! directory (daily events, combined bundle, state file read by `env`).

mod explain;
mod home;
mod live;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use awsguard::ca::{self, Ca};
use awsguard::config::{Config, ConfigError, FipsMissing, FipsMode, Mode, Settings};
use awsguard::inspect::Severity;
use awsguard::tls::MinTls;

/// A local HTTPS audit proxy for AWS API calls: TLS and FIPS policy, sensitive data in tags and
/// names, credentials in URLs.
#[derive(Parser)]
#[command(name = "awsguard", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage the local certificate authority.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Run the proxy in the foreground: one line per call on standard error, events in a daily
    /// file under $AWSGUARD_HOME/events/ (unless --events), a summary at Ctrl-C.
    Run(RunArgs),
    /// Print the export lines that point clients at the running proxy: eval "$(awsguard env)".
    /// Reads the state file `run` keeps in its home; fails when no proxy is running.
    Env(EnvArgs),
    /// Inspect captured requests offline (raw HTTP/1.1 request files or HAR archives): one event
    /// per request on stdout.
    Inspect(InspectArgs),
    /// Run a command through a private proxy on a free loopback port, then summarise its AWS
    /// calls. Exits with the command's code, or 3 when it succeeded but --fail-on matched.
    Exec(ExecArgs),
    /// Write one self-contained HTML report (summary, charts, findings with fixes, TLS and FIPS
    /// posture, a filterable table of calls) from events files.
    #[command(
        after_help = "Example: awsguard report $AWSGUARD_HOME/events/*.jsonl -o report.html"
    )]
    Report(ReportArgs),
    /// Convert events files to OCSF 1.1.0 (API Activity per call, Detection Finding per
    /// finding), one JSON object per line.
    #[command(
        after_help = "Example: awsguard export --ocsf $AWSGUARD_HOME/events/*.jsonl > ocsf.jsonl"
    )]
    Export(ExportArgs),
    /// Print the rule table: id, category, default severity, fields judged, when it blocks, fix.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: awsguard::inspect::rule_doc::RuleFormat,
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to standard output.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
#[command(
    after_help = "Example: awsguard exec --fail-on high,non-fips-endpoint -- aws s3 ls\n\n\
The command gets HTTPS_PROXY/HTTP_PROXY (both cases), NO_PROXY without AWS hosts, and a CA \
bundle of the system roots plus the awsguard CA in AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE, \
SSL_CERT_FILE, NODE_EXTRA_CA_CERTS and CURL_CA_BUNDLE. The proxy listens on 127.0.0.1:0 unless \
--listen is given."
)]
struct ExecArgs {
    #[command(flatten)]
    proxy: ProxyArgs,
    /// Exit 3 when the command succeeded but findings matched: a severity (that level and
    /// above) and/or rule ids, comma-separated (e.g. medium,non-fips-endpoint).
    #[arg(long, value_name = "SEVERITY|RULE,...")]
    fail_on: Option<awsguard::exec::FailOn>,
    /// Summary format.
    #[arg(long, value_enum, default_value_t)]
    format: awsguard::exec::Format,
    /// Write the summary (text, JSON or SARIF) to FILE instead of standard error; standard error
    /// then gets one line. The command's own stdout and stderr are never touched.
    #[arg(
        long = "output",
        short = 'o',
        visible_alias = "summary-file",
        value_name = "FILE"
    )]
    summary_file: Option<PathBuf>,
    /// What the events file holds.
    #[arg(long, value_enum, default_value_t)]
    events_format: awsguard::export::EventsFormat,
    #[command(flatten)]
    lake: LakeArgs,
    /// Send the command through the proxy `awsguard run` is running (found through its state
    /// file in --ca-dir / $AWSGUARD_HOME) instead of starting one; the summary covers the calls
    /// the running proxy recorded for this command.
    #[arg(
        long,
        conflicts_with_all = ["listen", "events", "events_format", "parquet", "mode", "config"]
    )]
    attach: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<std::ffi::OsString>,
}

#[derive(Args)]
#[command(after_help = "Example: awsguard inspect --fail-on high captured.har\n\
          Exit codes: 0 ok, 1 a file could not be read, 3 --fail-on findings were found.")]
struct InspectArgs {
    #[command(flatten)]
    policy: PolicyArgs,
    /// Exit 3 when findings matched: a severity (that level and above) and/or rule ids,
    /// comma-separated.
    #[arg(long, value_name = "SEVERITY|RULE,...")]
    fail_on: Option<awsguard::exec::FailOn>,
    /// events: one JSON event per request; text: a summary; sarif: SARIF 2.1.0.
    #[arg(long, value_enum, default_value_t)]
    format: InspectFormat,
    /// Files to read: a raw HTTP/1.1 request each, or HAR archives; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Instead of events, explain each field: its purpose, which rules judge it and why.
    #[arg(long, conflicts_with = "format")]
    explain: bool,
}

/// `inspect --format`.
#[derive(Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
enum InspectFormat {
    /// One JSON event per request on standard output.
    #[default]
    Events,
    /// The summary `exec` prints.
    Text,
    /// SARIF 2.1.0, results located at the request's file and position.
    Sarif,
}

#[derive(Args)]
struct ReportArgs {
    /// Events files (JSON lines, as `run --events` or the daily files write them); `-` reads
    /// standard input.
    #[arg(required = true, value_name = "EVENTS")]
    events: Vec<PathBuf>,
    /// The HTML file to write (`-` = standard output).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
}

#[derive(Args)]
struct ExportArgs {
    /// Write OCSF (the only export format so far; required so later formats can be added).
    #[arg(long, required = true)]
    ocsf: bool,
    /// Events files (`-` reads standard input).
    #[arg(required = true, value_name = "EVENTS")]
    events: Vec<PathBuf>,
    /// Where to write the JSON lines (`-` = standard output) [default: standard output, or
    /// none with --parquet].
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    lake: LakeArgs,
}

/// `--parquet`: OCSF records as Parquet for Amazon Security Lake.
#[derive(Args)]
struct LakeArgs {
    /// Also write the OCSF records as Parquet in Amazon Security Lake's custom-source layout:
    /// DIR/ext/<source>/region=<region>/accountId=<account>/eventDay=<yyyymmdd>/*.parquet, one
    /// source per OCSF class (awsguard-api-activity, awsguard-detection-finding).
    #[arg(long, value_name = "DIR", requires = "parquet_account")]
    parquet: Option<PathBuf>,
    /// The accountId partition: the AWS account id (or external id) the custom sources were
    /// registered with in Security Lake.
    #[arg(long, value_name = "ACCOUNT", requires = "parquet")]
    parquet_account: Option<String>,
}

#[cfg(feature = "parquet")]
impl LakeArgs {
    fn layout(&self) -> anyhow::Result<Option<awsguard::export::lake::LakeLayout>> {
        match (&self.parquet, &self.parquet_account) {
            (Some(dir), Some(account)) => Ok(Some(awsguard::export::lake::LakeLayout::new(
                dir.clone(),
                account,
            )?)),
            _ => Ok(None),
        }
    }
}

#[cfg(not(feature = "parquet"))]
impl LakeArgs {
    /// Without the `parquet` feature the flags still parse, so the error can say how to get it.
    fn layout(&self) -> anyhow::Result<Option<std::convert::Infallible>> {
        anyhow::ensure!(
            self.parquet.is_none(),
            "this awsguard was built without Parquet support; install it with \
             `cargo install --locked --features parquet --path .`"
        );
        Ok(None)
    }
}

#[derive(Subcommand)]
enum CaCommand {
    /// Create the CA (certificate + 0600 key), name-constrained to AWS domains.
    Init {
        /// CA directory [default: $AWSGUARD_HOME or ./certs].
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Replace an existing CA.
        #[arg(long)]
        force: bool,
        /// Also permit this DNS suffix (e.g. a LocalStack domain); repeatable.
        #[arg(long = "permit", value_name = "DOMAIN")]
        permit: Vec<String>,
    },
    /// Write the system roots plus the awsguard CA to FILE, for clients whose CA bundle setting
    /// replaces the system roots (AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE).
    Bundle {
        /// CA directory [default: $AWSGUARD_HOME or ./certs].
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Where to write the bundle.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print per-platform instructions to trust the awsguard CA system-wide.
    Trust {
        /// CA directory [default: $AWSGUARD_HOME or ./certs].
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Show the CA: paths, fingerprint, constraints, and the lines to export.
    Show {
        /// CA directory [default: $AWSGUARD_HOME or ./certs].
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// Policy settings: everything that decides what a request's verdict is, for the proxy and for
/// offline `inspect` alike.
#[derive(Args)]
struct PolicyArgs {
    /// audit records and forwards; enforce blocks violations [default: audit].
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// Lowest severity that blocks in enforce mode [default: medium].
    #[arg(long, value_enum)]
    block_severity: Option<Severity>,
    /// Minimum TLS version on both legs [default: 1.2].
    #[arg(long, value_name = "1.2|1.3")]
    min_tls: Option<MinTls>,
    /// FIPS endpoint policy [default: audit].
    #[arg(long, value_enum)]
    fips: Option<FipsMode>,
    /// What to do when no FIPS endpoint exists for the service and region [default: allow].
    #[arg(long, value_enum)]
    fips_missing: Option<FipsMissing>,
    /// Do not scan requests for sensitive data: enforce transport and FIPS policy and record
    /// each call; bodies stream through unread, except a form body that names the operation.
    #[arg(long)]
    no_inspect: bool,
    /// TOML file with the same settings plus rules, identifiers and allowlists.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Settings of a running proxy (`run`, `exec`): the policy plus where it listens, where events
/// go, how it reaches upstreams and where its CA lives.
#[derive(Args)]
struct ProxyArgs {
    #[command(flatten)]
    policy: PolicyArgs,
    /// Address to listen on, an IP or a host name (port 0 picks a free port)
    /// [default: 127.0.0.1:8080].
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_listen)]
    listen: Option<std::net::SocketAddr>,
    /// Append one JSON event per line to FILE (`-` = stdout).
    #[arg(long, value_name = "FILE")]
    events: Option<String>,
    /// Send upstream connections for matching hosts elsewhere: PATTERN=HOST:PORT, PATTERN a host
    /// or *.suffix; Host header and SNI are unchanged. Repeatable.
    #[arg(long = "connect-to", value_name = "PATTERN=HOST:PORT")]
    connect_to: Vec<String>,
    /// Extra trust anchor(s) for verifying upstream certificates (PEM). Repeatable.
    #[arg(long = "upstream-ca", value_name = "FILE")]
    upstream_ca: Vec<PathBuf>,
    /// CA directory [default: $AWSGUARD_HOME or ./certs].
    #[arg(long = "ca-dir", value_name = "DIR")]
    ca_dir: Option<PathBuf>,
    /// Load a CA key file other users can read (dangerous; warned about on every start).
    #[arg(long)]
    allow_open_key: bool,
    /// Load a CA certificate without name constraints (dangerous; warned about on every start).
    #[arg(long)]
    allow_unconstrained_ca: bool,
    /// Tunnel connections to matching hosts blind, never intercepted: a host or *.suffix.
    /// Repeatable; adds to the config file's `passthrough`.
    #[arg(long, value_name = "PATTERN")]
    passthrough: Vec<String>,
    /// Intercept CONNECTs to AWS hosts on PORT (repeatable; replaces the default 443); other
    /// ports are tunnelled blind.
    #[arg(long = "intercept-port", value_name = "PORT")]
    intercept_ports: Vec<u16>,
    /// Open every upstream connection through this HTTP proxy with CONNECT:
    /// http://[user:password@]host:port, or `env` for awsguard's own HTTPS_PROXY and NO_PROXY.
    /// The password is sent only to that proxy and never shown.
    #[arg(long = "upstream-proxy", value_name = "URL|env")]
    upstream_proxy: Option<String>,
    /// Reach matching hosts directly, not through --upstream-proxy: NO_PROXY syntax (host,
    /// .suffix, *.suffix, *; comma-separated). Repeatable.
    #[arg(long = "upstream-no-proxy", value_name = "PATTERNS")]
    upstream_no_proxy: Vec<String>,
}

/// `--listen`: an address, or a host name resolved now (`localhost:8080`), preferring IPv4 so
/// the printed `HTTPS_PROXY` works for clients that only try IPv4.
fn parse_listen(s: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = s.parse() {
        return Ok(addr);
    }
    let addrs: Vec<_> = s
        .to_socket_addrs()
        .map_err(|e| format!("expected HOST:PORT ({e})"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{s} resolves to no address"))
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    proxy: ProxyArgs,
    /// No line per call on standard error (the summary at stop is still printed).
    #[arg(long, short)]
    quiet: bool,
    /// What the events file holds.
    #[arg(long, value_enum, default_value_t)]
    events_format: awsguard::export::EventsFormat,
    #[command(flatten)]
    lake: LakeArgs,
}

#[derive(Args)]
struct EnvArgs {
    /// Address of the running proxy [default: the address in its state file].
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<std::net::SocketAddr>,
    /// CA directory [default: $AWSGUARD_HOME or ./certs].
    #[arg(long = "ca-dir", value_name = "DIR")]
    ca_dir: Option<PathBuf>,
}

impl PolicyArgs {
    fn settings(&self) -> Settings {
        Settings {
            mode: self.mode,
            block_severity: self.block_severity,
            min_tls: self.min_tls,
            fips: self.fips,
            fips_missing: self.fips_missing,
            inspect: self.no_inspect.then_some(false),
            ..Settings::default()
        }
    }

    /// The config file (if any) under `flags`.
    fn config(&self, flags: Settings) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => Settings::from_file(path)?,
            None => Settings::default(),
        };
        Config::resolve(flags.over(file), default_ca_dir())
    }
}

impl ProxyArgs {
    fn config(&self) -> Result<Config, ConfigError> {
        let flags = Settings {
            listen: self.listen,
            events: self.events.clone(),
            connect_to: self.connect_to.clone(),
            upstream_ca: self.upstream_ca.clone(),
            ca_dir: self.ca_dir.clone(),
            allow_open_key: self.allow_open_key.then_some(true),
            allow_unconstrained_ca: self.allow_unconstrained_ca.then_some(true),
            passthrough: self.passthrough.clone(),
            intercept_ports: self.intercept_ports.clone(),
            upstream_proxy: self
                .upstream_proxy
                .clone()
                .map(awsguard::config::ProxySetting::new),
            upstream_no_proxy: self.upstream_no_proxy.clone(),
            ..self.policy.settings()
        };
        self.policy.config(flags)
    }
}

/// `$AWSGUARD_HOME`, or `./certs`.
fn default_ca_dir() -> PathBuf {
    std::env::var_os("AWSGUARD_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("certs"))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn ca_command(command: CaCommand) -> anyhow::Result<()> {
    match command {
        CaCommand::Init { dir, force, permit } => {
            let dir = dir.unwrap_or_else(default_ca_dir);
            let ca = Ca::init(
                &dir,
                &ca::default_permitted(&permit),
                force,
                time::OffsetDateTime::now_utc(),
            )?;
            println!("created CA {}", absolute(&ca.paths().cert).display());
            println!(
                "key        {} (mode 0600)",
                absolute(&ca.paths().key).display()
            );
            println!("sha256     {}", ca.fingerprint());
        }
        CaCommand::Bundle { dir, out } => ca_bundle(&dir.unwrap_or_else(default_ca_dir), &out)?,
        CaCommand::Trust { dir } => print!(
            "{}",
            awsguard::exec::trust::instructions(&absolute(
                &ca::CaPaths::in_dir(&dir.unwrap_or_else(default_ca_dir)).cert
            ))
        ),
        CaCommand::Show { dir } => {
            let ca = Ca::load(&dir.unwrap_or_else(default_ca_dir))?;
            println!("certificate  {}", absolute(&ca.paths().cert).display());
            println!("key          {}", absolute(&ca.paths().key).display());
            println!("sha256       {}", ca.fingerprint());
            println!("expires      {}", ca.not_after());
            println!("permitted    {}", ca.permitted().join(", "));
            println!("excluded     every IP address");
            println!();
            println!("for a running proxy: eval \"$(awsguard env)\"");
        }
    }
    Ok(())
}

fn ca_bundle(dir: &Path, out: &Path) -> anyhow::Result<()> {
    let ca = Ca::load(dir)?;
    let count = awsguard::exec::bundle::write_bundle(out, ca.cert_der())?;
    println!(
        "wrote {count} certificates (system roots + awsguard CA) to {}",
        absolute(out).display()
    );
    Ok(())
}

fn exec(args: ExecArgs) -> anyhow::Result<u8> {
    if args.attach {
        let home = args.proxy.ca_dir.clone().unwrap_or_else(default_ca_dir);
        let target = run::attach_target(&home)?;
        let options = awsguard::exec::ExecOptions {
            command: args.command,
            fail_on: args.fail_on.unwrap_or_default(),
            format: args.format,
            summary_file: args.summary_file,
            ..Default::default()
        };
        return Ok(awsguard::exec::attach(&target, options)?);
    }
    let layout = args.lake.layout()?;
    let mut config = args.proxy.config()?;
    if args.proxy.listen.is_none() {
        config.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    }
    let options = awsguard::exec::ExecOptions {
        command: args.command,
        fail_on: args.fail_on.unwrap_or_default(),
        format: args.format,
        summary_file: args.summary_file,
        events_format: args.events_format,
        #[cfg(feature = "parquet")]
        parquet: layout,
    };
    #[cfg(not(feature = "parquet"))]
    let _ = layout;
    Ok(awsguard::exec::run(config, options)?)
}

/// Reads every events file (`-` = stdin), in the order given.
fn read_events(paths: &[PathBuf]) -> anyhow::Result<Vec<awsguard::report::Located>> {
    let mut records = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        let batch = if name == "-" {
            awsguard::report::read(std::io::stdin().lock(), "-")?
        } else {
            let file = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
            awsguard::report::read(std::io::BufReader::new(file), &name)?
        };
        records.extend(batch);
    }
    Ok(records)
}

/// Writes `text` to `path`, or standard output for `-`.
fn write_output(path: &Path, text: &str) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout().write_all(text.as_bytes())?;
        return Ok(());
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn report(args: ReportArgs) -> anyhow::Result<()> {
    let records = read_events(&args.events)?;
    let sources: Vec<String> = args
        .events
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let html = awsguard::report::render(&records, &sources, time::OffsetDateTime::now_utc());
    write_output(&args.output, &html)?;
    if args.output.as_os_str() != "-" {
        eprintln!(
            "awsguard: wrote {} ({} events)",
            absolute(&args.output).display(),
            records.len()
        );
    }
    Ok(())
}

fn export(args: ExportArgs) -> anyhow::Result<()> {
    debug_assert!(args.ocsf, "clap requires --ocsf");
    let layout = args.lake.layout()?;
    let events = read_events(&args.events)?;
    let records: Vec<_> = events
        .iter()
        .flat_map(|located| awsguard::export::records(&located.record))
        .collect();
    let output = match (&args.output, &layout) {
        (Some(path), _) => Some(path.clone()),
        (None, None) => Some(PathBuf::from("-")),
        (None, Some(_)) => None,
    };
    if let Some(path) = output {
        write_output(&path, &awsguard::export::to_lines(&records))?;
    }
    #[cfg(feature = "parquet")]
    if let Some(layout) = layout {
        let files = awsguard::export::lake::write(&layout, &records)?;
        eprintln!(
            "awsguard: wrote {} records to {} Parquet files under {}",
            records.len(),
            files.len(),
            absolute(&layout.dir).display()
        );
    }
    Ok(())
}

/// Largest capture read from standard input.
const MAX_STDIN: u64 = 256 * 1024 * 1024;

fn read_capture(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_STDIN + 1)
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        anyhow::ensure!(
            bytes.len() as u64 <= MAX_STDIN,
            "standard input is larger than {MAX_STDIN} bytes"
        );
        return Ok(bytes);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Inspects every request of every file; returns the exit code (3 when `--fail-on` matched).
fn inspect(args: InspectArgs) -> anyhow::Result<u8> {
    let config = args.policy.config(args.policy.settings())?;
    let engine = awsguard::engine::Engine::new(&config);
    let mut failed = 0;
    let mut events = Vec::new();
    for path in &args.files {
        let requests = read_capture(path).and_then(|bytes| {
            awsguard::capture::parse_file(&bytes)
                .with_context(|| format!("cannot parse {}", path.display()))
        });
        match requests {
            Ok(requests) => {
                for request in &requests {
                    let event = engine.inspect(request, time::OffsetDateTime::now_utc());
                    if args.explain {
                        print!("{}", explain::explanation(&engine, request, &event));
                    } else if args.format == InspectFormat::Events {
                        println!("{}", serde_json::to_string(&event)?);
                    }
                    events.push(event);
                }
            }
            Err(error) => {
                eprintln!("awsguard: {error:#}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} files could not be inspected",
            args.files.len()
        );
    }
    let fail_on = args.fail_on.unwrap_or_default();
    let code = if awsguard::exec::summary::any_fails(&events, &fail_on) {
        awsguard::exec::FAIL_ON_EXIT
    } else {
        0
    };
    match args.format {
        InspectFormat::Events => {}
        InspectFormat::Text => print!(
            "{}",
            awsguard::exec::Summary::new(&events, &fail_on, 0, code.into()).to_text()
        ),
        InspectFormat::Sarif => {
            // One file: results point at it, numbered by request; several: at the command.
            let artifact = match args.files.as_slice() {
                [one] if one.as_os_str() != "-" => {
                    awsguard::exec::sarif::Artifact::file(one, 1, "inspect")
                }
                _ => awsguard::exec::sarif::Artifact::command("inspect"),
            };
            let log = awsguard::exec::sarif::sarif_log(&events, code.into(), true, &artifact);
            println!("{}", serde_json::to_string_pretty(&log)?);
        }
    }
    Ok(code)
}

/// Parses the command line, runs the command, renders an error once; `release_freed_memory` runs
/// after the proxy's warm-up.
pub(crate) fn main(release_freed_memory: fn()) -> ExitCode {
    let cli = Cli::parse();
    // The library builds every TLS configuration with an explicit ring provider; installing it as
    // the process default too means no rustls version can warn about a missing default.
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Under `run` the per-call lines already say which calls were blocked or refused, so the
    // proxy's own warnings about them would print every such call twice.
    let default_filter = match &cli.command {
        Command::Run(args) if !args.quiet => {
            "awsguard=info,awsguard::proxy::exchange=error,awsguard::proxy::intercept=error"
        }
        _ => "awsguard=info",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(live::Style::detect() == live::Style::Colour)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .init();
    awsguard::proxy::after_warm_up(release_freed_memory);
    let result = match cli.command {
        Command::Ca(command) => ca_command(command),
        Command::Env(args) => run::env(&args.ca_dir.unwrap_or_else(default_ca_dir), args.listen)
            .map(|lines| print!("{lines}")),
        Command::Inspect(args) => match inspect(args) {
            Ok(code) => return ExitCode::from(code),
            Err(error) => Err(error),
        },
        Command::Report(args) => report(args),
        Command::Export(args) => export(args),
        Command::Exec(args) => match exec(args) {
            Ok(code) => return ExitCode::from(code),
            Err(error) => Err(error),
        },
        Command::Rules { format } => {
            use awsguard::inspect::rule_doc::render;
            print!("{}", render(format));
            Ok(())
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "awsguard",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Run(args) => tokio::runtime::Runtime::new()
            .context("cannot start the async runtime")
            .and_then(|rt| {
                let layout = args.lake.layout()?;
                let config = args.proxy.config()?;
                rt.block_on(run::run(config, args.quiet, args.events_format, layout))
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("awsguard: error: {error:#}");
            if error.downcast_ref::<ConfigError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
