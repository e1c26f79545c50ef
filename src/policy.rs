//! The decision (allow or block) and the AWS-shaped error a blocked call gets.
//!
//! Pure: findings and settings in, a decision out; protocol and message in, response bytes out.
//! The error shape follows each protocol's own wire format so AWS CLIs and SDKs print
//! `An error occurred (AwsGuardPolicyViolation) when calling the X operation: ...`.

use bytes::Bytes;
use http::{HeaderValue, StatusCode};

use crate::aws::endpoints::FipsVerdict;
use crate::aws::Protocol;
use crate::config::{FipsMissing, FipsMode, Mode};
use crate::events::FipsDetails;
use crate::inspect::{Category, Finding, RuleMode, Severity};

/// Error code of a refused call.
pub const VIOLATION_CODE: &str = "AwsGuardPolicyViolation";
/// Error code when awsguard could not reach or trust the upstream.
pub const UPSTREAM_CODE: &str = "AwsGuardUpstreamError";

/// Whether a finding blocks the call: at or above the block severity, in enforce mode or where
/// the rule's own mode says enforce.
pub fn blocks(finding: &Finding, mode: Mode, block_severity: Severity, rule: RuleMode) -> bool {
    let severe = finding.severity >= block_severity;
    match rule {
        RuleMode::Enforce => severe,
        RuleMode::Audit | RuleMode::Off => false,
        RuleMode::Default => mode == Mode::Enforce && severe,
    }
}

/// How to fix what a rule found, for the blocked-call message.
pub fn fix_for(finding: &Finding) -> &'static str {
    match (finding.rule.as_str(), finding.field.as_str()) {
        ("url-credentials", _) => {
            "remove the password from the URL and pass it through a secrets store"
        }
        ("url-secret-parameter", _) => {
            "remove the secret query parameter from the URL and pass it through a secrets store"
        }
        (_, "tag-key" | "tag-value") => {
            "tags flow into billing and diagnostics: keep personal data and secrets out of them"
        }
        (_, "name" | "free-text") => {
            "names and descriptions are not for personal data or secrets: remove it"
        }
        _ => "remove the sensitive value from the request",
    }
}

/// The message of a blocked call: rule, where, and how to fix it. Never the value itself.
pub fn block_message(finding: &Finding, fix: Option<&str>) -> String {
    let mut message = format!(
        "awsguard blocked this call: rule {} ({} severity) matched {} at {} [{}]",
        finding.rule,
        finding.severity.as_str(),
        finding.field,
        finding.location,
        finding.excerpt
    );
    if let Some(fix) = fix {
        message.push_str("; ");
        message.push_str(fix);
    }
    message
}

/// The FIPS part of a call's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FipsOutcome {
    /// What the event records.
    pub details: FipsDetails,
    /// A `non-fips-endpoint` finding, when the policy asks for one.
    pub finding: Option<Finding>,
    /// Whether that finding blocks the call.
    pub blocks: bool,
    /// How to fix it, for the blocked-call message.
    pub fix: Option<String>,
}

/// Applies the FIPS policy to a host's verdict (`None`: not an AWS endpoint shape).
pub fn fips_outcome(
    host: &str,
    verdict: Option<&FipsVerdict>,
    mode: FipsMode,
    missing: FipsMissing,
) -> FipsOutcome {
    let Some(verdict) = verdict.filter(|_| mode != FipsMode::Off) else {
        return FipsOutcome::default();
    };
    let details = FipsDetails {
        endpoint_is_fips: Some(verdict.endpoint_is_fips),
        fips_endpoint: verdict.fips_endpoint.clone(),
    };
    if verdict.endpoint_is_fips {
        return FipsOutcome {
            details,
            ..FipsOutcome::default()
        };
    }
    let finding = |excerpt: String| Finding {
        rule: "non-fips-endpoint".into(),
        category: Category::Endpoint,
        severity: Severity::Low,
        field: "endpoint".into(),
        location: "host".into(),
        excerpt,
    };
    match &verdict.fips_endpoint {
        Some(fips_host) => FipsOutcome {
            details,
            finding: Some(finding(host.to_owned())),
            blocks: mode == FipsMode::Enforce,
            fix: Some(format!(
                "set AWS_USE_FIPS_ENDPOINT=true (or use_fips_endpoint = true in the AWS config file); FIPS endpoint: {fips_host}"
            )),
        },
        None if missing == FipsMissing::Allow => FipsOutcome {
            details,
            ..FipsOutcome::default()
        },
        None => {
            let region = verdict.region.as_deref().unwrap_or("this region");
            FipsOutcome {
                details,
                finding: Some(finding(format!(
                    "no FIPS endpoint for {} in {region}",
                    verdict.service
                ))),
                blocks: missing == FipsMissing::Block,
                fix: Some(format!(
                    "AWS offers no FIPS endpoint for {} in {region}; use a region that has one",
                    verdict.service
                )),
            }
        }
    }
}

/// A response awsguard itself answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Content-Type.
    pub content_type: &'static str,
    /// Extra headers (`x-amzn-ErrorType`, `smithy-protocol`).
    pub headers: Vec<(&'static str, HeaderValue)>,
    /// Body bytes.
    pub body: Bytes,
}

/// Renders an error in the wire format of `protocol`.
pub fn error_response(
    protocol: Protocol,
    status: StatusCode,
    code: &str,
    message: &str,
) -> ErrorResponse {
    let sender = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let error_type = HeaderValue::from_str(code).unwrap_or(HeaderValue::from_static("Error"));
    let (content_type, headers, body) = match protocol {
        Protocol::Query => (
            "text/xml",
            vec![],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>{sender}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>awsguard</RequestId></ErrorResponse>",
                xml_escape(code),
                xml_escape(message)
            )
            .into_bytes(),
        ),
        Protocol::Ec2 => (
            "text/xml",
            vec![],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>awsguard</RequestID></Response>",
                xml_escape(code),
                xml_escape(message)
            )
            .into_bytes(),
        ),
        Protocol::RestXml => (
            "application/xml",
            vec![],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>awsguard</RequestId></Error>",
                xml_escape(code),
                xml_escape(message)
            )
            .into_bytes(),
        ),
        Protocol::RpcV2Cbor => (
            "application/cbor",
            vec![("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"))],
            cbor_error(code, message),
        ),
        Protocol::Json | Protocol::RestJson | Protocol::Unknown => (
            if protocol == Protocol::Json {
                "application/x-amz-json-1.1"
            } else {
                "application/json"
            },
            vec![("x-amzn-errortype", error_type)],
            serde_json::json!({ "__type": code, "message": message })
                .to_string()
                .into_bytes(),
        ),
    };
    ErrorResponse {
        status,
        content_type,
        headers,
        body: Bytes::from(body),
    }
}

fn cbor_error(code: &str, message: &str) -> Vec<u8> {
    let value = ciborium::Value::Map(vec![
        (ciborium::Value::from("__type"), ciborium::Value::from(code)),
        (
            ciborium::Value::from("message"),
            ciborium::Value::from(message),
        ),
    ]);
    let mut out = Vec::new();
    // Writing a small map of strings into a Vec cannot fail.
    let _ = ciborium::into_writer(&value, &mut out);
    out
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::Category;

    fn finding(severity: Severity) -> Finding {
        Finding {
            rule: "email-address".into(),
            category: Category::Pii,
            severity,
            field: "tag-value".into(),
            location: "body:Tags[0].Value".into(),
            excerpt: "j***@e***.com".into(),
        }
    }

    #[test]
    fn enforce_blocks_at_or_above_the_severity() {
        let f = finding(Severity::Medium);
        assert!(blocks(
            &f,
            Mode::Enforce,
            Severity::Medium,
            RuleMode::Default
        ));
        assert!(!blocks(
            &f,
            Mode::Enforce,
            Severity::High,
            RuleMode::Default
        ));
        assert!(!blocks(&f, Mode::Audit, Severity::Low, RuleMode::Default));
        assert!(blocks(&f, Mode::Audit, Severity::Medium, RuleMode::Enforce));
        assert!(!blocks(&f, Mode::Audit, Severity::High, RuleMode::Enforce));
        assert!(!blocks(&f, Mode::Enforce, Severity::Low, RuleMode::Audit));
    }

    #[test]
    fn message_names_rule_field_and_fix_but_not_the_value() {
        let m = block_message(&finding(Severity::Medium), Some("remove it"));
        assert_eq!(
            m,
            "awsguard blocked this call: rule email-address (medium severity) matched tag-value at body:Tags[0].Value [j***@e***.com]; remove it"
        );
    }

    fn verdict(fips: bool, endpoint: Option<&str>) -> FipsVerdict {
        FipsVerdict {
            endpoint_is_fips: fips,
            fips_endpoint: endpoint.map(str::to_owned),
            service: "sqs".into(),
            region: Some("us-east-1".into()),
        }
    }

    #[test]
    fn fips_audit_flags_and_enforce_blocks_a_standard_endpoint() {
        let host = "sqs.us-east-1.amazonaws.com";
        let v = verdict(false, Some("sqs-fips.us-east-1.amazonaws.com"));
        let audit = fips_outcome(host, Some(&v), FipsMode::Audit, FipsMissing::Allow);
        assert_eq!(audit.details.endpoint_is_fips, Some(false));
        assert_eq!(
            audit.details.fips_endpoint.as_deref(),
            Some("sqs-fips.us-east-1.amazonaws.com")
        );
        let finding = audit.finding.unwrap();
        assert_eq!(
            (finding.rule.as_str(), finding.severity),
            ("non-fips-endpoint", Severity::Low)
        );
        assert!(!audit.blocks);
        let enforce = fips_outcome(host, Some(&v), FipsMode::Enforce, FipsMissing::Allow);
        assert!(enforce.blocks);
        assert!(enforce.fix.unwrap().contains("AWS_USE_FIPS_ENDPOINT=true"));
        let off = fips_outcome(host, Some(&v), FipsMode::Off, FipsMissing::Block);
        assert_eq!(off, FipsOutcome::default());
    }

    #[test]
    fn fips_hosts_pass_and_missing_endpoints_follow_the_missing_policy() {
        let fips = verdict(true, Some("sqs-fips.us-east-1.amazonaws.com"));
        let ok = fips_outcome("h", Some(&fips), FipsMode::Enforce, FipsMissing::Block);
        assert_eq!(ok.details.endpoint_is_fips, Some(true));
        assert!(ok.finding.is_none() && !ok.blocks);
        let none = verdict(false, None);
        assert!(
            fips_outcome("h", Some(&none), FipsMode::Enforce, FipsMissing::Allow)
                .finding
                .is_none()
        );
        let flag = fips_outcome("h", Some(&none), FipsMode::Audit, FipsMissing::Flag);
        assert_eq!(
            flag.finding.unwrap().excerpt,
            "no FIPS endpoint for sqs in us-east-1"
        );
        assert!(!flag.blocks);
        assert!(fips_outcome("h", Some(&none), FipsMode::Audit, FipsMissing::Block).blocks);
    }

    #[test]
    fn query_error_is_an_error_response_document() {
        let r = error_response(
            Protocol::Query,
            StatusCode::FORBIDDEN,
            VIOLATION_CODE,
            "a < b",
        );
        assert_eq!(r.status, 403);
        assert_eq!(
            std::str::from_utf8(&r.body).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>Sender</Type><Code>AwsGuardPolicyViolation</Code><Message>a &lt; b</Message></Error><RequestId>awsguard</RequestId></ErrorResponse>"
        );
    }

    #[test]
    fn json_error_has_type_and_header() {
        let r = error_response(Protocol::Json, StatusCode::FORBIDDEN, VIOLATION_CODE, "m");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["__type"], VIOLATION_CODE);
        assert_eq!(v["message"], "m");
        assert_eq!(r.headers[0].0, "x-amzn-errortype");
    }

    #[test]
    fn cbor_error_decodes() {
        let r = error_response(
            Protocol::RpcV2Cbor,
            StatusCode::FORBIDDEN,
            VIOLATION_CODE,
            "m",
        );
        let v: ciborium::Value = ciborium::from_reader(&r.body[..]).unwrap();
        let map = v.as_map().unwrap();
        assert_eq!(map[0].1.as_text(), Some(VIOLATION_CODE));
        assert_eq!(map[1].1.as_text(), Some("m"));
    }
}
