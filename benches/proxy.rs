//! Throughput and latency through awsguard against the same upstream reached directly, in one run.
//!
//! `cargo bench --bench proxy` (release build). The proxy runs as its own process (the real
//! binary), the upstream is a local rustls/hyper server, the client is hyper over rustls. Direct
//! and proxied runs alternate (ABAB…) for several rounds; the table gives medians and the median
//! of per-round ratios. Options: `--rounds N` (default 5), `--secs S` per run (default 3),
//! `--upload-mib M` (default 256), `--pin` (proxy on core 0, client and upstream on core 1). Under `cargo test` it runs one short round as a smoke test.

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HOST: &str = "sqs.us-east-1.amazonaws.com";

#[derive(Clone)]
struct Target {
    /// Proxy address, or None for direct.
    proxy: Option<SocketAddr>,
    upstream: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
}

fn tls_config(ca_pem: &std::path::Path) -> Arc<rustls::ClientConfig> {
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

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// Opens an HTTP/1.1 connection over TLS to the upstream, through the proxy's CONNECT or directly.
async fn open<B>(target: &Target) -> hyper::client::conn::http1::SendRequest<B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tcp = match target.proxy {
        Some(proxy) => {
            let mut tcp = TcpStream::connect(proxy).await.unwrap();
            tcp.write_all(
                format!("CONNECT {HOST}:443 HTTP/1.1\r\nHost: {HOST}:443\r\n\r\n").as_bytes(),
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
        .connect(ServerName::try_from(HOST).unwrap(), tcp)
        .await
        .unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

/// Current resident set size (VmRSS), in KiB.
fn current_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn get(sender: &mut Sender) {
    sender.ready().await.unwrap();
    let req = hyper::Request::get("/bytes/200")
        .header("host", HOST)
        .body(Empty::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), 200);
}

/// Requests per second and latencies (µs) for `conns` keep-alive connections, or a new
/// connection per request when `fresh`.
async fn load(target: Target, conns: usize, fresh: bool, secs: f64) -> (f64, Vec<u64>) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut sender = open(&target).await;
            while Instant::now() < deadline {
                let start = Instant::now();
                if fresh {
                    sender = open(&target).await;
                }
                get(&mut sender).await;
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

/// Latencies (µs) at a fixed request rate on one keep-alive connection. A request that starts
/// late because the previous one was slow is measured from its scheduled time (no coordinated
/// omission); one that starts late only because the timer woke late is measured from its start.
async fn fixed_rate(target: Target, rate: f64, secs: f64) -> Vec<u64> {
    let mut sender = open(&target).await;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let mut latencies = Vec::new();
    for i in 0..(rate * secs) as u32 {
        let scheduled = start + interval * i;
        let behind = Instant::now() > scheduled;
        tokio::time::sleep_until(scheduled.into()).await;
        let from = if behind { scheduled } else { Instant::now() };
        get(&mut sender).await;
        latencies.push(from.elapsed().as_micros() as u64);
    }
    latencies.sort_unstable();
    latencies
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

async fn upload(target: &Target, mib: u64) -> f64 {
    let len = mib * 1024 * 1024;
    let mut sender = open(target).await;
    let req = hyper::Request::post("/upload")
        .header("host", HOST)
        .header("content-length", len.to_string())
        .body(common::PatternBody::new(len))
        .unwrap();
    let start = Instant::now();
    let resp = sender.send_request(req).await.unwrap();
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(text.starts_with(format!("len={len}").as_bytes()));
    (len as f64 / 1e6) / start.elapsed().as_secs_f64()
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

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `callgrind_control` against the proxy process.
fn callgrind_control(pid: u32, option: &str) {
    let status = std::process::Command::new("callgrind_control")
        .args([option, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "callgrind_control {option} failed");
}

/// `--callgrind`: the proxy runs under valgrind's callgrind, and each load reports the proxy's
/// instructions per request. Instruction counts do not depend on what else the machine is doing,
/// so they compare builds where wall-clock timings on a shared machine cannot.
fn instructions_per_request(
    rt: &tokio::runtime::Runtime,
    proxied: &Target,
    pid: u32,
    dir: &std::path::Path,
    secs: f64,
) {
    println!("| load (proxy under callgrind) | unit | proxy instructions per unit |");
    println!("|---|---|---|");
    for (name, label, conns, fresh) in [
        ("keepalive4", "keep-alive, 4 connections", 4, false),
        ("newconn", "new connection per request", 1, true),
    ] {
        if !wanted(name) {
            continue;
        }
        rt.block_on(load(proxied.clone(), conns, fresh, secs.min(1.0)));
        callgrind_control(pid, "--zero");
        let (_, latencies) = rt.block_on(load(proxied.clone(), conns, fresh, secs));
        let total = callgrind_dump(pid, dir);
        println!(
            "| {label} | {} requests | {:.0} |",
            latencies.len(),
            total as f64 / latencies.len() as f64
        );
    }
    if wanted("upload") {
        callgrind_control(pid, "--zero");
        rt.block_on(upload(proxied, 64));
        let total = callgrind_dump(pid, dir);
        println!("| 64 MiB upload | per MiB | {:.0} |", total as f64 / 64.0);
    }
}

/// Dumps callgrind's counters and returns the instructions counted since the last zeroing.
fn callgrind_dump(pid: u32, dir: &std::path::Path) -> u64 {
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

/// Whether the measurement `name` was asked for: all of them unless `--only NAME[,NAME...]`.
fn wanted(name: &str) -> bool {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--only") {
        Some(i) => args
            .get(i + 1)
            .is_some_and(|list| list.split(',').any(|n| n == name)),
        None => true,
    }
}

fn main() {
    // `cargo bench` passes --bench; under `cargo test` this runs as a quick smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = arg("--rounds", if full { 5.0 } else { 1.0 }) as usize;
    let secs = arg("--secs", if full { 3.0 } else { 0.2 });
    let upload_mib = arg("--upload-mib", if full { 256.0 } else { 8.0 }) as u64;
    let pki = common::upstream_pki();
    let upstream = common::start_echo_upstream(&pki);
    let route = format!("*.amazonaws.com=127.0.0.1:{}", upstream.addr.port());
    let pinned = std::env::args().any(|a| a == "--pin");
    // Pinned to one core, the proxy gets the one worker thread tokio would pick had it been
    // started under `taskset -c 0`.
    let workers: &[(&str, &str)] = if pinned {
        &[("TOKIO_WORKER_THREADS", "1")]
    } else {
        &[]
    };
    // Callgrind's dumps go to a fresh directory, kept for callgrind_annotate when given
    // (`--callgrind-out DIR`).
    let callgrind_dir = tempfile::tempdir().unwrap();
    let callgrind_path = std::env::args()
        .skip_while(|a| a != "--callgrind-out")
        .nth(1)
        .map_or_else(|| callgrind_dir.path().to_owned(), std::path::PathBuf::from);
    let callgrind_out = format!(
        "--callgrind-out-file={}",
        callgrind_path.join("callgrind.out").display()
    );
    let callgrind = std::env::args().any(|a| a == "--callgrind");
    let wrapper: &[&str] = if callgrind {
        &["valgrind", "--tool=callgrind", "--vgdb=yes", &callgrind_out]
    } else {
        &[]
    };
    let proxy = common::start_proxy_wrapped(
        &[
            "--connect-to",
            &route,
            "--upstream-ca",
            pki.ca_pem.to_str().unwrap(),
        ],
        workers,
        wrapper,
    );
    if pinned {
        // Proxy on core 0; this process (client and upstream) on core 1.
        let pin = |core: &str, pid: u32| {
            std::process::Command::new("taskset")
                .args(["-a", "-pc", core, &pid.to_string()])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        let pinned = pin("0", proxy.child.0.id()) && pin("1", std::process::id());
        eprintln!("pinned proxy to core 0 and the client to core 1: {pinned}");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let direct = Target {
        proxy: None,
        upstream: upstream.addr,
        tls: tls_config(&pki.ca_pem),
    };
    let proxied = Target {
        proxy: Some(proxy.addr),
        upstream: upstream.addr,
        tls: tls_config(&proxy.ca_pem()),
    };
    let idle_rss = proxy.peak_rss_kib();
    if callgrind {
        instructions_per_request(&rt, &proxied, proxy.child.0.id(), &callgrind_path, secs);
        return;
    }

    println!("| measurement | direct | awsguard | ratio (median of rounds) |");
    println!("|---|---|---|---|");
    for (name, label, conns, fresh) in [
        ("keepalive1", "keep-alive, 1 connection (req/s)", 1, false),
        ("keepalive4", "keep-alive, 4 connections (req/s)", 4, false),
        ("newconn", "new connection per request (req/s)", 1, true),
    ] {
        if !wanted(name) {
            continue;
        }
        rt.block_on(load(proxied.clone(), conns, fresh, 0.5));
        let (mut d, mut p, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut d_lat, mut p_lat, mut cpu) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let (dr, dl) = rt.block_on(load(direct.clone(), conns, fresh, secs));
            let before = cpu_micros(proxy.child.0.id());
            let (pr, pl) = rt.block_on(load(proxied.clone(), conns, fresh, secs));
            let used = cpu_micros(proxy.child.0.id()) - before;
            cpu.push(used as f64 / pl.len().max(1) as f64);
            d.push(dr);
            p.push(pr);
            ratios.push(pr / dr);
            d_lat.push(pct(&dl, 0.99) as f64);
            p_lat.push(pct(&pl, 0.99) as f64);
        }
        let spread = ratios.iter().cloned().fold(f64::MAX, f64::min)
            ..=ratios.iter().cloned().fold(0.0, f64::max);
        println!(
            "| {label} | {:.0} (p99 {:.0} µs) | {:.0} (p99 {:.0} µs, proxy CPU {:.0} µs/req) | {:.2} ({:.2}–{:.2}) |",
            median(&mut d),
            median(&mut d_lat),
            median(&mut p),
            median(&mut p_lat),
            median(&mut cpu),
            median(&mut ratios),
            spread.start(),
            spread.end()
        );
    }
    if wanted("fixed") {
        let (mut d50, mut p50, mut d99, mut p99) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let d = rt.block_on(fixed_rate(direct.clone(), 1000.0, secs));
            let p = rt.block_on(fixed_rate(proxied.clone(), 1000.0, secs));
            d50.push(pct(&d, 0.5) as f64);
            p50.push(pct(&p, 0.5) as f64);
            d99.push(pct(&d, 0.99) as f64);
            p99.push(pct(&p, 0.99) as f64);
        }
        let (d99, p99) = (median(&mut d99), median(&mut p99));
        println!(
            "| latency at 1,000 req/s, 1 connection (p50 / p99 µs) | {:.0} / {d99:.0} | {:.0} / {p99:.0} | added p99 {:.0} µs |",
            median(&mut d50),
            median(&mut p50),
            p99 - d99
        );
    }
    if wanted("idle") {
        let idle_conns = if full { 1000 } else { 50 };
        let per_conn = rt.block_on(async {
            let before = current_rss_kib(proxy.child.0.id());
            let mut idle = Vec::new();
            for _ in 0..idle_conns {
                let mut sender: Sender = open(&proxied).await;
                get(&mut sender).await;
                idle.push(sender);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            let after = current_rss_kib(proxy.child.0.id());
            drop(idle);
            after.saturating_sub(before) * 1024 / idle_conns as u64
        });
        let mut starts = Vec::new();
        for _ in 0..5 {
            let begin = Instant::now();
            let started = common::start_proxy(&[]);
            starts.push(begin.elapsed().as_secs_f64() * 1000.0);
            drop(started);
        }
        println!(
            "| memory per idle intercepted connection ({idle_conns} open) | | {:.1} kB | |",
            per_conn as f64 / 1000.0
        );
        println!(
            "| start-up to listening, incl. CA creation (ms, median of 5) | | {:.1} | |",
            median(&mut starts)
        );
    }
    if wanted("upload") {
        let rss_before = proxy.peak_rss_kib();
        let (mut d, mut p) = (Vec::new(), Vec::new());
        for _ in 0..rounds.min(3) {
            d.push(rt.block_on(upload(&direct, upload_mib)));
            p.push(rt.block_on(upload(&proxied, upload_mib)));
        }
        let rss_after = proxy.peak_rss_kib();
        let (dm, pm) = (median(&mut d), median(&mut p));
        println!(
            "| {upload_mib} MiB upload (MB/s) | {dm:.0} | {pm:.0} | {:.2} |",
            pm / dm
        );
        println!(
            "| proxy peak RSS: idle / before upload / after upload (MiB) | | {:.1} / {:.1} / {:.1} | growth {:.1} MiB |",
            idle_rss as f64 / 1024.0,
            rss_before as f64 / 1024.0,
            rss_after as f64 / 1024.0,
            (rss_after.saturating_sub(rss_before)) as f64 / 1024.0
        );
    }
}
