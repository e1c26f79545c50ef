//! `awsguard export --ocsf --parquet DIR`: the OCSF records of a recorded events file as Parquet in
//! Amazon Security Lake's custom-source layout, read back with pyarrow (tools/requirements-test.txt).
#![cfg(feature = "parquet")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

/// Reads every Parquet file under a directory with pyarrow: its directory (relative) and rows.
const READ_BACK: &str = r#"
import json, pathlib, sys
import pyarrow.parquet as pq
root = pathlib.Path(sys.argv[1])
files = []
for f in sorted(root.rglob("*.parquet")):
    files.append({"dir": str(f.parent.relative_to(root)), "rows": pq.read_table(f).to_pylist()})
print(json.dumps(files))
"#;

/// A record without its nulls and empty objects/arrays: what survives a Parquet round trip,
/// where absent members read back as null.
fn normalise(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Object(map) => {
            let kept: serde_json::Map<_, _> = map
                .iter()
                .filter_map(|(k, v)| normalise(v).map(|v| (k.clone(), v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Array(items) => (!items.is_empty()).then(|| {
            Value::Array(
                items
                    .iter()
                    .map(|v| normalise(v).unwrap_or(Value::Null))
                    .collect(),
            )
        }),
        other => Some(other.clone()),
    }
}

fn sorted(records: impl Iterator<Item = Value>) -> Vec<String> {
    let mut out: Vec<String> = records
        .filter_map(|r| normalise(&r))
        .map(|r| r.to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn parquet_in_the_security_lake_layout_reads_back_as_the_ocsf_records() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let jsonl = dir.path().join("ocsf.jsonl");
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args([
            "export",
            "--ocsf",
            "tests/testdata/report/events.jsonl",
            "-o",
        ])
        .arg(&jsonl)
        .arg("--parquet")
        .arg(&lake)
        .args(["--parquet-account", "123456789012"])
        .current_dir(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let records: Vec<Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    let read = run(Command::new("python3").args(["-c", READ_BACK]).arg(&lake));
    assert_eq!(read.status, 0, "{}", read.stderr);
    let files: Vec<Value> = serde_json::from_str(&read.stdout).unwrap();
    assert!(
        out.stderr.contains(&format!(
            "wrote 86 records to {} Parquet files",
            files.len()
        )),
        "{}",
        out.stderr
    );

    // Every file sits in the partition its rows belong to, holds one OCSF class, is sorted by
    // time, and (nested groups and lists included) holds exactly that partition's records.
    let mut by_dir: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for record in &records {
        let class = match record["class_uid"].as_u64() {
            Some(6003) => "awsguard-api-activity",
            Some(2004) => "awsguard-detection-finding",
            other => panic!("class {other:?}"),
        };
        let day = time::OffsetDateTime::from_unix_timestamp(
            record["time"].as_i64().unwrap().div_euclid(1000),
        )
        .unwrap()
        .date();
        let dir = format!(
            "ext/{class}/region={}/accountId=123456789012/eventDay={:04}{:02}{:02}",
            record["cloud"]["region"].as_str().unwrap_or("unknown"),
            day.year(),
            u8::from(day.month()),
            day.day()
        );
        by_dir.entry(dir).or_default().push(record.clone());
    }
    assert!(by_dir.contains_key(
        "ext/awsguard-api-activity/region=eu-west-1/accountId=123456789012/eventDay=20261201"
    ));
    let mut total = BTreeMap::new();
    for file in &files {
        let dir = file["dir"].as_str().unwrap();
        let rows = file["rows"].as_array().unwrap();
        let class = rows[0]["class_uid"].as_u64().unwrap();
        assert!(rows.iter().all(|r| r["class_uid"] == class), "{dir}");
        let times: Vec<i64> = rows.iter().map(|r| r["time"].as_i64().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{dir}: {times:?}");
        let expected = by_dir
            .remove(dir)
            .unwrap_or_else(|| panic!("unexpected {dir}"));
        assert_eq!(
            sorted(rows.iter().cloned()),
            sorted(expected.into_iter()),
            "{dir}"
        );
        *total.entry(class).or_insert(0) += rows.len();
    }
    assert!(by_dir.is_empty(), "no file for {:?}", by_dir.keys());
    assert_eq!(total, BTreeMap::from([(2004, 40), (6003, 46)]));

    // A nested member and a list of groups, spelled out once.
    let call = files
        .iter()
        .flat_map(|f| f["rows"].as_array().unwrap())
        .find(|r| r["class_uid"] == 6003 && r["api"]["operation"] == "GetCallerIdentity")
        .unwrap();
    assert_eq!(call["api"]["service"]["name"], "sts.amazonaws.com");
    assert_eq!(call["cloud"]["region"], "eu-west-1");
    let finding = files
        .iter()
        .flat_map(|f| f["rows"].as_array().unwrap())
        .find(|r| r["class_uid"] == 2004)
        .unwrap();
    assert!(finding["evidences"][0]["data"]["location"].is_string());
    assert_eq!(finding["metadata"]["profiles"][0], "cloud");
}

#[test]
fn parquet_needs_an_account_that_is_a_safe_partition_value() {
    let dir = tempfile::tempdir().unwrap();
    let missing = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args([
            "export",
            "--ocsf",
            "tests/testdata/report/events.jsonl",
            "--parquet",
        ])
        .arg(dir.path())
        .current_dir(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(missing.status, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("--parquet-account"),
        "{}",
        missing.stderr
    );
    let unsafe_account = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args([
            "export",
            "--ocsf",
            "tests/testdata/report/events.jsonl",
            "--parquet",
        ])
        .arg(dir.path())
        .args(["--parquet-account", "../1"])
        .current_dir(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(unsafe_account.status, 1, "{}", unsafe_account.stderr);
    assert!(
        unsafe_account.stderr.contains("expected an AWS account id"),
        "{}",
        unsafe_account.stderr
    );
    assert!(!Path::new(&dir.path().join("ext")).exists());
}

#[test]
fn run_writes_parquet_at_stop() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let lake = dir.path().join("lake");
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
            .arg("--ca-dir")
            .arg(&home)
            .arg("--parquet")
            .arg(&lake)
            .args(["--parquet-account", "123456789012"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let state = home.join("awsguard-state.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !state.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the proxy did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let state: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let out = blocked_create_queue(
        state["listen"].as_str().unwrap(),
        &home.join("awsguard-ca.pem"),
    );
    assert!(
        out.stdout.contains("AwsGuardPolicyViolation"),
        "{}",
        out.stdout
    );
    let term = run(Command::new("kill").args(["-TERM", &child.0.id().to_string()]));
    assert_eq!(term.status, 0);
    let status = child.0.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("awsguard: wrote 2 Parquet files"),
        "{stderr}"
    );

    let read = run(Command::new("python3").args(["-c", READ_BACK]).arg(&lake));
    assert_eq!(read.status, 0, "{}", read.stderr);
    let files: Vec<Value> = serde_json::from_str(&read.stdout).unwrap();
    let dirs: Vec<&str> = files.iter().map(|f| f["dir"].as_str().unwrap()).collect();
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    assert!(dirs[0].starts_with(
        "ext/awsguard-api-activity/region=us-east-1/accountId=123456789012/eventDay="
    ));
    assert!(dirs[1].starts_with(
        "ext/awsguard-detection-finding/region=us-east-1/accountId=123456789012/eventDay="
    ));
    let call = &files[0]["rows"][0];
    assert_eq!(call["api"]["operation"], "CreateQueue");
    assert_eq!(call["action"], "Denied");
    assert!(
        files[1]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["finding_info"]["analytic"]["uid"] == "email-address"),
        "{:#}",
        files[1]
    );
}
