//! The rule table (ids, categories, default severities) and the `rules` / `identifiers` / `allow`
//! configuration users write in the TOML config file.
//!
//! The lead's config loader deserializes [`RulesConfig`]; [`crate::inspect::Scanner::new`]
//! validates and compiles it, returning [`RulesError`] naming the faulty entry.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::inspect::{Category, Finding, Severity};

/// What decides whether a rule's finding blocks the call when its `[rules.<id>]` mode is
/// `default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// `--mode enforce` and a severity at or above `--block-severity` (content rules).
    Mode,
    /// Always: the transport policy itself refuses the connection or request (`tls-version`,
    /// `cleartext`), in audit mode too.
    Always,
    /// The setting that raised it (`--fips enforce`, `--fips-missing block`).
    Setting,
}

/// What the built-in table says about one rule: the single source of rule metadata for the
/// scanner, the policy, `awsguard rules`, SARIF and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// Rule id, as in findings and config (`email-address`).
    pub id: &'static str,
    /// Category recorded in findings.
    pub category: Category,
    /// Severity unless the config overrides it.
    pub severity: Severity,
    /// The field purposes (or places) the rule judges, as finding `field` names.
    pub fields: &'static [&'static str],
    /// Who decides blocking when the rule's mode is `default`.
    pub enforcement: Enforcement,
    /// What it finds, one line (SARIF `shortDescription`, `awsguard rules`).
    pub help: &'static str,
    /// How to fix a finding, for the blocked-call message and SARIF help.
    pub fix: &'static str,
}

impl RuleInfo {
    /// A finding of this rule at its default severity: every finding outside the detectors is
    /// made here, so category and severity always come from the table.
    pub fn finding(
        &self,
        field: &str,
        location: impl Into<String>,
        excerpt: impl Into<String>,
    ) -> Finding {
        Finding {
            rule: self.id.to_owned(),
            category: self.category,
            severity: self.severity,
            field: field.to_owned(),
            location: location.into(),
            excerpt: excerpt.into(),
        }
    }
}

/// Where content rules look: tags, names and free text.
const CONTENT: &[&str] = &["tag-key", "tag-value", "name", "free-text"];
/// Where URL rules look: every string of the request except secret and payload fields.
const URLS: &[&str] = &[
    "tag-key",
    "tag-value",
    "name",
    "free-text",
    "url",
    "header",
    "query",
];

const fn content(
    id: &'static str,
    category: Category,
    severity: Severity,
    help: &'static str,
    fix: &'static str,
) -> RuleInfo {
    RuleInfo {
        id,
        category,
        severity,
        fields: CONTENT,
        enforcement: Enforcement::Mode,
        help,
        fix,
    }
}

/// A SaaS or API secret: credential, high, judged wherever URL rules look (such tokens travel in
/// headers and query strings as often as in tags).
const fn saas_secret(id: &'static str, help: &'static str, fix: &'static str) -> RuleInfo {
    RuleInfo {
        id,
        category: Category::Credential,
        severity: Severity::High,
        fields: URLS,
        enforcement: Enforcement::Mode,
        help,
        fix,
    }
}

/// A body that should be inspected was not read whole: enforce fails closed.
pub const UNINSPECTABLE_BODY: RuleInfo = RuleInfo {
    id: "uninspectable-body",
    category: Category::Inspection,
    severity: Severity::High,
    fields: &["body"],
    enforcement: Enforcement::Mode,
    help: "A body that should be inspected was not read whole (too large, nested or unsupported encoding, too deep, invalid syntax); JSON bodies past inspect-limit are skimmed (payload members such as Lambda ZipFile dropped as they stream) and judged whole; low severity only when too large and not skimmable (gzip, non-JSON) for an operation with payload members",
    fix: "Send the body well-formed, uncompressed or gzip once, within inspect-limit; or set [rules.uninspectable-body] mode = \"audit\" to let such calls through.",
};

/// A leg negotiated (or offered only) TLS below `--min-tls`.
pub const TLS_VERSION: RuleInfo = RuleInfo {
    id: "tls-version",
    category: Category::Transport,
    severity: Severity::High,
    fields: &["transport"],
    enforcement: Enforcement::Always,
    help: "TLS version below the minimum on the client or upstream leg",
    fix: "Upgrade the client (or its TLS library) to the minimum TLS version; AWS endpoints support TLS 1.2 and 1.3.",
};

/// Plain HTTP to an AWS host.
pub const CLEARTEXT: RuleInfo = RuleInfo {
    id: "cleartext",
    category: Category::Transport,
    severity: Severity::High,
    fields: &["transport"],
    enforcement: Enforcement::Always,
    help: "Plain http:// request to an AWS host",
    fix: "Use https:// endpoints; the SDKs and the AWS CLI do by default.",
};

/// A standard endpoint where FIPS policy applies.
pub const NON_FIPS_ENDPOINT: RuleInfo = RuleInfo {
    id: "non-fips-endpoint",
    category: Category::Endpoint,
    severity: Severity::Low,
    fields: &["endpoint"],
    enforcement: Enforcement::Setting,
    help: "Standard endpoint used where a FIPS endpoint exists (or none exists)",
    fix: "Set AWS_USE_FIPS_ENDPOINT=true (or use_fips_endpoint = true in the AWS config file) so the SDK picks the FIPS endpoint.",
};

/// Every built-in rule (DESIGN.md "Rule ids"): credentials are high, personal and financial data
/// medium, transport high, endpoint selection low.
pub static RULES: &[RuleInfo] = &[
    content(
        "email-address",
        Category::Pii,
        Severity::Medium,
        "Email address (`jane@example.com`; a real public suffix, not `icon@2x.png`)",
        "Tags, names and descriptions are not for personal data: AWS copies them into billing, logs and consoles. Use an opaque owner id or a team name instead.",
    ),
    content(
        "aws-access-key-id",
        Category::Credential,
        Severity::High,
        "AWS access key id (`AKIA…`/`ASIA…`); documentation keys (`…EXAMPLE`) are not findings",
        "Rotate the key, then pass credentials through the SDK credential chain or Secrets Manager, never as a tag or name.",
    ),
    content(
        "aws-secret-access-key",
        Category::Credential,
        Severity::High,
        "40-character AWS secret access key next to a secret-key keyword",
        "Deactivate and rotate the key now; store secrets in Secrets Manager or SSM SecureString parameters.",
    ),
    content(
        "private-key",
        Category::Credential,
        Severity::High,
        "PEM, OpenSSH, PGP or PuTTY private key block",
        "Treat the key as compromised and replace it; keep keys in Secrets Manager or KMS.",
    ),
    content(
        "json-web-token",
        Category::Credential,
        Severity::High,
        "JSON Web Token (three base64url parts, JSON header with alg)",
        "Revoke the token; pass tokens at run time rather than storing them in metadata.",
    ),
    content(
        "credit-card-number",
        Category::Financial,
        Severity::Medium,
        "Payment card number: 13–19 digits, known issuer prefix, Luhn check",
        "Card numbers belong only in a PCI-scoped store; remove them from tags and names.",
    ),
    content(
        "iban",
        Category::Financial,
        Severity::Medium,
        "IBAN (`DE89370400440532013000`: country length and mod-97 check)",
        "Bank account numbers do not belong in resource metadata; use a reference id.",
    ),
    content(
        "phone-number",
        Category::Pii,
        Severity::Medium,
        "Phone number (`+1 415 555 2671`; national numbers only next to a phone keyword)",
        "Keep contact details out of tags and names; reference a directory entry instead.",
    ),
    content(
        "us-ssn",
        Category::Pii,
        Severity::Medium,
        "US social security number (`536-22-8741`) next to an SSN keyword; invalid ranges excluded",
        "Never put an SSN in resource metadata; store it in a protected data store.",
    ),
    content(
        "uk-nino",
        Category::Pii,
        Severity::Medium,
        "UK National Insurance number (`AB123456C`: allocated prefix, suffix A–D) next to a keyword (`NINO`, `national insurance`)",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "ca-sin",
        Category::Pii,
        Severity::Medium,
        "Canadian Social Insurance Number (`046 454 286`, Luhn) next to a keyword (`SIN`, `numéro d'assurance sociale`)",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "fr-nir",
        Category::Pii,
        Severity::Medium,
        "French social security number (NIR/INSEE, `1 85 05 78 006 084 91`, mod-97 key, Corsica 2A/2B) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "de-tax-id",
        Category::Pii,
        Severity::Medium,
        "German tax id (Steuer-IdNr, `65 929 970 489`, ISO 7064 MOD 11,10 and digit-repeat rule) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "it-codice-fiscale",
        Category::Pii,
        Severity::Medium,
        "Italian codice fiscale (`RSSMRA85T10A562S`, check letter, omocodia) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "es-dni",
        Category::Pii,
        Severity::Medium,
        "Spanish DNI or NIE (`12345678Z`, `X1234567L`, mod-23 letter) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "br-cpf",
        Category::Pii,
        Severity::Medium,
        "Brazilian CPF (`390.533.447-05`, two mod-11 digits) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "br-cnpj",
        Category::Pii,
        Severity::Medium,
        "Brazilian CNPJ (`11.222.333/0001-81`, two mod-11 digits) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "in-aadhaar",
        Category::Pii,
        Severity::Medium,
        "Indian Aadhaar number (`2341 2341 2346`, Verhoeff, not starting 0/1) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "in-pan",
        Category::Pii,
        Severity::Medium,
        "Indian Permanent Account Number (`AFZPK7190K`, holder-type letter) next to a keyword (`PAN`)",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "cn-resident-id",
        Category::Pii,
        Severity::Medium,
        "Chinese resident identity number (`11010519491231002X`, birth date, ISO 7064 MOD 11-2) next to a keyword (`身份证`)",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "jp-my-number",
        Category::Pii,
        Severity::Medium,
        "Japanese My Number (`1234 5678 9018`, check digit) next to a keyword (`マイナンバー`, `個人番号`)",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "kr-rrn",
        Category::Pii,
        Severity::Medium,
        "Korean resident registration number (`850101-1234566`, birth date, check digit before 2020) next to a keyword (`주민등록번호`)",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "au-tfn",
        Category::Pii,
        Severity::Medium,
        "Australian Tax File Number (`123 456 782`, weighted mod 11) next to a keyword (`TFN`)",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "mx-curp",
        Category::Pii,
        Severity::Medium,
        "Mexican CURP (`GOMC800101HDFRRR00`, state, birth date, check digit) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "nl-bsn",
        Category::Pii,
        Severity::Medium,
        "Dutch citizen service number (BSN, `111222333`, eleven-test) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "se-personnummer",
        Category::Pii,
        Severity::Medium,
        "Swedish personnummer (`811228-9874`, `19811228-9874`, birth date, Luhn) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "pl-pesel",
        Category::Pii,
        Severity::Medium,
        "Polish PESEL (`44051401359`, birth date, check digit) next to a keyword",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "us-itin",
        Category::Pii,
        Severity::Medium,
        "US ITIN (`912-90-3456`: 9xx and an IRS group range) next to a keyword (`ITIN`)",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "passport-number",
        Category::Pii,
        Severity::Medium,
        "Passport number (6–9 upper-case letters and digits, mostly digits) next to a passport keyword in the locales' languages",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    content(
        "drivers-license-number",
        Category::Pii,
        Severity::Medium,
        "Driver's licence number (6–16 upper-case letters and digits) next to a driver's-licence keyword in the locales' languages",
        "National identifiers do not belong in tags, names or descriptions: AWS copies them into billing, logs and consoles. Store them in a protected data store and reference an opaque id.",
    ),
    RuleInfo {
        id: "url-credentials",
        category: Category::Credential,
        severity: Severity::High,
        fields: URLS,
        enforcement: Enforcement::Mode,
        help: "URL with a password in its userinfo (`postgres://app:pw@db/…`, any scheme)",
        fix: "Remove the password from the URL and rotate it; reference a secret (Secrets Manager, SSM SecureString) instead.",
    },
    RuleInfo {
        id: "url-secret-parameter",
        category: Category::Credential,
        severity: Severity::High,
        fields: URLS,
        enforcement: Enforcement::Mode,
        help: "URL with a secret query parameter (`access_token`, `api_key`, `password`, `X-Amz-Signature`…)",
        fix: "Strip the token or signature from the URL and rotate it if it was long-lived; pass it in a header or a secret store.",
    },
    saas_secret(
        "github-token",
        "GitHub token: `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 base-62 with a valid CRC-32 checksum, or fine-grained `github_pat_` + 22 + `_` + 59",
        "Revoke the token in GitHub settings (or let secret scanning revoke it); keep tokens in Secrets Manager or the CI's secret store.",
    ),
    saas_secret(
        "gitlab-token",
        "GitLab token: `glpat-`, `gldt-`, `glrt-`, `glcbt-`, `glptt-`, … + at least 20 of `[A-Za-z0-9_-]`",
        "Revoke the token in GitLab and create a new one; keep it in Secrets Manager or CI/CD variables marked masked.",
    ),
    saas_secret(
        "slack-token",
        "Slack token: `xoxb-`/`xoxp-`/`xoxa-`/`xoxr-`/`xoxs-`/`xoxe-`/`xapp-`, numeric first part, random last part",
        "Revoke the token (auth.revoke or the app's settings) and reinstall the app; keep tokens in a secret store.",
    ),
    saas_secret(
        "slack-webhook-url",
        "Slack incoming-webhook URL (`hooks.slack.com/services/T…/B…/` + 24-character secret)",
        "Delete the webhook in the Slack app settings and create a new one; keep the URL in Secrets Manager.",
    ),
    saas_secret(
        "stripe-secret-key",
        "Stripe live secret or restricted key (`sk_live_`/`rk_live_` + 24+ base-62); test-mode `sk_test_` keys are not findings",
        "Roll the key in the Stripe dashboard; keep it in Secrets Manager.",
    ),
    saas_secret(
        "google-api-key",
        "Google API key (`AIza` + 35 of `[A-Za-z0-9_-]`)",
        "Delete or regenerate the key in the Google Cloud console and restrict its APIs; keep it in a secret store.",
    ),
    saas_secret(
        "azure-storage-key",
        "Azure storage account key (86 base64 + `==`) after `AccountKey=` or an Azure keyword",
        "Rotate the storage account key; use Entra ID or a SAS from Key Vault instead of the account key.",
    ),
    saas_secret(
        "azure-sas-signature",
        "Azure shared access signature (`sig=` in a query with `sv=` and `se=`/`sp=`)",
        "Revoke the SAS (rotate the key that signed it or its stored access policy); issue short-lived SAS at run time.",
    ),
    saas_secret(
        "npm-token",
        "npm access token (`npm_` + 36 base-62 with a valid CRC-32 checksum)",
        "Revoke the token (`npm token revoke`) and create a new one; keep it in a secret store.",
    ),
    saas_secret(
        "pypi-token",
        "PyPI API token (`pypi-AgEIcHlwaS5vcmc…`)",
        "Remove the token in the PyPI account settings; use trusted publishing or a secret store.",
    ),
    saas_secret(
        "openai-api-key",
        "OpenAI API key (`sk-proj-…`, `sk-svcacct-…`, `sk-admin-…`, or `sk-…` holding `T3BlbkFJ`)",
        "Revoke the key in the OpenAI dashboard; keep it in Secrets Manager.",
    ),
    saas_secret(
        "anthropic-api-key",
        "Anthropic API key (`sk-ant-api03-…`, `sk-ant-admin01-…`)",
        "Revoke the key in the Anthropic console; keep it in Secrets Manager.",
    ),
    saas_secret(
        "twilio-credential",
        "Twilio API key SID (`SK` + 32 hex) or auth token (32 hex) next to a `twilio` keyword; account SIDs (`AC…`) are not secret",
        "Rotate the auth token or delete the API key in the Twilio console; keep it in a secret store.",
    ),
    saas_secret(
        "sendgrid-api-key",
        "SendGrid API key (`SG.` + 22 + `.` + 43)",
        "Delete the key in SendGrid and create a new one; keep it in Secrets Manager.",
    ),
    saas_secret(
        "vault-token",
        "HashiCorp Vault token (`hvs.`, `hvb.`, `hvr.` + 24+ characters)",
        "Revoke the token (`vault token revoke`); let workloads log in with their AWS identity instead.",
    ),
    saas_secret(
        "datadog-api-key",
        "Datadog API key (32 hex) or application key (40 hex) next to a `datadog`/`dd_api`/`dd_app` keyword",
        "Revoke the key in Datadog's organization settings; keep it in Secrets Manager.",
    ),
    UNINSPECTABLE_BODY,
    TLS_VERSION,
    CLEARTEXT,
    NON_FIPS_ENDPOINT,
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

/// The compiled `[rules.<id>]` overrides (and custom identifiers' severities): what
/// [`crate::policy::decide`] applies to every finding, transport and FIPS ones included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSettings {
    modes: BTreeMap<String, RuleMode>,
    severities: BTreeMap<String, Severity>,
}

impl RuleSettings {
    /// The overrides of `config`, plus each custom identifier's own severity.
    pub fn new(config: &RulesConfig) -> Self {
        let mut settings = RuleSettings::default();
        for id in &config.identifiers {
            settings
                .severities
                .insert(format!("custom:{}", id.name), id.severity);
        }
        for (id, o) in &config.rules {
            if let Some(mode) = o.mode {
                settings.modes.insert(id.clone(), mode);
            }
            if let Some(severity) = o.severity {
                settings.severities.insert(id.clone(), severity);
            }
        }
        settings
    }

    /// The configured mode of `rule` ([`RuleMode::Default`] when not configured).
    pub fn mode(&self, rule: &str) -> RuleMode {
        self.modes.get(rule).copied().unwrap_or_default()
    }

    /// The configured severity of `rule`, if the config sets one.
    pub fn severity(&self, rule: &str) -> Option<Severity> {
        self.severities.get(rule).copied()
    }
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
    fn named_rules_are_in_the_table() {
        for named in [
            UNINSPECTABLE_BODY,
            TLS_VERSION,
            CLEARTEXT,
            NON_FIPS_ENDPOINT,
        ] {
            assert_eq!(rule_info(named.id), Some(&named));
        }
    }

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
        assert_eq!(ids.len(), RULES.len());
        assert_eq!(ids.len(), 52);
        for id in crate::inspect::detect::national::rules() {
            assert!(rule_info(id).is_some(), "{id}");
        }
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
