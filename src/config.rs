//! `Config`: every setting of a proxy run, from command-line flags over an optional TOML file.
//!
//! Two stages, as typed then validated: [`Settings`] holds what a user wrote (all optional, from
//! flags or the file), [`Config::resolve`] checks it and fills defaults. Nothing binds a port or
//! reads the network before this has succeeded.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::inspect::{
    CustomIdentifier, RuleMode, RuleOverride, RulesConfig, RulesError, Scanner, Severity,
    Suppression,
};
use crate::tls::MinTls;

/// Audit records and forwards; enforce blocks violations at or above the block severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Record and forward.
    #[default]
    Audit,
    /// Block violations.
    Enforce,
}

/// FIPS endpoint policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FipsMode {
    /// No verdicts.
    Off,
    /// Verdicts and `non-fips-endpoint` findings (severity low); calls go through.
    #[default]
    Audit,
    /// Calls to a standard endpoint where a FIPS one exists are refused.
    Enforce,
}

/// What to do when a service has no FIPS endpoint in the call's region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FipsMissing {
    /// Nothing.
    #[default]
    Allow,
    /// A finding.
    Flag,
    /// Refuse the call.
    Block,
}

/// Where events are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventsTarget {
    /// Append to a file.
    File(PathBuf),
    /// Standard output (`--events -`).
    Stdout,
}

/// `--connect-to PATTERN=HOST:PORT`: where upstream connections for matching hosts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    /// Exact host, or `*.suffix`.
    pub pattern: String,
    /// `host:port` to connect to instead.
    pub target: String,
}

impl ConnectTo {
    /// Parses `PATTERN=HOST:PORT`.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::ConnectTo(s.to_owned());
        let (pattern, target) = s.split_once('=').ok_or_else(bad)?;
        let (host, port) = target.rsplit_once(':').ok_or_else(bad)?;
        if pattern.is_empty() || host.is_empty() || port.parse::<u16>().is_err() {
            return Err(bad());
        }
        Ok(ConnectTo {
            pattern: pattern.trim_end_matches('.').to_ascii_lowercase(),
            target: target.to_owned(),
        })
    }

    /// Whether `host` matches the pattern.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        match self.pattern.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() && host.ends_with(&format!(".{suffix}")),
            None => host == self.pattern,
        }
    }
}

/// A host pattern in `passthrough` and `--upstream-no-proxy`: an exact host or `*.suffix`
/// (which matches hosts below the suffix, never the suffix itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    /// Parses a pattern; `None` when it is empty or holds characters no host name has.
    pub fn parse(s: &str) -> Option<HostPattern> {
        let pattern = s.trim().trim_end_matches('.').to_ascii_lowercase();
        let name = pattern.strip_prefix("*.").unwrap_or(&pattern);
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        valid.then_some(HostPattern(pattern))
    }

    /// Whether `host` (any case, trailing dot or not) matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        match self.0.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() && host.ends_with(&format!(".{suffix}")),
            None => host == self.0,
        }
    }

    /// The pattern as written (lower-cased).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A value that may hold a secret (the upstream proxy URL with its password): kept as written,
/// never shown — its `Debug` hides the password.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ProxySetting(String);

impl ProxySetting {
    /// Wraps what the user wrote.
    pub fn new(value: String) -> Self {
        ProxySetting(value)
    }
}

impl std::fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == "env" {
            return f.write_str("\"env\"");
        }
        match url::Url::parse(&with_scheme(&self.0)) {
            Ok(url) if url.has_host() => write!(f, "{:?}", redacted_url(&url)),
            _ => f.write_str("\"<unparsable, hidden>\""),
        }
    }
}

/// A proxy URL with `http://` in front when it has no scheme (HTTPS_PROXY is often written so).
fn with_scheme(value: &str) -> String {
    if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    }
}

/// `url` without its password.
fn redacted_url(url: &url::Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    url.to_string()
}

/// A password that never shows: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The value, for the one place that sends it (the `Proxy-Authorization` header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The corporate HTTP proxy every upstream connection goes through (`--upstream-proxy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamProxy {
    /// Proxy host.
    pub host: String,
    /// Proxy port.
    pub port: u16,
    /// `user:password` for `Proxy-Authorization: Basic`, if given.
    pub credentials: Option<(String, Secret)>,
    /// Hosts reached directly (`--upstream-no-proxy`, `NO_PROXY`).
    pub no_proxy: NoProxy,
}

impl UpstreamProxy {
    /// Parses `http://[user:pass@]host[:port]` (port 80 by default; user and password may be
    /// percent-encoded). Errors never repeat the value: it may hold a password.
    pub fn parse(value: &str, no_proxy: NoProxy) -> Result<UpstreamProxy, ConfigError> {
        let bad = |why: &'static str| ConfigError::UpstreamProxy(why);
        let url = url::Url::parse(&with_scheme(value)).map_err(|_| bad("not a URL"))?;
        if url.scheme() != "http" {
            return Err(bad("only http:// proxies are supported"));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(bad("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url.port_or_known_default().ok_or(bad("no port"))?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| bad("user or password is not UTF-8"))
        };
        let credentials = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let user = decode(url.username())?;
            let password = decode(url.password().unwrap_or(""))?;
            Some((user, Secret(password)))
        };
        Ok(UpstreamProxy {
            host,
            port,
            credentials,
            no_proxy,
        })
    }

    /// `host:port` of the proxy, for messages (never the credentials).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The proxy to use for `host`: `None` when `NO_PROXY` says to go direct.
    pub fn for_host(&self, host: &str) -> Option<&UpstreamProxy> {
        (!self.no_proxy.matches(host)).then_some(self)
    }
}

/// `NO_PROXY`-style bypass list: `*` (everything), a host, `.suffix` or `*.suffix` (a host and
/// everything below it, as curl reads `NO_PROXY`). Ports and address ranges are not read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy(Vec<String>);

impl NoProxy {
    /// Reads comma-separated entries from each of `lists`.
    pub fn parse<'a>(lists: impl IntoIterator<Item = &'a str>) -> NoProxy {
        let mut entries = Vec::new();
        for list in lists {
            for entry in list.split(',') {
                let entry = entry.trim().trim_end_matches('.').to_ascii_lowercase();
                let entry = entry
                    .strip_prefix("*.")
                    .or_else(|| entry.strip_prefix('.'))
                    .unwrap_or(&entry)
                    .to_owned();
                if !entry.is_empty() {
                    entries.push(entry);
                }
            }
        }
        NoProxy(entries)
    }

    /// Whether `host` is reached directly.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.0.iter().any(|entry| {
            entry == "*"
                || host == *entry
                || (host.len() > entry.len() && host.ends_with(&format!(".{entry}")))
        })
    }
}

/// Bounds on connections, headers and time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Concurrent client connections.
    pub max_connections: usize,
    /// Largest request head accepted (bytes).
    pub max_header_bytes: usize,
    /// Time to send a request head.
    pub header_read_timeout: Duration,
    /// Time for a TLS handshake (either leg) and for the ClientHello to arrive.
    pub handshake_timeout: Duration,
    /// Time to open an upstream TCP connection.
    pub connect_timeout: Duration,
    /// Largest body buffered for inspection; larger ones stream through uninspected.
    pub inspect_body_bytes: usize,
    /// Bytes all requests together may hold in inspection buffers; past it, requests wait.
    pub inspect_budget_bytes: usize,
    /// Leaf certificates cached.
    pub leaf_cache: usize,
    /// Longest wait for the next bytes of a body read for inspection.
    pub body_idle_timeout: Duration,
    /// Longest time to receive a whole body read for inspection.
    pub body_total_timeout: Duration,
    /// Longest wait for room in the shared inspection budget.
    pub budget_wait_timeout: Duration,
    /// An intercepted or proxy connection with no request in flight is closed after this long
    /// (HTTP/1.1 keep-alive; HTTP/2 connections are pinged and closed when silent this long).
    pub idle_timeout: Duration,
    /// Longest wait for an upstream response head once the request is sent.
    pub upstream_response_timeout: Duration,
    /// Longest wait for the next bytes of a body streamed through (a request body not held for
    /// inspection, or a response body).
    pub stream_idle_timeout: Duration,
    /// A blind tunnel with no bytes in either direction for this long is closed.
    pub tunnel_idle_timeout: Duration,
}

impl Limits {
    /// The body timeouts, as the body reader takes them.
    pub(crate) fn body_timeouts(&self) -> crate::proxy::BodyTimeouts {
        crate::proxy::BodyTimeouts {
            idle: self.body_idle_timeout,
            total: self.body_total_timeout,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            max_header_bytes: 64 * 1024,
            header_read_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            inspect_body_bytes: 1024 * 1024,
            inspect_budget_bytes: 256 * 1024 * 1024,
            leaf_cache: 1024,
            body_idle_timeout: Duration::from_secs(30),
            body_total_timeout: Duration::from_secs(300),
            budget_wait_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            upstream_response_timeout: Duration::from_secs(300),
            stream_idle_timeout: Duration::from_secs(60),
            tunnel_idle_timeout: Duration::from_secs(600),
        }
    }
}

/// Settings as written: flags and file keys. Flags win over the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Settings {
    /// Listen address.
    pub listen: Option<SocketAddr>,
    /// Audit or enforce.
    pub mode: Option<Mode>,
    /// Lowest severity that blocks in enforce mode.
    pub block_severity: Option<Severity>,
    /// Minimum TLS version, both legs.
    pub min_tls: Option<MinTls>,
    /// FIPS policy.
    pub fips: Option<FipsMode>,
    /// Policy when no FIPS endpoint exists.
    pub fips_missing: Option<FipsMissing>,
    /// Events file (`-` = stdout).
    pub events: Option<String>,
    /// `PATTERN=HOST:PORT` entries.
    pub connect_to: Vec<String>,
    /// Extra upstream trust anchors (PEM files).
    pub upstream_ca: Vec<PathBuf>,
    /// CA directory.
    pub ca_dir: Option<PathBuf>,
    /// Scan requests for sensitive data (`false`: transport and FIPS policy and the call record
    /// only; bodies stream through unread, except a form body that names the operation).
    pub inspect: Option<bool>,
    /// Scan payload fields (message bodies, DynamoDB items, customer endpoint bodies) like free
    /// text; off by default, since they are application data, not resource metadata.
    pub scan_payloads: Option<bool>,
    /// Largest body inspected, bytes.
    pub inspect_limit: Option<usize>,
    /// Bytes all requests together may hold in inspection buffers.
    pub inspect_budget: Option<usize>,
    /// Concurrent connections.
    pub max_connections: Option<usize>,
    /// Seconds to send a request head.
    pub header_read_timeout: Option<u64>,
    /// Seconds between bytes of a body read for inspection.
    pub body_read_timeout: Option<u64>,
    /// Seconds for a whole body read for inspection.
    pub body_total_timeout: Option<u64>,
    /// Seconds to wait for room in the inspection budget.
    pub budget_wait_timeout: Option<u64>,
    /// Seconds an idle connection is kept (both legs, h1 and h2).
    pub idle_timeout: Option<u64>,
    /// Seconds to wait for an upstream response head.
    pub upstream_timeout: Option<u64>,
    /// Seconds between bytes of a body streamed through (either direction).
    pub stream_idle_timeout: Option<u64>,
    /// Seconds a blind tunnel may carry no bytes before it is closed.
    pub tunnel_idle_timeout: Option<u64>,
    /// Load a CA key file that others can read (warned about loudly).
    pub allow_open_key: Option<bool>,
    /// Load a CA certificate without name constraints (warned about loudly).
    pub allow_unconstrained_ca: Option<bool>,
    /// Hosts tunnelled blind, never intercepted: a host or `*.suffix` each.
    pub passthrough: Vec<String>,
    /// Ports whose CONNECTs to AWS hosts are intercepted (443 when none are given); CONNECTs to
    /// other ports are tunnelled blind.
    pub intercept_ports: Vec<u16>,
    /// `http://[user:pass@]host:port` of a proxy every upstream connection goes through, or
    /// `env` for awsguard's own `HTTPS_PROXY` and `NO_PROXY`.
    pub upstream_proxy: Option<ProxySetting>,
    /// Hosts reached directly, not through `upstream-proxy` (`NO_PROXY` syntax, one or more
    /// comma-separated entries each).
    pub upstream_no_proxy: Vec<String>,
    /// `[rules.<id>]`: per-rule mode and severity (file only).
    pub rules: BTreeMap<String, RuleOverride>,
    /// `[[identifiers]]`: custom identifiers (file only).
    pub identifiers: Vec<CustomIdentifier>,
    /// `[[allow]]`: suppressions (file only).
    pub allow: Vec<Suppression>,
}

impl Settings {
    /// Reads a TOML settings file.
    pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: match e.span() {
                Some(span) => {
                    let (line, column) = line_column(&text, span.start);
                    format!("line {line}, column {column}: {}", e.message())
                }
                None => e.message().to_owned(),
            },
        })
    }

    /// `self` with every unset value taken from `base` (lists are concatenated).
    pub fn over(self, base: Settings) -> Settings {
        Settings {
            listen: self.listen.or(base.listen),
            mode: self.mode.or(base.mode),
            block_severity: self.block_severity.or(base.block_severity),
            min_tls: self.min_tls.or(base.min_tls),
            fips: self.fips.or(base.fips),
            fips_missing: self.fips_missing.or(base.fips_missing),
            events: self.events.or(base.events),
            connect_to: [base.connect_to, self.connect_to].concat(),
            upstream_ca: [base.upstream_ca, self.upstream_ca].concat(),
            ca_dir: self.ca_dir.or(base.ca_dir),
            inspect: self.inspect.or(base.inspect),
            scan_payloads: self.scan_payloads.or(base.scan_payloads),
            inspect_limit: self.inspect_limit.or(base.inspect_limit),
            inspect_budget: self.inspect_budget.or(base.inspect_budget),
            max_connections: self.max_connections.or(base.max_connections),
            header_read_timeout: self.header_read_timeout.or(base.header_read_timeout),
            body_read_timeout: self.body_read_timeout.or(base.body_read_timeout),
            body_total_timeout: self.body_total_timeout.or(base.body_total_timeout),
            budget_wait_timeout: self.budget_wait_timeout.or(base.budget_wait_timeout),
            idle_timeout: self.idle_timeout.or(base.idle_timeout),
            upstream_timeout: self.upstream_timeout.or(base.upstream_timeout),
            stream_idle_timeout: self.stream_idle_timeout.or(base.stream_idle_timeout),
            tunnel_idle_timeout: self.tunnel_idle_timeout.or(base.tunnel_idle_timeout),
            allow_open_key: self.allow_open_key.or(base.allow_open_key),
            allow_unconstrained_ca: self.allow_unconstrained_ca.or(base.allow_unconstrained_ca),
            passthrough: [base.passthrough, self.passthrough].concat(),
            upstream_proxy: self.upstream_proxy.or(base.upstream_proxy),
            upstream_no_proxy: [base.upstream_no_proxy, self.upstream_no_proxy].concat(),
            intercept_ports: if self.intercept_ports.is_empty() {
                base.intercept_ports
            } else {
                self.intercept_ports
            },
            rules: if self.rules.is_empty() {
                base.rules
            } else {
                self.rules
            },
            identifiers: [base.identifiers, self.identifiers].concat(),
            allow: [base.allow, self.allow].concat(),
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address (loopback by default).
    pub listen: SocketAddr,
    /// Audit or enforce.
    pub mode: Mode,
    /// Lowest blocking severity.
    pub block_severity: Severity,
    /// Minimum TLS version, both legs.
    pub min_tls: MinTls,
    /// FIPS policy.
    pub fips: FipsMode,
    /// No-FIPS-endpoint policy.
    pub fips_missing: FipsMissing,
    /// Where events go.
    pub events: Option<EventsTarget>,
    /// Upstream routing overrides.
    pub connect_to: Vec<ConnectTo>,
    /// Extra upstream trust anchors.
    pub upstream_ca: Vec<PathBuf>,
    /// CA directory.
    pub ca_dir: PathBuf,
    /// Bounds.
    pub limits: Limits,
    /// The detectors with their rule overrides, custom identifiers and suppressions, compiled.
    pub scanner: Arc<Scanner>,
    /// Requests are scanned for sensitive data (on unless `--no-inspect`).
    pub inspect: bool,
    /// Payload fields are scanned like free text (`scan-payloads = true`).
    pub scan_payloads: bool,
    /// A CA key file readable by others is loaded anyway (`--allow-open-key`).
    pub allow_open_key: bool,
    /// A CA certificate without name constraints is loaded anyway (`--allow-unconstrained-ca`).
    pub allow_unconstrained_ca: bool,
    /// Hosts tunnelled blind (`passthrough`, `--passthrough`).
    pub passthrough: Vec<HostPattern>,
    /// Ports intercepted for AWS hosts (`intercept-ports`; 443 by default).
    pub intercept_ports: Vec<u16>,
    /// The proxy upstream connections go through, if any (`upstream-proxy`).
    pub upstream_proxy: Option<UpstreamProxy>,
}

impl Config {
    /// Which CA refusals the user turned into warnings.
    pub fn ca_policy(&self) -> crate::ca::LoadPolicy {
        crate::ca::LoadPolicy {
            allow_open_key: self.allow_open_key,
            allow_unconstrained: self.allow_unconstrained_ca,
        }
    }
}

/// A timeout key's value: whole seconds, at least one.
fn seconds(key: &'static str, secs: u64) -> Result<Duration, ConfigError> {
    if secs == 0 {
        return Err(ConfigError::Zero(key));
    }
    Ok(Duration::from_secs(secs))
}

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Config {
    /// Validates settings; `default_ca_dir` is `$AWSGUARD_HOME` or `./certs`, read by the caller.
    pub fn resolve(settings: Settings, default_ca_dir: PathBuf) -> Result<Config, ConfigError> {
        let listen = match settings.listen {
            Some(addr) => addr,
            None => DEFAULT_LISTEN
                .parse()
                .map_err(|_| ConfigError::Listen(DEFAULT_LISTEN.to_owned()))?,
        };
        let connect_to = settings
            .connect_to
            .iter()
            .map(|s| ConnectTo::parse(s))
            .collect::<Result<_, _>>()?;
        for path in &settings.upstream_ca {
            if !path.is_file() {
                return Err(ConfigError::Missing(path.clone()));
            }
        }
        let events = settings.events.map(|e| match e.as_str() {
            "-" => EventsTarget::Stdout,
            path => EventsTarget::File(PathBuf::from(path)),
        });
        let mut limits = Limits::default();
        if let Some(n) = settings.inspect_limit {
            limits.inspect_body_bytes = n;
        }
        if let Some(n) = settings.inspect_budget {
            if n == 0 {
                return Err(ConfigError::Zero("inspect-budget"));
            }
            limits.inspect_budget_bytes = n;
        }
        if let Some(n) = settings.max_connections {
            if n == 0 {
                return Err(ConfigError::Zero("max-connections"));
            }
            limits.max_connections = n;
        }
        if let Some(secs) = settings.header_read_timeout {
            limits.header_read_timeout = seconds("header-read-timeout", secs)?;
        }
        if let Some(secs) = settings.body_read_timeout {
            limits.body_idle_timeout = seconds("body-read-timeout", secs)?;
        }
        if let Some(secs) = settings.body_total_timeout {
            limits.body_total_timeout = seconds("body-total-timeout", secs)?;
        }
        if let Some(secs) = settings.budget_wait_timeout {
            limits.budget_wait_timeout = seconds("budget-wait-timeout", secs)?;
        }
        if let Some(secs) = settings.idle_timeout {
            limits.idle_timeout = seconds("idle-timeout", secs)?;
        }
        if let Some(secs) = settings.upstream_timeout {
            limits.upstream_response_timeout = seconds("upstream-timeout", secs)?;
        }
        if let Some(secs) = settings.stream_idle_timeout {
            limits.stream_idle_timeout = seconds("stream-idle-timeout", secs)?;
        }
        if let Some(secs) = settings.tunnel_idle_timeout {
            limits.tunnel_idle_timeout = seconds("tunnel-idle-timeout", secs)?;
        }
        let passthrough = settings
            .passthrough
            .iter()
            .map(|s| HostPattern::parse(s).ok_or_else(|| ConfigError::Passthrough(s.clone())))
            .collect::<Result<_, _>>()?;
        let intercept_ports = if settings.intercept_ports.is_empty() {
            vec![443]
        } else {
            settings.intercept_ports.clone()
        };
        if intercept_ports.contains(&0) {
            return Err(ConfigError::Zero("intercept-ports"));
        }
        let upstream_proxy = resolve_upstream_proxy(
            settings.upstream_proxy.as_ref(),
            &settings.upstream_no_proxy,
            listen,
            |name| std::env::var(name).ok(),
        )?;
        let rules = RulesConfig {
            rules: settings.rules,
            identifiers: settings.identifiers,
            allow: settings.allow,
        };
        let scanner = Arc::new(Scanner::new(&rules)?);
        Ok(Config {
            scanner,
            inspect: settings.inspect.unwrap_or(true),
            scan_payloads: settings.scan_payloads.unwrap_or(false),
            listen,
            mode: settings.mode.unwrap_or_default(),
            block_severity: settings.block_severity.unwrap_or(Severity::Medium),
            min_tls: settings.min_tls.unwrap_or_default(),
            fips: settings.fips.unwrap_or_default(),
            fips_missing: settings.fips_missing.unwrap_or_default(),
            events,
            connect_to,
            upstream_ca: settings.upstream_ca,
            ca_dir: settings.ca_dir.unwrap_or(default_ca_dir),
            limits,
            allow_open_key: settings.allow_open_key.unwrap_or(false),
            allow_unconstrained_ca: settings.allow_unconstrained_ca.unwrap_or(false),
            passthrough,
            intercept_ports,
            upstream_proxy,
        })
    }

    /// The minimum TLS version handshakes require: `--min-tls`, unless `[rules.tls-version]` is
    /// `audit` or `off`, when every version awsguard speaks is accepted and calls below
    /// `--min-tls` are only recorded (see [`crate::policy::decide`]).
    pub fn handshake_min_tls(&self) -> MinTls {
        match self.scanner.rule_mode(crate::inspect::TLS_VERSION.id) {
            RuleMode::Audit | RuleMode::Off => MinTls::Tls12,
            RuleMode::Default | RuleMode::Enforce => self.min_tls,
        }
    }

    /// Where upstream connections for `host:port` go.
    pub fn upstream_target(&self, host: &str, port: u16) -> String {
        self.connect_to
            .iter()
            .find(|c| c.matches(host))
            .map(|c| c.target.clone())
            .unwrap_or_else(|| format!("{host}:{port}"))
    }
}

/// The upstream proxy from `upstream-proxy` (`env`: read from the variables `var` gives) and the
/// bypass lists.
fn resolve_upstream_proxy(
    setting: Option<&ProxySetting>,
    no_proxy: &[String],
    listen: SocketAddr,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<UpstreamProxy>, ConfigError> {
    let Some(ProxySetting(value)) = setting else {
        return Ok(None);
    };
    let flags = no_proxy.iter().map(String::as_str);
    if value != "env" {
        return UpstreamProxy::parse(value, NoProxy::parse(flags)).map(Some);
    }
    let first = |names: [&str; 2]| names.iter().find_map(|n| var(n).filter(|v| !v.is_empty()));
    let Some(from_env) = first(["HTTPS_PROXY", "https_proxy"]) else {
        return Ok(None);
    };
    let env_no_proxy = first(["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let proxy = UpstreamProxy::parse(
        &from_env,
        NoProxy::parse(flags.chain([env_no_proxy.as_str()])),
    )?;
    // `awsguard env` exports HTTPS_PROXY pointing at awsguard: following it would loop.
    let is_self = proxy.port == listen.port()
        && proxy
            .host
            .parse::<std::net::IpAddr>()
            .map_or(proxy.host == "localhost", |ip| {
                ip == listen.ip() || (ip.is_loopback() && listen.ip().is_loopback())
            });
    if is_self {
        return Err(ConfigError::UpstreamProxy(
            "HTTPS_PROXY points at awsguard's own listen address",
        ));
    }
    Ok(Some(proxy))
}

/// Why settings are invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Config file unreadable.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Config file is not valid TOML for these settings.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Bad `--connect-to`.
    #[error("invalid --connect-to {0:?} (expected PATTERN=HOST:PORT, PATTERN a host or *.suffix)")]
    ConnectTo(String),
    /// Bad `passthrough` pattern.
    #[error("invalid passthrough pattern {0:?} (expected a host or *.suffix)")]
    Passthrough(String),
    /// Bad `upstream-proxy` (the value is not repeated: it may hold a password).
    #[error("invalid upstream-proxy (expected http://[user:pass@]host:port or env): {0}")]
    UpstreamProxy(&'static str),
    /// Bad listen address.
    #[error("invalid listen address {0:?}")]
    Listen(String),
    /// A file named in the settings does not exist.
    #[error("no such file: {0}")]
    Missing(PathBuf),
    /// A count that must be positive.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// A rule override, custom identifier or suppression is invalid.
    #[error("invalid rules in config")]
    Rules(#[from] RulesError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_loopback_audit_tls12() {
        let c = Config::resolve(Settings::default(), "certs".into()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.mode, Mode::Audit);
        assert_eq!(c.min_tls, MinTls::Tls12);
        assert_eq!(c.fips, FipsMode::Audit);
        assert_eq!(c.fips_missing, FipsMissing::Allow);
        assert_eq!(c.block_severity, Severity::Medium);
        assert_eq!(c.limits.inspect_body_bytes, 1024 * 1024);
    }

    #[test]
    fn connect_to_patterns() {
        let c = ConnectTo::parse("*.amazonaws.com=127.0.0.1:4566").unwrap();
        assert!(c.matches("sqs.us-east-1.amazonaws.com"));
        assert!(c.matches("STS.AMAZONAWS.COM."));
        assert!(!c.matches("amazonaws.com"));
        assert!(!c.matches("evilamazonaws.com"));
        let exact = ConnectTo::parse("sts.amazonaws.com=localhost:1").unwrap();
        assert!(exact.matches("sts.amazonaws.com"));
        assert!(!exact.matches("x.sts.amazonaws.com"));
        for bad in ["nohost", "a=b", "a=:1", "=h:1", "a=h:port"] {
            assert!(ConnectTo::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_win_over_file_and_lists_add_up() {
        let file: Settings = toml::from_str(
            "mode = \"enforce\"\nmin-tls = \"1.3\"\nconnect-to = [\"a=h:1\"]\nfips = \"off\"",
        )
        .unwrap();
        let flags = Settings {
            mode: Some(Mode::Audit),
            connect_to: vec!["b=h:2".into()],
            ..Settings::default()
        };
        let c = Config::resolve(flags.over(file), "certs".into()).unwrap();
        assert_eq!(c.mode, Mode::Audit);
        assert_eq!(c.min_tls, MinTls::Tls13);
        assert_eq!(c.fips, FipsMode::Off);
        assert_eq!(c.connect_to.len(), 2);
        assert_eq!(c.upstream_target("b", 443), "h:2");
        assert_eq!(c.upstream_target("c", 443), "c:443");
    }

    #[test]
    fn rules_identifiers_and_allowlists_come_from_the_file() {
        let file: Settings = toml::from_str(
            r#"
[rules.email-address]
mode = "enforce"
severity = "high"

[[identifiers]]
name = "employee-id"
regex = "EMP-[0-9]{6}"
keywords = ["employee"]
max-distance = 20
ignore-words = ["EMP-000000"]

[[allow]]
rule = "email-address"
value = "@example\\.com$"
"#,
        )
        .unwrap();
        let c = Config::resolve(file, "certs".into()).unwrap();
        assert_eq!(c.scanner.severity("email-address"), Severity::High);
        assert_eq!(
            c.scanner.rule_mode("email-address"),
            crate::inspect::RuleMode::Enforce
        );
        assert_eq!(c.scanner.severity("custom:employee-id"), Severity::Medium);
    }

    #[test]
    fn bad_rules_are_config_errors_naming_the_entry() {
        let file: Settings = toml::from_str("[rules.emial-address]\nmode = \"off\"").unwrap();
        let err = Config::resolve(file, "certs".into()).unwrap_err();
        assert_eq!(
            format!("{}: {}", err, std::error::Error::source(&err).unwrap()),
            "invalid rules in config: rules: unknown rule \"emial-address\""
        );
    }

    #[test]
    fn unknown_file_keys_are_rejected_with_their_name() {
        let err = toml::from_str::<Settings>("modee = \"audit\"").unwrap_err();
        assert!(err.message().contains("modee"), "{}", err.message());
    }

    #[test]
    fn upstream_proxy_urls_and_their_passwords() {
        let p =
            UpstreamProxy::parse("http://me:p%40ss@proxy.corp:3128", NoProxy::default()).unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 3128));
        let (user, password) = p.credentials.clone().unwrap();
        assert_eq!((user.as_str(), password.expose()), ("me", "p@ss"));
        assert_eq!(p.address(), "proxy.corp:3128");
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("p@ss") && !debug.contains("p%40ss"),
            "{debug}"
        );
        let plain = UpstreamProxy::parse("10.0.0.1:8080", NoProxy::default()).unwrap();
        assert_eq!(
            (plain.address(), plain.credentials),
            ("10.0.0.1:8080".into(), None)
        );
        assert_eq!(
            UpstreamProxy::parse("http://proxy.corp", NoProxy::default())
                .unwrap()
                .port,
            80
        );
        for bad in [
            "https://u:hunter2@proxy:1",
            "http://u:hunter2@:1",
            "socks5://u:hunter2@h:1",
        ] {
            let error = UpstreamProxy::parse(bad, NoProxy::default()).unwrap_err();
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
        let setting = ProxySetting::new("http://u:hunter2@proxy:1".into());
        assert_eq!(format!("{setting:?}"), "\"http://u:***@proxy:1/\"");
        assert_eq!(
            format!("{:?}", ProxySetting::new("x:hunter2@".into())),
            "\"<unparsable, hidden>\""
        );
    }

    #[test]
    fn no_proxy_entries() {
        let no = NoProxy::parse([".corp.example, sts.amazonaws.com", "*.internal"]);
        for (host, direct) in [
            ("corp.example", true),
            ("a.corp.example", true),
            ("sts.amazonaws.com", true),
            ("STS.amazonaws.com.", true),
            ("sqs.amazonaws.com", false),
            ("x.internal", true),
            ("notcorp.example", false),
        ] {
            assert_eq!(no.matches(host), direct, "{host}");
        }
        assert!(NoProxy::parse(["*"]).matches("anything"));
        assert!(!NoProxy::parse([""]).matches("anything"));
    }

    #[test]
    fn upstream_proxy_from_the_environment() {
        let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let env = ProxySetting::new("env".into());
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let p = resolve_upstream_proxy(
            Some(&env),
            &["flag.example".into()],
            listen,
            vars(&[("https_proxy", "http://proxy:3128"), ("NO_PROXY", ".corp")]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.address(), "proxy:3128");
        assert!(p.for_host("a.corp").is_none());
        assert!(p.for_host("flag.example").is_none());
        assert!(p.for_host("sts.amazonaws.com").is_some());
        assert_eq!(
            resolve_upstream_proxy(Some(&env), &[], listen, vars(&[])).unwrap(),
            None
        );
        // HTTPS_PROXY set by `awsguard env` names awsguard itself.
        let looped = vars(&[("HTTPS_PROXY", "http://127.0.0.1:8080")]);
        assert!(resolve_upstream_proxy(Some(&env), &[], listen, looped).is_err());
    }

    #[test]
    fn passthrough_ports_and_upstream_proxy_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("awsguard.toml");
        std::fs::write(
            &path,
            "passthrough = [\"*.iot.us-east-1.amazonaws.com\"]\n\
             intercept-ports = [443, 8443]\n\
             upstream-proxy = \"http://u:hunter2@proxy.corp:3128\"\n\
             upstream-no-proxy = [\".corp\"]\n",
        )
        .unwrap();
        let file = Settings::from_file(&path).unwrap();
        assert!(!format!("{file:?}").contains("hunter2"));
        let flags = Settings {
            passthrough: vec!["sts.amazonaws.com".into()],
            ..Settings::default()
        };
        let c = Config::resolve(flags.over(file), "certs".into()).unwrap();
        assert_eq!(c.intercept_ports, [443, 8443]);
        assert_eq!(c.passthrough.len(), 2);
        assert!(c.passthrough[0].matches("abc-ats.iot.us-east-1.amazonaws.com"));
        let proxy = c.upstream_proxy.as_ref().unwrap();
        assert_eq!(proxy.address(), "proxy.corp:3128");
        assert!(proxy.for_host("git.corp").is_none());
        assert!(!format!("{c:?}").contains("hunter2"));
        let bad = Settings {
            passthrough: vec!["bad pattern".into()],
            ..Settings::default()
        };
        assert!(Config::resolve(bad, "certs".into()).is_err());
        assert_eq!(
            Config::resolve(Settings::default(), "certs".into())
                .unwrap()
                .intercept_ports,
            [443]
        );
    }
}
