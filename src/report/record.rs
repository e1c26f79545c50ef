//! Events as read back from JSON-lines files, for `awsguard report` and `awsguard export`.
//!
//! Deliberately lenient: every field is optional and unknown fields are ignored, so files written
//! by older or newer awsguard versions (with or without the CloudTrail fields `eventID`,
//! `requestID`, `errorCode`, `errorMessage`, `readOnly`, `eventCategory`, `eventVersion`) all
//! read. Each line is bounded, so a corrupt file cannot exhaust memory.

use std::io::BufRead;

use serde::Deserialize;

/// Longest line read; an event is a few KiB.
pub const MAX_LINE: usize = 1024 * 1024;

/// Why an events file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("cannot read {source_name}")]
    Io {
        /// The file.
        source_name: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not an event.
    #[error("{source_name}:{line}: not an awsguard event ({message})")]
    Parse {
        /// The file.
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// A line is longer than [`MAX_LINE`].
    #[error("{source_name}:{line}: line longer than {MAX_LINE} bytes")]
    TooLong {
        /// The file.
        source_name: String,
        /// 1-based line number.
        line: usize,
    },
}

/// One finding as recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct FindingRecord {
    /// Rule id.
    pub rule: String,
    /// Category (`pii`, `credential`, …).
    pub category: String,
    /// `low`, `medium` or `high`.
    pub severity: String,
    /// Field kind.
    pub field: String,
    /// Where in the request.
    pub location: String,
    /// Redacted excerpt.
    pub excerpt: String,
}

/// TLS on both legs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TlsRecord {
    /// Client leg version.
    pub tls_version: Option<String>,
    /// Client leg cipher suite.
    pub cipher_suite: Option<String>,
    /// Upstream leg version.
    pub upstream_tls_version: Option<String>,
    /// Upstream leg cipher suite.
    pub upstream_cipher_suite: Option<String>,
}

/// The FIPS verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FipsRecord {
    /// Whether the host is a FIPS endpoint.
    pub endpoint_is_fips: Option<bool>,
    /// The FIPS endpoint for the same service and region.
    pub fips_endpoint: Option<String>,
}

/// Connection details of connection events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ConnectionRecord {
    /// `tunnelled`, `tls-refused`, …
    pub outcome: String,
    /// SNI.
    pub server_name: Option<String>,
    /// For people.
    pub message: Option<String>,
}

/// The masked caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IdentityRecord {
    /// Masked access key id.
    pub access_key_id: Option<String>,
}

/// One event line.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Record {
    /// `api-call` or `connection`.
    pub event_type: String,
    /// RFC 3339.
    pub event_time: String,
    /// `<service>.amazonaws.com`.
    pub event_source: Option<String>,
    /// Operation.
    pub event_name: Option<String>,
    /// Region.
    pub aws_region: Option<String>,
    /// Host asked for.
    pub request_host: String,
    /// Wire protocol.
    pub protocol: Option<String>,
    /// User-Agent.
    pub user_agent: Option<String>,
    /// Client address.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    /// Masked caller.
    pub user_identity: IdentityRecord,
    /// TLS.
    pub tls_details: TlsRecord,
    /// FIPS verdict.
    pub fips: FipsRecord,
    /// Findings.
    pub findings: Vec<FindingRecord>,
    /// `allowed` or `blocked`.
    pub decision: String,
    /// HTTP status.
    pub response_status: Option<u16>,
    /// HTTP method.
    pub request_method: Option<String>,
    /// Connection events only.
    pub connection: Option<ConnectionRecord>,
    /// AWS or awsguard error code, when the call failed.
    pub error_code: Option<String>,
    /// Short, redacted error message.
    pub error_message: Option<String>,
    /// CloudTrail-style event id.
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    /// AWS request id.
    #[serde(rename = "requestID")]
    pub request_id: Option<String>,
    /// Whether the operation only reads.
    pub read_only: Option<bool>,
    /// `Management` or `Data`.
    pub event_category: Option<String>,
}

impl Record {
    /// Whether this is an API call (not a connection event).
    pub fn is_call(&self) -> bool {
        self.event_type == "api-call"
    }

    /// Whether awsguard blocked it.
    pub fn is_blocked(&self) -> bool {
        self.decision == "blocked"
    }

    /// The service's signing name, or the host when unidentified.
    pub fn service(&self) -> &str {
        self.event_source
            .as_deref()
            .map(|s| s.strip_suffix(".amazonaws.com").unwrap_or(s))
            .unwrap_or(&self.request_host)
    }

    /// `service.Operation` for calls, `host (outcome)` for connection events.
    pub fn call_name(&self) -> String {
        match &self.connection {
            Some(c) if !self.is_call() => format!("{} ({})", self.request_host, c.outcome),
            _ => format!(
                "{}.{}",
                self.service(),
                self.event_name.as_deref().unwrap_or("?")
            ),
        }
    }
}

/// An event and where it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// The file name as given.
    pub source: String,
    /// 1-based line number.
    pub line: usize,
    /// The event.
    pub record: Record,
}

/// Reads every event of one JSON-lines input; blank lines are skipped.
pub fn read(mut input: impl BufRead, source_name: &str) -> Result<Vec<Located>, ReadError> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        line += 1;
        let n = <&mut _ as std::io::Read>::take(&mut input, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|source| ReadError::Io {
                source_name: source_name.to_owned(),
                source,
            })?;
        if n == 0 {
            return Ok(out);
        }
        if buf.len() > MAX_LINE {
            return Err(ReadError::TooLong {
                source_name: source_name.to_owned(),
                line,
            });
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = serde_json::from_slice(&buf).map_err(|e| ReadError::Parse {
            source_name: source_name.to_owned(),
            line,
            message: e.to_string(),
        })?;
        out.push(Located {
            source: source_name.to_owned(),
            line,
            record,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_old_and_new_lines_and_names_bad_ones() {
        let text = concat!(
            r#"{"eventType":"api-call","eventTime":"2026-01-01T00:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"CreateQueue","requestHost":"sqs.us-east-1.amazonaws.com","decision":"blocked","findings":[{"rule":"email-address","severity":"medium"}]}"#,
            "\n\n",
            r#"{"eventType":"api-call","requestHost":"sts.amazonaws.com","errorCode":"AccessDenied","eventID":"e1","readOnly":true,"somethingNew":1}"#,
            "\n"
        );
        let records = read(text.as_bytes(), "e.jsonl").unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].record.call_name(), "sqs.CreateQueue");
        assert!(records[0].record.is_blocked());
        assert_eq!(records[1].line, 3);
        assert_eq!(
            records[1].record.error_code.as_deref(),
            Some("AccessDenied")
        );
        assert_eq!(records[1].record.read_only, Some(true));
        assert_eq!(records[1].record.call_name(), "sts.amazonaws.com.?");
        let err = read("{}\nnot json\n".as_bytes(), "e.jsonl").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("e.jsonl:2: not an awsguard event"),
            "{err}"
        );
    }

    #[test]
    fn an_endless_line_is_refused_without_reading_it_all() {
        let long = vec![b'x'; MAX_LINE + 10];
        let err = read(&long[..], "big").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("big:1: line longer than {MAX_LINE} bytes")
        );
    }
}
