//! `awsguard inspect --explain` on botocore-serialized requests: every field with its purpose,
//! the rules that judge it and the model member behind it.

use std::collections::BTreeMap;
use std::process::Command;

use base64::Engine as _;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    method: String,
    host: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// The purpose case `name` as a raw HTTP/1.1 request file.
fn raw_request(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let case: Case = include_str!("testdata/purpose/cases.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<Case>(l).expect("case"))
        .find(|c| c.name == name)
        .expect("case exists");
    let mut raw = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\n",
        case.method, case.path, case.host
    )
    .into_bytes();
    for (k, v) in &case.headers {
        raw.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend(
        base64::engine::general_purpose::STANDARD
            .decode(&case.body)
            .expect("base64"),
    );
    let path = dir.join(format!("{}.http", case.name));
    std::fs::write(&path, raw).expect("write request");
    path
}

fn explain(files: &[std::path::PathBuf]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["inspect", "--mode", "enforce", "--fips", "off", "--explain"])
        .args(files)
        .output()
        .expect("awsguard runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn line<'a>(text: &'a str, location: &str) -> Vec<&'a str> {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{location} ")))
        .unwrap_or_else(|| panic!("no {location} in\n{text}"));
    line.split("  ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn explain_names_each_fields_purpose_rules_and_model_member() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = explain(&[
        raw_request(dir.path(), "secretsmanager-secret-string-is-a-secret"),
        raw_request(dir.path(), "ssm-securestring-value-is-a-secret"),
        raw_request(dir.path(), "sqs-message-body-is-payload"),
    ]);
    assert_eq!(
        line(&text, "body:SecretString"),
        vec![
            "body:SecretString",
            "secret",
            "no rule (listed in skippedFields)",
            "model secretsmanager.CreateSecret: member SecretString is secret"
        ]
    );
    assert_eq!(
        line(&text, "body:Tags[0].Value")[1..3],
        ["tag-value", "content and URL rules"]
    );
    assert!(
        text.contains("model ssm.PutParameter: member Value is a secret when Type=SecureString")
    );
    assert_eq!(
        line(&text, "body:MessageBody")[1..],
        [
            "payload",
            "no rule (listed in skippedFields)",
            "model sqs.SendMessage: member MessageBody is payload"
        ]
    );
    assert!(text.contains("finding: email-address (medium) at body:Tags[0].Value [j***@e***.org]"));
    assert_eq!(text.matches("decision: blocked").count(), 1, "{text}");
    assert_eq!(text.matches("decision: allowed").count(), 2, "{text}");
    assert!(!text.contains("pw-Quartz-91"), "a secret value was printed");
}
