//! What each rule finds and how to fix it, for people reading a report or a code-scanning alert.
//!
//! The rule table in [`crate::inspect::rules`] holds ids, categories and severities but no prose
//! yet; until it does, this is the one place for it (used by the HTML report and SARIF).

/// The prose for one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleHelp {
    /// One line: what was found.
    pub summary: &'static str,
    /// What to do about it.
    pub fix: &'static str,
}

const fn help(summary: &'static str, fix: &'static str) -> RuleHelp {
    RuleHelp { summary, fix }
}

/// The help for `rule`; custom identifiers and unknown ids get a generic text.
pub fn rule_help(rule: &str) -> RuleHelp {
    match rule {
        "email-address" => help(
            "Email address in a tag, name or description",
            "Tags, names and descriptions are not for personal data: AWS copies them into \
             billing, logs and consoles. Use an opaque owner id or a team name instead.",
        ),
        "phone-number" => help(
            "Phone number in a tag, name or description",
            "Keep contact details out of tags and names; reference a directory entry instead.",
        ),
        "us-ssn" => help(
            "US social security number in request data",
            "Never put an SSN in resource metadata; store it in a protected data store.",
        ),
        "credit-card-number" => help(
            "Payment card number in request data",
            "Card numbers belong only in a PCI-scoped store; remove them from tags and names.",
        ),
        "iban" => help(
            "IBAN in request data",
            "Bank account numbers do not belong in resource metadata; use a reference id.",
        ),
        "aws-access-key-id" => help(
            "AWS access key id in request data",
            "Rotate the key, then pass credentials through the SDK credential chain or Secrets \
             Manager, never as a tag or name.",
        ),
        "aws-secret-access-key" => help(
            "AWS secret access key in request data",
            "Deactivate and rotate the key now; store secrets in Secrets Manager or SSM \
             SecureString parameters.",
        ),
        "private-key" => help(
            "Private key in request data",
            "Treat the key as compromised and replace it; keep keys in Secrets Manager or KMS.",
        ),
        "json-web-token" => help(
            "JSON Web Token in request data",
            "Revoke the token; pass tokens at run time rather than storing them in metadata.",
        ),
        "url-credentials" => help(
            "URL with a password in its userinfo",
            "Remove the password from the URL and rotate it; reference a secret instead.",
        ),
        "url-secret-parameter" => help(
            "URL with a secret-looking query parameter",
            "Strip the token or signature from the URL and rotate it if it was long-lived.",
        ),
        "tls-version" => help(
            "TLS version below the minimum",
            "Upgrade the client (or its TLS library) to TLS 1.2 or later; AWS endpoints require it.",
        ),
        "cleartext" => help(
            "Plain http:// request to AWS",
            "Use https:// endpoints; the SDKs and the AWS CLI do by default.",
        ),
        "non-fips-endpoint" => help(
            "Standard endpoint used where a FIPS endpoint exists",
            "Set AWS_USE_FIPS_ENDPOINT=true (or use_fips_endpoint in the profile) so the SDK \
             picks the FIPS endpoint.",
        ),
        "uninspectable-body" => help(
            "A body that should be inspected could not be decoded",
            "Check the client sends a well-formed body for the operation's protocol.",
        ),
        _ => help(
            "Custom identifier matched",
            "Remove the value from the request, or add an [[allow]] entry if it is expected.",
        ),
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
