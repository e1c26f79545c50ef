//! `awsguard inspect` on botocore-serialized requests written as raw HTTP/1.1 files and as HAR.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use base64::Engine as _;
use common::run;

struct Sample {
    method: String,
    host: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    expected: serde_json::Value,
}

/// The first request of each protocol in the identification subset.
fn samples() -> Vec<Sample> {
    let text = include_str!("testdata/identify/subset.jsonl");
    let mut by_protocol = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let protocol = v["expected"]["protocol"].as_str().unwrap().to_owned();
        by_protocol.entry(protocol).or_insert(v);
    }
    assert_eq!(by_protocol.len(), 6, "all six protocols are sampled");
    by_protocol
        .into_values()
        .map(|v| {
            let path = v["path"].as_str().unwrap();
            let target = match v["query"].as_str() {
                Some(q) if !q.is_empty() => format!("{path}?{q}"),
                _ => path.to_owned(),
            };
            Sample {
                method: v["method"].as_str().unwrap().to_owned(),
                host: v["host"].as_str().unwrap().to_owned(),
                target,
                headers: v["headers"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect(),
                body: base64::engine::general_purpose::STANDARD
                    .decode(v["body"].as_str().unwrap_or(""))
                    .unwrap(),
                expected: v["expected"].clone(),
            }
        })
        .collect()
}

fn raw(sample: &Sample) -> Vec<u8> {
    let mut out = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\n",
        sample.method, sample.target, sample.host
    );
    for (k, v) in &sample.headers {
        if !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("content-length") {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", sample.body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&sample.body);
    bytes
}

fn check(events: &[serde_json::Value], samples: &[Sample]) {
    assert_eq!(events.len(), samples.len());
    for (event, sample) in events.iter().zip(samples) {
        let e = &sample.expected;
        assert_eq!(
            event["eventSource"],
            format!("{}.amazonaws.com", e["service"].as_str().unwrap())
        );
        assert_eq!(event["eventName"], e["operation"], "{event}");
        assert_eq!(event["awsRegion"], e["region"], "{event}");
        assert_eq!(event["protocol"], e["protocol"], "{event}");
        assert_eq!(event["requestHost"], sample.host.as_str());
        assert_eq!(event["userIdentity"]["accessKeyId"], "AKIA…MPLE");
    }
}

fn inspect(files: &[std::path::PathBuf]) -> Vec<serde_json::Value> {
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .arg("inspect")
        .args(files));
    assert_eq!(out.status, 0, "{}", out.stderr);
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn raw_request_files_are_identified_for_every_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let samples = samples();
    let files: Vec<_> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let path = dir.path().join(format!("{i}.http"));
            std::fs::write(&path, raw(s)).unwrap();
            path
        })
        .collect();
    check(&inspect(&files), &samples);
}

#[test]
fn har_archives_are_identified_for_every_protocol() {
    let samples = samples();
    let entries: Vec<_> = samples
        .iter()
        .map(|s| {
            serde_json::json!({"request": {
                "method": s.method,
                "url": format!("https://{}{}", s.host, s.target),
                "headers": s.headers.iter().map(|(k, v)| serde_json::json!({"name": k, "value": v})).collect::<Vec<_>>(),
                "postData": {"text": base64::engine::general_purpose::STANDARD.encode(&s.body), "encoding": "base64"},
            }})
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capture.har");
    std::fs::write(
        &path,
        serde_json::json!({"log": {"entries": entries}}).to_string(),
    )
    .unwrap();
    check(&inspect(&[path]), &samples);
}

#[test]
fn unreadable_files_are_reported_and_the_exit_code_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.http");
    std::fs::write(&bad, b"\x00\x01\x02 not http\r\n\r\n").unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .arg("inspect")
        .arg(&bad));
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("cannot parse"), "{}", out.stderr);
    assert!(
        out.stderr.contains("malformed request head"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_readme_config_example_is_valid_and_applies() {
    let readme = include_str!("../README.md");
    let start = readme.find("```toml\n").expect("README has a TOML example") + 8;
    let end = start + readme[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("awsguard.toml");
    let request = dir.path().join("req.http");
    std::fs::write(&config, &readme[start..end]).unwrap();
    let body =
        r#"{"QueueName":"q","tags":{"staff":"employee EMP-123456","phone":"+1 415 555 2671"}}"#;
    std::fs::write(
        &request,
        format!(
            "POST / HTTP/1.1\r\nHost: sqs.us-east-1.amazonaws.com\r\nX-Amz-Target: AmazonSQS.CreateQueue\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .arg("inspect")
        .arg("--config")
        .arg(&config)
        .arg(&request));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let event: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let findings: Vec<(String, String)> = event["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        findings.contains(&("custom:employee-id".into(), "high".into())),
        "{findings:?}"
    );
    assert!(
        findings.contains(&("phone-number".into(), "low".into())),
        "{findings:?}"
    );
    assert_eq!(
        event["decision"], "blocked",
        "enforce mode blocks the high custom finding"
    );
}

#[test]
fn opaque_payloads_are_data_not_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invoke.http");
    let body = r#"{"Name":"jane@example.com","Description":"call +1 415 555 2671"}"#;
    std::fs::write(
        &path,
        format!(
            "POST /2015-03-31/functions/my-fn/invocations HTTP/1.1\r\nHost: lambda.us-east-1.amazonaws.com\r\n\
             Content-Type: application/json\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["inspect", "--fips", "off"])
        .arg(&path));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let event: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(event["eventName"], "Invoke");
    assert_eq!(event["bodyInspected"], false);
    assert_eq!(event["findings"], serde_json::json!([]));
}

#[test]
fn no_inspect_identifies_and_applies_fips_but_scans_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let auth = |service: &str| {
        format!(
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00\r\n"
        )
    };
    let write = |name: &str, host: &str, headers: String, body: &str| {
        let path = dir.path().join(name);
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        std::fs::write(&path, request).unwrap();
        path
    };
    let json = write(
        "create-queue.http",
        "sqs.us-east-1.amazonaws.com",
        format!(
            "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.CreateQueue\r\n{}",
            auth("sqs")
        ),
        r#"{"QueueName":"q","tags":{"owner":"jane@example.com"}}"#,
    );
    // A query call names its operation only in the form body.
    let query = write(
        "create-topic.http",
        "sns.us-east-1.amazonaws.com",
        format!(
            "Content-Type: application/x-www-form-urlencoded\r\n{}",
            auth("sns")
        ),
        "Action=CreateTopic&Version=2010-03-31&Name=t&Tags.member.1.Key=owner&Tags.member.1.Value=jane%40example.com",
    );
    let rules = |extra: &[&str], path: &std::path::Path, operation: &str| -> Vec<String> {
        let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
            .arg("inspect")
            .args(extra)
            .arg(path));
        assert_eq!(out.status, 0, "{}", out.stderr);
        let event: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
        assert_eq!(event["eventName"], operation);
        assert_eq!(event["bodyInspected"], !extra.contains(&"--no-inspect"));
        event["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    for (path, operation) in [(&json, "CreateQueue"), (&query, "CreateTopic")] {
        assert_eq!(
            rules(&[], path, operation),
            ["email-address", "non-fips-endpoint"]
        );
        assert_eq!(
            rules(&["--no-inspect"], path, operation),
            ["non-fips-endpoint"]
        );
    }
}
