//! `awsguard report`: one self-contained HTML file from events files, to read or hand to a
//! colleague: the summary, charts (calls over time, findings by rule, calls by service),
//! findings with their redacted excerpts and the fix, TLS and FIPS posture, and a filterable
//! table of every call.
//!
//! [`record`] reads events leniently (also used by `awsguard export`); [`Totals`] aggregates
//! them; `html` and `svg` render. Pure apart from reading: no network, no clock (the caller
//! passes the generation time). Events hold only redacted data, so the report does too.

mod help;
mod html;
pub mod record;
mod svg;

use std::collections::BTreeMap;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use help::{rule_help, RuleHelp};
pub use record::{read, Located, ReadError, Record};

/// Rows in the calls table; beyond this the report says how many were left out.
pub const MAX_ROWS: usize = 5_000;
/// Occurrences listed per rule.
pub const MAX_OCCURRENCES: usize = 100;

/// Counts over all events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// API calls.
    pub calls: usize,
    /// Blocked calls.
    pub blocked: usize,
    /// Findings.
    pub findings: usize,
    /// Connection events that were not routine tunnels (refused handshakes, cleartext, failures).
    pub refused: usize,
    /// Calls that AWS (or awsguard) answered with an error status.
    pub errors: usize,
    /// Per service: calls, blocked.
    pub services: BTreeMap<String, (usize, usize)>,
    /// Per rule: findings, highest severity (`low` < `medium` < `high`).
    pub rules: BTreeMap<String, (usize, String)>,
    /// Client-leg TLS versions.
    pub client_tls: BTreeMap<String, usize>,
    /// Upstream-leg TLS versions.
    pub upstream_tls: BTreeMap<String, usize>,
    /// Client-leg cipher suites.
    pub ciphers: BTreeMap<String, usize>,
    /// FIPS: to FIPS endpoints, standard with a FIPS alternative, no FIPS endpoint, unknown.
    pub fips: [usize; 4],
    /// FIPS endpoints that would have served standard-endpoint calls.
    pub fips_suggested: Vec<String>,
    /// First and last event time.
    pub span: Option<(OffsetDateTime, OffsetDateTime)>,
}

fn rank(severity: &str) -> u8 {
    match severity {
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

impl Totals {
    /// Aggregates `records`.
    pub fn new(records: &[Located]) -> Totals {
        let mut t = Totals::default();
        for located in records {
            t.add(&located.record);
        }
        t
    }

    fn add(&mut self, r: &Record) {
        if let Ok(time) = OffsetDateTime::parse(&r.event_time, &Rfc3339) {
            self.span = Some(match self.span {
                Some((a, b)) => (a.min(time), b.max(time)),
                None => (time, time),
            });
        }
        for f in &r.findings {
            self.findings += 1;
            let entry = self
                .rules
                .entry(f.rule.clone())
                .or_insert((0, f.severity.clone()));
            entry.0 += 1;
            if rank(&f.severity) > rank(&entry.1) {
                entry.1.clone_from(&f.severity);
            }
        }
        if !r.is_call() {
            let outcome = r.connection.as_ref().map_or("", |c| c.outcome.as_str());
            if !matches!(outcome, "tunnelled" | "forwarded") {
                self.refused += 1;
            }
            return;
        }
        self.calls += 1;
        self.blocked += usize::from(r.is_blocked());
        self.errors += usize::from(r.response_status.is_some_and(|s| s >= 400));
        let service = self.services.entry(r.service().to_owned()).or_default();
        service.0 += 1;
        service.1 += usize::from(r.is_blocked());
        let tls = &r.tls_details;
        for (map, value) in [
            (&mut self.client_tls, &tls.tls_version),
            (&mut self.upstream_tls, &tls.upstream_tls_version),
            (&mut self.ciphers, &tls.cipher_suite),
        ] {
            if let Some(v) = value {
                *map.entry(v.clone()).or_default() += 1;
            }
        }
        let slot = match (r.fips.endpoint_is_fips, &r.fips.fips_endpoint) {
            (Some(true), _) => 0,
            (Some(false), Some(host)) => {
                if !self.fips_suggested.contains(host) {
                    self.fips_suggested.push(host.clone());
                }
                1
            }
            (Some(false), None) => 2,
            (None, _) => 3,
        };
        self.fips[slot] += 1;
    }
}

/// The report for `records` read from `sources`, stamped `generated`.
pub fn render(records: &[Located], sources: &[String], generated: OffsetDateTime) -> String {
    html::page(records, &Totals::new(records), sources, generated)
}
