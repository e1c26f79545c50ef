//! SARIF 2.1.0 output of `awsguard exec --format sarif`, so CI systems can annotate a run.
//!
//! One result per finding: `ruleId` is the rule, `level` comes from the severity (high → error,
//! medium → warning, low → note), and the location is logical (there is no source file): the
//! request host and operation plus the field path. Called by [`crate::exec`]. Pure.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::events::Event;
use crate::exec::summary::call_parts;
use crate::inspect::{rule_info, Severity};

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
pub fn sarif_log(events: &[Event], exit_code: i32, successful: bool) -> Value {
    let rules = rule_index(events);
    let mut results = Vec::new();
    for event in events {
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
                    "logicalLocations": [{
                        "name": finding.location,
                        "fullyQualifiedName": qualified,
                        "kind": "member"
                    }]
                }],
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
            json!({
                "id": finding.rule,
                "name": finding.rule,
                "shortDescription": { "text": describe(&finding.rule) },
                "defaultConfiguration": { "level": level(default) }
            })
        });
    }
    rules
}

/// One line about what a rule finds.
fn describe(rule: &str) -> String {
    let text = match rule {
        "email-address" => "Email address in a tag, name or description",
        "aws-access-key-id" => "AWS access key id in request data",
        "aws-secret-access-key" => "AWS secret access key in request data",
        "private-key" => "Private key in request data",
        "json-web-token" => "JSON Web Token in request data",
        "credit-card-number" => "Payment card number in request data",
        "iban" => "IBAN in request data",
        "phone-number" => "Phone number in request data",
        "us-ssn" => "US social security number in request data",
        "url-credentials" => "URL with a password in its userinfo",
        "url-secret-parameter" => "URL with a secret-looking query parameter",
        "tls-version" => "TLS version below the minimum",
        "cleartext" => "Plain http:// request to AWS",
        "non-fips-endpoint" => "Standard endpoint used where a FIPS endpoint exists",
        other => return format!("Custom identifier {other}"),
    };
    text.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::fixtures;

    #[test]
    fn one_result_per_finding_with_levels_and_logical_locations() {
        let log = sarif_log(&fixtures::events(), 3, true);
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
        let log = sarif_log(&events, 0, true);
        let result = &log["runs"][0]["results"][2];
        assert_eq!(
            result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "sts.us-east-1.amazonaws.com/host"
        );
        assert_eq!(result["properties"]["operation"], Value::Null);
    }

    #[test]
    fn no_findings_is_an_empty_result_list() {
        let log = sarif_log(&[], 0, true);
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
