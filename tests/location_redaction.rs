//! No user-controlled string reaches a finding's location: sensitive markers planted as map keys,
//! header names and values, and query parameter names and values are found (where a detector
//! applies) and appear nowhere in the events `awsguard inspect` writes.

mod common;

use std::process::Command;

use common::run;

/// Markers, each unique and each something a detector reports or a location must not show.
const EMAIL: &str = "zq.marker.jane@example.org";
const SSN: &str = "536-22-8741";
const CARD: &str = "4111-1111-1111-1111";
const PHONE: &str = "+44-20-7946-0958";
const TOKEN: &str = "zqMarker7Tok9Vx2Lp4Rw8Ny3Hs6Jd1Fg5Bc0A";
const PASSWORD: &str = "zqMarkerPw4Secret";

/// The parts of each marker that must never be written.
fn secret_parts() -> Vec<&'static str> {
    vec![
        "zq.marker",
        "marker.jane",
        "536-22-8741",
        "536228741",
        "1111-1111-1111",
        "20-7946",
        "zqMarker7Tok9",
        "Tok9Vx2Lp4Rw8",
        "zqMarkerPw4",
        "Pw4Secret",
    ]
}

fn write_request(dir: &std::path::Path, name: &str, head: &str, body: &str) -> std::path::PathBuf {
    let text = format!("{head}Content-Length: {}\r\n\r\n{body}", body.len());
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn requests(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    // Map keys in a JSON `tags` map (SQS CreateQueue, JSON protocol).
    let sqs_body = serde_json::json!({
        "QueueName": "orders",
        "tags": {
            EMAIL: "owner",
            SSN: "employee",
            CARD: "billing",
            PHONE: "on-call",
            TOKEN: "deploy",
            "ssn": SSN,
            "contact": EMAIL,
        }
    })
    .to_string();
    let sqs = write_request(
        dir,
        "sqs.http",
        "POST / HTTP/1.1\r\nHost: sqs.us-east-1.amazonaws.com\r\n\
         Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.CreateQueue\r\n",
        &sqs_body,
    );
    // Header names and values, query names and values (S3 PutObject, REST-XML).
    let url = format!("https://deploy:{PASSWORD}@git.example.com/r");
    let encoded: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let token_name: String = url::form_urlencoded::byte_serialize(TOKEN.as_bytes()).collect();
    let s3_head = format!(
        "PUT /bucket/key.txt?{token_name}={encoded}&x-id=PutObject HTTP/1.1\r\n\
         Host: s3.us-east-1.amazonaws.com\r\n\
         x-amz-meta-{TOKEN}: {url}\r\n\
         x-amz-meta-{CARD}: {url}\r\n\
         x-amz-meta-note: {url}\r\n\
         Content-Type: text/plain\r\n"
    );
    let s3 = write_request(dir, "s3.http", &s3_head, "hello");
    vec![sqs, s3]
}

#[test]
fn markers_in_keys_names_and_values_appear_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let files = requests(dir.path());
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .arg("inspect")
        .args(&files));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{}", out.stdout);
    let rules = |e: &serde_json::Value| -> Vec<String> {
        let mut r: Vec<String> = e["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .filter(|r| r != "non-fips-endpoint")
            .collect();
        r.sort();
        r.dedup();
        r
    };
    // The tag keys are content: each sensitive key is found, as are the sensitive values.
    assert_eq!(
        rules(&events[0]),
        [
            "credit-card-number",
            "email-address",
            "phone-number",
            "us-ssn"
        ],
        "{}",
        events[0]
    );
    assert_eq!(rules(&events[1]), ["url-credentials"], "{}", events[1]);
    for text in [&out.stdout, &out.stderr] {
        let lower = text.to_lowercase();
        for part in secret_parts() {
            let part = part.to_lowercase();
            assert!(!lower.contains(&part), "{part:?} written: {text}");
        }
    }
    // Locations still say where: the map, header or query, with positions for unsafe names.
    let locations: Vec<String> = events
        .iter()
        .flat_map(|e| e["findings"].as_array().unwrap().clone())
        .map(|f| f["location"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        locations.iter().any(|l| l == "body:tags.ssn"),
        "{locations:?}"
    );
    assert!(
        locations.iter().any(|l| l.starts_with("body:tags[#")),
        "{locations:?}"
    );
    assert!(
        locations.iter().any(|l| l == "header:x-amz-meta-note"),
        "{locations:?}"
    );
    assert!(
        locations.iter().any(|l| l.starts_with("header:[#")),
        "{locations:?}"
    );
    assert!(
        locations.iter().any(|l| l.starts_with("query:[#")),
        "{locations:?}"
    );
}
