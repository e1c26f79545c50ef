//! OCSF output validated against OCSF 1.1.0 (the schema and models pydantic-ocsf ships, through
//! tests/tools/ocsf_validate.py): `awsguard export --ocsf` over a recorded file, and
//! `run --events-format ocsf` writing OCSF live.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn validate(file: &Path) -> Output {
    run(Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/ocsf_validate.py"))
        .arg(file))
}

fn lines(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn export_writes_one_api_activity_per_call_and_one_detection_finding_per_finding() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("ocsf.jsonl");
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args([
            "export",
            "--ocsf",
            "tests/testdata/report/events.jsonl",
            "-o",
        ])
        .arg(&out_file)
        .current_dir(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let records = lines(&out_file);
    let count = |class: u64| records.iter().filter(|r| r["class_uid"] == class).count();
    assert_eq!((count(6003), count(2004)), (46, 40));
    let denied = records
        .iter()
        .filter(|r| r["class_uid"] == 6003 && r["action"] == "Denied")
        .count();
    assert_eq!(denied, 5, "blocked calls are denied");
    let check = validate(&out_file);
    assert_eq!(
        (check.status, check.stdout.trim()),
        (0, "valid 86"),
        "{}{}",
        check.stdout,
        check.stderr
    );

    // The validator is not vacuous: a record without its cloud profile or with an unknown
    // attribute fails.
    let mut bad = records[0].clone();
    bad.as_object_mut().unwrap().remove("cloud");
    bad["bogus"] = serde_json::json!(1);
    let bad_file = dir.path().join("bad.jsonl");
    std::fs::write(&bad_file, format!("{bad}\n")).unwrap();
    let check = validate(&bad_file);
    assert_eq!(check.status, 1);
    assert!(
        check.stdout.contains("line 1: missing required cloud"),
        "{}",
        check.stdout
    );
    assert!(
        check
            .stdout
            .contains("bogus is not an attribute of api_activity"),
        "{}",
        check.stdout
    );
}

#[test]
fn run_with_events_format_ocsf_writes_valid_ocsf() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let events = dir.path().join("ocsf.jsonl");
    let mut child = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_awsguard"))
            .args([
                "run",
                "--quiet",
                "--mode",
                "enforce",
                "--listen",
                "127.0.0.1:0",
            ])
            .args(["--events-format", "ocsf", "--events"])
            .arg(&events)
            .arg("--ca-dir")
            .arg(&home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let state = home.join("awsguard-state.json");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !state.exists() {
        assert!(Instant::now() < deadline, "the proxy did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let out = blocked_create_queue(
        state["listen"].as_str().unwrap(),
        &home.join("awsguard-ca.pem"),
    );
    assert!(
        out.stdout.contains("AwsGuardPolicyViolation"),
        "{}",
        out.stderr
    );
    // Each event's records are written and flushed before the response is sent.
    let records = lines(&events);
    let classes: Vec<_> = records.iter().map(|r| r["class_uid"].clone()).collect();
    assert_eq!(classes[0], 6003, "{records:#?}");
    assert_eq!(records[0]["api"]["operation"], "CreateQueue");
    assert_eq!(records[0]["disposition"], "Blocked");
    assert!(
        records
            .iter()
            .any(|r| r["class_uid"] == 2004
                && r["finding_info"]["analytic"]["uid"] == "email-address")
    );
    let check = validate(&events);
    assert_eq!(check.status, 0, "{}{}", check.stdout, check.stderr);
    let _ = child.0.kill();
}
