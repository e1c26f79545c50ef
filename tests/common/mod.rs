//! Shared setup for integration tests: a test PKI for upstreams, the awsguard binary as a child
//! process, a TLS echo upstream, openssl/curl/moto helpers. Every process is killed on drop and
//! every file lives in a fresh temporary directory.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Frame;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A test CA and a server certificate for AWS-shaped names, written as PEM files.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

/// Names every test upstream certificate covers.
pub const UPSTREAM_NAMES: &[&str] = &[
    "amazonaws.com",
    "*.amazonaws.com",
    "*.us-east-1.amazonaws.com",
    "*.s3.amazonaws.com",
    "*.s3.us-east-1.amazonaws.com",
    "*.execute-api.us-east-1.amazonaws.com",
    "*.lambda-url.us-east-1.on.aws",
    "localhost",
    "upstream.test",
];

pub fn upstream_pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "awsguard test upstream CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(
        UPSTREAM_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "test upstream");
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.signed_by(&key, &issuer).unwrap();
    let ca_pem = dir.path().join("upstream-ca.pem");
    let cert_pem = dir.path().join("upstream.pem");
    let key_pem = dir.path().join("upstream.key");
    std::fs::write(&ca_pem, ca_cert.pem()).unwrap();
    std::fs::write(&cert_pem, cert.pem()).unwrap();
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();
    Pki {
        dir,
        ca_pem,
        cert_pem,
        key_pem,
    }
}

/// Kills the child process on drop.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The awsguard proxy running as a child process.
pub struct ProxyProc {
    pub child: ChildGuard,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub events_path: PathBuf,
    pub stderr: Arc<Mutex<String>>,
}

impl ProxyProc {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca").join("awsguard-ca.pem")
    }

    pub fn ca_dir(&self) -> PathBuf {
        self.dir.path().join("ca")
    }

    /// Every event written so far.
    pub fn events(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(&self.events_path).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("event lines are JSON"))
            .collect()
    }

    /// Waits (up to 10 s) until an event satisfies `pred`, and returns it.
    pub fn wait_event(&self, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(e) = self.events().into_iter().find(|e| pred(e)) {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no matching event; events: {:#?}\nstderr: {}",
                self.events(),
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Peak resident set size of the proxy process so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.0.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

/// Starts `awsguard run --listen 127.0.0.1:0` with a fresh CA and events file, plus `args`.
pub fn start_proxy(args: &[&str]) -> ProxyProc {
    start_proxy_with_env(args, &[])
}

/// [`start_proxy`] with extra environment variables for the proxy process.
pub fn start_proxy_with_env(args: &[&str], envs: &[(&str, &str)]) -> ProxyProc {
    start_proxy_wrapped(args, envs, &[])
}

/// [`start_proxy_with_env`] run by `wrapper` (a program and its arguments, e.g. valgrind).
pub fn start_proxy_wrapped(args: &[&str], envs: &[(&str, &str)], wrapper: &[&str]) -> ProxyProc {
    let dir = tempfile::tempdir().unwrap();
    let events_path = dir.path().join("events.jsonl");
    let mut cmd = match wrapper.split_first() {
        Some((program, wrapper_args)) => {
            let mut cmd = Command::new(program);
            cmd.args(wrapper_args).arg(env!("CARGO_BIN_EXE_awsguard"));
            cmd
        }
        None => Command::new(env!("CARGO_BIN_EXE_awsguard")),
    };
    // --quiet: no line per call on stderr, so throughput and memory measurements stay those of
    // the proxy (tests/run_console.rs checks the console).
    cmd.arg("run")
        .arg("--quiet")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--ca-dir")
        .arg(dir.path().join("ca"))
        .arg("--events")
        .arg(&events_path)
        .args(args)
        .env("RUST_LOG", "awsguard=debug")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("awsguard binary runs");
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let log_writer = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line
                .strip_prefix("awsguard listening on ")
                .and_then(|rest| rest.split_whitespace().next())
            {
                let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
            }
            let mut log = log_writer.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let child = ChildGuard(child);
    let addr = rx
        .recv_timeout(Duration::from_secs(if wrapper.is_empty() {
            20
        } else {
            120
        }))
        .unwrap_or_else(|_| panic!("proxy did not start: {}", log.lock().unwrap()));
    ProxyProc {
        child,
        addr,
        dir,
        events_path,
        stderr: log,
    }
}

/// A port that was free a moment ago (for programs that cannot report the port they bound).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `openssl s_server` with `args` on a free port; returns its port.
pub fn start_s_server(pki: &Pki, args: &[&str]) -> (ChildGuard, u16) {
    let mut child = Command::new("openssl")
        .arg("s_server")
        .arg("-accept")
        .arg("127.0.0.1:0")
        .arg("-cert")
        .arg(&pki.cert_pem)
        .arg("-key")
        .arg(&pki.key_pem)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl runs");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines.next().expect("s_server prints ACCEPT").unwrap();
        if let Some(addr) = line.strip_prefix("ACCEPT ") {
            break addr.rsplit(':').next().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (ChildGuard(child), port)
}

/// Output of a finished command.
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.stdin(Stdio::null()).output().expect("command runs");
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `curl` through the proxy, trusting the proxy's CA.
pub fn curl(proxy: &ProxyProc, args: &[&str]) -> Output {
    run(Command::new("curl")
        .arg("-sS")
        .arg("--proxy")
        .arg(proxy.url())
        .arg("--cacert")
        .arg(proxy.ca_pem())
        .args(args))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The byte at offset `i` of a generated payload: not constant, so reordering would show.
pub fn pattern_byte(i: u64) -> u8 {
    (i.wrapping_mul(2_654_435_761) >> 13) as u8
}

/// A TLS upstream (test PKI certificate) that answers every request with
/// `len=<body bytes> sha256=<hex> host=<Host header>`, and `GET /bytes/N` with N pattern bytes.
pub struct EchoUpstream {
    pub addr: SocketAddr,
    pub runtime: tokio::runtime::Runtime,
    /// TCP connections accepted so far.
    pub accepted: Arc<std::sync::atomic::AtomicUsize>,
    /// Request bodies received to their end so far (a request cut mid-body is not counted).
    pub complete: Arc<std::sync::atomic::AtomicUsize>,
}

pub fn start_echo_upstream(pki: &Pki) -> EchoUpstream {
    start_echo_upstream_speaking(pki, false)
}

/// The echo upstream speaking HTTP/2 only (ALPN `h2` alone): an HTTP/1.1-only client gets no
/// protocol.
pub fn start_echo_upstream_h2(pki: &Pki) -> EchoUpstream {
    start_echo_upstream_speaking(pki, true)
}

fn start_echo_upstream_speaking(pki: &Pki, h2: bool) -> EchoUpstream {
    use rustls_pki_types::pem::PemObject;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let certs = rustls_pki_types::CertificateDer::pem_file_iter(&pki.cert_pem)
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
    config.alpn_protocols = if h2 {
        vec![b"h2".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    let complete = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let done = complete.clone();
    runtime.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |req| echo(req, done.clone()));
                let io = hyper_util::rt::TokioIo::new(tls);
                if h2 {
                    let _ = hyper::server::conn::http2::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(io, service)
                    .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                }
            });
        }
    });
    EchoUpstream {
        addr,
        runtime,
        accepted,
        complete,
    }
}

type EchoBody = http_body_util::Either<Full<Bytes>, PatternBody>;

async fn echo(
    req: hyper::Request<hyper::body::Incoming>,
    complete: Arc<std::sync::atomic::AtomicUsize>,
) -> Result<hyper::Response<EchoBody>, hyper::Error> {
    if let Some(n) = req.uri().path().strip_prefix("/bytes/") {
        let n: u64 = n.parse().unwrap_or(0);
        let body = PatternBody::new(n);
        return Ok(hyper::Response::new(http_body_util::Either::Right(body)));
    }
    if let Some(n) = req.uri().path().strip_prefix("/stall/") {
        // N pattern bytes of a longer body, then nothing: the upstream stalls mid-body.
        let n: u64 = n.parse().unwrap_or(0);
        let mut body = PatternBody::new(n);
        body.stall = true;
        return Ok(hyper::Response::new(http_body_util::Either::Right(body)));
    }
    // HTTP/2 names the host in `:authority`, HTTP/1.1 in `Host`.
    let host = req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let mut body = req.into_body();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut len = 0u64;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            len += data.len() as u64;
            ctx.update(&data);
        }
    }
    complete.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let text = format!(
        "len={len} sha256={} host={host}",
        hex(ctx.finish().as_ref())
    );
    Ok(hyper::Response::new(http_body_util::Either::Left(
        Full::new(Bytes::from(text)),
    )))
}

/// `total` pattern bytes, generated in 64 KiB chunks; with `stall`, then never ending.
pub struct PatternBody {
    sent: u64,
    total: u64,
    pub stall: bool,
}

impl PatternBody {
    pub fn new(total: u64) -> Self {
        PatternBody {
            sent: 0,
            total,
            stall: false,
        }
    }
}

impl http_body::Body for PatternBody {
    type Data = Bytes;
    type Error = hyper::Error;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        if self.sent >= self.total {
            if self.stall {
                return std::task::Poll::Pending;
            }
            return std::task::Poll::Ready(None);
        }
        let n = (self.total - self.sent).min(64 * 1024);
        let start = self.sent;
        let chunk: Vec<u8> = (start..start + n).map(pattern_byte).collect();
        self.sent += n;
        std::task::Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }
    fn size_hint(&self) -> http_body::SizeHint {
        if self.stall {
            return http_body::SizeHint::new();
        }
        http_body::SizeHint::with_exact(self.total - self.sent)
    }
}

/// Writes `n` pattern bytes to `path` and returns their SHA-256.
pub fn write_pattern_file(path: &Path, n: u64) -> String {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = Vec::with_capacity(1 << 16);
    let mut i = 0;
    while i < n {
        buf.clear();
        let end = (i + (1 << 16)).min(n);
        buf.extend((i..end).map(pattern_byte));
        ctx.update(&buf);
        file.write_all(&buf).unwrap();
        i = end;
    }
    file.flush().unwrap();
    hex(ctx.finish().as_ref())
}

/// `moto_server` serving TLS with the test PKI certificate.
pub struct Moto {
    pub child: ChildGuard,
    pub port: u16,
}

pub fn start_moto(pki: &Pki) -> Moto {
    let port = free_port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string(), "-c"])
        .arg(&pki.cert_pem)
        .arg("-k")
        .arg(&pki.key_pem)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server is installed (pip install 'moto[server]')");
    let child = ChildGuard(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto { child, port }
}

/// The WebSocket echo server (python `websockets`) over TLS with the test upstream certificate; its port.
pub fn start_ws_server(pki: &Pki) -> (ChildGuard, u16) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/ws_echo_server.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .arg(&pki.cert_pem)
        .arg(&pki.key_pem)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the websocket server");
    let stdout = child.stdout.take().expect("server stdout");
    let guard = ChildGuard(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("server prints its port");
    (guard, line.trim().parse().expect("a port"))
}

/// A proxy routing every AWS host to `moto`, trusting the test PKI upstream.
pub fn start_proxy_for_moto(pki: &Pki, moto: &Moto, extra: &[&str]) -> ProxyProc {
    start_proxy_routed(pki, moto.port, extra)
}

/// A proxy routing every AWS host to `127.0.0.1:port`, trusting the test PKI upstream.
pub fn start_proxy_routed(pki: &Pki, port: u16, extra: &[&str]) -> ProxyProc {
    let route = format!("*.amazonaws.com=127.0.0.1:{port}");
    let mut args = vec![
        "--connect-to",
        &route,
        "--upstream-ca",
        pki.ca_pem.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    start_proxy(&args)
}

/// Test credentials: a well-formed but fake access key id.
pub const TEST_ACCESS_KEY_ID: &str = "AKIA2OGYBAH6TESTKEY7";

/// The AWS CLI configured to go through `proxy` (and nothing else from the environment).
pub fn aws_command(proxy: &ProxyProc, args: &[&str]) -> Command {
    let mut cmd = Command::new("aws");
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", proxy.dir.path())
        .env("HTTPS_PROXY", proxy.url())
        .env("AWS_CA_BUNDLE", proxy.ca_pem())
        .env("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "testing/secret/key/not/real/0000000000",
        )
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", proxy.dir.path().join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            proxy.dir.path().join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "");
    if let Some(pyenv) = std::env::var_os("PYENV_ROOT") {
        cmd.env("PYENV_ROOT", pyenv);
    }
    cmd
}

pub fn aws(proxy: &ProxyProc, args: &[&str]) -> Output {
    run(&mut aws_command(proxy, args))
}

/// A TLS session to `host` through the proxy: CONNECT `host:443`, then a handshake trusting the
/// proxy's CA and offering `alpn`. Reads time out after 10 s (a hang fails, never blocks).
pub fn intercepted(
    proxy: &ProxyProc,
    host: &str,
    alpn: &[u8],
) -> rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream> {
    use rustls_pki_types::pem::PemObject;
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(proxy.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        tcp,
        "CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            tcp.read(&mut byte).unwrap(),
            1,
            "{}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(proxy.ca_pem()).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let name = rustls_pki_types::ServerName::try_from(host.to_owned()).unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    tls
}

/// A CreateQueue with an email address in a tag, through the proxy at `listen` trusting
/// `ca_pem`: in enforce mode awsguard answers it itself, so no upstream or network is needed.
pub fn blocked_create_queue(listen: &str, ca_pem: &Path) -> Output {
    run(Command::new("curl")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .args(["-sS", "--proxy", &format!("http://{listen}"), "--cacert"])
        .arg(ca_pem)
        .args([
            "-H",
            "x-amz-target: AmazonSQS.CreateQueue",
            "-H",
            "content-type: application/x-amz-json-1.0",
            "--data",
            r#"{"QueueName":"orders","tags":{"owner":"jane.doe@example.com"}}"#,
            "https://sqs.us-east-1.amazonaws.com/",
        ]))
}

/// One request as the botocore generators write it (`tools/gen_purpose_requests.py`,
/// `tools/gen_tag_sweep.py`): head fields, a base64 body, and what the test expects of it.
#[derive(serde::Deserialize)]
pub struct Recorded<E> {
    #[serde(default)]
    pub name: String,
    pub method: String,
    pub host: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: String,
    pub expected: E,
}

impl<E> Recorded<E> {
    /// The request as `awsguard inspect` reads it.
    pub fn captured(&self) -> awsguard::capture::CapturedRequest {
        use base64::Engine as _;
        let mut headers = http::HeaderMap::new();
        for (name, value) in &self.headers {
            headers.append(
                http::HeaderName::try_from(name.as_str()).expect("header name"),
                http::HeaderValue::try_from(value.as_str()).expect("header value"),
            );
        }
        awsguard::capture::CapturedRequest {
            method: self.method.clone(),
            host: self.host.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers,
            body: base64::engine::general_purpose::STANDARD
                .decode(&self.body)
                .expect("base64 body"),
        }
    }
}
