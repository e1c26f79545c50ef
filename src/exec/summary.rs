//! The end-of-run summary of `awsguard exec`: calls per service and operation, TLS versions seen,
//! FIPS verdicts, findings by rule with their (already redacted) locations.
//!
//! Built from the recorded events by [`Summary::new`] and rendered as text or JSON by
//! [`crate::exec`]. Pure. Events carry only redacted data, so nothing here can leak a secret.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::events::{Decision, Event, EventType};
use crate::exec::FailOn;
use crate::inspect::Severity;

/// Most locations listed per rule; the count still covers all of them.
const MAX_LOCATIONS: usize = 20;
/// Longest location string shown.
const MAX_LOCATION_LEN: usize = 200;

/// Calls to one operation of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationCount {
    /// Service (signing name), or the host when unidentified.
    pub service: String,
    /// Operation, or `?` when unidentified.
    pub operation: String,
    /// Calls.
    pub calls: usize,
    /// Of which blocked.
    pub blocked: usize,
}

/// FIPS verdicts over all API calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FipsCounts {
    /// Calls to FIPS endpoints.
    pub fips_endpoint: usize,
    /// Calls to a standard endpoint where a FIPS endpoint exists.
    pub fips_available: usize,
    /// Calls to a service with no FIPS endpoint in that region.
    pub no_fips_endpoint: usize,
    /// Calls without a verdict (`--fips off` or unknown host).
    pub unknown: usize,
    /// The FIPS endpoints that would have served the standard-endpoint calls.
    pub suggested: Vec<String>,
}

/// Findings of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleFindings {
    /// Rule id.
    pub rule: String,
    /// Highest severity seen for it.
    pub severity: Severity,
    /// How many findings.
    pub count: usize,
    /// Whether these findings fail the run (`--fail-on`).
    pub fails: bool,
    /// `host operation location excerpt` lines, redacted, at most 20.
    pub locations: Vec<String>,
}

/// Everything `exec` reports at exit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The exit code awsguard returns.
    pub exit_code: i32,
    /// The command's own exit code (128+signal when killed by a signal).
    pub command_exit_code: i32,
    /// API calls seen.
    pub calls: usize,
    /// Of which blocked.
    pub blocked: usize,
    /// Calls per service and operation, sorted.
    pub operations: Vec<OperationCount>,
    /// Client-leg TLS versions and their counts.
    pub client_tls: BTreeMap<String, usize>,
    /// Upstream-leg TLS versions and their counts.
    pub upstream_tls: BTreeMap<String, usize>,
    /// FIPS verdicts.
    pub fips: FipsCounts,
    /// Connection outcomes (`tunnelled`, `tls-refused`, `cleartext-refused`, …) and counts.
    pub connections: BTreeMap<String, usize>,
    /// Findings grouped by rule, highest severity first.
    pub findings: Vec<RuleFindings>,
}

impl Summary {
    /// Summarises `events`; `command_exit_code` and `exit_code` are the child's and ours.
    pub fn new(events: &[Event], fail_on: &FailOn, command_exit_code: i32, exit_code: i32) -> Self {
        let mut summary = Summary {
            exit_code,
            command_exit_code,
            calls: 0,
            blocked: 0,
            operations: Vec::new(),
            client_tls: BTreeMap::new(),
            upstream_tls: BTreeMap::new(),
            fips: FipsCounts::default(),
            connections: BTreeMap::new(),
            findings: Vec::new(),
        };
        let mut operations: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
        for event in events {
            summary.count_event(event, &mut operations);
        }
        summary.operations = operations
            .into_iter()
            .map(|((service, operation), (calls, blocked))| OperationCount {
                service,
                operation,
                calls,
                blocked,
            })
            .collect();
        summary.findings = group_findings(events, fail_on);
        summary
    }

    fn count_event(
        &mut self,
        event: &Event,
        operations: &mut BTreeMap<(String, String), (usize, usize)>,
    ) {
        let blocked = usize::from(event.decision == Decision::Blocked);
        if let Some(details) = &event.connection {
            *self.connections.entry(details.outcome.clone()).or_default() += 1;
        }
        if event.event_type != EventType::ApiCall {
            return;
        }
        self.calls += 1;
        self.blocked += blocked;
        let entry = operations
            .entry((service_name(event), event_name(event)))
            .or_default();
        entry.0 += 1;
        entry.1 += blocked;
        let tls = &event.tls_details;
        if let Some(v) = &tls.tls_version {
            *self.client_tls.entry(v.clone()).or_default() += 1;
        }
        if let Some(v) = &tls.upstream_tls_version {
            *self.upstream_tls.entry(v.clone()).or_default() += 1;
        }
        self.count_fips(event);
    }

    fn count_fips(&mut self, event: &Event) {
        match (event.fips.endpoint_is_fips, &event.fips.fips_endpoint) {
            (Some(true), _) => self.fips.fips_endpoint += 1,
            (Some(false), Some(host)) => {
                self.fips.fips_available += 1;
                if !self.fips.suggested.contains(host) {
                    self.fips.suggested.push(host.clone());
                }
            }
            (Some(false), None) => self.fips.no_fips_endpoint += 1,
            (None, _) => self.fips.unknown += 1,
        }
    }

    /// The summary as indented JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_owned())
    }

    /// The first line of the text summary: calls, blocked, findings, exit codes.
    pub fn headline(&self) -> String {
        let findings: usize = self.findings.iter().map(|f| f.count).sum();
        let findings = if findings == 0 {
            String::new()
        } else {
            format!(", {findings} finding{}", plural(findings))
        };
        format!(
            "awsguard: {} AWS call{} ({} blocked){findings}; command exited {}; awsguard exits {}",
            self.calls,
            plural(self.calls),
            self.blocked,
            self.command_exit_code,
            self.exit_code
        )
    }

    /// The summary for people, one section per line group.
    pub fn to_text(&self) -> String {
        let mut out = self.headline();
        out.push('\n');
        self.text_operations(&mut out);
        let _ = writeln!(
            out,
            "  TLS: client {}; upstream {}",
            counts(&self.client_tls),
            counts(&self.upstream_tls)
        );
        self.text_fips(&mut out);
        if !self.connections.is_empty() {
            let _ = writeln!(out, "  connections: {}", counts(&self.connections));
        }
        self.text_findings(&mut out);
        out
    }

    fn text_operations(&self, out: &mut String) {
        let width = self
            .operations
            .iter()
            .map(|o| o.service.len() + o.operation.len() + 1)
            .max()
            .unwrap_or(0);
        for op in &self.operations {
            let name = format!("{} {}", op.service, op.operation);
            let blocked = if op.blocked > 0 {
                format!(" ({} blocked)", op.blocked)
            } else {
                String::new()
            };
            let _ = writeln!(out, "    {name:<width$}  {}{blocked}", op.calls);
        }
    }

    fn text_fips(&self, out: &mut String) {
        let f = &self.fips;
        let _ = write!(
            out,
            "  FIPS: {} to FIPS endpoints, {} to standard endpoints with a FIPS alternative, \
             {} without a FIPS endpoint, {} not evaluated",
            f.fips_endpoint, f.fips_available, f.no_fips_endpoint, f.unknown
        );
        if !f.suggested.is_empty() {
            let _ = write!(out, " (use {})", f.suggested.join(", "));
        }
        out.push('\n');
    }

    fn text_findings(&self, out: &mut String) {
        if self.findings.is_empty() {
            out.push_str("  findings: none\n");
            return;
        }
        out.push_str("  findings:\n");
        for group in &self.findings {
            let fails = if group.fails { ", fails the run" } else { "" };
            let _ = writeln!(
                out,
                "    {} ({}) x{}{fails}",
                group.rule,
                group.severity.as_str(),
                group.count
            );
            for location in &group.locations {
                let _ = writeln!(out, "      {location}");
            }
        }
    }
}

/// Whether any recorded finding fails the run.
pub fn any_fails(events: &[Event], fail_on: &FailOn) -> bool {
    events
        .iter()
        .flat_map(|e| &e.findings)
        .any(|f| fail_on.matches(f))
}

fn group_findings(events: &[Event], fail_on: &FailOn) -> Vec<RuleFindings> {
    let mut groups: BTreeMap<String, RuleFindings> = BTreeMap::new();
    for event in events {
        for finding in &event.findings {
            let group = groups
                .entry(finding.rule.clone())
                .or_insert_with(|| RuleFindings {
                    rule: finding.rule.clone(),
                    severity: finding.severity,
                    count: 0,
                    fails: false,
                    locations: Vec::new(),
                });
            group.count += 1;
            group.severity = group.severity.max(finding.severity);
            group.fails |= fail_on.matches(finding);
            let line = shorten(&format!(
                "{} {} {}",
                call_parts(event).join(" "),
                finding.location,
                finding.excerpt
            ));
            if group.locations.len() < MAX_LOCATIONS && !group.locations.contains(&line) {
                group.locations.push(line);
            }
        }
    }
    let mut out: Vec<_> = groups.into_values().collect();
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    out
}

/// The signing name from `eventSource`, or the host when unidentified.
pub(crate) fn service_name(event: &Event) -> String {
    event
        .event_source
        .as_deref()
        .map(|s| s.strip_suffix(".amazonaws.com").unwrap_or(s).to_owned())
        .unwrap_or_else(|| event.request_host.clone())
}

/// The operation name, or `?`.
fn event_name(event: &Event) -> String {
    event.event_name.clone().unwrap_or_else(|| "?".to_owned())
}

/// Where a call went: the host and, when known, the operation.
pub(crate) fn call_parts(event: &Event) -> Vec<&str> {
    let mut parts = vec![event.request_host.as_str()];
    parts.extend(event.event_name.as_deref());
    parts
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= MAX_LOCATION_LEN {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX_LOCATION_LEN).collect();
    out.push('…');
    out
}

fn counts(map: &BTreeMap<String, usize>) -> String {
    if map.is_empty() {
        return "none".to_owned();
    }
    map.iter()
        .map(|(k, v)| format!("{k} x{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests;
