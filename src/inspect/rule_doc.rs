//! The rule table rendered for people: `awsguard rules` prints it, and the README's rule list is
//! this markdown (a test keeps the two equal). Pure: the table in, text out.

use super::rules::{Enforcement, RuleInfo, RULES};

/// How `awsguard rules` prints the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RuleFormat {
    /// Aligned columns for a terminal.
    Text,
    /// A markdown table (the README's).
    Markdown,
    /// One JSON array of rule objects.
    Json,
}

/// When a rule blocks by default, in words.
fn blocks(rule: &RuleInfo) -> &'static str {
    match rule.enforcement {
        Enforcement::Mode => "--mode enforce, at/above --block-severity",
        Enforcement::Always => "always (audit mode too)",
        Enforcement::Setting => "--fips enforce / --fips-missing block",
    }
}

/// The built-in rule table in `format`, plus a line on custom identifiers.
pub fn render(format: RuleFormat) -> String {
    match format {
        RuleFormat::Text => text(),
        RuleFormat::Markdown => markdown(),
        RuleFormat::Json => json(),
    }
}

fn markdown() -> String {
    let mut out = String::from(
        "| rule | category | default severity | judges | blocks by default | finds | fix |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for rule in RULES {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} |\n",
            rule.id,
            rule.category.as_str(),
            rule.severity.as_str(),
            rule.fields.join(", "),
            blocks(rule),
            rule.help,
            rule.fix.replace('|', "\\|"),
        ));
    }
    out.push_str(
        "| `custom:<name>` | pii | as configured | tag-key, tag-value, name, free-text | --mode enforce, at/above --block-severity | a `[[identifiers]]` regex (Amazon Macie semantics) | as for personal data |\n",
    );
    out
}

fn text() -> String {
    let width = RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for rule in RULES {
        out.push_str(&format!(
            "{:width$}  {:<11} {:<7} {}\n{:width$}  judges: {}; blocks: {}\n{:width$}  fix: {}\n",
            rule.id,
            rule.category.as_str(),
            rule.severity.as_str(),
            rule.help,
            "",
            rule.fields.join(", "),
            blocks(rule),
            "",
            rule.fix,
        ));
    }
    out.push_str(&format!(
        "{:width$}  {:<11} {:<7} a [[identifiers]] regex from the config file\n",
        "custom:<name>", "pii", "config"
    ));
    out
}

fn json() -> String {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|rule| {
            serde_json::json!({
                "id": rule.id,
                "category": rule.category.as_str(),
                "severity": rule.severity.as_str(),
                "fields": rule.fields,
                "blocks": blocks(rule),
                "help": rule.help,
                "fix": rule.fix,
            })
        })
        .collect();
    let mut out = serde_json::Value::Array(rules).to_string();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_appears_once_in_every_format() {
        let md = render(RuleFormat::Markdown);
        let text = render(RuleFormat::Text);
        let json: serde_json::Value = serde_json::from_str(&render(RuleFormat::Json)).unwrap();
        assert_eq!(json.as_array().map(Vec::len), Some(RULES.len()));
        for rule in RULES {
            assert_eq!(md.matches(&format!("| `{}` |", rule.id)).count(), 1);
            assert!(text.contains(rule.help), "{}", rule.id);
        }
        assert_eq!(md.lines().count(), RULES.len() + 3);
    }
}
