//! `--upstream-proxy`: every upstream connection, intercepted or blind, goes through a corporate
//! HTTP proxy with CONNECT and Basic credentials; NO_PROXY entries bypass it; a 407 or an
//! unreachable proxy gives the client a clear error and an event; the password shows nowhere.
//! The corporate proxy is a small CONNECT proxy written here, on loopback.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::*;

const PASSWORD: &str = "s3cr@t pass";
/// `PASSWORD` as written in a URL.
const PASSWORD_IN_URL: &str = "s3cr%40t%20pass";

/// A CONNECT proxy that wants `user:PASSWORD` (when `auth` is set) and records what it saw.
struct CorporateProxy {
    port: u16,
    /// Each CONNECT's request line and its `Proxy-Authorization` value (empty when absent).
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl CorporateProxy {
    fn start(auth: bool) -> CorporateProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        // Basic "user:s3cr@t pass".
        let expected = "Basic dXNlcjpzM2NyQHQgcGFzcw==";
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let log = log.clone();
                std::thread::spawn(move || serve(client, &log, auth.then_some(expected)));
            }
        });
        CorporateProxy { port, seen }
    }

    fn url(&self, credentials: &str) -> String {
        format!("http://{credentials}127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(mut client: TcpStream, log: &Mutex<Vec<(String, String)>>, expected: Option<&str>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let line = head.lines().next().unwrap_or_default().to_owned();
    let auth = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("proxy-authorization")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    log.lock().unwrap().push((line.clone(), auth.clone()));
    if expected.is_some_and(|e| e != auth) {
        let _ = client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
Proxy-Authenticate: Basic realm=\"corp\"\r\ncontent-length: 0\r\n\r\n",
        );
        return;
    }
    if !line.starts_with("CONNECT ") {
        // A proxied plain http:// request: answered here.
        let _ = client.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-length: 14\r\nconnection: close\r\n\r\nvia-corp-proxy",
        );
        return;
    }
    let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
    let Ok(upstream) = TcpStream::connect(&target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let (mut c1, mut u1) = (client, upstream);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c1, &mut u1);
        let _ = u1.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut u2, &mut c2);
    let _ = c2.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// The proxy's events and log never hold the password, in any spelling.
fn assert_no_password(proxy: &ProxyProc) {
    let events = std::fs::read_to_string(&proxy.events_path).unwrap_or_default();
    let log = proxy.stderr.lock().unwrap().clone();
    for text in [events, log] {
        for secret in [PASSWORD, PASSWORD_IN_URL, "s3cr", "dXNlcjpzM2NyQHQgcGFzcw"] {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
    }
}

/// curl through `proxy` to `url`, trusting the test upstream CA (blind tunnels show its cert).
fn curl_upstream_ca(proxy: &ProxyProc, pki: &Pki, url: &str) -> Output {
    run(Command::new("curl")
        .arg("-sS")
        .arg("--proxy")
        .arg(proxy.url())
        .arg("--cacert")
        .arg(&pki.ca_pem)
        .arg(url))
}

#[test]
fn intercepted_calls_and_blind_tunnels_go_through_the_proxy_with_basic_credentials() {
    let pki = upstream_pki();
    let echo = start_echo_upstream(&pki);
    let corp = CorporateProxy::start(true);
    let credentials = format!("user:{PASSWORD_IN_URL}@");
    let proxy = start_proxy_routed(
        &pki,
        echo.addr.port(),
        &["--upstream-proxy", &corp.url(&credentials)],
    );
    let out = curl(
        &proxy,
        &[
            "-d",
            "Action=GetCallerIdentity",
            "https://sts.us-east-1.amazonaws.com/",
        ],
    );
    assert!(
        out.stdout.contains("host=sts.us-east-1.amazonaws.com"),
        "{} {}",
        out.stdout,
        out.stderr
    );
    // A host awsguard does not intercept: tunnelled blind, through the proxy too.
    let blind = curl_upstream_ca(
        &proxy,
        &pki,
        &format!("https://localhost:{}/", echo.addr.port()),
    );
    assert!(
        blind.stdout.contains("host=localhost"),
        "{} {}",
        blind.stdout,
        blind.stderr
    );
    let target = format!("127.0.0.1:{}", echo.addr.port());
    let seen = corp.seen();
    assert!(
        seen.contains(&(
            format!("CONNECT {target} HTTP/1.1"),
            "Basic dXNlcjpzM2NyQHQgcGFzcw==".to_owned()
        )),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(line, _)| *line == format!("CONNECT localhost:{} HTTP/1.1", echo.addr.port())),
        "{seen:?}"
    );
    proxy.wait_event(|e| e["connection"]["reason"] == "not-aws");
    assert_no_password(&proxy);
}

#[test]
fn plain_http_is_forwarded_to_the_proxy_with_credentials() {
    let corp = CorporateProxy::start(true);
    let credentials = format!("user:{PASSWORD_IN_URL}@");
    let proxy = start_proxy(&["--upstream-proxy", &corp.url(&credentials)]);
    let out = run(Command::new("curl").args([
        "-sS",
        "--proxy",
        &proxy.url(),
        "http://example.test/page",
    ]));
    assert_eq!(
        out.stdout,
        "via-corp-proxy",
        "{}",
        proxy.stderr.lock().unwrap()
    );
    assert_eq!(
        corp.seen(),
        vec![(
            "GET http://example.test/page HTTP/1.1".to_owned(),
            "Basic dXNlcjpzM2NyQHQgcGFzcw==".to_owned()
        )]
    );
    assert_no_password(&proxy);
}

#[test]
fn a_407_is_a_clear_error_and_an_event() {
    let pki = upstream_pki();
    let echo = start_echo_upstream(&pki);
    let corp = CorporateProxy::start(true);
    for (credentials, says) in [
        ("", "give them as --upstream-proxy"),
        ("user:wrong@", "it refused the user and password"),
    ] {
        let proxy = start_proxy_routed(
            &pki,
            echo.addr.port(),
            &["--upstream-proxy", &corp.url(credentials)],
        );
        let out = curl(
            &proxy,
            &[
                "-i",
                "-d",
                "Action=GetCallerIdentity",
                "https://sts.us-east-1.amazonaws.com/",
            ],
        );
        assert!(out.stdout.contains(" 502"), "{}", out.stdout);
        assert!(
            out.stdout.contains("<Code>AwsGuardUpstreamError</Code>"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains("asked for credentials (407)"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains(says), "{}", out.stdout);
        let event = proxy.wait_event(|e| e["eventType"] != "connection");
        let message = event["connection"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        // A blind tunnel: the CONNECT is answered 502 and recorded.
        let blind = curl_upstream_ca(
            &proxy,
            &pki,
            &format!("https://localhost:{}/", echo.addr.port()),
        );
        assert_ne!(blind.status, 0);
        let event = proxy.wait_event(|e| {
            e["connection"]["outcome"] == "upstream-failed"
                && e["connection"]["reason"] == "not-aws"
        });
        assert!(
            event["connection"]["message"]
                .as_str()
                .unwrap()
                .contains("407"),
            "{event}"
        );
        assert_no_password(&proxy);
    }
    assert!(!corp.seen().is_empty());
}

#[test]
fn an_unreachable_proxy_is_a_clear_error() {
    let pki = upstream_pki();
    let echo = start_echo_upstream(&pki);
    let dead = format!("http://user:{PASSWORD_IN_URL}@127.0.0.1:{}", free_port());
    let proxy = start_proxy_routed(&pki, echo.addr.port(), &["--upstream-proxy", &dead]);
    let out = curl(&proxy, &["-i", "https://sts.us-east-1.amazonaws.com/"]);
    assert!(out.stdout.contains(" 502"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("cannot reach the upstream proxy 127.0.0.1:"),
        "{}",
        out.stdout
    );
    proxy.wait_event(|e| {
        e["connection"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot reach the upstream proxy"))
    });
    assert_no_password(&proxy);
}

#[test]
fn no_proxy_entries_bypass_the_proxy_from_flags_and_the_environment() {
    let pki = upstream_pki();
    let echo = start_echo_upstream(&pki);
    let corp = CorporateProxy::start(false);
    let direct = start_proxy_routed(
        &pki,
        echo.addr.port(),
        &[
            "--upstream-proxy",
            &corp.url(""),
            "--upstream-no-proxy",
            "sts.us-east-1.amazonaws.com,.example",
        ],
    );
    let out = curl(&direct, &["https://sts.us-east-1.amazonaws.com/"]);
    assert!(
        out.stdout.contains("host=sts.us-east-1.amazonaws.com"),
        "{}",
        out.stderr
    );
    assert_eq!(corp.seen(), Vec::new());
    // `env`: awsguard's own HTTPS_PROXY and NO_PROXY.
    let route = format!("*.amazonaws.com=127.0.0.1:{}", echo.addr.port());
    let from_env = start_proxy_with_env(
        &[
            "--connect-to",
            &route,
            "--upstream-ca",
            pki.ca_pem.to_str().unwrap(),
            "--upstream-proxy",
            "env",
        ],
        &[
            ("HTTPS_PROXY", &corp.url("")),
            (
                "NO_PROXY",
                ".sqs.us-east-1.amazonaws.com,sqs.us-east-1.amazonaws.com",
            ),
        ],
    );
    let out = curl(&from_env, &["https://sqs.us-east-1.amazonaws.com/"]);
    assert!(
        out.stdout.contains("host=sqs.us-east-1.amazonaws.com"),
        "{}",
        out.stderr
    );
    assert_eq!(corp.seen(), Vec::new());
    let out = curl(&from_env, &["https://sts.us-east-1.amazonaws.com/"]);
    assert!(
        out.stdout.contains("host=sts.us-east-1.amazonaws.com"),
        "{}",
        out.stderr
    );
    assert_eq!(corp.seen().len(), 1, "{:?}", corp.seen());
}

#[test]
fn the_password_is_not_in_help_or_config_errors() {
    let help = run(Command::new(env!("CARGO_BIN_EXE_awsguard")).args(["run", "--help"]));
    assert!(help.stdout.contains("--upstream-proxy"), "{}", help.stdout);
    let bad = run(Command::new(env!("CARGO_BIN_EXE_awsguard")).args([
        "run",
        "--upstream-proxy",
        "https://user:hunter2@proxy:3128",
    ]));
    assert_ne!(bad.status, 0);
    assert!(bad.stderr.contains("upstream-proxy"), "{}", bad.stderr);
    assert!(!bad.stderr.contains("hunter2"), "{}", bad.stderr);
}
