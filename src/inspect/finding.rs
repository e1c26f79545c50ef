//! A detector's verdict on one field: rule, severity, where, and a redacted excerpt.

use serde::{Deserialize, Serialize};

/// How bad a finding is; `--block-severity` compares against it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth recording (e.g. a non-FIPS endpoint in audit).
    Low,
    /// Personal or financial data.
    Medium,
    /// Credentials.
    High,
}

impl Severity {
    /// The lower-case name used in events and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// What sort of data or violation a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Personal data (email, phone, SSN).
    Pii,
    /// Card numbers, IBANs.
    Financial,
    /// Keys, tokens, passwords.
    Credential,
    /// TLS version, cleartext.
    Transport,
    /// FIPS endpoint selection.
    Endpoint,
    /// What could not be inspected (`uninspectable-body`).
    Inspection,
}

impl Category {
    /// The lower-case name used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Pii => "pii",
            Category::Financial => "financial",
            Category::Credential => "credential",
            Category::Transport => "transport",
            Category::Endpoint => "endpoint",
            Category::Inspection => "inspection",
        }
    }
}

/// One finding, as recorded in events. `excerpt` is always redacted by the detector that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule id (DESIGN.md), e.g. `email-address`, `custom:employee-id`.
    pub rule: String,
    /// Category of the rule.
    pub category: Category,
    /// Severity after configuration overrides.
    pub severity: Severity,
    /// Field kind name (`tag-key`, `tag-value`, `name`, `free-text`, `url`, `header`, `query`,
    /// `transport`, `endpoint`).
    pub field: String,
    /// Where: `body:Tags[0].Value`, `header:x-amz-tagging`, …
    pub location: String,
    /// Redacted excerpt: never the full value.
    pub excerpt: String,
}
