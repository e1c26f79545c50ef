//! Request heads on intercepted connections, sent byte for byte over a real TLS session through
//! CONNECT: the documented 64 KiB head limit, one `Host` only, and a `Host` naming the tunnel's
//! host; each refusal answered and recorded.

mod common;

use std::io::{Read, Write};

use common::*;

const HOST: &str = "sqs.us-east-1.amazonaws.com";

/// Sends `request` as is on an intercepted TLS connection to `host`; returns everything the
/// proxy answers until it closes or 10 s pass.
fn exchange(proxy: &ProxyProc, host: &str, request: &[u8]) -> String {
    let mut tls = intercepted(proxy, host, b"http/1.1");
    // A refused head may be answered before it is all written; the rest is drained, so the
    // write completes and the answer is read in full (a reset fails the test).
    tls.write_all(request).unwrap();
    tls.flush().unwrap();
    let mut out = Vec::new();
    match tls.read_to_end(&mut out) {
        Ok(_) => {}
        // The answer ends with the connection; a peer closing without TLS close_notify is
        // reported as an unexpected end, not a reset.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("{e}; read so far: {}", String::from_utf8_lossy(&out)),
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn proxy() -> (ProxyProc, EchoUpstream) {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    // Both read the PKI files at start-up.
    drop(pki);
    (proxy, upstream)
}

fn request(extra: &str) -> Vec<u8> {
    format!("GET /x HTTP/1.1\r\n{extra}Connection: close\r\n\r\n").into_bytes()
}

#[test]
fn a_head_over_64_kib_gets_431_and_an_event() {
    let (proxy, _upstream) = proxy();
    // Under hyper's own buffer bound, over the documented limit.
    let big = format!("Host: {HOST}\r\nX-Pad: {}\r\n", "a".repeat(70 * 1024));
    // The proxy answers 431 while the client may still be writing the rest of the head; it
    // closes lingering, so the client reads the answer rather than a reset.
    let answer = exchange(&proxy, HOST, &request(&big));
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let event = proxy.wait_event(|e| e["errorCode"] == "RequestHeaderFieldsTooLarge");
    assert_eq!(event["responseStatus"], 431);
    // Just under the limit passes.
    let fits = format!("Host: {HOST}\r\nX-Pad: {}\r\n", "a".repeat(60 * 1024));
    let answer = exchange(&proxy, HOST, &request(&fits));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Far over: hyper's parser refuses it before any decision; still answered and an event.
    let huge = format!("Host: {HOST}\r\nX-Pad: {}\r\n", "a".repeat(600 * 1024));
    let answer = exchange(&proxy, HOST, &request(&huge));
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    proxy.wait_event(|e| e["connection"]["outcome"] == "malformed");
}

#[test]
fn a_host_header_naming_another_host_gets_400_and_an_event() {
    let (proxy, upstream) = proxy();
    let answer = exchange(
        &proxy,
        HOST,
        &request("Host: sns.us-east-1.amazonaws.com\r\n"),
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("MisdirectedRequest"), "{answer}");
    let event = proxy.wait_event(|e| e["errorCode"] == "MisdirectedRequest");
    assert_eq!(event["responseStatus"], 400);
    assert_eq!(event["decision"], "blocked");
    assert_eq!(
        upstream.accepted.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing went upstream"
    );
}

#[test]
fn a_duplicated_host_header_gets_400_and_an_event() {
    let (proxy, _upstream) = proxy();
    let twice = format!("Host: {HOST}\r\nHost: {HOST}\r\n");
    let answer = exchange(&proxy, HOST, &request(&twice));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    proxy.wait_event(|e| e["errorCode"] == "DuplicateHost");
}

#[test]
fn an_h2_authority_naming_another_host_is_refused() {
    let (proxy, _upstream) = proxy();
    let out = curl(
        &proxy,
        &[
            "--http2",
            "-w",
            "\n%{http_code}",
            "-H",
            "Host: sns.us-east-1.amazonaws.com",
            &format!("https://{HOST}/x"),
        ],
    );
    assert!(out.stdout.ends_with("\n400"), "{}", out.stdout);
    proxy.wait_event(|e| e["errorCode"] == "MisdirectedRequest");
}
