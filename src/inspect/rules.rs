//! The rule table (ids, categories, default severities) and the `rules` / `identifiers` / `allow`
//! configuration users write in the TOML config file.
//!
//! The lead's config loader deserializes [`RulesConfig`]; [`crate::inspect::Scanner::new`]
//! validates and compiles it, returning [`RulesError`] naming the faulty entry.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::inspect::{Category, Severity};

/// What the built-in table says about one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// Rule id, as in findings and config (`email-address`).
    pub id: &'static str,
    /// Category recorded in findings.
    pub category: Category,
    /// Severity unless the config overrides it.
    pub severity: Severity,
}

const fn rule(id: &'static str, category: Category, severity: Severity) -> RuleInfo {
    RuleInfo {
        id,
        category,
        severity,
    }
}

/// Every built-in rule (DESIGN.md "Rule ids"): credentials are high, personal and financial data
/// medium. Transport and endpoint rules are raised by the policy, not the scanner, but live here so
/// one table names them all and `[rules.<id>]` can tune them.
pub static RULES: &[RuleInfo] = &[
    rule("email-address", Category::Pii, Severity::Medium),
    rule("aws-access-key-id", Category::Credential, Severity::High),
    rule(
        "aws-secret-access-key",
        Category::Credential,
        Severity::High,
    ),
    rule("private-key", Category::Credential, Severity::High),
    rule("json-web-token", Category::Credential, Severity::High),
    rule("credit-card-number", Category::Financial, Severity::Medium),
    rule("iban", Category::Financial, Severity::Medium),
    rule("phone-number", Category::Pii, Severity::Medium),
    rule("us-ssn", Category::Pii, Severity::Medium),
    rule("url-credentials", Category::Credential, Severity::High),
    rule("url-secret-parameter", Category::Credential, Severity::High),
    rule("tls-version", Category::Transport, Severity::High),
    rule("cleartext", Category::Transport, Severity::High),
    rule("non-fips-endpoint", Category::Endpoint, Severity::Low),
];

/// The built-in rule named `id`.
pub fn rule_info(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}

/// How a rule is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleMode {
    /// Not evaluated at all.
    Off,
    /// Recorded, never blocks (even with `--mode enforce`).
    Audit,
    /// Blocks when at or above `--block-severity` (even with `--mode audit`).
    Enforce,
    /// Follows the global `--mode`.
    #[default]
    Default,
}

/// `[rules.<id>]`: per-rule mode and severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleOverride {
    /// `off`, `audit`, `enforce` or `default`.
    pub mode: Option<RuleMode>,
    /// `low`, `medium` or `high`.
    pub severity: Option<Severity>,
}

/// `[[identifiers]]`: a user-defined detector with Amazon Macie custom data identifier semantics.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomIdentifier {
    /// Name; findings use rule id `custom:<name>`. Letters, digits, `-` and `_`.
    pub name: String,
    /// The pattern (Rust `regex` syntax).
    pub regex: String,
    /// One of these (case-insensitive) must end within `max_distance` characters before a match,
    /// or appear in the tag key / location. Empty: every match counts.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// See `keywords`; default 50. (`max-distance` also accepted, like the file's other keys.)
    #[serde(default = "default_distance", alias = "max-distance")]
    pub max_distance: usize,
    /// A match containing one of these (case-sensitive) is dropped. (`ignore-words` also accepted.)
    #[serde(default, alias = "ignore-words")]
    pub ignore_words: Vec<String>,
    /// Severity of findings; default medium.
    #[serde(default = "default_severity")]
    pub severity: Severity,
}

fn default_distance() -> usize {
    50
}

fn default_severity() -> Severity {
    Severity::Medium
}

/// `[[allow]]`: findings matching every given criterion are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Suppression {
    /// Rule id (`email-address`, `custom:<name>`) or `*` for any rule.
    pub rule: String,
    /// Signing name of the service (`sqs`), case-insensitive.
    pub service: Option<String>,
    /// Operation name (`CreateQueue`), case-insensitive.
    pub operation: Option<String>,
    /// The finding's location (`body:Tags[0].Value`) or field kind (`tag-value`).
    pub field: Option<String>,
    /// Regex the matched value must match (searched, not anchored).
    pub value: Option<String>,
}

/// The `rules`, `identifiers` and `allow` sections of the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    /// Per-rule overrides, keyed by rule id.
    pub rules: BTreeMap<String, RuleOverride>,
    /// Custom identifiers.
    pub identifiers: Vec<CustomIdentifier>,
    /// Suppressions.
    pub allow: Vec<Suppression>,
}

/// Why a [`RulesConfig`] was refused.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// A rule id that is neither built in nor a defined `custom:<name>`.
    #[error("{entry}: unknown rule {rule:?}")]
    UnknownRule {
        /// Which entry named it (`rules`, `allow[2]`).
        entry: String,
        /// The unknown id.
        rule: String,
    },
    /// A regex that does not compile (or is too large).
    #[error("{entry}: invalid regex")]
    Regex {
        /// Which entry holds it (`identifiers[0] (employee-id)`, `allow[1]`).
        entry: String,
        /// The compiler's complaint.
        #[source]
        source: regex::Error,
    },
    /// The keywords of all identifiers together cannot be compiled into one automaton.
    #[error("identifiers: keywords cannot be compiled")]
    Keywords(#[source] aho_corasick::BuildError),
    /// A custom identifier whose other settings are invalid.
    #[error("identifiers[{index}]: {reason}")]
    Identifier {
        /// Position in `identifiers`.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

impl RulesConfig {
    /// Whether `id` names a built-in rule or one of this config's identifiers.
    pub fn knows(&self, id: &str) -> bool {
        rule_info(id).is_some()
            || id
                .strip_prefix("custom:")
                .is_some_and(|n| self.identifiers.iter().any(|i| i.name == n))
    }

    /// Check rule names in `rules` and `allow` (regexes are checked when compiled).
    pub fn check_names(&self) -> Result<(), RulesError> {
        for id in self.rules.keys() {
            if !self.knows(id) {
                return Err(RulesError::UnknownRule {
                    entry: "rules".to_string(),
                    rule: id.clone(),
                });
            }
        }
        for (i, s) in self.allow.iter().enumerate() {
            if s.rule != "*" && !self.knows(&s.rule) {
                return Err(RulesError::UnknownRule {
                    entry: format!("allow[{i}]"),
                    rule: s.rule.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_toml() {
        let text = r#"
            [rules.email-address]
            mode = "off"
            [rules."custom:employee-id"]
            severity = "high"
            [[identifiers]]
            name = "employee-id"
            regex = "EMP-[0-9]{6}"
            keywords = ["employee"]
            [[allow]]
            rule = "email-address"
            service = "sqs"
            value = "@example\\.com$"
        "#;
        let config: RulesConfig = toml::from_str(text).unwrap();
        assert_eq!(config.rules["email-address"].mode, Some(RuleMode::Off));
        assert_eq!(config.identifiers[0].max_distance, 50);
        assert_eq!(config.identifiers[0].severity, Severity::Medium);
        assert_eq!(config.allow[0].service.as_deref(), Some("sqs"));
        assert!(config.check_names().is_ok());
    }

    #[test]
    fn rejects_unknown_fields_and_rules() {
        let bad = toml::from_str::<RulesConfig>("[rules.iban]\nmood = \"off\"");
        assert!(bad.is_err());
        let config: RulesConfig = toml::from_str("[rules.emial-address]\nmode = \"off\"").unwrap();
        let err = config.check_names().unwrap_err().to_string();
        assert_eq!(err, "rules: unknown rule \"emial-address\"");
        let config: RulesConfig = toml::from_str("[[allow]]\nrule = \"custom:nope\"").unwrap();
        let err = config.check_names().unwrap_err().to_string();
        assert_eq!(err, "allow[0]: unknown rule \"custom:nope\"");
    }

    #[test]
    fn table_has_every_design_rule_once() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 14);
        assert_eq!(
            rule_info("iban").map(|r| r.severity),
            Some(Severity::Medium)
        );
        assert_eq!(
            rule_info("private-key").map(|r| r.category),
            Some(Category::Credential)
        );
    }
}
