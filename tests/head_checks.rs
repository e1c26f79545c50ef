//! Request heads on intercepted connections, sent byte for byte over a real TLS session through
//! CONNECT: the documented 64 KiB head limit, one `Host` only, and a `Host` naming the tunnel's
//! host; each refusal answered and recorded.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::*;

const HOST: &str = "sqs.us-east-1.amazonaws.com";

/// Opens CONNECT `host:443` through the proxy, TLS (trusting the proxy's CA, ALPN http/1.1),
/// sends `request` as is, and returns everything the proxy answers until it closes or 10 s pass.
fn exchange(proxy: &ProxyProc, host: &str, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(proxy.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        tcp,
        "CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut byte).unwrap(), 1);
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200"));
    let mut roots = rustls::RootCertStore::empty();
    use rustls_pki_types::pem::PemObject;
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
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = rustls_pki_types::ServerName::try_from(host.to_owned()).unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(request).unwrap();
    tls.flush().unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
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
    let answer = exchange(&proxy, HOST, &request(&big));
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let event = proxy.wait_event(|e| e["errorCode"] == "RequestHeaderFieldsTooLarge");
    assert_eq!(event["responseStatus"], 431);
    // Just under the limit passes.
    let fits = format!("Host: {HOST}\r\nX-Pad: {}\r\n", "a".repeat(60 * 1024));
    let answer = exchange(&proxy, HOST, &request(&fits));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Far over: hyper's parser refuses it before any decision; still an event.
    let huge = format!("Host: {HOST}\r\nX-Pad: {}\r\n", "a".repeat(600 * 1024));
    let answer = exchange(&proxy, HOST, &request(&huge));
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
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
