//! Checks every FIPS fact derived from botocore's endpoints.json through the public API.
//!
//! `tests/testdata/fips/expectations.tsv` is written by `tools/gen_endpoints.py`: every standard
//! host with an explicit FIPS variant (→ that FIPS host) and every FIPS host (→ itself, FIPS).
//! `no_fips.tsv` lists every other standard host: none may be given a FIPS endpoint.
//! The test prints the pass figures, the catalogue parse time and the per-lookup cost.

use std::time::Instant;

use awsguard::aws::endpoints::{catalogue_check, fips_verdict, FipsVerdict};
use awsguard::aws::host::parse_host;

const EXPECTATIONS: &str = include_str!("testdata/fips/expectations.tsv");
const NO_FIPS: &str = include_str!("testdata/fips/no_fips.tsv");

/// One expectation line: host, is-fips, fips endpoint, endpoint prefix, region.
struct Expectation<'a> {
    host: &'a str,
    want: FipsVerdict,
}

fn expectations() -> Vec<Expectation<'static>> {
    let mut out = Vec::new();
    for line in EXPECTATIONS.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let [host, fips, endpoint, service, region] = f[..] else {
            panic!("malformed expectation line: {line:?}");
        };
        let want = FipsVerdict {
            endpoint_is_fips: fips == "true",
            fips_endpoint: Some(endpoint.to_string()),
            service: service.to_string(),
            region: (region != "-").then(|| region.to_string()),
        };
        out.push(Expectation { host, want });
    }
    out
}

#[test]
fn every_expectation_holds_through_the_public_api() {
    let started = Instant::now();
    let hosts = catalogue_check().expect("embedded catalogue loads");
    let parse = started.elapsed();

    let all = expectations();
    assert!(all.len() > 3000, "only {} expectations", all.len());
    let started = Instant::now();
    let mut failures = Vec::new();
    for e in &all {
        let got = fips_verdict(e.host);
        if got.as_ref() != Some(&e.want) {
            failures.push(format!("{}: want {:?}, got {:?}", e.host, e.want, got));
        }
    }
    let per_lookup = started.elapsed() / all.len() as u32;
    let passed = all.len() - failures.len();
    println!(
        "fips catalogue: {passed}/{} expectations pass ({:.2}%); {hosts} hosts loaded and validated in {parse:?}; \
         {per_lookup:?} per verdict",
        all.len(),
        100.0 * passed as f64 / all.len() as f64,
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_expected_host_parses_as_a_known_endpoint() {
    for e in expectations() {
        let info = parse_host(e.host).unwrap_or_else(|| panic!("{} does not parse", e.host));
        assert!(info.known, "{}", e.host);
        assert_eq!(info.fips, e.want.endpoint_is_fips, "{}", e.host);
        assert_eq!(info.endpoint_prefix, e.want.service, "{}", e.host);
    }
}

#[test]
fn every_fips_counterpart_is_itself_a_fips_host() {
    for e in expectations().iter().filter(|e| !e.want.endpoint_is_fips) {
        let target = e.want.fips_endpoint.as_deref().unwrap_or_default();
        let v = fips_verdict(target).unwrap_or_else(|| panic!("{target} has no verdict"));
        assert!(v.endpoint_is_fips, "{} → {target} is not FIPS", e.host);
    }
}

#[test]
fn no_fips_endpoint_is_invented_for_any_listed_host() {
    let mut total = 0;
    let mut failures = Vec::new();
    for line in NO_FIPS.lines().filter(|l| !l.starts_with('#')) {
        let [host, service, region] = line.split('\t').collect::<Vec<_>>()[..] else {
            panic!("malformed no_fips line: {line:?}");
        };
        total += 1;
        let want = FipsVerdict {
            endpoint_is_fips: false,
            fips_endpoint: None,
            service: service.to_string(),
            region: (region != "-").then(|| region.to_string()),
        };
        let got = fips_verdict(host);
        if got.as_ref() != Some(&want) {
            failures.push(format!("{host}: want {want:?}, got {got:?}"));
        }
    }
    println!(
        "no-fips hosts: {}/{total} get no FIPS endpoint",
        total - failures.len()
    );
    assert!(total > 7000, "only {total} lines");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
