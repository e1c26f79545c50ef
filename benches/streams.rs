//! Streaming through awsguard, against the same upstream reached through awsguard's blind tunnel
//! (bytes copied, nothing decrypted: the floor for any proxy) and directly, in one run:
//!
//! - WebSocket relay throughput: after the upgrade (an API Gateway WebSocket host, intercepted,
//!   decided and recorded), the client sends `--ws-mib` MiB and the upstream acknowledges the
//!   last byte;
//! - event-stream echo round trips: one HTTP/2 stream (a Lex v2 `StartConversation` host) whose
//!   upstream echoes every chunk; the client sends a 1 KiB chunk and waits for its echo,
//!   `--round-trips` times;
//! - 100 concurrent HTTP/2 streams on one client connection (inspected SQS calls): how many
//!   connections the upstream accepted (counted at the upstream).
//!
//! `cargo bench --bench streams -- [--rounds N] [--ws-mib M] [--round-trips K] [--pin]`
//! (`--pin`: awsguard on core 0, client and upstream on core 1). Subjects are measured in
//! turn, every round; cells are medians, ratios the median (min–max) of per-round ratios.
//! Under `cargo test` it runs one small round as a smoke test, and checks the stream count.

#[path = "../tests/common/mod.rs"]
mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::Frame;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// An API Gateway WebSocket API: intercepted, its upgrade decided like any call.
const WS_HOST: &str = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
/// Lex v2 runtime: `StartConversation` is an event-stream input in the service model.
const ES_HOST: &str = "runtime-v2-lex.us-east-1.amazonaws.com";
const ES_PATH: &str =
    "/bots/BOT1234567/botAliases/TSTALIASID/botLocales/en_US/sessions/s-1/conversation";
/// A host outside AWS: tunnelled blind (the upstream certificate covers it).
const BLIND: &str = "upstream.test";
const SQS: &str = "sqs.us-east-1.amazonaws.com";

/// The bench's upstream: TLS on the test PKI. By ALPN, `h2` echoes each request body as its
/// response body (frames as they arrive); `http/1.1` takes a WebSocket-style upgrade, then
/// reads the number of bytes the request announced and answers `done`.
struct Upstream {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

async fn start_upstream(pki: &common::Pki) -> Upstream {
    use rustls_pki_types::pem::PemObject;
    let certs = CertificateDer::pem_file_iter(&pki.cert_pem)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(&pki.key_pem).unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tcp.set_nodelay(true).unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                    let service = hyper::service::service_fn(|req| async {
                        let body: hyper::body::Incoming = req.into_body();
                        Ok::<_, Infallible>(hyper::Response::new(body))
                    });
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                } else {
                    upgrade_sink(tls).await;
                }
            });
        }
    });
    Upstream { addr, accepted }
}

/// Reads a request head up to its blank line (bounded).
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

async fn upgrade_sink<S: AsyncRead + AsyncWrite + Unpin>(mut tls: S) {
    let head = read_head(&mut tls).await;
    let announced: u64 = head
        .lines()
        .find_map(|l| l.strip_prefix("x-bench-bytes: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let answer =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    if tls.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = announced;
    while left > 0 {
        match tls.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n as u64),
        }
    }
    let _ = tls.write_all(b"done").await;
    let _ = tls.flush().await;
}

/// Where a client connects: through a proxy's CONNECT, or straight to the upstream.
#[derive(Clone, Copy)]
struct Path {
    proxy: Option<SocketAddr>,
    upstream: SocketAddr,
}

/// A client TLS config trusting the test PKI and the awsguard CA, offering `alpn`.
fn client_tls(cas: &[&std::path::Path], alpn: &[u8]) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for ca in cas {
        for cert in CertificateDer::pem_file_iter(ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

async fn connect(
    path: Path,
    host: &str,
    tls: &Arc<rustls::ClientConfig>,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut tcp = TcpStream::connect(path.proxy.unwrap_or(path.upstream))
        .await
        .unwrap();
    tcp.set_nodelay(true).unwrap();
    if path.proxy.is_some() {
        let connect = format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n");
        tcp.write_all(connect.as_bytes()).await.unwrap();
        let head = read_head(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    tokio_rustls::TlsConnector::from(tls.clone())
        .connect(ServerName::try_from(host.to_owned()).unwrap(), tcp)
        .await
        .unwrap()
}

/// MB/s of one upgraded connection carrying `bytes` from the client to the upstream.
async fn ws_upload(path: Path, host: &str, tls: &Arc<rustls::ClientConfig>, bytes: u64) -> f64 {
    let mut stream = connect(path, host, tls).await;
    let request = format!(
        "GET /prod HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         x-bench-bytes: {bytes}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let head = read_head(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{host}: {head}");
    let chunk: Vec<u8> = (0..64 * 1024u64).map(common::pattern_byte).collect();
    let start = Instant::now();
    let mut sent = 0;
    while sent < bytes {
        let n = (bytes - sent).min(chunk.len() as u64) as usize;
        stream.write_all(&chunk[..n]).await.unwrap();
        sent += n as u64;
    }
    stream.flush().await.unwrap();
    let mut done = [0u8; 4];
    stream.read_exact(&mut done).await.unwrap();
    assert_eq!(&done, b"done");
    (bytes as f64 / 1e6) / start.elapsed().as_secs_f64()
}

/// A request body fed chunk by chunk from a channel.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
    }
}

async fn h2_sender<B>(
    path: Path,
    host: &str,
    tls: &Arc<rustls::ClientConfig>,
) -> hyper::client::conn::http2::SendRequest<B>
where
    B: http_body::Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = connect(path, host, tls).await;
    let (sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    sender
}

/// Round trips per second on one event stream: send a 1 KiB chunk, read its echo, repeat.
async fn es_round_trips(
    path: Path,
    host: &str,
    tls: &Arc<rustls::ClientConfig>,
    round_trips: usize,
) -> f64 {
    let mut sender = h2_sender(path, host, tls).await;
    let (tx, rx) = mpsc::channel(1);
    let request = hyper::Request::post(format!("https://{host}{ES_PATH}"))
        .header("content-type", "application/vnd.amazon.eventstream")
        .header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-EVENTS")
        .body(ChannelBody(rx))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200, "{host}");
    let mut body = response.into_body();
    let chunk = Bytes::from((0..1024u64).map(common::pattern_byte).collect::<Vec<_>>());
    let start = Instant::now();
    for _ in 0..round_trips {
        tx.send(chunk.clone()).await.unwrap();
        let mut echoed = 0;
        while echoed < chunk.len() {
            let frame = body.frame().await.unwrap().unwrap();
            if let Ok(data) = frame.into_data() {
                echoed += data.len();
            }
        }
    }
    let rate = round_trips as f64 / start.elapsed().as_secs_f64();
    drop(tx);
    while body.frame().await.is_some() {}
    rate
}

/// `streams` concurrent inspected calls on one HTTP/2 client connection.
async fn parallel_streams(path: Path, tls: &Arc<rustls::ClientConfig>, streams: usize) {
    let sender = h2_sender::<Full<Bytes>>(path, SQS, tls).await;
    let calls = (0..streams).map(|i| {
        let mut sender = sender.clone();
        async move {
            let request = hyper::Request::post(format!("https://{SQS}/"))
                .header("content-type", "application/x-amz-json-1.0")
                .header("x-amz-target", "AmazonSQS.ListQueues")
                .body(Full::new(Bytes::from(format!(
                    "{{\"QueueNamePrefix\":\"q{i}\"}}"
                ))))
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.status(), 200);
            response.into_body().collect().await.unwrap();
        }
    });
    let tasks: Vec<_> = calls.map(tokio::spawn).collect();
    for task in tasks {
        task.await.unwrap();
    }
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Median (min–max) of the per-round ratios `a[i] / b[i]`.
fn ratio(a: &[f64], b: &[f64]) -> String {
    let r: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
    let min = r.iter().copied().fold(f64::INFINITY, f64::min);
    let max = r.iter().copied().fold(0.0, f64::max);
    format!("**{:.2}** ({min:.2}–{max:.2})", median(&r))
}

fn arg(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

fn num(name: &str, default: f64) -> f64 {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn pin(core: &str, pid: u32) -> bool {
    Command::new("taskset")
        .args(["-a", "-pc", core, &pid.to_string()])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn main() {
    // `cargo bench` passes --bench; under `cargo test` this is a quick smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = num("--rounds", if full { 5.0 } else { 1.0 }) as usize;
    let ws_bytes = (num("--ws-mib", if full { 128.0 } else { 4.0 }) * 1024.0 * 1024.0) as u64;
    let round_trips = num("--round-trips", if full { 2000.0 } else { 50.0 }) as usize;
    let pki = common::upstream_pki();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let upstream = rt.block_on(start_upstream(&pki));
    let counted = rt.block_on(start_upstream(&pki));
    let routes = |port: u16| {
        vec![
            "--connect-to".to_owned(),
            format!("*.amazonaws.com=127.0.0.1:{port}"),
            "--connect-to".to_owned(),
            format!("{BLIND}=127.0.0.1:{port}"),
            "--upstream-ca".to_owned(),
            pki.ca_pem.display().to_string(),
        ]
    };
    let pinned = std::env::args().any(|a| a == "--pin");
    let workers: &[(&str, &str)] = if pinned {
        &[("TOKIO_WORKER_THREADS", "1")]
    } else {
        &[]
    };
    let args = routes(upstream.addr.port());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let proxy = common::start_proxy_with_env(&args, workers);
    let counting_args = routes(counted.addr.port());
    let counting_args: Vec<&str> = counting_args.iter().map(String::as_str).collect();
    let counting = common::start_proxy_with_env(&counting_args, workers);
    if pinned {
        let ok = pin("0", proxy.child.0.id())
            && pin("0", counting.child.0.id())
            && pin("1", std::process::id());
        eprintln!("pinned awsguard to core 0 and the client and upstream to core 1: {ok}");
    }
    let cas = [pki.ca_pem.as_path(), &proxy.ca_pem(), &counting.ca_pem()];
    let h1 = client_tls(&cas, b"http/1.1");
    let h2 = client_tls(&cas, b"h2");
    let via = Path {
        proxy: Some(proxy.addr),
        upstream: upstream.addr,
    };
    let direct = Path {
        proxy: None,
        upstream: upstream.addr,
    };
    // (label, path, host): awsguard intercepting, awsguard's blind tunnel, direct.
    let subjects = [
        ("awsguard", via, true),
        ("blind tunnel", via, false),
        ("direct", direct, true),
    ];
    let mut ws = vec![Vec::new(); subjects.len()];
    let mut es = vec![Vec::new(); subjects.len()];
    for _ in 0..rounds {
        for (i, (_, path, aws)) in subjects.iter().enumerate() {
            let (ws_host, es_host) = if *aws {
                (WS_HOST, ES_HOST)
            } else {
                (BLIND, BLIND)
            };
            ws[i].push(rt.block_on(ws_upload(*path, ws_host, &h1, ws_bytes)));
            es[i].push(rt.block_on(es_round_trips(*path, es_host, &h2, round_trips)));
        }
    }
    println!("| measurement | awsguard | blind tunnel | direct | awsguard ÷ tunnel | awsguard ÷ direct |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| WebSocket relay, {} MiB client → upstream (MB/s) | {:.0} | {:.0} | {:.0} | {} | {} |",
        ws_bytes / (1024 * 1024),
        median(&ws[0]),
        median(&ws[1]),
        median(&ws[2]),
        ratio(&ws[0], &ws[1]),
        ratio(&ws[0], &ws[2])
    );
    println!(
        "| event-stream echo, 1 KiB round trips on one h2 stream (per s) | {:.0} | {:.0} | {:.0} | {} | {} |",
        median(&es[0]),
        median(&es[1]),
        median(&es[2]),
        ratio(&es[0], &es[1]),
        ratio(&es[0], &es[2])
    );
    let streams = 100;
    let before = counted.accepted.load(Ordering::SeqCst);
    let counting_path = Path {
        proxy: Some(counting.addr),
        upstream: counted.addr,
    };
    rt.block_on(parallel_streams(counting_path, &h2, streams));
    let opened = counted.accepted.load(Ordering::SeqCst) - before;
    println!(
        "| {streams} concurrent h2 streams on one client connection: upstream connections | {opened} | | | | |"
    );
    assert!(
        opened <= 2,
        "{opened} upstream connections for {streams} streams"
    );
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let recorded = counting
            .events()
            .iter()
            .filter(|e| e["eventName"] == "ListQueues")
            .count();
        if recorded == streams {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{recorded} of {streams} calls recorded"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
