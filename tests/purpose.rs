//! Field purposes from the service models, on real requests serialized by botocore
//! (`tests/testdata/purpose/cases.jsonl`, written by `python3 tools/gen_purpose_requests.py`):
//! secrets, payloads and required contacts are not judged as tags and names; credentials in
//! configuration and tags with personal data still are.

mod common;

use awsguard::config::{Config, Mode, Settings};
use awsguard::engine::Engine;
use awsguard::events::Event;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Expected {
    /// `[rule, field, location]`.
    findings: Vec<[String; 3]>,
    /// `[location, purpose]`.
    skipped: Vec<[String; 2]>,
}

type Case = common::Recorded<Expected>;

fn cases() -> Vec<Case> {
    include_str!("testdata/purpose/cases.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("case line"))
        .collect()
}

fn engine(settings: Settings) -> Engine {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::resolve(settings, dir.path().to_path_buf()).expect("config");
    Engine::new(&config)
}

fn enforce() -> Engine {
    engine(Settings {
        mode: Some(Mode::Enforce),
        ..Settings::default()
    })
}

fn inspect(engine: &Engine, case: &Case) -> Event {
    engine.inspect(&case.captured(), time::OffsetDateTime::UNIX_EPOCH)
}

#[test]
fn every_purpose_case_gives_exactly_its_findings_and_skipped_fields() {
    let engine = enforce();
    let cases = cases();
    assert_eq!(cases.len(), 15);
    let mut wrong = Vec::new();
    for case in &cases {
        let event = inspect(&engine, case);
        let findings: Vec<[String; 3]> = event
            .findings
            .iter()
            .filter(|f| f.rule != "non-fips-endpoint")
            .map(|f| [f.rule.clone(), f.field.clone(), f.location.clone()])
            .collect();
        let skipped: Vec<[String; 2]> = event
            .skipped_fields
            .iter()
            .map(|s| [s.location.clone(), s.purpose.clone()])
            .collect();
        if findings != case.expected.findings || skipped != case.expected.skipped {
            wrong.push(format!(
                "{}: findings {findings:?} skipped {skipped:?}",
                case.name
            ));
        }
        let blocked = event.decision == awsguard::events::Decision::Blocked;
        if blocked == case.expected.findings.is_empty() {
            wrong.push(format!("{}: blocked = {blocked}", case.name));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn scan_payloads_opts_payload_fields_into_scanning() {
    let engine = engine(Settings {
        mode: Some(Mode::Enforce),
        scan_payloads: Some(true),
        ..Settings::default()
    });
    let cases = cases();
    let publish = cases
        .iter()
        .find(|c| c.name == "sns-publish-message-is-payload")
        .expect("publish case");
    let event = inspect(&engine, publish);
    let rules: Vec<(&str, &str)> = event
        .findings
        .iter()
        .filter(|f| f.rule != "non-fips-endpoint")
        .map(|f| (f.rule.as_str(), f.location.as_str()))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("email-address", "body:Message"),
            ("phone-number", "body:Message"),
            ("email-address", "body:Subject"),
        ]
    );
    assert!(event.skipped_fields.is_empty());
}
