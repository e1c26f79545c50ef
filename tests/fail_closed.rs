//! Enforce mode fails closed on bodies it cannot read whole: each way of hiding a tag email from
//! the decoders (padding past the limit, gzip bombs, gzip in gzip, brotli, deep nesting, broken
//! JSON after the tags) is blocked with `uninspectable-body` and never reaches the upstream; a
//! large Lambda deploy (payload member) still passes.

mod common;

use std::io::Write;
use std::sync::atomic::Ordering;

use common::*;

const TAGS: &str = r#""Tags":{"owner":"jane.doe@example.org"}"#;
const QUEUE: &str = r#""QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/jobs""#;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Sends a JSON-protocol SQS TagQueue with `body` and extra headers; the HTTP status.
fn tag_queue(proxy: &ProxyProc, body: &[u8], headers: &[&str]) -> String {
    let file = proxy.dir.path().join(format!("body-{}", body.len()));
    std::fs::write(&file, body).unwrap();
    let data = format!("@{}", file.display());
    let mut args = vec![
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "x-amz-target: AmazonSQS.TagQueue",
        "-H",
        "content-type: application/x-amz-json-1.0",
        "--data-binary",
        &data,
    ];
    for h in headers {
        args.extend_from_slice(&["-H", h]);
    }
    args.push("https://sqs.us-east-1.amazonaws.com/");
    let out = curl(proxy, &args);
    assert_eq!(out.status, 0, "{}", out.stderr);
    out.stdout
}

#[test]
fn hidden_tag_emails_are_blocked_when_the_body_cannot_be_inspected() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &["--mode", "enforce"]);
    let plain = format!("{{{QUEUE},{TAGS}}}");
    let padded = format!("{{{QUEUE},{}{TAGS}}}", " ".repeat(1_100_000));
    let deep = format!(
        "{{{QUEUE},\"x\":{}1{},{TAGS}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    let broken = format!("{{{QUEUE},{TAGS},\"y\":}}");
    let bomb = {
        let mut big = format!("{{{QUEUE},{TAGS},\"pad\":\"").into_bytes();
        big.extend(std::iter::repeat_n(b'a', 9 * 1024 * 1024));
        big.extend_from_slice(b"\"}");
        gzip(&big)
    };
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        ("padded past the limit", padded.into_bytes(), vec![]),
        ("nested too deep", deep.into_bytes(), vec![]),
        ("invalid after the tags", broken.into_bytes(), vec![]),
        ("gzip bomb", bomb, vec!["content-encoding: gzip"]),
        (
            "gzip in gzip",
            gzip(&gzip(plain.as_bytes())),
            vec!["content-encoding: gzip"],
        ),
        (
            "brotli",
            plain.clone().into_bytes(),
            vec!["content-encoding: br"],
        ),
    ];
    for (name, body, headers) in &cases {
        assert_eq!(tag_queue(&proxy, body, headers), "403", "{name}");
    }
    assert_eq!(
        upstream.accepted.load(Ordering::SeqCst),
        0,
        "nothing forwarded"
    );
    // Each blocked call is recorded with the reason.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while proxy.events().len() < cases.len() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let events = proxy.events();
    assert_eq!(events.len(), cases.len(), "{events:#?}");
    for event in &events {
        assert_eq!(event["decision"], "blocked", "{event}");
        assert_eq!(event["eventName"], "TagQueue");
        let rules: Vec<&str> = event["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert!(rules.contains(&"uninspectable-body"), "{event}");
    }
    // The same call readable is blocked for what it says, and an empty-tag call passes.
    assert_eq!(tag_queue(&proxy, plain.as_bytes(), &[]), "403");
    let clean = format!("{{{QUEUE},\"Tags\":{{\"team\":\"payments\"}}}}");
    assert_eq!(tag_queue(&proxy, clean.as_bytes(), &[]), "200");
}

#[test]
fn a_large_lambda_deploy_passes_enforce_with_a_low_finding() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &["--mode", "enforce"]);
    let zip = "UEsDBBQAAAAIA".repeat(250_000);
    let body = format!(
        r#"{{"FunctionName":"orders","Runtime":"python3.12","Role":"arn:aws:iam::123456789012:role/r","Handler":"app.handler","Code":{{"ZipFile":"{zip}"}}}}"#
    );
    let file = proxy.dir.path().join("create.json");
    std::fs::write(&file, &body).unwrap();
    let data = format!("@{}", file.display());
    let out = curl(
        &proxy,
        &[
            "-H",
            "content-type: application/json",
            "--data-binary",
            &data,
            "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(&format!("len={} ", body.len())),
        "{}",
        out.stdout
    );
    let event = proxy.wait_event(|e| e["eventName"] == "CreateFunction");
    assert_eq!(event["decision"], "allowed");
    let finding = event["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "uninspectable-body")
        .cloned()
        .unwrap_or_else(|| panic!("{event}"));
    assert_eq!(finding["severity"], "low");
}
