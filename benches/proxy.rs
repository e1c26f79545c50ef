//! Throughput, latency and memory through awsguard against the same upstream reached directly,
//! and optionally against other MITM proxies, in one run.
//!
//! `cargo bench --bench proxy -- --pin` (or `tools/bench`, which also builds comparison peers).
//! The proxy runs as its own process (the real binary), the upstream is a local rustls/hyper
//! server on a CA-issued certificate, the client is hyper over rustls. Every subject (direct,
//! awsguard, each `--peer`) is measured once per round, in turn, for several rounds; the tables
//! give medians and the median (and spread) of per-round ratios. Options:
//! - `--rounds N` (default 5), `--secs S` per run (default 3), `--upload-mib M` (default 256);
//! - `--pin`: proxies on core 0, client and upstream on core 1 (each proxy gets one tokio worker,
//!   as it would when started under `taskset -c 0`);
//! - `--peer NAME=PROGRAM`: also measure another proxy, started as
//!   `PROGRAM --upstream ADDR --upstream-ca FILE --ca-out FILE`, which prints
//!   `listening on ADDR` (see `tools/peers/`);
//! - `--only NAME[,NAME...]`: keepalive1, keepalive4, newconn, fixed, tagged, tunnel, idle,
//!   upload;
//! - `--callgrind [--callgrind-out DIR]`: instead, run awsguard (and each `--peer`) under
//!   valgrind's callgrind and report instructions per request (stable on a busy machine, for
//!   comparing builds and proxies).
//!
//! Under `cargo test` it runs one short round as a smoke test.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The host of the plain GET loads.
const SQS: &str = "sqs.us-east-1.amazonaws.com";
/// A host outside AWS: awsguard tunnels it blind (the upstream certificate covers it).
const BLIND: &str = "upstream.test";
const SIGNATURE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[derive(Clone)]
struct Target {
    /// Proxy address, or None for direct.
    proxy: Option<SocketAddr>,
    upstream: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
}

/// A program measured: direct, awsguard, or a peer proxy.
struct Subject {
    name: String,
    target: Target,
    /// The proxy process, for its CPU time and memory.
    pid: Option<u32>,
}

fn tls_config(ca_pem: &Path) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Opens an HTTP/1.1 connection over TLS to `host`, through the proxy's CONNECT or directly.
async fn open<B>(target: &Target, host: &str) -> hyper::client::conn::http1::SendRequest<B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tcp = match target.proxy {
        Some(proxy) => {
            let mut tcp = TcpStream::connect(proxy).await.unwrap();
            tcp.write_all(
                format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes(),
            )
            .await
            .unwrap();
            let mut buf = Vec::new();
            while !buf.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                tcp.read_exact(&mut byte).await.unwrap();
                buf.push(byte[0]);
            }
            assert!(buf.starts_with(b"HTTP/1.1 200"));
            tcp
        }
        None => TcpStream::connect(target.upstream).await.unwrap(),
    };
    tcp.set_nodelay(true).unwrap();
    let tls = tokio_rustls::TlsConnector::from(target.tls.clone())
        .connect(ServerName::try_from(host.to_owned()).unwrap(), tcp)
        .await
        .unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

/// What a load sends.
#[derive(Clone, Copy)]
enum Call {
    /// `GET /bytes/200`: 200 bytes back.
    Get(&'static str),
    /// A tagged control-plane call of one protocol (signed-looking, mostly benign tags).
    Tagged(Protocol),
}

#[derive(Clone, Copy)]
enum Protocol {
    Json,
    Query,
    RestXml,
    Cbor,
}

impl Call {
    fn host(self) -> &'static str {
        match self {
            Call::Get(host) => host,
            Call::Tagged(Protocol::Json) => SQS,
            Call::Tagged(Protocol::Query) => "sns.us-east-1.amazonaws.com",
            Call::Tagged(Protocol::RestXml) => "orders-archive.s3.us-east-1.amazonaws.com",
            Call::Tagged(Protocol::Cbor) => "monitoring.us-east-1.amazonaws.com",
        }
    }

    fn request(self) -> hyper::Request<Full<Bytes>> {
        let tags = [
            ("team", "payments"),
            ("environment", "staging"),
            ("cost-center", "cc-4410"),
            ("service", "order-events"),
            ("managed-by", "terraform"),
        ];
        let (method, path, content_type, target, body): (_, _, _, Option<&str>, Vec<u8>) =
            match self {
                Call::Get(_) => ("GET", "/bytes/200", "", None, Vec::new()),
                Call::Tagged(Protocol::Json) => {
                    let tags: serde_json::Map<_, _> = tags
                        .iter()
                        .map(|(k, v)| ((*k).into(), (*v).into()))
                        .collect();
                    let body = serde_json::json!({
                        "QueueName": "order-events-staging",
                        "Attributes": {"VisibilityTimeout": "60", "MessageRetentionPeriod": "345600"},
                        "tags": tags,
                    });
                    let body = serde_json::to_vec(&body).unwrap();
                    let target = Some("AmazonSQS.CreateQueue");
                    ("POST", "/", "application/x-amz-json-1.0", target, body)
                }
                Call::Tagged(Protocol::Query) => {
                    let mut form = url::form_urlencoded::Serializer::new(String::new());
                    form.append_pair("Action", "CreateTopic")
                        .append_pair("Version", "2010-03-31")
                        .append_pair("Name", "order-events-staging");
                    for (i, (k, v)) in tags.iter().enumerate() {
                        form.append_pair(&format!("Tags.member.{}.Key", i + 1), k);
                        form.append_pair(&format!("Tags.member.{}.Value", i + 1), v);
                    }
                    let body = form.finish().into_bytes();
                    let form = "application/x-www-form-urlencoded; charset=utf-8";
                    ("POST", "/", form, None, body)
                }
                Call::Tagged(Protocol::RestXml) => {
                    let set: String = tags
                        .iter()
                        .map(|(k, v)| format!("<Tag><Key>{k}</Key><Value>{v}</Value></Tag>"))
                        .collect();
                    let body = format!(
                        "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>{set}</TagSet></Tagging>"
                    );
                    (
                        "PUT",
                        "/?tagging",
                        "application/xml",
                        None,
                        body.into_bytes(),
                    )
                }
                Call::Tagged(Protocol::Cbor) => {
                    use ciborium::Value;
                    let tags = tags
                        .iter()
                        .map(|(k, v)| {
                            Value::Map(vec![
                                (Value::Text("Key".into()), Value::Text((*k).into())),
                                (Value::Text("Value".into()), Value::Text((*v).into())),
                            ])
                        })
                        .collect();
                    let body = Value::Map(vec![
                        (
                            Value::Text("ResourceARN".into()),
                            Value::Text(
                                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-5xx".into(),
                            ),
                        ),
                        (Value::Text("Tags".into()), Value::Array(tags)),
                    ]);
                    let mut bytes = Vec::new();
                    ciborium::into_writer(&body, &mut bytes).unwrap();
                    let path = "/service/GraniteServiceVersion20100801/operation/TagResource";
                    ("POST", path, "application/cbor", None, bytes)
                }
            };
        let service = self.host().split('.').next().unwrap_or_default();
        let service = if self.host().contains(".s3.") {
            "s3"
        } else {
            service
        };
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.host())
            .header("user-agent", "aws-cli/2.27.0 md/awsguard-bench")
            .header("x-amz-date", "20261123T120000Z")
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/{service}/aws4_request, \
                     SignedHeaders=content-type;host;x-amz-date, Signature={SIGNATURE}"
                ),
            );
        if !content_type.is_empty() {
            req = req.header("content-type", content_type);
        }
        if let Some(target) = target {
            req = req.header("x-amz-target", target);
        }
        if matches!(self, Call::Tagged(Protocol::Cbor)) {
            req = req.header("smithy-protocol", "rpc-v2-cbor");
        }
        req.body(Full::new(Bytes::from(body))).unwrap()
    }
}

async fn call(sender: &mut Sender, call: Call) {
    sender.ready().await.unwrap();
    let resp = sender.send_request(call.request()).await.unwrap();
    assert_eq!(resp.status(), 200, "{}", call.host());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    if matches!(call, Call::Get(_)) {
        assert_eq!(body.len(), 200);
    }
}

/// Requests per second and sorted latencies (µs) for one keep-alive connection per entry of
/// `calls` (each connection sends its own call), or a new connection per request when `fresh`.
async fn load(target: Target, calls: &[Call], fresh: bool, secs: f64) -> (f64, Vec<u64>) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for &c in calls {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut sender = open(&target, c.host()).await;
            while Instant::now() < deadline {
                let start = Instant::now();
                if fresh {
                    sender = open(&target, c.host()).await;
                }
                call(&mut sender, c).await;
                latencies.push(start.elapsed().as_micros() as u64);
            }
            latencies
        }));
    }
    let start = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort_unstable();
    (rate, all)
}

/// Sorted latencies (µs) at a fixed request rate on one keep-alive connection. A request that
/// starts late because the previous one was slow is measured from its scheduled time (no
/// coordinated omission); one that starts late only because the timer woke late is measured
/// from its start.
///
/// The wait is a thread sleep, not tokio's timer: that timer ticks in whole milliseconds, so at
/// 1,000 req/s it wakes up to a full interval late and the next request then looks behind
/// schedule. This future runs on `block_on`'s thread, while the connection task runs on the
/// runtime's worker, so blocking here stalls nothing.
async fn fixed_rate(target: Target, host: &'static str, rate: f64, secs: f64) -> Vec<u64> {
    let mut sender = open(&target, host).await;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let mut latencies = Vec::new();
    for i in 0..(rate * secs) as u32 {
        let scheduled = start + interval * i;
        let now = Instant::now();
        let behind = now > scheduled;
        if !behind {
            std::thread::sleep(scheduled - now);
        }
        let from = if behind { scheduled } else { Instant::now() };
        call(&mut sender, Call::Get(host)).await;
        latencies.push(from.elapsed().as_micros() as u64);
    }
    latencies.sort_unstable();
    latencies
}

async fn upload(target: &Target, mib: u64) -> f64 {
    let len = mib * 1024 * 1024;
    let mut sender = open(target, SQS).await;
    let req = hyper::Request::post("/upload")
        .header("host", SQS)
        .header("content-length", len.to_string())
        .body(common::PatternBody::new(len))
        .unwrap();
    let start = Instant::now();
    let resp = sender.send_request(req).await.unwrap();
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(text.starts_with(format!("len={len}").as_bytes()));
    (len as f64 / 1e6) / start.elapsed().as_secs_f64()
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p) as usize] as f64
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// "median (min–max)" of per-round ratios `a[i] / b[i]`.
fn ratio(a: &[f64], b: &[f64]) -> String {
    let r: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
    let lo = r.iter().cloned().fold(f64::MAX, f64::min);
    let hi = r.iter().cloned().fold(0.0, f64::max);
    format!("{:.2} ({lo:.2}–{hi:.2})", median(&r))
}

/// CPU time (user + system) the process has used, in microseconds.
fn cpu_micros(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    ticks * 10_000
}

/// `field` (VmRSS, VmHWM) of a process, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn num(name: &str, default: f64) -> f64 {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Whether the measurement `name` was asked for: all of them unless `--only NAME[,NAME...]`.
fn wanted(name: &str) -> bool {
    arg("--only").is_none_or(|list| list.split(',').any(|n| n == name))
}

fn pin(core: &str, pid: u32) -> bool {
    Command::new("taskset")
        .args(["-a", "-pc", core, &pid.to_string()])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A peer proxy (see `tools/peers/`), started with the bench's upstream and its own CA.
struct Peer {
    name: String,
    child: common::ChildGuard,
    addr: SocketAddr,
    ca_pem: PathBuf,
    _dir: tempfile::TempDir,
}

/// Every `--peer NAME=PROGRAM` argument.
fn peer_specs() -> Vec<String> {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .filter(|w| w[0] == "--peer")
        .map(|w| w[1].clone())
        .collect()
}

/// Starts `--peer NAME=PROGRAM`, under `wrapper` (a command prefix such as valgrind) if not
/// empty.
fn start_peer(
    spec: &str,
    upstream: SocketAddr,
    upstream_ca: &Path,
    env: &[(&str, &str)],
    wrapper: &[&str],
) -> Peer {
    let (name, program) = spec.split_once('=').expect("--peer NAME=PROGRAM");
    let dir = tempfile::tempdir().unwrap();
    let ca_pem = dir.path().join("peer-ca.pem");
    let mut command = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program);
            c
        }
        None => Command::new(program),
    };
    let mut child = command
        .arg("--upstream")
        .arg(upstream.to_string())
        .arg("--upstream-ca")
        .arg(upstream_ca)
        .arg("--ca-out")
        .arg(&ca_pem)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start peer {program}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let child = common::ChildGuard(child);
    let mut lines = BufReader::new(stdout).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("listening on ")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("peer {name} did not say where it listens"));
    // Keep reading so the peer never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Peer {
        name: name.to_owned(),
        child,
        addr,
        ca_pem,
        _dir: dir,
    }
}

/// Per-round rate, p99 latency and proxy CPU per request of each subject.
#[derive(Default, Clone)]
struct Runs {
    rate: Vec<f64>,
    p99: Vec<f64>,
    cpu: Vec<f64>,
}

/// Runs `calls` against every subject in turn, `rounds` times.
fn measure(
    rt: &tokio::runtime::Runtime,
    subjects: &[&Subject],
    calls: &[Call],
    fresh: bool,
    rounds: usize,
    secs: f64,
) -> Vec<Runs> {
    for s in subjects {
        rt.block_on(load(s.target.clone(), calls, fresh, 0.5));
    }
    let mut runs = vec![Runs::default(); subjects.len()];
    for _ in 0..rounds {
        for (s, r) in subjects.iter().zip(runs.iter_mut()) {
            let before = s.pid.map(cpu_micros);
            let (rate, latencies) = rt.block_on(load(s.target.clone(), calls, fresh, secs));
            if let (Some(pid), Some(before)) = (s.pid, before) {
                r.cpu
                    .push((cpu_micros(pid) - before) as f64 / latencies.len().max(1) as f64);
            }
            r.rate.push(rate);
            r.p99.push(pct(&latencies, 0.99));
        }
    }
    runs
}

/// One table row: each subject's median rate (p99, proxy CPU), awsguard ÷ direct, and
/// awsguard ÷ each peer. Subject 0 is direct, subject 1 awsguard.
fn throughput_row(label: &str, runs: &[Runs]) -> String {
    let cell = |r: &Runs| {
        let cpu = if r.cpu.is_empty() {
            String::new()
        } else {
            format!(", {:.0} µs CPU/req", median(&r.cpu))
        };
        format!("{:.0} (p99 {:.0} µs{cpu})", median(&r.rate), median(&r.p99))
    };
    let mut row = format!(
        "| {label} | {} | {} | {}",
        cell(&runs[0]),
        cell(&runs[1]),
        ratio(&runs[1].rate, &runs[0].rate)
    );
    for peer in &runs[2..] {
        row += &format!(" | {} | {}", cell(peer), ratio(&runs[1].rate, &peer.rate));
    }
    row + " |"
}

/// A row of single values per subject (no ratios).
fn plain_row(label: &str, cells: &[String]) -> String {
    let mut row = format!("| {label} | {} | {} |", cells[0], cells[1]);
    for cell in &cells[2..] {
        row += &format!(" | {cell} | |");
    }
    row
}

/// Memory per idle intercepted connection (kB), with `n` connections that each made one call.
fn idle_connection_kb(rt: &tokio::runtime::Runtime, s: &Subject, n: usize) -> f64 {
    let pid = s.pid.expect("a proxy");
    rt.block_on(async {
        let before = status_kib(pid, "VmRSS");
        let mut idle = Vec::new();
        for _ in 0..n {
            let mut sender: Sender = open(&s.target, SQS).await;
            call(&mut sender, Call::Get(SQS)).await;
            idle.push(sender);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after = status_kib(pid, "VmRSS");
        drop(idle);
        after.saturating_sub(before) as f64 * 1.024 / n as f64
    })
}

fn main() {
    // `cargo bench` passes --bench; under `cargo test` this runs as a quick smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = num("--rounds", if full { 5.0 } else { 1.0 }) as usize;
    let secs = num("--secs", if full { 3.0 } else { 0.2 });
    let upload_mib = num("--upload-mib", if full { 256.0 } else { 8.0 }) as u64;
    let pinned = std::env::args().any(|a| a == "--pin");
    let callgrind = std::env::args().any(|a| a == "--callgrind");
    let pki = common::upstream_pki();
    let upstream = common::start_echo_upstream(&pki);
    let route = format!("*.amazonaws.com=127.0.0.1:{}", upstream.addr.port());
    let blind_route = format!("{BLIND}=127.0.0.1:{}", upstream.addr.port());
    let workers: &[(&str, &str)] = if pinned {
        &[("TOKIO_WORKER_THREADS", "1")]
    } else {
        &[]
    };
    // Callgrind's dumps go to a fresh directory, or to `--callgrind-out DIR` (kept for
    // callgrind_annotate).
    let callgrind_dir = tempfile::tempdir().unwrap();
    let callgrind_path =
        arg("--callgrind-out").map_or_else(|| callgrind_dir.path().to_owned(), PathBuf::from);
    let callgrind_out = format!(
        "--callgrind-out-file={}",
        callgrind_path.join("callgrind.out").display()
    );
    let wrapper: &[&str] = if callgrind {
        &["valgrind", "--tool=callgrind", "--vgdb=yes", &callgrind_out]
    } else {
        &[]
    };
    let upstream_ca = pki.ca_pem.to_str().unwrap();
    let routes = [
        "--connect-to",
        &route,
        "--connect-to",
        &blind_route,
        "--upstream-ca",
        upstream_ca,
    ];
    let proxy = common::start_proxy_wrapped(&routes, workers, wrapper);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let awsguard = Subject {
        name: "awsguard".into(),
        target: Target {
            proxy: Some(proxy.addr),
            upstream: upstream.addr,
            tls: tls_config(&proxy.ca_pem()),
        },
        pid: Some(proxy.child.0.id()),
    };
    wait_for_warm_up(&proxy);
    if callgrind {
        // The same build with `--no-inspect`, for what inspection itself costs.
        let off_dir = callgrind_path.join("no-inspect");
        std::fs::create_dir_all(&off_dir).unwrap();
        let off_out = format!(
            "--callgrind-out-file={}",
            off_dir.join("callgrind.out").display()
        );
        let off_wrapper = ["valgrind", "--tool=callgrind", "--vgdb=yes", &off_out];
        let off = common::start_proxy_wrapped(
            &[routes.as_slice(), &["--no-inspect"]].concat(),
            workers,
            &off_wrapper,
        );
        let off = Subject {
            name: "awsguard --no-inspect".into(),
            target: Target {
                proxy: Some(off.addr),
                upstream: upstream.addr,
                tls: tls_config(&off.ca_pem()),
            },
            pid: Some(off.child.0.id()),
        };
        println!("| load (under callgrind) | proxy | unit | instructions per unit |");
        println!("|---|---|---|---|");
        instructions_per_request(&rt, &awsguard, &callgrind_path, secs);
        if wanted("tagged") {
            let (requests, per) = count_instructions(&rt, &off, &off_dir, &TAGGED, false, secs);
            println!(
                "| tagged calls, 4 connections | awsguard `--no-inspect` | {requests} requests | {per:.0} |"
            );
        }
        for spec in peer_specs() {
            let name = spec.split_once('=').map_or(spec.as_str(), |(name, _)| name);
            let dir = callgrind_path.join(format!("peer-{name}"));
            std::fs::create_dir_all(&dir).unwrap();
            let out = format!(
                "--callgrind-out-file={}",
                dir.join("callgrind.out").display()
            );
            let wrapper = ["valgrind", "-q", "--tool=callgrind", "--vgdb=yes", &out];
            let peer = start_peer(&spec, upstream.addr, &pki.ca_pem, workers, &wrapper);
            let subject = Subject {
                name: peer.name.clone(),
                target: Target {
                    proxy: Some(peer.addr),
                    upstream: upstream.addr,
                    tls: tls_config(&peer.ca_pem),
                },
                pid: Some(peer.child.0.id()),
            };
            instructions_per_request(&rt, &subject, &dir, secs);
        }
        return;
    }
    // Once the detectors have warmed up (waited for above): memory at idle, and the peak that
    // start-up reached.
    let idle_rss = status_kib(proxy.child.0.id(), "VmRSS");
    let start_peak = status_kib(proxy.child.0.id(), "VmHWM");
    let peers: Vec<Peer> = peer_specs()
        .iter()
        .map(|spec| start_peer(spec, upstream.addr, &pki.ca_pem, workers, &[]))
        .collect();
    let uninspected = common::start_proxy_wrapped(
        &[routes.as_slice(), &["--no-inspect"]].concat(),
        workers,
        &[],
    );
    if pinned {
        let mut ok = pin("0", proxy.child.0.id()) && pin("0", uninspected.child.0.id());
        for peer in &peers {
            ok &= pin("0", peer.child.0.id());
        }
        ok &= pin("1", std::process::id());
        eprintln!("pinned the proxies to core 0 and the client and upstream to core 1: {ok}");
    }
    let direct = Subject {
        name: "direct".into(),
        target: Target {
            proxy: None,
            upstream: upstream.addr,
            tls: tls_config(&pki.ca_pem),
        },
        pid: None,
    };
    let peer_subjects: Vec<Subject> = peers
        .iter()
        .map(|p| Subject {
            name: p.name.clone(),
            target: Target {
                proxy: Some(p.addr),
                upstream: upstream.addr,
                tls: tls_config(&p.ca_pem),
            },
            pid: Some(p.child.0.id()),
        })
        .collect();
    let mut subjects = vec![&direct, &awsguard];
    subjects.extend(peer_subjects.iter());

    let mut header = "| measurement | direct | awsguard | awsguard ÷ direct".to_owned();
    let mut rule = "|---|---|---|---".to_owned();
    for p in &peer_subjects {
        header += &format!(" | {} | awsguard ÷ {}", p.name, p.name);
        rule += "|---|---";
    }
    println!("{header} |\n{rule}|");
    for (name, label, conns, fresh) in [
        ("keepalive1", "keep-alive, 1 connection (req/s)", 1, false),
        ("keepalive4", "keep-alive, 4 connections (req/s)", 4, false),
        ("newconn", "new connection per request (req/s)", 1, true),
    ] {
        if wanted(name) {
            let calls = vec![Call::Get(SQS); conns];
            let runs = measure(&rt, &subjects, &calls, fresh, rounds, secs);
            println!("{}", throughput_row(label, &runs));
        }
    }
    if wanted("fixed") {
        let runs = fixed_rate_runs(&rt, &subjects, SQS, rounds, secs);
        println!(
            "{}",
            latency_row("latency at 1,000 req/s, 1 connection", &runs)
        );
    }
    if wanted("idle") {
        let n = if full { 1000 } else { 50 };
        let cells: Vec<String> = subjects
            .iter()
            .map(|s| match s.pid {
                Some(_) => format!("{:.1} kB", idle_connection_kb(&rt, s, n)),
                None => String::new(),
            })
            .collect();
        println!(
            "{}",
            plain_row(
                &format!("memory per idle intercepted connection ({n} open)"),
                &cells
            )
        );
    }
    if wanted("upload") {
        let before: Vec<u64> = subjects
            .iter()
            .map(|s| s.pid.map_or(0, |p| status_kib(p, "VmHWM")))
            .collect();
        let mut runs = vec![Vec::new(); subjects.len()];
        for _ in 0..rounds.min(3) {
            for (s, r) in subjects.iter().zip(runs.iter_mut()) {
                r.push(rt.block_on(upload(&s.target, upload_mib)));
            }
        }
        let mut row = format!(
            "| {upload_mib} MiB upload (MB/s) | {:.0} | {:.0} | {}",
            median(&runs[0]),
            median(&runs[1]),
            ratio(&runs[1], &runs[0])
        );
        for r in &runs[2..] {
            row += &format!(" | {:.0} | {}", median(r), ratio(&runs[1], r));
        }
        println!("{row} |");
        let cells: Vec<String> = subjects
            .iter()
            .zip(&before)
            .map(|(s, before)| match s.pid {
                Some(pid) => {
                    let after = status_kib(pid, "VmHWM");
                    format!("+{:.1} MiB", after.saturating_sub(*before) as f64 / 1024.0)
                }
                None => String::new(),
            })
            .collect();
        println!(
            "{}",
            plain_row("peak RSS growth during the uploads", &cells)
        );
    }

    println!("\n| awsguard's own costs | baseline | awsguard | ratio |\n|---|---|---|---|");
    if wanted("tagged") {
        let calls = TAGGED;
        let off = Subject {
            name: "awsguard --no-inspect".into(),
            target: Target {
                proxy: Some(uninspected.addr),
                upstream: upstream.addr,
                tls: tls_config(&uninspected.ca_pem()),
            },
            pid: Some(uninspected.child.0.id()),
        };
        let runs = measure(&rt, &[&off, &awsguard], &calls, false, rounds, secs);
        if !full {
            // The smoke run checks the calls are what they claim to be.
            let mut names: Vec<String> = proxy
                .events()
                .iter()
                .filter_map(|e| e["eventName"].as_str().map(str::to_owned))
                .collect();
            names.sort();
            names.dedup();
            let tagging = [
                "CreateQueue",
                "CreateTopic",
                "PutBucketTagging",
                "TagResource",
            ];
            assert_eq!(names, tagging);
        }
        println!(
            "| tagged calls (JSON, query, XML, CBOR; 4 connections; req/s): `--no-inspect` vs inspecting | {:.0} ({:.0} µs CPU/req) | {:.0} ({:.0} µs CPU/req) | {} |",
            median(&runs[0].rate),
            median(&runs[0].cpu),
            median(&runs[1].rate),
            median(&runs[1].cpu),
            ratio(&runs[1].rate, &runs[0].rate)
        );
    }
    if wanted("tunnel") {
        // A blind tunnel is the floor any proxy on this machine pays: two more hops between cores.
        let blind_direct = measure(&rt, &[&direct], &[Call::Get(BLIND)], false, rounds, secs);
        // Through the tunnel the client sees the upstream's own certificate.
        let tunnel = Subject {
            name: "awsguard tunnel".into(),
            target: Target {
                tls: tls_config(&pki.ca_pem),
                ..awsguard.target.clone()
            },
            pid: awsguard.pid,
        };
        let blind = measure(&rt, &[&tunnel], &[Call::Get(BLIND)], false, rounds, secs);
        println!(
            "| keep-alive, 1 connection, blind tunnel (non-AWS host; req/s) | direct {:.0} | tunnelled {:.0} | {} |",
            median(&blind_direct[0].rate),
            median(&blind[0].rate),
            ratio(&blind[0].rate, &blind_direct[0].rate)
        );
        let runs = fixed_rate_runs(&rt, &[&direct, &tunnel], BLIND, rounds, secs);
        println!(
            "| latency at 1,000 req/s, blind tunnel (p50 / p99 µs) | {:.0} / {:.0} | {:.0} / {:.0} | added p99 {:.0} µs |",
            median(&runs[0].0),
            median(&runs[0].1),
            median(&runs[1].0),
            median(&runs[1].1),
            median(&runs[1].1) - median(&runs[0].1)
        );
    }
    if wanted("idle") {
        let mut starts = Vec::new();
        for _ in 0..5 {
            let begin = Instant::now();
            let started = common::start_proxy(&[]);
            starts.push(begin.elapsed().as_secs_f64() * 1000.0);
            drop(started);
        }
        println!(
            "| start-up to listening, CA creation included (ms, median of 5) | | {:.1} | |",
            median(&starts)
        );
        println!(
            "| RSS at idle, detectors loaded (MiB; peak during start-up) | | {:.1} ({:.1}) | |",
            idle_rss as f64 / 1024.0,
            start_peak as f64 / 1024.0
        );
    }
}

/// Per-round p50 and p99 (µs) at 1,000 req/s for each subject.
fn fixed_rate_runs(
    rt: &tokio::runtime::Runtime,
    subjects: &[&Subject],
    host: &'static str,
    rounds: usize,
    secs: f64,
) -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut runs = vec![(Vec::new(), Vec::new()); subjects.len()];
    for _ in 0..rounds {
        for (s, r) in subjects.iter().zip(runs.iter_mut()) {
            let latencies = rt.block_on(fixed_rate(s.target.clone(), host, 1000.0, secs));
            r.0.push(pct(&latencies, 0.5));
            r.1.push(pct(&latencies, 0.99));
        }
    }
    runs
}

/// Latency row: p50 / p99 per subject, and the p99 each proxy adds to direct.
fn latency_row(label: &str, runs: &[(Vec<f64>, Vec<f64>)]) -> String {
    let direct_p99 = median(&runs[0].1);
    let cell = |r: &(Vec<f64>, Vec<f64>)| format!("{:.0} / {:.0}", median(&r.0), median(&r.1));
    let mut row = format!(
        "| {label} (p50 / p99 µs) | {} | {} | added p99 {:.0} µs",
        cell(&runs[0]),
        cell(&runs[1]),
        median(&runs[1].1) - direct_p99
    );
    for r in &runs[2..] {
        row += &format!(
            " | {} | added p99 {:.0} µs",
            cell(r),
            median(&r.1) - direct_p99
        );
    }
    row + " |"
}

/// Waits (up to 2 minutes) until the proxy says its start-up warm-up is done, so that its
/// one-off work is not counted against requests.
fn wait_for_warm_up(proxy: &common::ProxyProc) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !proxy.stderr.lock().unwrap().contains("detectors warmed up") && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `callgrind_control` against the proxy process.
fn callgrind_control(pid: u32, option: &str) {
    let status = Command::new("callgrind_control")
        .args([option, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "callgrind_control {option} failed");
}

/// Dumps callgrind's counters and returns the instructions counted since the last zeroing.
fn callgrind_dump(pid: u32, dir: &Path) -> u64 {
    callgrind_control(pid, "--dump");
    let newest = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .unwrap();
    let text = std::fs::read_to_string(newest.path()).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// One connection per protocol, each sending its own tagged call.
const TAGGED: [Call; 4] = [
    Call::Tagged(Protocol::Json),
    Call::Tagged(Protocol::Query),
    Call::Tagged(Protocol::RestXml),
    Call::Tagged(Protocol::Cbor),
];

/// Requests made and instructions per request of a proxy under callgrind, for one load.
fn count_instructions(
    rt: &tokio::runtime::Runtime,
    s: &Subject,
    dir: &Path,
    calls: &[Call],
    fresh: bool,
    secs: f64,
) -> (usize, f64) {
    let pid = s.pid.expect("a proxy");
    rt.block_on(load(s.target.clone(), calls, fresh, secs.min(1.0)));
    callgrind_control(pid, "--zero");
    let (_, latencies) = rt.block_on(load(s.target.clone(), calls, fresh, secs));
    let total = callgrind_dump(pid, dir);
    (latencies.len(), total as f64 / latencies.len() as f64)
}

/// `--callgrind`: a proxy runs under valgrind's callgrind, and each load reports its
/// instructions per request. Instruction counts do not depend on what else the machine is
/// doing, so they compare builds (and proxies) where wall-clock timings on a shared machine
/// cannot. Peers get the plain GET loads only: they do not identify or inspect calls.
fn instructions_per_request(rt: &tokio::runtime::Runtime, s: &Subject, dir: &Path, secs: f64) {
    let pid = s.pid.expect("a proxy");
    let is_awsguard = s.name == "awsguard";
    let gets = [Call::Get(SQS); 4];
    for (name, label, calls, fresh) in [
        (
            "keepalive4",
            "keep-alive GET, 4 connections",
            &gets[..],
            false,
        ),
        ("tagged", "tagged calls, 4 connections", &TAGGED[..], false),
        ("newconn", "new connection per request", &gets[..1], true),
    ] {
        if !wanted(name) || (name == "tagged" && !is_awsguard) {
            continue;
        }
        let (requests, per) = count_instructions(rt, s, dir, calls, fresh, secs);
        println!("| {label} | {} | {requests} requests | {per:.0} |", s.name);
    }
    if wanted("upload") {
        callgrind_control(pid, "--zero");
        rt.block_on(upload(&s.target, 64));
        let total = callgrind_dump(pid, dir);
        println!(
            "| 64 MiB upload | {} | per MiB | {:.0} |",
            s.name,
            total as f64 / 64.0
        );
    }
}
