//! WebSocket calls through the proxy with a real client and server (python `websockets`): the
//! upgrade is decided like any call (enforce refuses a secret in its URL with 403), then relayed
//! both ways, and a `websocket-closed` event records the bytes each way.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

/// The echo server over TLS with the test upstream certificate; its port.
fn start_ws_server(pki: &Pki) -> (ChildGuard, u16) {
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

fn ws_client(proxy: &ProxyProc, url: &str, messages: &[&str]) -> Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/ws_client.py");
    run(Command::new("python3")
        .arg(script)
        .arg(proxy.url())
        .arg(proxy.ca_pem())
        .arg(url)
        .args(messages))
}

#[test]
fn websocket_upgrades_are_decided_relayed_and_recorded() {
    let pki = upstream_pki();
    let (_server, port) = start_ws_server(&pki);
    let proxy = start_proxy_routed(&pki, port, &["--mode", "enforce"]);
    let url = "wss://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod";
    // Letters from a linear congruential generator: permessage-deflate cannot shrink them much.
    let mut state = 12345u32;
    let big: String = (0..70_000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + u8::try_from((state >> 16) % 26).unwrap())
        })
        .collect();
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
