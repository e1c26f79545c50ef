//! The botocore tag sweep: every operation of every service that takes tags at its top level,
//! serialized and signed by botocore (`tools/gen_tag_sweep.py`, run here) with an email planted
//! in a tag value. Each must give exactly one finding, `email-address` in a `tag-value`: field
//! purposes must never hide a tag, and stub values elsewhere must raise nothing.

mod common;

use std::process::Command;

use awsguard::config::{Config, Settings};
use awsguard::engine::Engine;
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    model: String,
    operation: String,
    member: String,
}

type Record = common::Recorded<Expected>;

#[test]
fn every_tagging_operation_finds_the_planted_email_and_nothing_else() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("sweep.jsonl");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/gen_tag_sweep.py");
    let status = Command::new("python3")
        .arg(script)
        .arg(&out)
        .status()
        .expect("python3 runs the sweep generator (botocore from tools/requirements-test.txt)");
    assert!(status.success(), "the sweep generator failed");
    let text = std::fs::read_to_string(&out).expect("sweep written");
    let records: Vec<Record> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("sweep record"))
        .collect();
    assert!(
        records.len() >= 1900,
        "{} tagging operations",
        records.len()
    );

    let config = Config::resolve(Settings::default(), dir.path().to_path_buf()).expect("config");
    let engine = Engine::new(&config);
    let mut wrong = Vec::new();
    for r in &records {
        let event = engine.inspect(&r.captured(), time::OffsetDateTime::UNIX_EPOCH);
        let found: Vec<String> = event
            .findings
            .iter()
            .filter(|f| f.rule != "non-fips-endpoint")
            .map(|f| format!("{} {} {}", f.rule, f.field, f.location))
            .collect();
        let right = found.len() == 1 && found[0].starts_with("email-address tag-value ");
        if !right {
            wrong.push(format!(
                "{}.{} ({}): {found:?}",
                r.expected.model, r.expected.operation, r.expected.member
            ));
        }
    }
    let recall = 1.0 - wrong.len() as f64 / records.len() as f64;
    println!(
        "tag sweep: {} operations, {:.4} exact",
        records.len(),
        recall
    );
    assert!(
        wrong.is_empty(),
        "{} of {} wrong:\n{}",
        wrong.len(),
        records.len(),
        wrong.join("\n")
    );
}
