//! What each rule finds and how to fix it, for people reading a report or a code-scanning alert:
//! the rule table's own prose ([`crate::inspect::RULES`]), with a generic text for custom
//! identifiers.

use crate::inspect::rule_info;

/// The prose for one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleHelp {
    /// One line: what was found.
    pub summary: &'static str,
    /// What to do about it.
    pub fix: &'static str,
}

/// The help for `rule`, from the rule table; custom identifiers and unknown ids get a generic
/// text.
pub fn rule_help(rule: &str) -> RuleHelp {
    match rule_info(rule) {
        Some(info) => RuleHelp {
            summary: info.help,
            fix: info.fix,
        },
        None => RuleHelp {
            summary: "Custom identifier matched",
            fix: "Remove the value from the request, or add an [[allow]] entry if it is expected.",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_rule_has_its_own_help() {
        let generic = rule_help("custom:employee-id");
        for rule in crate::inspect::RULES {
            assert_ne!(rule_help(rule.id), generic, "{}", rule.id);
        }
    }
}
