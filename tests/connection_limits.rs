//! Connections under hostile load, through the real binary: the connection limit holds for
//! intercepted connections and refuses at once, idle connections close on both protocols, and
//! slow bodies and a full inspection budget time out with an answer and an event. Timeouts are
//! set to one second here; every wait in the tests is bounded.

mod common;

use std::io::{Read, Write};

use common::*;

const HOST: &str = "sqs.us-east-1.amazonaws.com";

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

/// Reads until the peer closes (or the 10 s read timeout fails the test).
fn read_to_close(stream: &mut impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => panic!("no close: {e}"),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => panic!("no close: {e}"),
            Err(_) => return out,
        }
    }
}

#[test]
fn the_connection_limit_covers_intercepted_connections_and_refuses_at_once() {
    let (proxy, _upstream, _dir) = proxy_with("max-connections = 2\n");
    let _first = intercepted(&proxy, HOST, b"http/1.1");
    let _second = intercepted(&proxy, HOST, b"http/1.1");
    let mut third = std::net::TcpStream::connect(proxy.addr).unwrap();
    third
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let answer = String::from_utf8(read_to_close(&mut third)).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    proxy.wait_event(|e| e["connection"]["outcome"] == "refused-over-limit");
    drop(_first);
    // A place is free again once a connection ends.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let out = curl(&proxy, &[&format!("https://{HOST}/x")]);
        if out.status == 0 {
            assert!(out.stdout.starts_with("len=0"), "{}", out.stdout);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", out.stderr);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn idle_intercepted_connections_are_closed_on_http1_and_http2() {
    let (proxy, _upstream, _dir) = proxy_with("idle-timeout = 1\n");
    let mut h1 = intercepted(&proxy, HOST, b"http/1.1");
    h1.write_all(format!("GET /x HTTP/1.1\r\nHost: {HOST}\r\n\r\n").as_bytes())
        .unwrap();
    let answered = read_to_close(&mut h1);
    assert!(answered.starts_with(b"HTTP/1.1 200"));
    let mut h2 = intercepted(&proxy, HOST, b"h2");
    assert_eq!(h2.conn.alpn_protocol(), Some(&b"h2"[..]));
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .unwrap();
    h2.flush().unwrap();
    let frames = read_to_close(&mut h2);
    // The server's SETTINGS first, a GOAWAY (type 7) before it closes.
    assert_eq!(frames.get(3), Some(&4), "{frames:?}");
    assert!(frames.windows(2).any(|w| w == [0x07, 0x00]), "{frames:?}");
}

#[test]
fn a_body_that_stops_arriving_gets_408_and_an_event() {
    let (proxy, upstream, _dir) = proxy_with("body-read-timeout = 1\n");
    let mut tls = intercepted(&proxy, HOST, b"http/1.1");
    tls.write_all(
        format!(
            "POST / HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 100\r\n\r\nAction=Lis"
        )
        .as_bytes(),
    )
    .unwrap();
    tls.flush().unwrap();
    let answer = String::from_utf8_lossy(&read_to_close(&mut tls)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("BodyReadTimeout"), "{answer}");
    let event = proxy.wait_event(|e| e["errorCode"] == "BodyReadTimeout");
    assert_eq!(event["responseStatus"], 408);
    assert_eq!(
        upstream.accepted.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[test]
fn a_call_that_cannot_get_inspection_memory_in_time_gets_503_and_an_event() {
    let (proxy, _upstream, _dir) =
        proxy_with("inspect-budget = 1024\nbudget-wait-timeout = 1\nbody-read-timeout = 30\n");
    // Holds the whole budget: announces 1000 bytes and sends a few.
    let mut holder = intercepted(&proxy, HOST, b"http/1.1");
    holder
        .write_all(
            format!(
                "POST / HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: 1000\r\n\r\nAction="
            )
            .as_bytes(),
        )
        .unwrap();
    holder.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = curl(
        &proxy,
        &[
            "-w",
            "\n%{http_code}",
            "-H",
            "Content-Type: application/x-www-form-urlencoded",
            "--data",
            "Action=ListQueues&Version=2012-11-05",
            &format!("https://{HOST}/"),
        ],
    );
    assert!(out.stdout.ends_with("\n503"), "{}", out.stdout);
    assert!(
        out.stdout.contains("InspectionBudgetTimeout"),
        "{}",
        out.stdout
    );
    proxy.wait_event(|e| e["errorCode"] == "InspectionBudgetTimeout");
    drop(holder);
}
