//! One secret marker planted in every user-controlled position of real requests — the path, query
//! parameter names and values, header names and values, the User-Agent, JSON map keys and values
//! — sent through the real binary in audit and enforce mode and through `exec --format sarif`:
//! no part of it reaches the events, the log lines, the blocked-call answer, the SARIF log, the
//! HTML report or the OCSF export.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// A GitHub token with a valid checksum and a body unique to this run: every detector position
/// that judges secrets reports it, and no other text of the run can hold its pieces.
fn marker() -> String {
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id());
    let body: String = (0..30)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            char::from(B62[(seed % 62) as usize])
        })
        .collect();
    let mut n = crc32fast::hash(body.as_bytes());
    let mut check = [b'0'; 6];
    for slot in check.iter_mut().rev() {
        *slot = B62[(n % 62) as usize];
        n /= 62;
    }
    format!("ghp_{body}{}", String::from_utf8_lossy(&check))
}

/// Every 8-character window of the marker's random part, lower-cased (header names are).
fn pieces(marker: &str) -> Vec<String> {
    let chars: Vec<char> = marker.chars().skip(4).collect();
    chars
        .windows(8)
        .map(|w| w.iter().collect::<String>().to_lowercase())
        .collect()
}

fn assert_absent(what: &str, text: &str, marker: &str) {
    let lower = text.to_lowercase();
    for piece in pieces(marker) {
        assert!(
            !lower.contains(&piece),
            "{piece:?} of the marker written to {what}: {text}"
        );
    }
}

/// The curl arguments of the two calls: S3 PutObject (REST: path, query, headers, User-Agent)
/// and SQS CreateQueue (JSON: map keys and values).
fn calls(m: &str) -> Vec<Vec<String>> {
    let s3 = vec![
        "-X".to_string(),
        "PUT".to_string(),
        "-A".to_string(),
        format!("aws-cli/2.17.0 token/{m}"),
        "-H".to_string(),
        format!("x-amz-meta-{m}: owner"),
        "-H".to_string(),
        format!("x-amz-meta-note: {m}"),
        "--data-binary".to_string(),
        "hello".to_string(),
        format!("https://s3.us-east-1.amazonaws.com/bucket/{m}.txt?{m}=1&note={m}&x-id=PutObject"),
    ];
    let body = serde_json::json!({
        "QueueName": "orders",
        "tags": { m: "owner", "deploy": m },
        "Attributes": { m: m },
    })
    .to_string();
    let sqs = vec![
        "-A".to_string(),
        format!("aws-sdk-js/3.600.0 {m}"),
        "-H".to_string(),
        "Content-Type: application/x-amz-json-1.0".to_string(),
        "-H".to_string(),
        "X-Amz-Target: AmazonSQS.CreateQueue".to_string(),
        "--data-binary".to_string(),
        body,
        "https://sqs.us-east-1.amazonaws.com/".to_string(),
    ];
    vec![s3, sqs]
}

fn report_and_export(dir: &Path, events: &Path, marker: &str) {
    let html = dir.join("report.html");
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .arg("report")
        .arg(events)
        .arg("-o")
        .arg(&html));
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_absent(
        "the HTML report",
        &std::fs::read_to_string(&html).unwrap(),
        marker,
    );
    assert_absent("report's stderr", &out.stderr, marker);
    let ocsf = dir.join("ocsf.jsonl");
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["export", "--ocsf"])
        .arg(events)
        .arg("-o")
        .arg(&ocsf));
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_absent(
        "the OCSF export",
        &std::fs::read_to_string(&ocsf).unwrap(),
        marker,
    );
}

#[test]
fn a_marker_in_every_position_is_written_nowhere() {
    let m = marker();
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let port = upstream.addr.port();
    for mode in ["audit", "enforce"] {
        let proxy = start_proxy_routed(&pki, port, &["--mode", mode]);
        for call in calls(&m) {
            let args: Vec<&str> = call.iter().map(String::as_str).collect();
            let out = curl(&proxy, &args);
            assert_eq!(out.status, 0, "{}", out.stderr);
            if mode == "enforce" {
                assert!(
                    out.stdout.contains("AwsGuardPolicyViolation"),
                    "{}",
                    out.stdout
                );
                assert_absent("the blocked-call answer", &out.stdout, &m);
            }
        }
        let events = [
            proxy.wait_event(|e| e["eventName"] == "PutObject"),
            proxy.wait_event(|e| e["eventName"] == "CreateQueue"),
        ];
        // Found where a rule judges the position: header and query values, tag keys and values.
        let fields = |e: &serde_json::Value| -> Vec<String> {
            e["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["rule"] == "github-token")
                .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(fields(&events[0]), ["header", "query"], "{}", events[0]);
        assert_eq!(
            fields(&events[1]),
            ["tag-value", "tag-key"],
            "{}",
            events[1]
        );
        for e in &events {
            let agent = e["userAgent"].as_str().unwrap_or_default();
            assert!(agent.ends_with("/… [redacted]"), "{e}");
        }
        let text = std::fs::read_to_string(&proxy.events_path).unwrap();
        assert_absent("events", &text, &m);
        assert_absent("log lines", &proxy.stderr.lock().unwrap(), &m);
        let dir = tempfile::tempdir().unwrap();
        report_and_export(dir.path(), &proxy.events_path, &m);
    }
}

#[test]
fn a_marker_in_every_position_stays_out_of_sarif() {
    let m = marker();
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let events = dir.path().join("events.jsonl");
    let mut script = String::new();
    for call in calls(&m) {
        script.push_str("curl -sS -o /dev/null");
        for arg in call {
            script.push_str(" '");
            script.push_str(&arg.replace('\'', r"'\''"));
            script.push('\'');
        }
        script.push_str(" || exit 9\n");
    }
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .arg("exec")
        .arg("--ca-dir")
        .arg(dir.path().join("ca"))
        .arg("--connect-to")
        .arg(format!(
            "*.amazonaws.com=127.0.0.1:{}",
            upstream.addr.port()
        ))
        .arg("--upstream-ca")
        .arg(&pki.ca_pem)
        .args(["--format", "sarif", "--output"])
        .arg(&sarif)
        .arg("--events")
        .arg(&events)
        .args(["--", "sh", "-c", &script])
        .env("HOME", dir.path())
        .stdin(Stdio::null()));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let log = std::fs::read_to_string(&sarif).unwrap();
    assert!(log.contains("github-token"), "{log}");
    assert_absent("the SARIF log", &log, &m);
    assert_absent("exec's stderr", &out.stderr, &m);
    assert_absent(
        "exec's events",
        &std::fs::read_to_string(&events).unwrap(),
        &m,
    );
}
