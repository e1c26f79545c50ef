//! `--fail-on SEVERITY|RULE[,...]`: which findings turn a successful `exec` into exit code 3.
//!
//! Parsed by the CLI (so a typo is a usage error before anything runs) and applied by
//! [`crate::exec`] to the recorded findings. Pure.

use std::str::FromStr;

use crate::inspect::{rule_info, Finding, Severity};

/// Longest `--fail-on` value accepted.
const MAX_LEN: usize = 4096;

/// The findings that fail a run: any at or above a severity, or of the listed rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailOn {
    /// Lowest failing severity, if one was given.
    pub severity: Option<Severity>,
    /// Rule ids that fail regardless of severity.
    pub rules: Vec<String>,
}

/// Why a `--fail-on` value is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailOnError {
    /// Neither a severity nor a known rule id.
    #[error(
        "unknown --fail-on entry {0:?} (expected low, medium, high, a rule id or custom:NAME)"
    )]
    Unknown(String),
    /// Longer than any sensible list.
    #[error("--fail-on value is too long")]
    TooLong,
}

impl FailOn {
    /// Whether nothing fails the run.
    pub fn is_empty(&self) -> bool {
        self.severity.is_none() && self.rules.is_empty()
    }

    /// Whether `finding` fails the run.
    pub fn matches(&self, finding: &Finding) -> bool {
        self.severity.is_some_and(|s| finding.severity >= s) || self.rules.contains(&finding.rule)
    }
}

impl FromStr for FailOn {
    type Err = FailOnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_LEN {
            return Err(FailOnError::TooLong);
        }
        let mut out = FailOn::default();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let severity = match entry.to_ascii_lowercase().as_str() {
                "low" => Some(Severity::Low),
                "medium" => Some(Severity::Medium),
                "high" => Some(Severity::High),
                _ => None,
            };
            if let Some(severity) = severity {
                out.severity = Some(out.severity.map_or(severity, |s| s.min(severity)));
            } else if rule_info(entry).is_some() || is_custom(entry) {
                out.rules.push(entry.to_owned());
            } else {
                return Err(FailOnError::Unknown(entry.chars().take(64).collect()));
            }
        }
        Ok(out)
    }
}

fn is_custom(entry: &str) -> bool {
    entry
        .strip_prefix("custom:")
        .is_some_and(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::Category;
    use proptest::prelude::*;

    fn finding(rule: &str, severity: Severity) -> Finding {
        Finding {
            rule: rule.into(),
            category: Category::Pii,
            severity,
            field: "tag-value".into(),
            location: "body:Tags[0].Value".into(),
            excerpt: "****".into(),
        }
    }

    #[test]
    fn severities_and_rules_parse() {
        let f: FailOn = "medium, non-fips-endpoint,custom:employee-id,HIGH"
            .parse()
            .unwrap();
        assert_eq!(f.severity, Some(Severity::Medium));
        assert_eq!(f.rules, vec!["non-fips-endpoint", "custom:employee-id"]);
    }

    #[test]
    fn matching_uses_threshold_or_rule() {
        let f: FailOn = "high,non-fips-endpoint".parse().unwrap();
        assert!(f.matches(&finding("aws-access-key-id", Severity::High)));
        assert!(!f.matches(&finding("email-address", Severity::Medium)));
        assert!(f.matches(&finding("non-fips-endpoint", Severity::Low)));
        assert!(!FailOn::default().matches(&finding("x", Severity::High)));
        assert!(FailOn::default().is_empty());
    }

    #[test]
    fn unknown_entries_are_errors() {
        assert_eq!(
            "emial-address".parse::<FailOn>().unwrap_err(),
            FailOnError::Unknown("emial-address".into())
        );
        assert!("custom:".parse::<FailOn>().is_err());
        assert_eq!(
            "a".repeat(5000).parse::<FailOn>().unwrap_err(),
            FailOnError::TooLong
        );
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in ".{0,300}") {
            let _ = s.parse::<FailOn>();
        }
    }
}
