//! The decision: every finding of a call, raised by detectors, the transport checks or the FIPS
//! policy, goes through [`decide`], the only place an allow/block decision is made. It applies the
//! `[rules.<id>]` overrides (mode and severity) to every rule alike, then blocks by the rule
//! table's [`Enforcement`]. The AWS-shaped error a blocked call gets is in [`error_body`].
//!
//! Pure: findings and settings in, a verdict out.

use crate::aws::endpoints::FipsVerdict;
use crate::aws::host::is_s3_website;
use crate::config::{FipsMissing, FipsMode, Mode};
use crate::events::FipsDetails;
use crate::inspect::{
    rule_info, Enforcement, Finding, RuleMode, RuleSettings, Severity, CLEARTEXT, NON_FIPS_ENDPOINT,
};

mod error_body;

pub(crate) use error_body::{error_response, ErrorResponse, UPSTREAM_CODE, VIOLATION_CODE};

/// The settings every decision applies.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `--mode`.
    pub mode: Mode,
    /// `--block-severity`.
    pub block_severity: Severity,
    /// `[rules.<id>]` overrides.
    pub rules: RuleSettings,
}

/// A finding as raised, before the configuration has had its say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raised {
    /// The finding, at its rule's default severity (a custom identifier's own severity).
    pub finding: Finding,
    /// For [`Enforcement::Setting`] rules: whether the setting that raised it asks for a block.
    pub setting_blocks: bool,
    /// How to fix it when it is more specific than the rule table's fix.
    pub fix: Option<String>,
}

impl From<Finding> for Raised {
    fn from(finding: Finding) -> Self {
        Raised {
            finding,
            setting_blocks: false,
            fix: None,
        }
    }
}

/// What the policy made of a call's findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The findings to record, with configured severities; `off` rules dropped.
    pub findings: Vec<Finding>,
    /// Why the call is blocked (the first blocking finding, its location and fix), if it is.
    pub block: Option<String>,
}

impl Verdict {
    /// Whether the call is refused.
    pub(crate) fn blocks(&self) -> bool {
        self.block.is_some()
    }
}

/// Applies the policy to the findings raised on one call (or connection).
pub(crate) fn decide(policy: &Policy, raised: impl IntoIterator<Item = Raised>) -> Verdict {
    let mut verdict = Verdict::default();
    for Raised {
        mut finding,
        setting_blocks,
        fix,
    } in raised
    {
        let mode = policy.rules.mode(&finding.rule);
        if mode == RuleMode::Off {
            continue;
        }
        if let Some(severity) = policy.rules.severity(&finding.rule) {
            finding.severity = severity;
        }
        let severe = finding.severity >= policy.block_severity;
        let blocks = match mode {
            RuleMode::Enforce => severe,
            RuleMode::Audit | RuleMode::Off => false,
            RuleMode::Default => match rule_info(&finding.rule).map(|r| r.enforcement) {
                Some(Enforcement::Always) => true,
                Some(Enforcement::Setting) => setting_blocks,
                Some(Enforcement::Mode) | None => policy.mode == Mode::Enforce && severe,
            },
        };
        if blocks && verdict.block.is_none() {
            let fix = fix.as_deref().or(rule_info(&finding.rule).map(|r| r.fix));
            verdict.block = Some(block_message(&finding, fix));
        }
        verdict.findings.push(finding);
    }
    verdict
}

/// The `cleartext` finding a plain-HTTP request to the AWS host `host` raises, if any. S3 website
/// endpoints serve public web content over HTTP by design: only a signed request to one counts
/// (the signature and key id would cross the network in the clear).
pub(crate) fn cleartext(host: &str, signed: bool) -> Option<Raised> {
    if is_s3_website(host) && !signed {
        return None;
    }
    Some(
        CLEARTEXT
            .finding("transport", "request:scheme", "http://")
            .into(),
    )
}

/// The message of a blocked call: rule, where, and how to fix it. Never the value itself.
pub(crate) fn block_message(finding: &Finding, fix: Option<&str>) -> String {
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
pub(crate) struct FipsOutcome {
    /// What the event records.
    pub details: FipsDetails,
    /// A `non-fips-endpoint` finding, when the policy asks for one.
    pub finding: Option<Finding>,
    /// Whether `--fips`/`--fips-missing` ask for that finding to block the call.
    pub blocks: bool,
    /// How to fix it, for the blocked-call message.
    pub fix: Option<String>,
}

impl FipsOutcome {
    /// The finding, raised for [`decide`].
    pub(crate) fn raised(&self) -> Option<Raised> {
        self.finding.clone().map(|finding| Raised {
            finding,
            setting_blocks: self.blocks,
            fix: self.fix.clone(),
        })
    }
}

/// Applies the FIPS policy to a host's verdict (`None`: not an AWS endpoint shape).
pub(crate) fn fips_outcome(
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
    let finding = |excerpt: String| NON_FIPS_ENDPOINT.finding("endpoint", "host", excerpt);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::{Category, RulesConfig};

    #[test]
    fn s3_website_content_is_not_cleartext_unless_signed() {
        assert!(cleartext("site.s3-website-us-east-1.amazonaws.com", false).is_none());
        let signed = cleartext("site.s3-website-us-east-1.amazonaws.com", true).unwrap();
        assert_eq!(signed.finding.rule, "cleartext");
        assert!(cleartext("sqs.us-east-1.amazonaws.com", false).is_some());
    }

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

    fn policy(mode: Mode, block_severity: Severity, toml_rules: &str) -> Policy {
        let config: RulesConfig = toml::from_str(toml_rules).unwrap();
        Policy {
            mode,
            block_severity,
            rules: RuleSettings::new(&config),
        }
    }

    fn blocks(f: &Finding, mode: Mode, block_severity: Severity, rules: &str) -> bool {
        decide(&policy(mode, block_severity, rules), [f.clone().into()]).blocks()
    }

    #[test]
    fn enforce_blocks_at_or_above_the_severity() {
        let f = finding(Severity::Medium);
        let enforce = "[rules.email-address]\nmode = \"enforce\"";
        let audit = "[rules.email-address]\nmode = \"audit\"";
        assert!(blocks(&f, Mode::Enforce, Severity::Medium, ""));
        assert!(!blocks(&f, Mode::Enforce, Severity::High, ""));
        assert!(!blocks(&f, Mode::Audit, Severity::Low, ""));
        assert!(blocks(&f, Mode::Audit, Severity::Medium, enforce));
        assert!(!blocks(&f, Mode::Audit, Severity::High, enforce));
        assert!(!blocks(&f, Mode::Enforce, Severity::Low, audit));
    }

    #[test]
    fn overrides_apply_to_transport_and_fips_rules() {
        let cleartext = CLEARTEXT.finding("transport", "request:scheme", "http://");
        // Transport rules block in audit mode too, unless the config says otherwise.
        assert!(blocks(&cleartext, Mode::Audit, Severity::High, ""));
        let audited = "[rules.cleartext]\nmode = \"audit\"";
        let audited = decide(
            &policy(Mode::Enforce, Severity::Low, audited),
            [cleartext.clone().into()],
        );
        assert!(!audited.blocks());
        assert_eq!(audited.findings, vec![cleartext.clone()]);
        let off = "[rules.cleartext]\nmode = \"off\"";
        let dropped = decide(
            &policy(Mode::Enforce, Severity::Low, off),
            [cleartext.into()],
        );
        assert_eq!(dropped, Verdict::default());

        let host = "sqs.us-east-1.amazonaws.com";
        let v = verdict(false, Some("sqs-fips.us-east-1.amazonaws.com"));
        let enforced = fips_outcome(host, Some(&v), FipsMode::Enforce, FipsMissing::Allow);
        let raised = || enforced.raised().into_iter();
        let p = policy(Mode::Audit, Severity::Medium, "");
        let message = decide(&p, raised()).block.unwrap();
        assert!(message.contains("FIPS endpoint: sqs-fips.us-east-1.amazonaws.com"));
        let high = "[rules.non-fips-endpoint]\nseverity = \"high\"\nmode = \"audit\"";
        let tuned = decide(&policy(Mode::Enforce, Severity::Low, high), raised());
        assert!(!tuned.blocks());
        assert_eq!(tuned.findings[0].severity, Severity::High);
        let audit_fips = fips_outcome(host, Some(&v), FipsMode::Audit, FipsMissing::Allow);
        let enforce_rule = "[rules.non-fips-endpoint]\nmode = \"enforce\"";
        let p = policy(Mode::Audit, Severity::Low, enforce_rule);
        assert!(decide(&p, audit_fips.raised()).blocks());
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
}
