//! What awsguard cannot inspect is tunnelled blind, not broken, and always recorded with why:
//! non-HTTP ALPN (IoT's `x-amzn-mqtt-ca`), ports other than 443, hosts that authenticate clients
//! with certificates, and the user's `--passthrough` list. Real `openssl s_client` through the
//! proxy against a real `openssl s_server`, loopback only.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

const IOT: &str = "abc123-ats.iot.us-east-1.amazonaws.com";

/// What `s_client` printed, once the upstream (an `s_server -rev`) answered `line` reversed.
struct Session {
    lines: Vec<String>,
}

impl Session {
    fn has(&self, text: &str) -> bool {
        self.lines.iter().any(|l| l.contains(text))
    }
}

/// `openssl s_client` through `proxy` to `target`, trusting only the test upstream CA; sends
/// `line` and waits (up to 20 s, a failure bound, not a measurement) for it to come back
/// reversed.
fn s_client(proxy: &ProxyProc, pki: &Pki, target: &str, extra: &[&str], line: &str) -> Session {
    let mut child = ChildGuard(
        Command::new("openssl")
            .arg("s_client")
            .arg("-proxy")
            .arg(proxy.addr.to_string())
            .arg("-connect")
            .arg(target)
            .arg("-CAfile")
            .arg(&pki.ca_pem)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl runs"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut stdin = child.0.stdin.take().unwrap();
    stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
    let reversed: String = line.chars().rev().collect();
    let mut lines = Vec::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(20)) {
        let done = l.contains(&reversed);
        lines.push(l);
        if done {
            break;
        }
    }
    drop(stdin);
    Session { lines }
}

fn tunnel_event(proxy: &ProxyProc, reason: &str) -> serde_json::Value {
    proxy.wait_event(|e| {
        e["eventType"] == "connection"
            && e["connection"]["outcome"] == "tunnelled"
            && e["connection"]["reason"] == reason
    })
}

#[test]
fn a_non_http_alpn_is_tunnelled_blind_end_to_end() {
    let pki = upstream_pki();
    let (_server, port) = start_s_server(&pki, &["-rev", "-alpn", "x-amzn-mqtt-ca"]);
    let proxy = start_proxy_routed(&pki, port, &[]);
    let session = s_client(
        &proxy,
        &pki,
        &format!("{IOT}:443"),
        &[
            "-servername",
            IOT,
            "-alpn",
            "x-amzn-mqtt-ca",
            "-verify_return_error",
        ],
        "mqtt-connect-packet",
    );
    // The client verified the upstream's own certificate (not an awsguard leaf) and got its
    // protocol and its bytes back.
    assert!(session.has("tekcap-tcennoc-ttqm"), "{:#?}", session.lines);
    assert!(
        session.has("ALPN protocol: x-amzn-mqtt-ca"),
        "{:#?}",
        session.lines
    );
    assert!(
        session.has("Verify return code: 0 (ok)"),
        "{:#?}",
        session.lines
    );
    let event = tunnel_event(&proxy, "non-http-alpn");
    assert_eq!(event["connection"]["serverName"], IOT);
    let message = event["connection"]["message"].as_str().unwrap();
    assert!(message.contains("x-amzn-mqtt-ca"), "{message}");
}

#[test]
fn connect_to_port_8883_is_tunnelled() {
    let pki = upstream_pki();
    let (_server, port) = start_s_server(&pki, &["-rev"]);
    let proxy = start_proxy_routed(&pki, port, &[]);
    let session = s_client(
        &proxy,
        &pki,
        &format!("{IOT}:8883"),
        &["-servername", IOT, "-verify_return_error"],
        "mqtt-on-8883",
    );
    assert!(session.has("3888-no-ttqm"), "{:#?}", session.lines);
    let event = tunnel_event(&proxy, "port");
    assert!(
        event["connection"]["message"]
            .as_str()
            .unwrap()
            .contains("port 8883"),
        "{event}"
    );
}

#[test]
fn https_to_an_intercept_port_is_still_intercepted() {
    let pki = upstream_pki();
    let (_server, port) = start_s_server(&pki, &["-rev"]);
    let proxy = start_proxy_routed(&pki, port, &["--intercept-port", "8443"]);
    // HTTP ALPN on an intercepted port: the client meets awsguard's leaf, which the upstream CA
    // does not sign.
    let session = s_client(
        &proxy,
        &pki,
        &format!("{IOT}:8443"),
        &[
            "-servername",
            IOT,
            "-alpn",
            "http/1.1",
            "-verify_return_error",
        ],
        "not-echoed",
    );
    assert!(
        !session.has("Verify return code: 0 (ok)"),
        "{:#?}",
        session.lines
    );
}

#[test]
fn a_passthrough_host_is_not_decrypted() {
    let pki = upstream_pki();
    let (_server, port) = start_s_server(&pki, &["-rev"]);
    let host = "sts.us-east-1.amazonaws.com";
    let proxy = start_proxy_routed(&pki, port, &["--passthrough", "*.us-east-1.amazonaws.com"]);
    let session = s_client(
        &proxy,
        &pki,
        &format!("{host}:443"),
        &[
            "-servername",
            host,
            "-alpn",
            "h2,http/1.1",
            "-verify_return_error",
        ],
        "passed-through",
    );
    // Verified against the upstream CA: the client saw the upstream's certificate.
    assert!(
        session.has("Verify return code: 0 (ok)"),
        "{:#?}",
        session.lines
    );
    assert!(session.has("hguorht-dessap"), "{:#?}", session.lines);
    let event = tunnel_event(&proxy, "passthrough");
    assert!(
        event["connection"]["message"]
            .as_str()
            .unwrap()
            .contains("*.us-east-1.amazonaws.com"),
        "{event}"
    );
}

#[test]
fn the_iot_credentials_provider_is_tunnelled_with_the_clients_certificate() {
    let pki = upstream_pki();
    let ca = pki.ca_pem.to_str().unwrap();
    let (_server, port) = start_s_server(&pki, &["-rev", "-Verify", "1", "-CAfile", ca]);
    let proxy = start_proxy_routed(&pki, port, &[]);
    let host = "c2abc.credentials.iot.us-east-1.amazonaws.com";
    let session = s_client(
        &proxy,
        &pki,
        &format!("{host}:443"),
        &[
            "-servername",
            host,
            "-cert",
            pki.cert_pem.to_str().unwrap(),
            "-key",
            pki.key_pem.to_str().unwrap(),
        ],
        "with-client-cert",
    );
    assert!(session.has("trec-tneilc-htiw"), "{:#?}", session.lines);
    tunnel_event(&proxy, "client-certificate");
}

#[test]
fn an_intercepted_upstream_asking_for_a_client_certificate_names_the_fix() {
    let pki = upstream_pki();
    let ca = pki.ca_pem.to_str().unwrap();
    let (_server, port) = start_s_server(&pki, &["-www", "-Verify", "1", "-CAfile", ca]);
    let proxy = start_proxy_routed(&pki, port, &[]);
    let out = curl(
        &proxy,
        &[
            "-i",
            "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity",
        ],
    );
    assert!(out.stdout.contains("HTTP/2 502"), "{}", out.stdout);
    assert!(out.stdout.contains("client certificate"), "{}", out.stdout);
    assert!(out.stdout.contains("passthrough"), "{}", out.stdout);
    let event = proxy.wait_event(|e| e["eventType"] != "connection");
    let message = event["connection"]["message"].as_str().unwrap();
    assert!(
        message.contains("add sts.us-east-1.amazonaws.com to passthrough"),
        "{message}"
    );
}
