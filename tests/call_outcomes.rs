//! Every call that reaches a decision is recorded exactly once, with how it ended: through the
//! real binary, curl as the client, and a scripted TLS upstream on loopback that answers, fails
//! or hangs by path.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use common::*;

/// A TLS upstream that reads one request head and then acts by its path:
/// - `/ok`: 200, `x-amzn-RequestId: req-ok-1`, body `{}`.
/// - `/error-json`: 400 with a JSON `__type` and no `x-amzn-ErrorType`.
/// - `/error-header`: 403 with `x-amzn-ErrorType: AccessDeniedException:http://…`.
/// - `/reset-mid-body`: 200 announcing 100000 bytes, sends 10, closes.
/// - `/close-before-head`: closes without answering.
/// - `/hang`: answers nothing for a minute.
/// - `/slow`: says so on [`SLOW_SEEN`], then answers 200 after two seconds.
fn start_scripted_upstream(pki: &Pki) -> u16 {
    use rustls_pki_types::pem::PemObject;
    let certs = rustls_pki_types::CertificateDer::pem_file_iter(&pki.cert_pem)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(&pki.key_pem).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            std::thread::spawn(move || serve_scripted(config, tcp));
        }
    });
    port
}

fn serve_scripted(config: Arc<rustls::ServerConfig>, mut tcp: std::net::TcpStream) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(conn, &mut tcp);
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tls.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let answer: &[u8] = match path.as_str() {
        "/ok" => b"HTTP/1.1 200 OK\r\nx-amzn-RequestId: req-ok-1\r\ncontent-length: 2\r\n\r\n{}",
        "/error-json" => {
            b"HTTP/1.1 400 Bad Request\r\nx-amzn-RequestId: req-err-1\r\n\
content-type: application/x-amz-json-1.0\r\ncontent-length: 69\r\n\r\n\
{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"no queue\"}"
        }
        "/error-header" => {
            b"HTTP/1.1 403 Forbidden\r\n\
x-amzn-ErrorType: AccessDeniedException:http://internal.amazon.com/\r\ncontent-length: 2\r\n\r\n{}"
        }
        "/reset-mid-body" => b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n0123456789",
        "/slow" => {
            SLOW_SEEN.store(true, std::sync::atomic::Ordering::SeqCst);
            std::thread::sleep(Duration::from_secs(2));
            b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nslow"
        }
        "/hang" => {
            std::thread::sleep(Duration::from_secs(60));
            return;
        }
        _ => return,
    };
    let _ = tls.write_all(answer);
    let _ = tls.flush();
    if path == "/reset-mid-body" {
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = tls.sock.shutdown(std::net::Shutdown::Both);
}

/// Set once the upstream has received a `/slow` request.
static SLOW_SEEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn proxy_for(pki: &Pki) -> ProxyProc {
    let port = start_scripted_upstream(pki);
    start_proxy_routed(pki, port, &[])
}

/// The api-call events for `path` (the request path is not recorded: the host is per test).
fn api_calls(proxy: &ProxyProc) -> Vec<serde_json::Value> {
    proxy
        .events()
        .into_iter()
        .filter(|e| e["eventType"] == "api-call")
        .collect()
}

/// Waits until `n` api-call events are written, then a little longer to see none follows.
fn settled_api_calls(proxy: &ProxyProc, n: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while api_calls(proxy).len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{} events: {:#?}\n{}",
            n,
            proxy.events(),
            proxy.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    api_calls(proxy)
}

#[test]
fn a_completed_call_has_a_null_error_code_and_the_cloudtrail_members() {
    let pki = upstream_pki();
    let proxy = proxy_for(&pki);
    let out = curl(&proxy, &["https://sqs.us-east-1.amazonaws.com/ok"]);
    assert_eq!(out.stdout, "{}", "{}", out.stderr);
    let events = settled_api_calls(&proxy, 1);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["responseStatus"], 200);
    assert!(e["errorCode"].is_null(), "{e}");
    assert!(e["errorMessage"].is_null(), "{e}");
    assert_eq!(e["requestID"], "req-ok-1");
    assert_eq!(e["eventVersion"], "1.10");
    assert_eq!(e["eventCategory"], "Management");
    let id = e["eventID"].as_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(&id[14..15], "4", "{id}");
}

#[test]
fn aws_error_codes_are_recorded_from_the_body_or_the_error_type_header() {
    let pki = upstream_pki();
    let proxy = proxy_for(&pki);
    curl(&proxy, &["https://sqs.us-east-1.amazonaws.com/error-json"]);
    curl(
        &proxy,
        &["https://sqs.us-east-1.amazonaws.com/error-header"],
    );
    let events = settled_api_calls(&proxy, 2);
    assert_eq!(events.len(), 2);
    let by_status = |s: u64| events.iter().find(|e| e["responseStatus"] == s).unwrap();
    assert_eq!(by_status(400)["errorCode"], "QueueDoesNotExist");
    assert_eq!(by_status(400)["requestID"], "req-err-1");
    assert_eq!(by_status(403)["errorCode"], "AccessDeniedException");
}

#[test]
fn an_upstream_reset_in_the_middle_of_the_body_is_not_a_clean_200() {
    let pki = upstream_pki();
    let proxy = proxy_for(&pki);
    let out = curl(
        &proxy,
        &["https://sqs.us-east-1.amazonaws.com/reset-mid-body"],
    );
    assert_ne!(out.status, 0, "curl must see the cut body");
    let events = settled_api_calls(&proxy, 1);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["responseStatus"], 200);
    assert_eq!(events[0]["errorCode"], "UpstreamReset");
    assert_eq!(
        events[0]["errorMessage"],
        "the upstream connection closed during the response body"
    );
}

#[test]
fn an_upstream_that_closes_before_answering_is_an_upstream_reset_with_a_502() {
    let pki = upstream_pki();
    let proxy = proxy_for(&pki);
    let out = curl(
        &proxy,
        &[
            "-w",
            "\n%{http_code}",
            "https://sqs.us-east-1.amazonaws.com/close-before-head",
        ],
    );
    assert!(out.stdout.ends_with("\n502"), "{}", out.stdout);
    let events = settled_api_calls(&proxy, 1);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["responseStatus"], 502);
    assert_eq!(events[0]["errorCode"], "UpstreamReset");
}

#[test]
fn a_client_that_gives_up_while_the_call_is_upstream_is_recorded_once() {
    let pki = upstream_pki();
    let proxy = proxy_for(&pki);
    for http in ["--http1.1", "--http2"] {
        let out = curl(
            &proxy,
            &[
                http,
                "--max-time",
                "2",
                "https://sqs.us-east-1.amazonaws.com/hang",
            ],
        );
        assert_ne!(out.status, 0);
    }
    let events = settled_api_calls(&proxy, 2);
    assert_eq!(events.len(), 2, "{events:#?}");
    for e in events {
        assert_eq!(e["errorCode"], "ClientClosedRequest", "{e}");
        assert!(e["responseStatus"].is_null(), "{e}");
    }
}

#[test]
fn an_unreachable_upstream_is_recorded_as_such() {
    let port = free_port();
    let proxy = start_proxy(&["--connect-to", &format!("*.amazonaws.com=127.0.0.1:{port}")]);
    let out = curl(&proxy, &["https://sqs.us-east-1.amazonaws.com/ok"]);
    assert!(
        out.stdout.contains("AwsGuardUpstreamError"),
        "{}",
        out.stdout
    );
    let events = settled_api_calls(&proxy, 1);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["errorCode"], "UpstreamUnreachable");
}

#[test]
fn sigterm_lets_a_call_in_flight_finish_and_records_it() {
    let pki = upstream_pki();
    let mut proxy = proxy_for(&pki);
    let curl = std::process::Command::new("curl")
        .args(["-sS", "--proxy", &proxy.url(), "--cacert"])
        .arg(proxy.ca_pem())
        .arg("https://sqs.us-east-1.amazonaws.com/slow")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !SLOW_SEEN.load(std::sync::atomic::Ordering::SeqCst) {
        assert!(
            std::time::Instant::now() < deadline,
            "the call never went upstream"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = proxy.child.0.id().to_string();
    assert_eq!(
        run(std::process::Command::new("kill").args(["-TERM", &pid])).status,
        0
    );
    let out = curl.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "slow");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = proxy.child.0.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "proxy did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let events = api_calls(&proxy);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["responseStatus"], 200);
    assert!(events[0]["errorCode"].is_null(), "{}", events[0]);
}

#[test]
fn a_pooled_connection_the_upstream_closed_is_replaced_not_a_502() {
    let pki = upstream_pki();
    let proxy = proxy_for(&pki);
    // The upstream closes every connection after one answer, without saying so: each call after
    // the first finds a pooled connection that is gone.
    for _ in 0..5 {
        let out = curl(
            &proxy,
            &[
                "-w",
                "\n%{http_code}",
                "https://sqs.us-east-1.amazonaws.com/ok",
            ],
        );
        assert_eq!(out.stdout, "{}\n200", "{}", out.stderr);
    }
    let events = settled_api_calls(&proxy, 5);
    assert_eq!(events.len(), 5);
    assert!(
        events.iter().all(|e| e["errorCode"].is_null()),
        "{events:#?}"
    );
}
