//! The [`Scanner`]: runs every enabled detector over a request's fields and returns findings with
//! configured severities, minus allowlisted ones.
//!
//! Built once from [`RulesConfig`] at startup and shared by all connections; the engine calls
//! [`Scanner::scan_field`] on each field as the decoder hands it over ([`Scanner::scan`] takes a
//! list). One Aho-Corasick pass per field ([`detect::prefilter`]) finds trigger strings and
//! keywords, so each detector runs only on fields that could hold its kind of match.

use std::borrow::Cow;

use regex::{Regex, RegexBuilder};

use super::detect::prefilter::{Prefilter, Signals, Trigger};
use super::detect::{self, custom::Identifier, Hit, KeyContext};
use super::rules::rule_info;
use super::rules::RuleSettings;
use super::{
    Category, Field, FieldKind, FieldRef, Finding, RuleMode, RulesConfig, RulesError, Severity,
};

/// Only this much of one field is scanned.
pub(crate) const MAX_FIELD_BYTES: usize = 1 << 20;

/// The fewest digits a national identifier has (`AFZPK7190K`, an Indian PAN).
const MIN_NATIONAL_DIGITS: usize = 4;

/// Which call the fields belong to, for allowlists.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanContext<'a> {
    /// Signing name of the service (`sqs`), if identified.
    pub service: Option<&'a str>,
    /// Operation name (`CreateQueue`), if identified.
    pub operation: Option<&'a str>,
}

/// A compiled `[[allow]]` entry.
#[derive(Debug)]
struct Allow {
    rule: String,
    service: Option<String>,
    operation: Option<String>,
    field: Option<String>,
    value: Option<Regex>,
}

/// Compiled detectors, severities, modes and allowlists. `Send + Sync`: build once, share.
#[derive(Debug)]
pub struct Scanner {
    settings: RuleSettings,
    identifiers: Vec<Identifier>,
    allow: Vec<Allow>,
    prefilter: Prefilter,
}

impl Scanner {
    /// Validate and compile `config`: unknown rule names and bad regexes are refused with the
    /// entry that holds them.
    pub fn new(config: &RulesConfig) -> Result<Scanner, RulesError> {
        config.check_names()?;
        let identifiers = config
            .identifiers
            .iter()
            .enumerate()
            .map(|(i, def)| Identifier::new(i, def))
            .collect::<Result<Vec<_>, _>>()?;
        let allow = compile_allow(config)?;
        let keywords: Vec<&[String]> = identifiers.iter().map(|i| i.keywords.as_slice()).collect();
        let prefilter = Prefilter::new(&keywords).map_err(RulesError::Keywords)?;
        Ok(Scanner {
            settings: RuleSettings::new(config),
            identifiers,
            allow,
            prefilter,
        })
    }

    /// The rule overrides this scanner was built with (the policy applies them to every finding).
    pub fn settings(&self) -> &RuleSettings {
        &self.settings
    }

    /// The configured mode of `rule` ([`RuleMode::Default`] when not configured).
    pub fn rule_mode(&self, rule: &str) -> RuleMode {
        self.settings.mode(rule)
    }

    /// The severity findings of `rule` get: configured, else the built-in default, else medium.
    pub fn severity(&self, rule: &str) -> Severity {
        self.settings
            .severity(rule)
            .or_else(|| rule_info(rule).map(|r| r.severity))
            .unwrap_or(Severity::Medium)
    }

    fn enabled(&self, rule: &str) -> bool {
        self.rule_mode(rule) != RuleMode::Off
    }

    /// Loads what enabled detectors otherwise load on first use (the phone-number metadata
    /// takes ~0.15 s), so that no call pays for it. Meant for a background thread at start-up.
    pub fn warm_up(&self) {
        if self.enabled("phone-number") {
            detect::phone::warm_up();
        }
    }

    /// Findings for all `fields` of one call, in field order, without duplicates.
    pub fn scan(&self, ctx: &ScanContext<'_>, fields: &[Field]) -> Vec<Finding> {
        let mut findings = Vec::new();
        for field in fields {
            self.scan_field(ctx, field.view(), &mut findings);
        }
        findings
    }

    /// Appends the findings for one field of a call to `findings`, without duplicates: what
    /// [`Scanner::scan`] does for each field, for callers that scan fields as they are decoded.
    pub fn scan_field(
        &self,
        ctx: &ScanContext<'_>,
        field: FieldRef<'_>,
        findings: &mut Vec<Finding>,
    ) {
        if field.kind.is_exempt() {
            return;
        }
        let value = truncate(field.value);
        let mut hits = Vec::new();
        // Rendered only for a field that needs it: keyword-gated detectors and findings.
        let mut location = None;
        self.detect(field, value, &mut location, &mut hits);
        if hits.is_empty() {
            return;
        }
        let location = location.get_or_insert_with(|| field.location.render());
        let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
        for hit in hits {
            if !kept
                .iter()
                .any(|k| k.rule == hit.rule && k.excerpt == hit.excerpt)
            {
                kept.push(hit);
            }
        }
        for hit in kept {
            if let Some(f) = self.finding(ctx, field, location, value, hit) {
                findings.push(f);
            }
        }
    }

    fn finding(
        &self,
        ctx: &ScanContext<'_>,
        field: FieldRef<'_>,
        location: &str,
        value: &str,
        hit: Hit,
    ) -> Option<Finding> {
        if !self.enabled(&hit.rule) {
            return None;
        }
        let matched = value.get(hit.start..hit.end).unwrap_or("");
        let kind = field.kind.as_str();
        if self
            .allow
            .iter()
            .any(|a| a.covers(ctx, &hit.rule, location, kind, matched))
        {
            return None;
        }
        Some(Finding {
            category: rule_info(&hit.rule).map_or(Category::Pii, |r| r.category),
            severity: self.severity(&hit.rule),
            field: kind.to_string(),
            location: location.to_owned(),
            excerpt: hit.excerpt,
            rule: hit.rule,
        })
    }
}

/// Whether a card detector's `hit` in `value` is rather a national identity number.
fn national_id_not_card(value: &str, hit: &Hit) -> bool {
    let matched = value.get(hit.start..hit.end).unwrap_or("");
    let digits: Vec<u8> = matched.bytes().filter(u8::is_ascii_digit).collect();
    detect::national::is_identity_number(&digits)
}

/// The scanned prefix of a value, cut at a char boundary.
fn truncate(value: &str) -> &str {
    let end = detect::floor_boundary(value, MAX_FIELD_BYTES);
    value.get(..end).unwrap_or("")
}

/// The ASCII digits in `value`. Counted per chunk into a byte-wide counter (a chunk of 255 cannot
/// overflow it), which the compiler turns into vector code: this runs over every content field.
fn count_digits(value: &str) -> usize {
    value
        .as_bytes()
        .chunks(usize::from(u8::MAX))
        .map(|chunk| {
            let n = chunk
                .iter()
                .fold(0u8, |n, c| n.wrapping_add(u8::from(c.is_ascii_digit())));
            usize::from(n)
        })
        .sum()
}

fn compile_allow(config: &RulesConfig) -> Result<Vec<Allow>, RulesError> {
    let mut out = Vec::new();
    for (i, s) in config.allow.iter().enumerate() {
        let value = match &s.value {
            Some(re) => Some(
                RegexBuilder::new(re)
                    .size_limit(detect::custom::REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|source| RulesError::Regex {
                        entry: format!("allow[{i}]"),
                        source,
                    })?,
            ),
            None => None,
        };
        out.push(Allow {
            rule: s.rule.clone(),
            service: s.service.clone(),
            operation: s.operation.clone(),
            field: s.field.clone(),
            value,
        });
    }
    Ok(out)
}

impl Allow {
    fn covers(
        &self,
        ctx: &ScanContext<'_>,
        rule: &str,
        location: &str,
        kind: &str,
        matched: &str,
    ) -> bool {
        let same = |want: &Option<String>, have: Option<&str>| match want {
            None => true,
            Some(w) => have.is_some_and(|h| h.eq_ignore_ascii_case(w)),
        };
        (self.rule == "*" || self.rule == rule)
            && same(&self.service, ctx.service)
            && same(&self.operation, ctx.operation)
            && self
                .field
                .as_ref()
                .is_none_or(|f| f == location || f == kind)
            && self.value.as_ref().is_none_or(|re| re.is_match(matched))
    }
}

/// What the keyword-gated personal-data detectors know besides the value.
#[derive(Clone, Copy)]
struct Personal<'a> {
    ctx: KeyContext<'a>,
    /// Spans of the phone keywords in the value, from the prefilter's pass.
    phone_keywords: &'a [(usize, usize)],
}

impl Scanner {
    /// Run the detectors that apply to this field's kind and whose triggers fired.
    /// `location` is `field`'s, once rendered: this renders it if a detector needs it.
    fn detect<'a>(
        &self,
        field: FieldRef<'a>,
        value: &str,
        location: &mut Option<Cow<'a, str>>,
        hits: &mut Vec<Hit>,
    ) {
        if !field.kind.is_content() {
            self.detect_outside_content(field, value, location, hits);
            return;
        }
        let mut phone_keywords = Vec::new();
        let sig = self
            .prefilter
            .signals_and_phone_keywords(value, &mut phone_keywords);
        if sig.has(Trigger::Url) {
            detect::url::find(value, hits);
        }
        let digits = count_digits(value);
        // Tag key and location matter only to keyword-gated detectors.
        let needs_keys = digits >= MIN_NATIONAL_DIGITS
            || value.len() >= 40
            || self.prefilter.has_custom_keywords();
        let mut keys = String::new();
        if needs_keys {
            keys = field.tag_key.unwrap_or("").to_ascii_lowercase();
            keys.push(' ');
            let location = location.get_or_insert_with(|| field.location.render());
            keys.push_str(&location.to_ascii_lowercase());
        }
        // Nothing triggers on an empty string: no pass for it.
        let key_sig = if needs_keys {
            self.prefilter.signals(&keys)
        } else {
            Signals::default()
        };
        let ctx = KeyContext { keys: &keys };
        self.credentials(value, sig, key_sig, ctx, hits);
        let personal = Personal {
            ctx,
            phone_keywords: &phone_keywords,
        };
        self.personal(value, digits, sig, key_sig, personal, hits);
        for (i, id) in self.identifiers.iter().enumerate() {
            let keyed = key_sig.custom(i);
            if id.keywords.is_empty() || keyed || sig.custom(i) {
                id.find(value, keyed, hits);
            }
        }
    }

    /// Fields other than tags, names and free text: URL rules, and the SaaS secret rules in
    /// URLs, headers and query parameters (`Authorization: Bearer xoxb-…`, `?key=AIza…`). Other
    /// body strings are passed over by the automaton only when they hold a URL.
    fn detect_outside_content<'a>(
        &self,
        field: FieldRef<'a>,
        value: &str,
        location: &mut Option<Cow<'a, str>>,
        hits: &mut Vec<Hit>,
    ) {
        let short = matches!(field.kind, FieldKind::Header | FieldKind::Query);
        let url = Prefilter::has_url_trigger(value);
        if url {
            detect::url::find(value, hits);
        }
        if !short && !url {
            return;
        }
        let sig = self.prefilter.signals(value);
        if sig.has(Trigger::Token) {
            detect::saas::find_tokens(value, hits);
        }
        let location = location.get_or_insert_with(|| field.location.render());
        let keys = location.to_ascii_lowercase();
        if sig.has(Trigger::Vendor) || self.prefilter.signals(&keys).has(Trigger::Vendor) {
            detect::saas::find_keyed(value, KeyContext { keys: &keys }, hits);
        }
    }

    fn credentials(
        &self,
        value: &str,
        sig: Signals,
        key_sig: Signals,
        ctx: KeyContext<'_>,
        hits: &mut Vec<Hit>,
    ) {
        if sig.has(Trigger::KeyPrefix) {
            detect::aws_keys::find_access_keys(value, hits);
        }
        if value.len() >= 40 && (sig.has(Trigger::Secret) || key_sig.has(Trigger::Secret)) {
            detect::aws_keys::find_secret_keys(value, ctx, hits);
        }
        if sig.has(Trigger::Pem) {
            detect::private_key::find(value, hits);
        }
        if sig.has(Trigger::Jwt) {
            detect::jwt::find(value, hits);
        }
        if sig.has(Trigger::Token) {
            detect::saas::find_tokens(value, hits);
        }
        if sig.has(Trigger::Vendor) || key_sig.has(Trigger::Vendor) {
            detect::saas::find_keyed(value, ctx, hits);
        }
    }

    fn personal(
        &self,
        value: &str,
        digits: usize,
        sig: Signals,
        key_sig: Signals,
        Personal {
            ctx,
            phone_keywords,
        }: Personal<'_>,
        hits: &mut Vec<Hit>,
    ) {
        if sig.has(Trigger::At) {
            detect::email::find(value, hits);
        }
        if digits >= 13 {
            let before = hits.len();
            detect::card::find(value, hits);
            let mut i = before;
            while i < hits.len() {
                if national_id_not_card(value, &hits[i]) {
                    hits.remove(i);
                } else {
                    i += 1;
                }
            }
        }
        if digits >= 8 && value.len() >= 15 {
            detect::iban::find(value, hits);
        }
        let phone_word = sig.has(Trigger::Phone) || key_sig.has(Trigger::Phone);
        // Five digits: the short numbering plans of small territories, right after a keyword.
        if (digits >= 7 && sig.has(Trigger::Plus)) || (digits >= 5 && phone_word) {
            detect::phone::find(value, phone_keywords, ctx, hits);
        }
        if digits >= 9 && (sig.has(Trigger::Ssn) || key_sig.has(Trigger::Ssn)) {
            detect::ssn::find(value, ctx, hits);
        }
        let national = sig.has(Trigger::National) || key_sig.has(Trigger::National);
        if digits >= MIN_NATIONAL_DIGITS && national {
            let claimed = detect::national::find(value, ctx.keys, hits);
            // A number in an identifier's shape next to its keyword is not a card number.
            // `claimed` is in start order and its spans are short: only those starting just
            // before a hit's end can overlap it.
            hits.retain(|h| {
                let before = claimed.partition_point(|c| c.0 < h.end);
                let overlaps = claimed[..before]
                    .iter()
                    .rev()
                    .take_while(|c| c.0 + detect::national::MAX_SPAN > h.start)
                    .any(|c| c.1 > h.start);
                h.rule != detect::card::RULE || !overlaps
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::{CustomIdentifier, RuleOverride, Suppression};
    use proptest::prelude::*;

    fn scanner(config: &RulesConfig) -> Scanner {
        Scanner::new(config).unwrap()
    }

    fn tag(key: &str, value: &str) -> Field {
        Field {
            location: "body:Tags[0].Value".to_string(),
            kind: FieldKind::TagValue,
            value: value.to_string(),
            tag_key: Some(key.to_string()),
        }
    }

    fn rules(s: &Scanner, fields: &[Field]) -> Vec<String> {
        let ctx = ScanContext::default();
        s.scan(&ctx, fields).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn content_detectors_only_on_content_fields_url_detectors_everywhere() {
        let s = scanner(&RulesConfig::default());
        let email = "jane@example.com https://u:hunter22x@db.example.com";
        assert_eq!(
            rules(&s, &[tag("owner", email)]),
            ["url-credentials", "email-address"]
        );
        let other = Field::new("body:Endpoint", FieldKind::Other, email);
        assert_eq!(rules(&s, &[other]), ["url-credentials"]);
        let findings = s.scan(&ScanContext::default(), &[tag("owner", "jane@example.com")]);
        assert_eq!(
            findings,
            [Finding {
                rule: "email-address".to_string(),
                category: Category::Pii,
                severity: Severity::Medium,
                field: "tag-value".to_string(),
                location: "body:Tags[0].Value".to_string(),
                excerpt: "j***@e***.com".to_string(),
            }]
        );
    }

    #[test]
    fn tag_key_gates_keyword_detectors() {
        let s = scanner(&RulesConfig::default());
        let key = "h8Qz3mV+pL0sT9wXc2Yb7Rk/Nf5Ja1Ue4Gd6Io0P";
        assert_eq!(
            rules(&s, &[tag("aws_secret_access_key", key)]),
            ["aws-secret-access-key"]
        );
        assert!(rules(&s, &[tag("build", key)]).is_empty());
        assert_eq!(rules(&s, &[tag("OwnerSSN", "536-22-8726")]), ["us-ssn"]);
        assert_eq!(
            rules(&s, &[tag("owner-phone", "(415) 555-2671")]),
            ["phone-number"]
        );
    }

    #[test]
    fn saas_secrets_in_headers_query_and_urls() {
        let s = scanner(&RulesConfig::default());
        let slack = "Bearer xoxb-45145061231-0077283783266-HZaNAR3zlT4BNLZ2mpkGCJNc";
        let header = Field::new("header:x-slack-auth", FieldKind::Header, slack);
        assert_eq!(rules(&s, &[header]), ["slack-token"]);
        let key = "AIzaQd9JjbaCIi05fHFWkvQLuR5qREC8tnECJ9I";
        let query = Field::new("query:key", FieldKind::Query, key);
        assert_eq!(rules(&s, &[query]), ["google-api-key"]);
        let dd = Field::new(
            "header:dd-api-key",
            FieldKind::Header,
            "35c4abd5c652a9f30b1789a6c52cf63c",
        );
        assert_eq!(rules(&s, &[dd]), ["datadog-api-key"]);
        let hook =
            "https://hooks.slack.com/services/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";
        let endpoint = Field::new("body:Endpoint", FieldKind::Url, hook);
        assert_eq!(rules(&s, &[endpoint]), ["slack-webhook-url"]);
        let sas = "https://acme.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&se=2027-01-01&sig=1ooVhMCDB0%2BZFnsFOvWyHH%2FHnajrfEHlAl5NJK2cM4Q%3D";
        let endpoint = Field::new("body:Endpoint", FieldKind::Url, sas);
        assert_eq!(rules(&s, &[endpoint]), ["azure-sas-signature"]);
        // Other body strings without a URL are not searched for tokens.
        let other = Field::new("body:Handler", FieldKind::Other, key);
        assert!(rules(&s, &[other]).is_empty());
        assert_eq!(rules(&s, &[tag("k", key)]), ["google-api-key"]);
    }

    #[test]
    fn modes_and_severities_follow_config() {
        let mut config = RulesConfig::default();
        let off = RuleOverride {
            mode: Some(RuleMode::Off),
            severity: None,
        };
        let high = RuleOverride {
            mode: Some(RuleMode::Enforce),
            severity: Some(Severity::High),
        };
        config.rules.insert("email-address".to_string(), off);
        config.rules.insert("iban".to_string(), high);
        let s = scanner(&config);
        assert!(rules(&s, &[tag("k", "jane@example.com")]).is_empty());
        let f = s.scan(
            &ScanContext::default(),
            &[tag("k", "DE89370400440532013000")],
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert_eq!(s.rule_mode("iban"), RuleMode::Enforce);
        assert_eq!(s.rule_mode("email-address"), RuleMode::Off);
        assert_eq!(s.rule_mode("phone-number"), RuleMode::Default);
        assert_eq!(s.severity("private-key"), Severity::High);
    }

    fn employee_config() -> RulesConfig {
        RulesConfig {
            identifiers: vec![CustomIdentifier {
                name: "employee-id".to_string(),
                regex: "EMP-[0-9]{6}".to_string(),
                keywords: vec!["employee".to_string()],
                max_distance: 50,
                ignore_words: vec![],
                severity: Severity::Low,
            }],
            ..RulesConfig::default()
        }
    }

    #[test]
    fn custom_identifiers_use_keywords_from_value_or_tag_key() {
        let s = scanner(&employee_config());
        assert_eq!(
            rules(&s, &[tag("k", "employee EMP-123456")]),
            ["custom:employee-id"]
        );
        assert_eq!(
            rules(&s, &[tag("EmployeeId", "EMP-123456")]),
            ["custom:employee-id"]
        );
        assert!(rules(&s, &[tag("k", "EMP-123456")]).is_empty());
        assert_eq!(s.severity("custom:employee-id"), Severity::Low);
    }

    #[test]
    fn suppressions_drop_matching_findings_only() {
        let mut config = employee_config();
        config.allow = vec![Suppression {
            rule: "email-address".to_string(),
            service: Some("sqs".to_string()),
            field: Some("tag-value".to_string()),
            value: Some("@example\\.com$".to_string()),
            ..Suppression::default()
        }];
        let s = scanner(&config);
        let sqs = ScanContext {
            service: Some("SQS"),
            operation: Some("TagQueue"),
        };
        let sns = ScanContext {
            service: Some("sns"),
            operation: None,
        };
        let fields = [tag("k", "a@example.com b@corp.com")];
        let got: Vec<_> = s
            .scan(&sqs, &fields)
            .into_iter()
            .map(|f| f.excerpt)
            .collect();
        assert_eq!(got, ["b***@c***.com"]);
        assert_eq!(s.scan(&sns, &fields).len(), 2);
    }

    #[test]
    fn invalid_config_names_the_entry() {
        let mut config = employee_config();
        config.allow = vec![Suppression {
            rule: "*".to_string(),
            value: Some("[".to_string()),
            ..Suppression::default()
        }];
        let err = Scanner::new(&config).unwrap_err().to_string();
        assert_eq!(err, "allow[0]: invalid regex");
        config.allow.clear();
        config
            .rules
            .insert("custom:other".to_string(), RuleOverride::default());
        let err = Scanner::new(&config).unwrap_err().to_string();
        assert_eq!(err, "rules: unknown rule \"custom:other\"");
    }

    #[test]
    fn duplicates_within_a_field_are_reported_once() {
        let s = scanner(&RulesConfig::default());
        let v = "a@example.com a@example.com";
        assert_eq!(rules(&s, &[tag("k", v)]), ["email-address"]);
    }

    #[test]
    fn scanner_is_shareable() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Scanner>();
    }

    /// (tag key, value, secret part) for one true positive of every rule.
    pub(crate) const POSITIVES: &[(&str, &str, &str)] = &[
        ("owner", "john.doe@example.com", "john.doe@example.com"),
        ("k", "AKIA2OGYBAH6TZ3QWXYZ", "AKIA2OGYBAH6TZ3QWXYZ"),
        ("aws_secret", "h8Qz3mV+pL0sT9wXc2Yb7Rk/Nf5Ja1Ue4Gd6Io0P", "h8Qz3mV+pL0sT9wXc2Yb7Rk/Nf5Ja1Ue4Gd6Io0P"),
        ("k", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0t", "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0t"),
        ("k", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
        ("k", "4111 1111 1111 1111", "4111111111111111"),
        ("k", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("k", "+1 415 555 2671", "14155552671"),
        ("ssn", "536-22-8726", "536228726"),
        ("k", "https://deploy:s3cretP4ssw0rd@git.example.com/x", "s3cretP4ssw0rd"),
        ("k", "https://api.example.com/?access_token=ya29a0AfH6SMBx3Qz", "ya29a0AfH6SMBx3Qz"),
        ("k", "sk_live_aDGGCg9QPvtZQa05mfShL7uE", "aDGGCg9QPvtZQa05mfShL7uE"),
        ("twilio_auth_token", "35c4abd5c652a9f30b1789a6c52cf63c", "35c4abd5c652a9f30b1789a6c52cf63c"),
        ("k", "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", "DBfFU0xGoyGoJc29gfFM7S.fOG16PaGtTPu4R16h1uRlQe9OntjiYjeYfZFHBih2DE"),
        ("employee", "EMP-123456", "EMP-123456"),
    ];

    #[test]
    fn excerpts_never_hold_the_secret() {
        let s = scanner(&employee_config());
        for (key, value, secret) in POSITIVES {
            let findings = s.scan(&ScanContext::default(), &[tag(key, value)]);
            assert_eq!(findings.len(), 1, "{value}");
            let shown = format!("{findings:?}{}", serde_json::to_string(&findings).unwrap());
            let chars: Vec<char> = secret.chars().collect();
            for w in chars.windows(8) {
                let piece: String = w.iter().collect();
                assert!(
                    !shown.contains(&piece),
                    "{piece} leaked from {value}: {shown}"
                );
            }
        }
    }

    #[test]
    fn every_prefix_of_every_positive_scans_without_panic() {
        let s = scanner(&employee_config());
        for (key, value, _) in POSITIVES {
            for end in (0..=value.len()).filter(|e| value.is_char_boundary(*e)) {
                let _ = s.scan(&ScanContext::default(), &[tag(key, &value[..end])]);
            }
        }
    }

    /// Inputs that defeat a naive detector (a trigger repeated 200 KB long) finish and do not
    /// panic. No wall-clock bound here: the `detect` bench measures speed; a quadratic scan
    /// would turn this test from seconds into hours.
    #[test]
    fn pathological_inputs_scan_to_the_end() {
        let s = scanner(&employee_config());
        let unit = [
            "(",
            "-----BEGIN ",
            "eyJ",
            "eyJa.",
            "://",
            "a@",
            "@a.",
            "+1 ",
            "4",
            "DE89 ",
            "%3A%2F%2F",
            "secret ",
            "ssn 1",
            "a://b:c@d?token=12345678&",
            "PuTTY-User-Key-File-",
            "employee EMP-1",
            "SIN 1 ",
            "passport A12345 ",
            "身份证 11010519491231002X ",
            "sig=",
            "?sv=1&se=2&sig=aB3dE5gH7jK9mN1pQ3sT5vX7zA2cE4gI6kM8oQ0sU2w=&",
            "glpat-",
            "xoxb-1-",
            "twilio ",
            "AccountKey=",
        ];
        for u in unit {
            let value = u.repeat(200_000 / u.len());
            let _ = s.scan(&ScanContext::default(), &all_kinds(&value));
        }
    }

    fn all_kinds(value: &str) -> Vec<Field> {
        [
            FieldKind::TagKey,
            FieldKind::TagValue,
            FieldKind::Name,
            FieldKind::FreeText,
            FieldKind::Other,
            FieldKind::Header,
            FieldKind::Query,
            FieldKind::Path,
        ]
        .into_iter()
        .map(|k| Field {
            tag_key: Some("phone ssn secret employee".to_string()),
            ..Field::new("body:x", k, value)
        })
        .collect()
    }

    proptest! {
        #[test]
        fn digit_count_agrees_with_filtering(value in "[0-9a-zé ]{0,800}") {
            prop_assert_eq!(count_digits(&value), value.bytes().filter(u8::is_ascii_digit).count());
        }

        #[test]
        fn arbitrary_strings_never_panic(value in any::<String>()) {
            let s = scanner(&employee_config());
            let _ = s.scan(&ScanContext::default(), &all_kinds(&value));
        }

        #[test]
        fn shaped_strings_never_panic(value in "[ -~]{0,40}(@|://|\\+|eyJ|AKIA|-----BEGIN |%3A%2F%2F)[ -~\\n]{0,200}") {
            let s = scanner(&employee_config());
            let _ = s.scan(&ScanContext::default(), &all_kinds(&value));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let s = scanner(&employee_config());
            let value = String::from_utf8_lossy(&bytes);
            let _ = s.scan(&ScanContext::default(), &all_kinds(&value));
        }
    }
}
