//! Streamed bodies and blind tunnels that go quiet, through the real binary: a request body
//! streamed to AWS that stops arriving gets 408, a response body the upstream stops sending is
//! cut, and a tunnel carrying nothing is closed — each with its event. Timeouts are one second
//! here; every wait in the tests is bounded.

mod common;

use std::io::{Read, Write};

use common::*;

const S3: &str = "s3.us-east-1.amazonaws.com";

/// A proxy in front of the echo upstream with `settings` (TOML) as its config file.
fn proxy_with(settings: &str) -> (ProxyProc, EchoUpstream, tempfile::TempDir) {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("awsguard.toml");
    std::fs::write(&config, settings).unwrap();
    let proxy = start_proxy_routed(
        &pki,
        upstream.addr.port(),
        &["--config", config.to_str().unwrap()],
    );
    (proxy, upstream, dir)
}

/// Reads until the peer closes or fails the connection (a 10 s read timeout fails the test).
fn read_to_close(stream: &mut impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("no close: {e}")
            }
            Err(_) => return out,
        }
    }
}

#[test]
fn a_streamed_upload_that_stops_arriving_gets_408_and_an_event() {
    let (proxy, upstream, _dir) = proxy_with("stream-idle-timeout = 1\n");
    let mut tls = intercepted(&proxy, S3, b"http/1.1");
    // PutObject streams its body to AWS as it arrives (never held for inspection).
    tls.write_all(
        format!(
            "PUT /bucket/key HTTP/1.1\r\nHost: {S3}\r\nContent-Length: 100000\r\n\r\nfirst bytes"
        )
        .as_bytes(),
    )
    .unwrap();
    tls.flush().unwrap();
    let answer = String::from_utf8_lossy(&read_to_close(&mut tls)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("BodyReadTimeout"), "{answer}");
    let event = proxy.wait_event(|e| e["errorCode"] == "BodyReadTimeout");
    assert_eq!(event["eventName"], "PutObject");
    assert_eq!(event["responseStatus"], 408);
    assert_eq!(
        event["errorMessage"],
        "the client was too slow sending the request body"
    );
    assert!(event["connection"].is_null(), "{event}");
    assert_eq!(
        upstream.complete.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the upstream never received a whole request"
    );
}

#[test]
fn a_response_body_the_upstream_stops_sending_is_cut_with_an_event() {
    let (proxy, _upstream, _dir) = proxy_with("stream-idle-timeout = 1\n");
    let out = curl(
        &proxy,
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{size_download}",
            &format!("https://{S3}/stall/5000"),
        ],
    );
    // curl got the head and the first bytes, then a connection cut before the body's end.
    assert_ne!(out.status, 0, "{}", out.stdout);
    assert_eq!(out.stdout, "200 5000", "{}", out.stderr);
    let event = proxy.wait_event(|e| e["errorCode"] == "UpstreamBodyTimeout");
    assert_eq!(event["responseStatus"], 200);
    assert_eq!(
        event["errorMessage"],
        "the upstream stopped sending the response body (too long between bytes)"
    );
}

#[test]
fn a_tunnel_carrying_nothing_is_closed_with_an_event() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // The far end accepts and then says nothing, like a server waiting for its client.
    let server = std::thread::spawn(move || listener.accept().map(|(stream, _)| stream));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("awsguard.toml");
    std::fs::write(&config, "tunnel-idle-timeout = 1\n").unwrap();
    let proxy = start_proxy(&[
        "--config",
        config.to_str().unwrap(),
        "--connect-to",
        &format!("upstream.test=127.0.0.1:{port}"),
    ]);
    let mut client = std::net::TcpStream::connect(proxy.addr).unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    client
        .write_all(
            format!("CONNECT upstream.test:{port} HTTP/1.1\r\nHost: upstream.test:{port}\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    let answer = String::from_utf8(read_to_close(&mut client)).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let _far_end = server.join().unwrap().unwrap();
    let event = proxy.wait_event(|e| e["connection"]["outcome"] == "idle-timeout");
    assert_eq!(event["requestHost"], "upstream.test");
    let message = event["connection"]["message"].as_str().unwrap();
    assert!(message.contains("tunnel-idle-timeout"), "{message}");
}
