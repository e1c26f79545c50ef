//! `awsguard export --ocsf` and `--events-format ocsf`: events as OCSF 1.1.0 records, the format
//! Amazon Security Lake and most SIEMs ingest.
//!
//! Each API call becomes one API Activity record (class 6003) and each finding one Detection
//! Finding (class 2004), both with the proxy's decision as `action`/`disposition` (the
//! `security_control` profile) and the AWS region in `cloud` (the `cloud` profile). Connection
//! events carry no API call, so only their findings (refused TLS, cleartext) are exported.
//! OCSF 1.1.0 is the version Security Lake's custom sources accept; Data Security Finding (2006)
//! only exists from 1.4, so findings use Detection Finding. Pure.

#[cfg(feature = "parquet")]
pub mod lake;

use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::events::{Event, Observer};
use crate::report::{rule_help, Record};

/// What `run` and `exec` write to their events file.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum EventsFormat {
    /// awsguard's CloudTrail-shaped events (DESIGN.md), one per line.
    #[default]
    #[value(name = "cloudtrail")]
    CloudTrail,
    /// OCSF 1.1.0 records ([`records`]), one per line.
    Ocsf,
}

/// A recorder observer that writes each event's OCSF records to `writer`, one JSON object per
/// line, flushed per event so a reader of the file sees whole records.
pub fn ocsf_writer(writer: Box<dyn Write + Send>) -> Observer {
    let writer = Mutex::new(writer);
    Arc::new(move |event: &Event| {
        let lines = to_lines(&from_event(event));
        if let Ok(mut w) = writer.lock() {
            if let Err(error) = w.write_all(lines.as_bytes()).and_then(|()| w.flush()) {
                tracing::error!(%error, "cannot write OCSF events");
            }
        }
    })
}

/// The OCSF schema version written in `metadata.version`.
pub const OCSF_VERSION: &str = "1.1.0";
/// API Activity.
pub const API_ACTIVITY: u32 = 6003;
/// Detection Finding.
pub const DETECTION_FINDING: u32 = 2004;

/// OCSF `activity_id` of API Activity for an operation: Create 1, Read 2, Update 3, Delete 4,
/// Other 99. CloudTrail's `readOnly`, when recorded, decides reads; otherwise the verb does.
pub fn api_activity_id(operation: &str, read_only: Option<bool>) -> u8 {
    const CREATE: &[&str] = &[
        "Create", "Put", "Run", "Import", "Register", "Allocate", "Copy", "Publish", "Send",
        "Upload", "Invoke", "Start", "Issue", "Request", "Generate", "Add",
    ];
    const READ: &[&str] = &[
        "Get", "List", "Describe", "Head", "Query", "Scan", "Search", "BatchGet", "Select",
        "Lookup", "Check", "Estimate", "Preview", "Receive", "Download", "Verify", "Decrypt",
    ];
    const UPDATE: &[&str] = &[
        "Update",
        "Modify",
        "Set",
        "Tag",
        "Untag",
        "Attach",
        "Detach",
        "Associate",
        "Disassociate",
        "Enable",
        "Disable",
        "Change",
        "Reset",
        "Replace",
        "Rotate",
        "Restore",
        "Apply",
        "Authorize",
        "Revoke",
        "Reboot",
        "Stop",
        "Cancel",
    ];
    const DELETE: &[&str] = &[
        "Delete",
        "Remove",
        "Terminate",
        "Purge",
        "Deregister",
        "Release",
    ];
    if read_only == Some(true) {
        return 2;
    }
    let starts = |verbs: &[&str]| verbs.iter().any(|v| operation.starts_with(v));
    if starts(DELETE) {
        4
    } else if starts(READ) {
        2
    } else if starts(UPDATE) {
        3
    } else if starts(CREATE) {
        1
    } else {
        99
    }
}

fn activity_name(id: u8) -> &'static str {
    match id {
        1 => "Create",
        2 => "Read",
        3 => "Update",
        4 => "Delete",
        _ => "Other",
    }
}

/// OCSF `severity_id`: Informational 1, Low 2, Medium 3, High 4.
fn severity_id(severity: &str) -> (u8, &'static str) {
    match severity {
        "high" => (4, "High"),
        "medium" => (3, "Medium"),
        "low" => (2, "Low"),
        _ => (1, "Informational"),
    }
}

/// Milliseconds since the epoch (OCSF `timestamp_t`); 0 when the time is missing or malformed.
fn epoch_ms(time: &str) -> i64 {
    OffsetDateTime::parse(time, &Rfc3339)
        .map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0))
        .unwrap_or(0)
}

/// The fields every record of one event shares: metadata, time, cloud, decision.
fn common(r: &Record, class_uid: u32, activity_id: u8, severity: &str) -> Map<String, Value> {
    let (category_uid, category_name, class_name) = match class_uid {
        API_ACTIVITY => (6, "Application Activity", "API Activity"),
        _ => (2, "Findings", "Detection Finding"),
    };
    let activity = match class_uid {
        API_ACTIVITY => activity_name(activity_id),
        _ => "Create",
    };
    let (sev_id, sev_name) = severity_id(severity);
    let blocked = r.is_blocked();
    let mut metadata = json!({
        "version": OCSF_VERSION,
        "product": {
            "name": "awsguard",
            "vendor_name": "awsguard",
            "version": env!("CARGO_PKG_VERSION")
        },
        "profiles": ["cloud", "security_control"],
        "log_name": "awsguard",
        "original_time": r.event_time
    });
    if let Some(id) = &r.event_id {
        metadata["uid"] = json!(id);
    }
    let mut cloud = json!({ "provider": "AWS" });
    if let Some(region) = &r.aws_region {
        cloud["region"] = json!(region);
    }
    let mut out = Map::new();
    for (k, v) in [
        ("class_uid", json!(class_uid)),
        ("class_name", json!(class_name)),
        ("category_uid", json!(category_uid)),
        ("category_name", json!(category_name)),
        ("activity_id", json!(activity_id)),
        ("activity_name", json!(activity)),
        (
            "type_uid",
            json!(u64::from(class_uid) * 100 + u64::from(activity_id)),
        ),
        ("type_name", json!(format!("{class_name}: {activity}"))),
        ("time", json!(epoch_ms(&r.event_time))),
        ("severity_id", json!(sev_id)),
        ("severity", json!(sev_name)),
        ("metadata", metadata),
        ("cloud", cloud),
        ("action_id", json!(if blocked { 2 } else { 1 })),
        ("action", json!(if blocked { "Denied" } else { "Allowed" })),
        ("disposition_id", json!(if blocked { 2 } else { 1 })),
        (
            "disposition",
            json!(if blocked { "Blocked" } else { "Allowed" }),
        ),
    ] {
        out.insert(k.to_owned(), v);
    }
    out
}

fn api(r: &Record) -> Value {
    let mut api = json!({
        "operation": r.event_name.as_deref().unwrap_or("unknown"),
        "service": { "name": r.event_source.as_deref().unwrap_or(&r.request_host) }
    });
    if let Some(id) = &r.request_id {
        api["request"] = json!({ "uid": id });
    }
    let mut response = Map::new();
    if let Some(status) = r.response_status {
        response.insert("code".into(), json!(status));
    }
    if let Some(code) = &r.error_code {
        response.insert("error".into(), json!(code));
    }
    if let Some(message) = &r.error_message {
        response.insert("error_message".into(), json!(message));
    }
    if !response.is_empty() {
        api["response"] = Value::Object(response);
    }
    api
}

fn src_endpoint(r: &Record) -> Value {
    match &r.source_ip_address {
        Some(ip) => json!({ "ip": ip }),
        None => json!({}),
    }
}

fn actor(r: &Record) -> Value {
    match &r.user_identity.access_key_id {
        Some(key) => json!({ "user": { "credential_uid": key } }),
        None => json!({}),
    }
}

/// The highest finding severity of an event (`""` without findings).
fn highest(r: &Record) -> &str {
    r.findings
        .iter()
        .map(|f| f.severity.as_str())
        .max_by_key(|s| severity_id(s).0)
        .unwrap_or("")
}

/// The API Activity record of a call.
pub fn api_activity(r: &Record) -> Value {
    let activity_id = api_activity_id(r.event_name.as_deref().unwrap_or(""), r.read_only);
    let mut out = common(r, API_ACTIVITY, activity_id, highest(r));
    let failed = r.is_blocked() || r.response_status.is_some_and(|s| s >= 400);
    let (status_id, status) = match (r.response_status, failed) {
        (None, false) => (0, "Unknown"),
        (_, true) => (2, "Failure"),
        (Some(_), false) => (1, "Success"),
    };
    out.insert("status_id".into(), json!(status_id));
    out.insert("status".into(), json!(status));
    if let Some(code) = r.response_status {
        out.insert("status_code".into(), json!(code.to_string()));
    }
    if let Some(detail) = r.error_code.as_ref().or(r.error_message.as_ref()) {
        out.insert("status_detail".into(), json!(detail));
    }
    out.insert("api".into(), api(r));
    out.insert("actor".into(), actor(r));
    out.insert("src_endpoint".into(), src_endpoint(r));
    out.insert(
        "dst_endpoint".into(),
        json!({ "hostname": r.request_host, "port": 443 }),
    );
    let mut http = json!({ "url": { "hostname": r.request_host, "scheme": "https" } });
    if let Some(method) = &r.request_method {
        http["http_method"] = json!(method);
    }
    if let Some(agent) = &r.user_agent {
        http["user_agent"] = json!(agent);
    }
    out.insert("http_request".into(), http);
    out.insert(
        "message".into(),
        json!(format!(
            "{} {}{}",
            r.call_name(),
            r.decision,
            r.response_status
                .map_or_else(String::new, |s| format!(" ({s})"))
        )),
    );
    out.insert(
        "unmapped".into(),
        json!({
            "protocol": r.protocol,
            "tlsDetails": {
                "tlsVersion": r.tls_details.tls_version,
                "cipherSuite": r.tls_details.cipher_suite,
                "upstreamTlsVersion": r.tls_details.upstream_tls_version,
                "upstreamCipherSuite": r.tls_details.upstream_cipher_suite
            },
            "fips": {
                "endpointIsFips": r.fips.endpoint_is_fips,
                "fipsEndpoint": r.fips.fips_endpoint
            },
            "findings": r.findings.len()
        }),
    );
    Value::Object(out)
}

/// A stable id for the `index`th finding of an event.
fn finding_uid(r: &Record, index: usize) -> String {
    let key = format!(
        "{}\0{}\0{}\0{}\0{index}",
        r.event_id.as_deref().unwrap_or(""),
        r.event_time,
        r.request_host,
        r.event_name.as_deref().unwrap_or("")
    );
    ring::digest::digest(&ring::digest::SHA256, key.as_bytes())
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The Detection Finding records of an event's findings.
pub fn detection_findings(r: &Record) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, f) in r.findings.iter().enumerate() {
        let help = rule_help(&f.rule);
        let mut record = common(r, DETECTION_FINDING, 1, &f.severity);
        record.insert("status_id".into(), json!(1));
        record.insert("status".into(), json!("New"));
        record.insert(
            "finding_info".into(),
            json!({
                "uid": finding_uid(r, i),
                "title": help.summary,
                "desc": format!("{} at {} ({}): {}", f.rule, f.location, f.field, f.excerpt),
                "types": [f.category],
                "analytic": { "uid": f.rule, "name": f.rule, "type_id": 1, "type": "Rule" }
            }),
        );
        record.insert("remediation".into(), json!({ "desc": help.fix }));
        let mut evidence = json!({
            "src_endpoint": src_endpoint(r),
            "dst_endpoint": { "hostname": r.request_host },
            "data": {
                "location": f.location,
                "field": f.field,
                "excerpt": f.excerpt
            }
        });
        if r.is_call() {
            evidence["api"] = api(r);
        }
        record.insert("evidences".into(), json!([evidence]));
        record.insert(
            "message".into(),
            json!(format!("{} in {} at {}", f.rule, r.call_name(), f.location)),
        );
        out.push(Value::Object(record));
    }
    out
}

/// Every OCSF record of one event: API Activity for calls, then a Detection Finding per finding.
pub fn records(r: &Record) -> Vec<Value> {
    let mut out = Vec::with_capacity(1 + r.findings.len());
    if r.is_call() {
        out.push(api_activity(r));
    }
    out.extend(detection_findings(r));
    out
}

/// The OCSF records of a live event (for `--events-format ocsf`); empty if the event cannot be
/// read back, which would be a bug in the event's serialisation.
pub fn from_event(event: &Event) -> Vec<Value> {
    serde_json::to_value(event)
        .and_then(serde_json::from_value::<Record>)
        .map(|r| records(&r))
        .unwrap_or_default()
}

/// JSON lines for `records`, one object per line.
pub fn to_lines(records: &[Value]) -> String {
    let mut out = String::new();
    for record in records {
        out.push_str(&record.to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::read;

    const EVENT: &str = r#"{"eventType":"api-call","eventTime":"2026-01-01T10:00:00.250Z","eventSource":"sqs.amazonaws.com","eventName":"CreateQueue","awsRegion":"us-east-1","requestHost":"sqs.us-east-1.amazonaws.com","sourceIPAddress":"127.0.0.1","userIdentity":{"accessKeyId":"AKIA…WXYZ"},"decision":"blocked","responseStatus":403,"errorCode":"AwsGuardPolicyViolation","requestID":"r-1","findings":[{"rule":"email-address","category":"pii","severity":"medium","field":"tag-value","location":"body:tags.owner","excerpt":"j***@e***.com"}]}"#;

    #[test]
    fn a_blocked_call_is_a_denied_api_activity_and_a_blocked_detection_finding() {
        let r = read(EVENT.as_bytes(), "e").unwrap().remove(0).record;
        let out = records(&r);
        assert_eq!(out.len(), 2);
        let call = &out[0];
        assert_eq!(call["class_uid"], 6003);
        assert_eq!(call["type_uid"], 600301);
        assert_eq!(call["time"], 1_767_261_600_250_i64);
        assert_eq!(call["severity_id"], 3);
        assert_eq!(call["action"], "Denied");
        assert_eq!(call["disposition_id"], 2);
        assert_eq!(call["status_id"], 2);
        assert_eq!(call["api"]["operation"], "CreateQueue");
        assert_eq!(call["api"]["request"]["uid"], "r-1");
        assert_eq!(call["api"]["response"]["error"], "AwsGuardPolicyViolation");
        assert_eq!(
            call["cloud"],
            json!({"provider": "AWS", "region": "us-east-1"})
        );
        assert_eq!(call["actor"]["user"]["credential_uid"], "AKIA…WXYZ");
        let finding = &out[1];
        assert_eq!(finding["class_uid"], 2004);
        assert_eq!(finding["type_uid"], 200401);
        assert_eq!(finding["disposition"], "Blocked");
        assert_eq!(finding["finding_info"]["analytic"]["uid"], "email-address");
        assert_eq!(finding["evidences"][0]["data"]["excerpt"], "j***@e***.com");
        assert_eq!(finding["finding_info"]["uid"].as_str().unwrap().len(), 32);
    }

    #[test]
    fn verbs_map_to_activities() {
        assert_eq!(api_activity_id("CreateQueue", None), 1);
        assert_eq!(api_activity_id("DescribeInstances", None), 2);
        assert_eq!(api_activity_id("TagResource", None), 3);
        assert_eq!(api_activity_id("DeleteBucket", None), 4);
        assert_eq!(api_activity_id("AssumeRole", None), 99);
        assert_eq!(api_activity_id("AssumeRole", Some(true)), 2);
    }
}
