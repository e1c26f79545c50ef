//! Identification accuracy against requests serialized by botocore itself.
//!
//! `tests/testdata/identify/subset.jsonl` (~200 requests over all six protocols, committed) runs
//! as exact regression tests. When the full corpus is present (`AWSGUARD_IDENTIFY_CORPUS`, or
//! `target/identify/corpus.jsonl` as written by `python3 tools/gen_requests.py`), the per-protocol
//! accuracy table is printed and the targets are checked. Run with `--nocapture` to see it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use awsguard::aws::identify::{identify, Identity, RequestHead};
use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Expected {
    service: String,
    operation: String,
    region: String,
    protocol: String,
    model: String,
}

#[derive(Debug, Deserialize)]
struct Record {
    method: String,
    host: String,
    path: String,
    query: Option<String>,
    headers: BTreeMap<String, String>,
    body: String,
    expected: Expected,
}

/// Which of the four event fields came out right.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Score {
    service: bool,
    operation: bool,
    region: bool,
    protocol: bool,
}

const ALL_RIGHT: Score = Score {
    service: true,
    operation: true,
    region: true,
    protocol: true,
};

fn run(record: &Record) -> Identity {
    run_timed(record).0
}

/// Identify one record; also how long `identify` itself took (request building excluded).
fn run_timed(record: &Record) -> (Identity, std::time::Duration) {
    let mut headers = HeaderMap::new();
    for (name, value) in &record.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            headers.append(name, value);
        }
    }
    let body = base64::engine::general_purpose::STANDARD
        .decode(&record.body)
        .expect("corpus body is base64");
    let head = RequestHead {
        method: &record.method,
        host: &record.host,
        path: &record.path,
        query: record.query.as_deref(),
        headers: &headers,
    };
    let start = std::time::Instant::now();
    let id = identify(&head, Some(&body));
    (id, start.elapsed())
}

fn score(record: &Record, id: &Identity) -> Score {
    let exp = &record.expected;
    Score {
        service: id.service.as_deref() == Some(exp.service.as_str()),
        operation: id.operation.as_deref() == Some(exp.operation.as_str()),
        region: id.region.as_deref() == Some(exp.region.as_str()),
        protocol: id.protocol.as_str() == exp.protocol,
    }
}

fn parse(text: &str) -> Vec<Record> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line is a record"))
        .collect()
}

#[test]
fn subset_identifies_exactly() {
    let records = parse(include_str!("testdata/identify/subset.jsonl"));
    assert!(records.len() >= 200, "subset has {} records", records.len());
    let wrong: Vec<String> = records
        .iter()
        .filter_map(|r| {
            let id = run(r);
            (score(r, &id) != ALL_RIGHT).then(|| {
                format!(
                    "{}.{} ({}): got {:?} {:?} {:?} {}",
                    r.expected.model,
                    r.expected.operation,
                    r.expected.protocol,
                    id.service,
                    id.operation,
                    id.region,
                    id.protocol
                )
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} misidentified:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn subset_covers_every_protocol() {
    let records = parse(include_str!("testdata/identify/subset.jsonl"));
    let mut protocols: Vec<&str> = records
        .iter()
        .map(|r| r.expected.protocol.as_str())
        .collect();
    protocols.sort_unstable();
    protocols.dedup();
    assert_eq!(
        protocols,
        vec![
            "ec2",
            "json",
            "query",
            "rest-json",
            "rest-xml",
            "rpcv2-cbor"
        ]
    );
}

#[derive(Debug, Default)]
struct Tally {
    total: usize,
    service: usize,
    operation: usize,
    region: usize,
    protocol: usize,
}

impl Tally {
    fn add(&mut self, s: Score) {
        self.total += 1;
        self.service += usize::from(s.service);
        self.operation += usize::from(s.operation);
        self.region += usize::from(s.region);
        self.protocol += usize::from(s.protocol);
    }

    fn row(&self, name: &str) -> String {
        let pct = |n: usize| 100.0 * n as f64 / self.total.max(1) as f64;
        format!(
            "{name:<11} {:>6} {:>12.2} {:>10.2} {:>10.2} {:>9.2}",
            self.total,
            pct(self.service),
            pct(self.operation),
            pct(self.region),
            pct(self.protocol)
        )
    }
}

fn corpus_path() -> PathBuf {
    std::env::var_os("AWSGUARD_IDENTIFY_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/identify/corpus.jsonl")
        })
}

#[test]
fn full_corpus_accuracy_table() {
    let path = corpus_path();
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "no full corpus at {} (python3 tools/gen_requests.py); skipped",
            path.display()
        );
        return;
    };
    let records = parse(&text);
    let mut by_protocol: BTreeMap<String, Tally> = BTreeMap::new();
    let mut overall = Tally::default();
    let mut misses: Vec<String> = Vec::new();
    let mut spent = std::time::Duration::ZERO;
    for r in &records {
        let (id, took) = run_timed(r);
        spent += took;
        let s = score(r, &id);
        by_protocol
            .entry(r.expected.protocol.clone())
            .or_default()
            .add(s);
        overall.add(s);
        if s != ALL_RIGHT && misses.len() < 200 {
            misses.push(format!(
                "{}.{} ({}) {} {}{}: got {:?} {:?} {:?} {}",
                r.expected.model,
                r.expected.operation,
                r.expected.protocol,
                r.method,
                r.host,
                r.path,
                id.service,
                id.operation,
                id.region,
                id.protocol
            ));
        }
    }
    eprintln!("protocol    requests eventSource% eventName% awsRegion% protocol%");
    for (name, tally) in &by_protocol {
        eprintln!("{}", tally.row(name));
    }
    eprintln!("{}", overall.row("all"));
    let count = u32::try_from(records.len().max(1)).unwrap_or(u32::MAX);
    let warm: std::time::Duration = records.iter().map(|r| run_timed(r).1).sum();
    eprintln!(
        "identify: {:?} per request cold (first lookup of each service parses it), {:?} warm",
        spent / count,
        warm / count
    );
    eprintln!("first misses:\n{}", misses.join("\n"));
    let ops_pct = |t: &Tally| 100.0 * t.operation as f64 / t.total.max(1) as f64;
    assert!(
        ops_pct(&overall) >= 99.5,
        "overall eventName {:.2}%",
        ops_pct(&overall)
    );
    for exact in ["json", "query", "ec2", "rpcv2-cbor"] {
        if let Some(t) = by_protocol.get(exact) {
            assert_eq!(t.operation, t.total, "{exact}: every operation name");
        }
    }
}
