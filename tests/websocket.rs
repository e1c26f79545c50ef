//! WebSocket calls through the proxy with a real client and server (python `websockets`): the
//! upgrade is decided like any call (enforce refuses a secret in its URL with 403), then relayed
//! both ways, and a `websocket-closed` event records the bytes each way. HTTP/2 clients open
//! theirs with extended CONNECT (RFC 8441, python `h2`), relayed to the same HTTP/1.1 server.

mod common;

use std::process::Command;

use common::*;

fn ws_client(proxy: &ProxyProc, url: &str, messages: &[&str]) -> Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/ws_client.py");
    run(Command::new("python3")
        .arg(script)
        .arg(proxy.url())
        .arg(proxy.ca_pem())
        .arg(url)
        .args(messages))
}

fn ws_h2_client(proxy: &ProxyProc, host: &str, path: &str, messages: &[&str]) -> Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/ws_h2_client.py");
    run(Command::new("python3")
        .arg(script)
        .arg(proxy.url())
        .arg(proxy.ca_pem())
        .arg(host)
        .arg(path)
        .args(messages))
}

/// Letters from a linear congruential generator: permessage-deflate cannot shrink them much.
fn letters(n: usize) -> String {
    let mut state = 12345u32;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + u8::try_from((state >> 16) % 26).unwrap())
        })
        .collect()
}

#[test]
fn http2_clients_open_websockets_with_extended_connect() {
    let pki = upstream_pki();
    let (_server, port) = start_ws_server(&pki);
    let proxy = start_proxy_routed(&pki, port, &["--mode", "enforce"]);
    let host = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
    let big = letters(70_000);
    let out = ws_h2_client(&proxy, host, "/prod", &["hello", &big]);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert_eq!(lines[0], "echo:hello");
    assert_eq!(lines[1], format!("echo:{big}"));

    // Recorded as the call the HTTP/1.1 upgrade is, with the upstream's 101.
    let call = proxy.wait_event(|e| e["responseStatus"] == 101);
    assert_eq!(call["eventType"], "api-call");
    assert_eq!(call["decision"], "allowed");
    assert_eq!(call["eventSource"], "execute-api.amazonaws.com");
    assert_eq!(call["requestMethod"], "GET", "{call}");
    assert_eq!(call["errorCode"], serde_json::Value::Null, "{call}");
    let closed = proxy.wait_event(|e| e["connection"]["outcome"] == "websocket-closed");
    let relay = &closed["connection"]["relay"];
    // Unmasked 70 KB back; masked 70 KB out, with the close frames.
    assert!(
        relay["bytesFromClient"].as_u64().unwrap() > 70_000,
        "{closed}"
    );
    assert!(
        relay["bytesFromUpstream"].as_u64().unwrap() > 70_000,
        "{closed}"
    );

    let refused = ws_h2_client(&proxy, host, "/prod?password=hunter2-Quartz", &["hi"]);
    assert_eq!(refused.status, 3, "{}{}", refused.stdout, refused.stderr);
    assert_eq!(refused.stdout.trim(), "refused 403");
    let blocked = proxy.wait_event(|e| e["decision"] == "blocked");
    assert_eq!(blocked["findings"][0]["rule"], "url-secret-parameter");
    assert!(!blocked.to_string().contains("hunter2"));

    // Extended CONNECT for another protocol is not relayed.
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/ws_h2_client.py");
    let other = run(Command::new("python3")
        .arg(script)
        .arg(proxy.url())
        .arg(proxy.ca_pem())
        .arg(host)
        .arg("/udp")
        .env("WS_H2_PROTOCOL", "connect-udp"));
    assert_eq!(other.status, 3, "{}{}", other.stdout, other.stderr);
    assert_eq!(other.stdout.trim(), "refused 501");
    let refused = proxy.wait_event(|e| e["errorCode"] == "UnsupportedProtocol");
    assert_eq!(refused["responseStatus"], 501, "{refused}");
}

/// A WebSocket on an HTTP/2 connection is a call in flight for as long as it is open: the
/// connection is not closed as idle under it.
#[test]
fn an_open_http2_websocket_keeps_its_connection() {
    let pki = upstream_pki();
    let (_server, port) = start_ws_server(&pki);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("awsguard.toml");
    std::fs::write(&config, "idle-timeout = 1\n").unwrap();
    let proxy = start_proxy_routed(&pki, port, &["--config", config.to_str().unwrap()]);
    let host = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com";
    let out = ws_h2_client(&proxy, host, "/prod", &["before", "@sleep=3.5", "after"]);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "echo:before\necho:after\n");
}

#[test]
fn websocket_upgrades_are_decided_relayed_and_recorded() {
    let pki = upstream_pki();
    let (_server, port) = start_ws_server(&pki);
    let proxy = start_proxy_routed(&pki, port, &["--mode", "enforce"]);
    let url = "wss://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod";
    let big = letters(70_000);
    let out = ws_client(&proxy, url, &["hello", "second message", &big]);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert_eq!(lines[0], "echo:hello");
    assert_eq!(lines[1], "echo:second message");
    assert_eq!(lines[2].len(), "echo:".len() + 70_000);

    let call = proxy.wait_event(|e| e["responseStatus"] == 101);
    assert_eq!(call["eventType"], "api-call");
    assert_eq!(call["decision"], "allowed");
    assert_eq!(call["eventSource"], "execute-api.amazonaws.com");
    assert_eq!(call["customerEndpoint"], true);
    let closed = proxy.wait_event(|e| e["connection"]["outcome"] == "websocket-closed");
    let relay = &closed["connection"]["relay"];
    // Three frames (70 KB of letters among them, deflated) each way, and the close.
    assert!(
        relay["bytesFromClient"].as_u64().unwrap() > 35_000,
        "{closed}"
    );
    assert!(
        relay["bytesFromUpstream"].as_u64().unwrap() > 35_000,
        "{closed}"
    );
    assert_eq!(relay["closeReason"], "closed");

    let refused = ws_client(&proxy, &format!("{url}?password=hunter2-Quartz"), &["hi"]);
    assert_eq!(refused.status, 3, "{}{}", refused.stdout, refused.stderr);
    assert_eq!(refused.stdout.trim(), "refused 403");
    let blocked = proxy.wait_event(|e| e["decision"] == "blocked");
    assert_eq!(blocked["findings"][0]["rule"], "url-secret-parameter");
    assert!(!blocked.to_string().contains("hunter2"));
}
