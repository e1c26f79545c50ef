//! SARIF 2.1.0 output of `awsguard exec --format sarif`, shaped for GitHub code scanning.
//!
//! One result per finding: `ruleId` is the rule, `level` comes from the severity (high → error,
//! medium → warning, low → note). There is no source file, so the physical location is the
//! [`Artifact`] the call is recorded in (the events file and the event's line, or the command),
//! and a logical location names the host, operation and field path. `partialFingerprints` hash
//! what identifies a finding across runs (rule, service, operation, location, redacted excerpt;
//! never the time), so code scanning tracks one alert rather than a new one per run. Rules carry
//! `security-severity` and help text. Called by [`crate::exec`]. Pure.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::events::Event;
use crate::exec::summary::call_parts;
use crate::inspect::{rule_info, Severity};
use crate::report::rule_help;

/// The key of the fingerprint in `partialFingerprints` (versioned: changing what is hashed
/// changes the key, so old and new alerts are not confused).
pub const FINGERPRINT_KEY: &str = "awsguardFinding/v1";

/// What the results point at: a file of one event per line (`first_line` is the line of the
/// run's first event), or the command when no events file was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// A relative path (resolved against the repository root by code scanning) or a `file:` URI.
    pub uri: String,
    /// Line of the first event.
    pub first_line: usize,
    /// The category for `automationDetails` (`awsguard/<program>/`), so runs of different
    /// commands are tracked separately.
    pub category: String,
}

impl Artifact {
    /// Results located in the file at `path`, one record per line (events) or entry (captures)
    /// numbered from `first_line`.
    pub fn file(path: &std::path::Path, first_line: usize, program: &str) -> Self {
        let uri = match path.to_str() {
            Some(p) if path.is_relative() && !p.contains(['\\', ' ', '#', '?', '%']) => {
                p.trim_start_matches("./").to_owned()
            }
            _ => std::path::absolute(path)
                .ok()
                .and_then(|abs| url::Url::from_file_path(abs).ok())
                .map_or_else(|| path.display().to_string(), |u| u.to_string()),
        };
        Artifact {
            uri,
            first_line,
            category: category(program),
        }
    }

    /// Results located at the command (`program`), numbered by event.
    pub fn command(program: &str) -> Self {
        Artifact {
            uri: program.to_owned(),
            first_line: 1,
            category: category(program),
        }
    }
}

fn category(program: &str) -> String {
    let name: String = program
        .rsplit('/')
        .next()
        .unwrap_or(program)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("awsguard/{name}/")
}

/// The `security-severity` GitHub ranks alerts by (7.0+ high, 4.0+ medium, below low).
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
    }
}

/// A stable hash of what identifies a finding across runs.
fn fingerprint(event: &Event, rule: &str, location: &str, excerpt: &str) -> String {
    let mut data = Vec::new();
    for part in [
        rule,
        event.event_source.as_deref().unwrap_or(&event.request_host),
        event.event_name.as_deref().unwrap_or(""),
        location,
        excerpt,
    ] {
        data.extend_from_slice(part.as_bytes());
        data.push(0);
    }
    ring::digest::digest(&ring::digest::SHA256, &data)
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The schema URI written in `$schema`.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF level of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// A SARIF log with one run: the rules that fired, one result per finding, and the invocation
/// (awsguard's exit code; `successful` is whether awsguard itself worked).
pub fn sarif_log(events: &[Event], exit_code: i32, successful: bool, artifact: &Artifact) -> Value {
    let rules = rule_index(events);
    let mut results = Vec::new();
    for (i, event) in events.iter().enumerate() {
        for finding in &event.findings {
            let index = rules.keys().position(|r| *r == finding.rule);
            let call = call_parts(event);
            let qualified = format!("{}/{}", call.join("/"), finding.location);
            results.push(json!({
                "ruleId": finding.rule,
                "ruleIndex": index,
                "level": level(finding.severity),
                "message": { "text": format!(
                    "{} in {} at {} ({}): {}",
                    finding.rule, call.join(" "), finding.location,
                    finding.field, finding.excerpt
                ) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": artifact.uri },
                        "region": { "startLine": artifact.first_line + i }
                    },
                    "logicalLocations": [{
                        "name": finding.location,
                        "fullyQualifiedName": qualified,
                        "kind": "member"
                    }]
                }],
                "partialFingerprints": {
                    FINGERPRINT_KEY: fingerprint(event, &finding.rule, &finding.location, &finding.excerpt)
                },
                "properties": {
                    "severity": finding.severity.as_str(),
                    "field": finding.field,
                    "excerpt": finding.excerpt,
                    "requestHost": event.request_host,
                    "operation": event.event_name,
                    "decision": event.decision,
                    "eventTime": event.event_time
                }
            }));
        }
    }
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "awsguard",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.values().cloned().collect::<Vec<_>>()
            } },
            "automationDetails": { "id": artifact.category },
            "invocations": [{ "executionSuccessful": successful, "exitCode": exit_code }],
            "results": results
        }]
    })
}

/// The reporting descriptors of every rule that fired, sorted by id (the result's `ruleIndex`).
fn rule_index(events: &[Event]) -> BTreeMap<String, Value> {
    let mut rules = BTreeMap::new();
    for finding in events.iter().flat_map(|e| &e.findings) {
        rules.entry(finding.rule.clone()).or_insert_with(|| {
            let default = rule_info(&finding.rule).map_or(finding.severity, |r| r.severity);
            let help = rule_help(&finding.rule);
            json!({
                "id": finding.rule,
                "name": finding.rule,
                "shortDescription": { "text": describe(&finding.rule) },
                "fullDescription": { "text": format!("{}. {}", describe(&finding.rule), help.fix) },
                "help": {
                    "text": help.fix,
                    "markdown": format!("**{}**\n\n{}", describe(&finding.rule), help.fix)
                },
                "defaultConfiguration": { "level": level(default) },
                "properties": {
                    "security-severity": security_severity(default),
                    "tags": ["security", format!("{:?}", finding.category).to_lowercase()]
                }
            })
        });
    }
    rules
}

/// One line about what a rule finds.
fn describe(rule: &str) -> String {
    if rule.starts_with("custom:") || rule_info(rule).is_none() {
        return format!("Custom identifier {rule}");
    }
    rule_help(rule).summary.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::fixtures;

    #[test]
    fn one_result_per_finding_with_levels_and_logical_locations() {
        let log = sarif_log(&fixtures::events(), 3, true, &Artifact::command("aws"));
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "awsguard");
        let rules: Vec<_> = run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(rules, vec!["email-address", "non-fips-endpoint"]);
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[0]["ruleId"], "non-fips-endpoint");
        assert_eq!(results[0]["ruleIndex"], 1);
        assert_eq!(results[0]["level"], "note");
        assert_eq!(results[1]["ruleId"], "email-address");
        assert_eq!(results[1]["ruleIndex"], 0);
        assert_eq!(results[1]["level"], "warning");
        assert_eq!(
            results[1]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "queue.amazonaws.com/CreateQueue/body:Tags[0].Value"
        );
        assert_eq!(
            results[1]["message"]["text"],
            "email-address in queue.amazonaws.com CreateQueue at body:Tags[0].Value (tag-value): j***@e***.com"
        );
        assert_eq!(run["invocations"][0]["exitCode"], 3);
    }

    #[test]
    fn unidentified_calls_are_located_by_host_alone() {
        let mut events = fixtures::events();
        events[1].event_name = None;
        let log = sarif_log(&events, 0, true, &Artifact::command("aws"));
        let result = &log["runs"][0]["results"][2];
        assert_eq!(
            result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "sts.us-east-1.amazonaws.com/host"
        );
        assert_eq!(result["properties"]["operation"], Value::Null);
    }

    #[test]
    fn no_findings_is_an_empty_result_list() {
        let log = sarif_log(&[], 0, true, &Artifact::command("aws"));
        assert_eq!(log["runs"][0]["results"], json!([]));
        assert_eq!(log["runs"][0]["tool"]["driver"]["rules"], json!([]));
    }

    #[test]
    fn custom_rules_get_a_description_and_their_own_level() {
        assert_eq!(
            describe("custom:employee-id"),
            "Custom identifier custom:employee-id"
        );
        assert_eq!(level(Severity::High), "error");
    }
}
