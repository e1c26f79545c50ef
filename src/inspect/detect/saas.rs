//! SaaS and API secrets by their published formats: GitHub, GitLab, Slack, Stripe, Google, Azure
//! storage, npm, PyPI, OpenAI, Anthropic, Twilio, SendGrid, HashiCorp Vault and Datadog.
//!
//! Called by the scanner when the prefilter saw a token prefix ([`find_tokens`]: `ghp_`,
//! `glpat-`, `xoxb-`, `sk_live_`, `AIza`, `sig=`, …) or a vendor keyword ([`find_keyed`]:
//! `twilio`, `datadog`, `AccountKey`, …) in the value, the tag key or the location. Most formats
//! carry a fixed prefix; some also a checksum (GitHub and npm: CRC-32 of the random part in the
//! last six base-62 characters), which tells a real token from a typed-in example. Formats
//! without a prefix (Datadog's hex keys, Twilio's auth token, Azure's 88-character account key)
//! count only next to their vendor's keyword. Documentation stand-ins (`ghp_xxxx…`,
//! `…abcdef…`, `…EXAMPLE…`, one repeated character) and truncated tokens are not findings, and
//! Stripe test-mode keys (`sk_test_`) are not either: they cannot move money or read live data.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::{keyword_before, keyword_in, placeholder::is_placeholder, Hit, KeyContext};
use crate::inspect::redact;

/// GitHub personal, OAuth, app and refresh tokens.
pub(crate) const GITHUB: &str = "github-token";
/// GitLab personal, deploy, runner, … tokens.
pub(crate) const GITLAB: &str = "gitlab-token";
/// Slack bot, user, app and refresh tokens.
pub(crate) const SLACK: &str = "slack-token";
/// Slack incoming-webhook URLs.
pub(crate) const SLACK_WEBHOOK: &str = "slack-webhook-url";
/// Stripe live secret and restricted keys.
pub(crate) const STRIPE: &str = "stripe-secret-key";
/// Google API keys.
pub(crate) const GOOGLE: &str = "google-api-key";
/// Azure storage account keys.
pub(crate) const AZURE_KEY: &str = "azure-storage-key";
/// Azure shared access signatures.
pub(crate) const AZURE_SAS: &str = "azure-sas-signature";
/// npm access tokens.
pub(crate) const NPM: &str = "npm-token";
/// PyPI upload tokens.
pub(crate) const PYPI: &str = "pypi-token";
/// OpenAI API keys.
pub(crate) const OPENAI: &str = "openai-api-key";
/// Anthropic API keys.
pub(crate) const ANTHROPIC: &str = "anthropic-api-key";
/// Twilio API key SIDs and auth tokens.
pub(crate) const TWILIO: &str = "twilio-credential";
/// SendGrid API keys.
pub(crate) const SENDGRID: &str = "sendgrid-api-key";
/// HashiCorp Vault tokens.
pub(crate) const VAULT: &str = "vault-token";
/// Datadog API and application keys.
pub(crate) const DATADOG: &str = "datadog-api-key";

/// How the text after a prefix is judged.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `ghp_` + 30 base-62 + 6 base-62 CRC-32 (also npm's `npm_`).
    Checksummed(&'static str),
    /// `github_pat_` + 22 base-62 + `_` + 59 base-62.
    GitHubFineGrained,
    /// GitLab prefix + at least 20 of `[A-Za-z0-9_-]`, dot-separated parts of routable tokens.
    GitLab,
    /// `xoxb-` and kin: numeric first part, random last part, `-` between.
    Slack,
    /// `hooks.slack.com/services/T…/B…/secret`.
    SlackWebhook,
    /// Prefix + base-62 run of at least `min` characters.
    Run {
        rule: &'static str,
        min: usize,
        dashes: bool,
    },
    /// `AIza` + exactly 35 of `[A-Za-z0-9_-]`.
    Google,
    /// `sk-`: OpenAI (`sk-proj-`, `sk-svcacct-`, …) or Anthropic (`sk-ant-api03-`).
    Sk,
    /// `SG.` + 22 + `.` + 43 of `[A-Za-z0-9_-]`.
    SendGrid,
    /// `sig=` of a query that also has `sv=` and `se=` or `sp=`.
    AzureSas,
}

/// Every prefix with its shape: matched case-sensitively at the start of a word.
const PREFIXES: &[(&str, Shape)] = &[
    ("ghp_", Shape::Checksummed(GITHUB)),
    ("gho_", Shape::Checksummed(GITHUB)),
    ("ghu_", Shape::Checksummed(GITHUB)),
    ("ghs_", Shape::Checksummed(GITHUB)),
    ("ghr_", Shape::Checksummed(GITHUB)),
    ("github_pat_", Shape::GitHubFineGrained),
    ("npm_", Shape::Checksummed(NPM)),
    ("glpat-", Shape::GitLab),
    ("gldt-", Shape::GitLab),
    ("glrt-", Shape::GitLab),
    ("glrtr-", Shape::GitLab),
    ("glcbt-", Shape::GitLab),
    ("glptt-", Shape::GitLab),
    ("glft-", Shape::GitLab),
    ("glimt-", Shape::GitLab),
    ("glagent-", Shape::GitLab),
    ("glsoat-", Shape::GitLab),
    ("glffct-", Shape::GitLab),
    ("gloas-", Shape::GitLab),
    ("glwt-", Shape::GitLab),
    ("xoxb-", Shape::Slack),
    ("xoxp-", Shape::Slack),
    ("xoxa-", Shape::Slack),
    ("xoxr-", Shape::Slack),
    ("xoxs-", Shape::Slack),
    ("xoxe-", Shape::Slack),
    ("xapp-", Shape::Slack),
    ("hooks.slack.com/services/", Shape::SlackWebhook),
    (
        "sk_live_",
        Shape::Run {
            rule: STRIPE,
            min: 24,
            dashes: false,
        },
    ),
    (
        "rk_live_",
        Shape::Run {
            rule: STRIPE,
            min: 24,
            dashes: false,
        },
    ),
    ("AIza", Shape::Google),
    (
        "pypi-AgEIcHlwaS5vcmc",
        Shape::Run {
            rule: PYPI,
            min: 50,
            dashes: true,
        },
    ),
    ("sk-", Shape::Sk),
    ("SG.", Shape::SendGrid),
    (
        "hvs.",
        Shape::Run {
            rule: VAULT,
            min: 24,
            dashes: true,
        },
    ),
    (
        "hvb.",
        Shape::Run {
            rule: VAULT,
            min: 24,
            dashes: true,
        },
    ),
    (
        "hvr.",
        Shape::Run {
            rule: VAULT,
            min: 24,
            dashes: true,
        },
    ),
    ("sig=", Shape::AzureSas),
];

/// The prefilter's strings for [`find_tokens`] (lower case; it matches case-insensitively): the
/// prefixes above, shortened where several share a start.
pub(crate) const TOKEN_TRIGGERS: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "npm_",
    "glpat-",
    "gldt-",
    "glrt-",
    "glrtr-",
    "glcbt-",
    "glptt-",
    "glft-",
    "glimt-",
    "glagent-",
    "glsoat-",
    "glffct-",
    "gloas-",
    "glwt-",
    "xox",
    "xapp-",
    "hooks.slack.com",
    "sk_live_",
    "rk_live_",
    "aiza",
    "pypi-ageichlwas5vcmc",
    "sk-",
    "sg.",
    "hvs.",
    "hvb.",
    "hvr.",
    "sig=",
];

/// Vendor words that make a prefix-less value a key: the prefilter's strings for
/// [`find_keyed`], lower case.
pub(crate) const KEYWORD_TRIGGERS: &[&str] = &[
    "twilio",
    "datadog",
    "dd_ap",
    "dd-ap",
    "accountkey",
    "account_key",
    "account-key",
    "azure",
];
const TWILIO_WORDS: &[&str] = &["twilio"];
const DATADOG_WORDS: &[&str] = &["datadog", "dd_ap", "dd-ap"];
const AZURE_WORDS: &[&str] = &["accountkey", "account_key", "account-key", "azure"];
/// How far before a value its keyword may end.
const KEYWORD_DISTANCE: usize = 80;
/// Tokens longer than this are not looked at further (no format comes close).
const MAX_TOKEN: usize = 512;
/// How far on either side of `sig=` a SAS query's `sv=` and `se=` are looked for (a whole SAS
/// query is about 200 bytes).
const SAS_WINDOW: usize = 320;
/// Most `sig=` occurrences judged in one value.
const MAX_SAS: usize = 64;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn prefix_automaton() -> Option<&'static AhoCorasick> {
    static AC: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(PREFIXES.iter().map(|(p, _)| p))
            .ok()
    })
    .as_ref()
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Length of the run of bytes from `i` that satisfy `pred`, at most [`MAX_TOKEN`] + 1.
fn run(b: &[u8], i: usize, pred: impl Fn(u8) -> bool) -> usize {
    b.get(i..).map_or(0, |rest| {
        rest.iter()
            .take(MAX_TOKEN + 1)
            .take_while(|c| pred(**c))
            .count()
    })
}

/// Whether `s` looks drawn at random rather than typed as an example: no `example` or `xxxx`,
/// no six equal or six consecutive characters (`aaaaaa`, `abcdef`, `123456`), and at least
/// eight distinct characters.
pub(crate) fn plausible(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if lower.contains("example") || lower.contains("xxxx") || is_placeholder(s) {
        return false;
    }
    let b = s.as_bytes();
    let (mut same, mut rising) = (1, 1);
    for w in b.windows(2) {
        same = if w[1] == w[0] { same + 1 } else { 1 };
        rising = if w[1] == w[0].wrapping_add(1) {
            rising + 1
        } else {
            1
        };
        if same >= 6 || rising >= 6 {
            return false;
        }
    }
    let mut seen = [false; 256];
    for &c in b {
        seen[usize::from(c)] = true;
    }
    seen.iter().filter(|s| **s).count() >= 8
}

/// `prefix…last4`: identifies the token without revealing it.
fn excerpt(prefix: &str, token: &str) -> String {
    let tail: String = token
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{prefix}…{tail}")
}

/// The base-62 CRC-32 of `random`, six characters, as GitHub and npm append it.
fn base62_crc(random: &[u8]) -> [u8; 6] {
    let mut n = crc32fast::hash(random);
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// Every prefixed token in `value`.
pub(crate) fn find_tokens(value: &str, out: &mut Vec<Hit>) {
    let Some(ac) = prefix_automaton() else {
        return;
    };
    let b = value.as_bytes();
    let mut from = 0;
    let mut sas_left = MAX_SAS;
    for m in ac.find_iter(value) {
        let start = m.start();
        if start < from || (start > 0 && is_word(b[start - 1])) {
            continue;
        }
        let Some((prefix, shape)) = PREFIXES.get(m.pattern().as_usize()) else {
            continue;
        };
        // A run of token bytes longer than any format is a blob, not a token: no prefix inside
        // it is judged (which keeps a value of repeated prefixes linear).
        let blob = run(b, start, |c| is_token_byte(c) || c == b'.');
        if blob > MAX_TOKEN {
            from = start + blob;
            continue;
        }
        // Each `sig=` looks at the query around it: at most [`MAX_SAS`] per value.
        if matches!(shape, Shape::AzureSas) {
            if sas_left == 0 {
                continue;
            }
            sas_left -= 1;
        }
        if let Some(hit) = judge(value, start, prefix, *shape) {
            from = hit.end;
            out.push(hit);
        }
    }
}

/// The hit of the token with `prefix` at `start`, if the text after it has `shape`.
fn judge(value: &str, start: usize, prefix: &str, shape: Shape) -> Option<Hit> {
    let b = value.as_bytes();
    let body_at = start + prefix.len();
    let ends_at = |end: usize| b.get(end).is_none_or(|c| !is_token_byte(*c));
    let token = |end: usize| value.get(start..end).unwrap_or("");
    match shape {
        Shape::Checksummed(rule) => {
            let len = run(b, body_at, |c| c.is_ascii_alphanumeric());
            let end = body_at + len;
            let body = b.get(body_at..end)?;
            let (random, check) = body.split_at_checked(30)?;
            let random_text = value.get(body_at..body_at + 30)?;
            (len == 36 && ends_at(end) && check == base62_crc(random) && plausible(random_text))
                .then(|| Hit::new(rule, start, end, excerpt(prefix, token(end))))
        }
        Shape::GitHubFineGrained => {
            let len = run(b, body_at, is_word);
            let end = body_at + len;
            let body = value.get(body_at..end)?;
            let (id, secret) = body.split_at_checked(22)?;
            let secret = secret.strip_prefix('_')?;
            let shaped = len == 82
                && id.bytes().all(|c| c.is_ascii_alphanumeric())
                && secret.bytes().all(|c| c.is_ascii_alphanumeric());
            (shaped && ends_at(end) && plausible(secret))
                .then(|| Hit::new(GITHUB, start, end, excerpt(prefix, token(end))))
        }
        Shape::GitLab => {
            let len = run(b, body_at, |c| is_token_byte(c) || c == b'.');
            let body = value.get(body_at..body_at + len)?.trim_end_matches('.');
            let end = body_at + body.len();
            let first = body.split('.').next().unwrap_or("");
            (first.len() >= 20 && len <= MAX_TOKEN && plausible(first))
                .then(|| Hit::new(GITLAB, start, end, excerpt(prefix, token(end))))
        }
        Shape::Slack => {
            let len = run(b, body_at, |c| c.is_ascii_alphanumeric() || c == b'-');
            let body = value.get(body_at..body_at + len)?.trim_end_matches('-');
            let end = body_at + body.len();
            let mut parts = body.split('-');
            let first = parts.next().unwrap_or("");
            let last = parts.next_back().unwrap_or("");
            let shaped = !first.is_empty()
                && first.bytes().all(|c| c.is_ascii_digit())
                && last.len() >= 20
                && body.len() >= 30
                && !body.contains("--");
            (shaped && len <= MAX_TOKEN && ends_at(end) && plausible(last))
                .then(|| Hit::new(SLACK, start, end, excerpt(prefix, token(end))))
        }
        Shape::SlackWebhook => slack_webhook(value, start, body_at),
        Shape::Run { rule, min, dashes } => {
            let len = run(b, body_at, |c| {
                c.is_ascii_alphanumeric() || (dashes && (c == b'-' || c == b'_'))
            });
            let end = body_at + len;
            let body = value.get(body_at..end)?;
            (len >= min && len <= MAX_TOKEN && ends_at(end) && plausible(body))
                .then(|| Hit::new(rule, start, end, excerpt(prefix, token(end))))
        }
        Shape::Google => {
            let len = run(b, body_at, is_token_byte);
            let end = body_at + len;
            let body = value.get(body_at..end)?;
            (len == 35 && plausible(body))
                .then(|| Hit::new(GOOGLE, start, end, excerpt(prefix, token(end))))
        }
        Shape::Sk => sk(value, start, body_at),
        Shape::SendGrid => {
            let id = run(b, body_at, is_token_byte);
            let dot = body_at + id;
            let secret = run(b, dot + 1, is_token_byte);
            let end = dot + 1 + secret;
            let shaped = id == 22 && b.get(dot) == Some(&b'.') && secret == 43;
            let body = value.get(dot + 1..end)?;
            (shaped && plausible(body))
                .then(|| Hit::new(SENDGRID, start, end, excerpt(prefix, token(end))))
        }
        Shape::AzureSas => azure_sas(value, start, body_at),
    }
}

/// `https://hooks.slack.com/services/T…/B…/<24 base-62>`: the URL is the credential.
fn slack_webhook(value: &str, start: usize, path_at: usize) -> Option<Hit> {
    let b = value.as_bytes();
    let team = run(b, path_at, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let bot_at = path_at + team + 1;
    let bot = run(b, bot_at, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let secret_at = bot_at + bot + 1;
    let secret = run(b, secret_at, |c| c.is_ascii_alphanumeric());
    let end = secret_at + secret;
    let shaped = team >= 8
        && b.get(path_at) == Some(&b'T')
        && b.get(path_at + team) == Some(&b'/')
        && bot >= 8
        && b.get(bot_at) == Some(&b'B')
        && b.get(bot_at + bot) == Some(&b'/')
        && secret == 24
        && b.get(end).is_none_or(|c| !is_token_byte(*c));
    let secret_text = value.get(secret_at..end)?;
    (shaped && plausible(secret_text)).then(|| {
        Hit::new(
            SLACK_WEBHOOK,
            start,
            end,
            "https://hooks.slack.com/services/****".to_string(),
        )
    })
}

/// `sk-…`: OpenAI keys (with `T3BlbkFJ`, the base64 of `OpenAI`, unless the project, service
/// account or admin prefix says so) and Anthropic keys (`sk-ant-api03-`, `sk-ant-admin01-`).
fn sk(value: &str, start: usize, body_at: usize) -> Option<Hit> {
    let b = value.as_bytes();
    let len = run(b, body_at, is_token_byte);
    let end = body_at + len;
    let body = value.get(body_at..end)?;
    if len > MAX_TOKEN {
        return None;
    }
    if let Some(rest) = body.strip_prefix("ant-") {
        let (kind, secret) = rest.split_once('-')?;
        let versioned = (kind.starts_with("api") || kind.starts_with("admin"))
            && kind.bytes().rev().take(2).all(|c| c.is_ascii_digit());
        return (versioned && secret.len() >= 80 && plausible(secret))
            .then(|| Hit::new(ANTHROPIC, start, end, excerpt("sk-ant-", body)));
    }
    let scoped = ["proj-", "svcacct-", "admin-"]
        .iter()
        .find_map(|p| body.strip_prefix(p).map(|secret| (*p, secret)));
    let (shown, ok) = match scoped {
        Some((p, secret)) => (p, secret.len() >= 40 && plausible(secret)),
        None => (
            "",
            len >= 40 && body.contains("T3BlbkFJ") && plausible(body),
        ),
    };
    ok.then(|| Hit::new(OPENAI, start, end, excerpt(&format!("sk-{shown}"), body)))
}

/// An Azure shared access signature: `sig=` in a query (URL or connection string) that also
/// carries the signed version `sv=` and an expiry `se=` or permissions `sp=`.
fn azure_sas(value: &str, start: usize, sig_at: usize) -> Option<Hit> {
    let b = value.as_bytes();
    let sig_len = run(b, sig_at, |c| {
        c.is_ascii_alphanumeric() || matches!(c, b'%' | b'+' | b'/')
    });
    let end = sig_at + sig_len + run(b, sig_at + sig_len, |c| c == b'=').min(2);
    let sig = value.get(sig_at..end)?;
    let decoded = percent_encoding::percent_decode_str(sig).decode_utf8_lossy();
    if decoded.trim_end_matches('=').len() < 40 || !plausible(&decoded) {
        return None;
    }
    let is_query = |c: &&u8| !c.is_ascii_whitespace() && !matches!(**c, b'"' | b'\'' | b'<' | b'>');
    let back = b
        .get(..start)?
        .iter()
        .rev()
        .take(SAS_WINDOW)
        .take_while(is_query)
        .count();
    let fwd = b
        .get(end..)?
        .iter()
        .take(SAS_WINDOW)
        .take_while(is_query)
        .count();
    let query = value.get(start - back..end + fwd)?;
    let has = |name: &str| {
        let (bare, inner) = (format!("{name}="), format!("={name}="));
        query
            .split(['&', '?', ';'])
            .any(|p| p.starts_with(&bare) || p.contains(&inner))
    };
    (has("sv") && (has("se") || has("sp")))
        .then(|| Hit::new(AZURE_SAS, start, end, "sig=****".into()))
}

/// Every keyword-backed key without a prefix: Azure storage account keys (86 base64 + `==`),
/// Datadog API (32 hex) and application keys (40 hex), Twilio API key SIDs (`SK` + 32 hex) and
/// auth tokens (32 hex). Twilio account SIDs (`AC` + 32 hex) name an account and are not secret.
pub(crate) fn find_keyed(value: &str, ctx: KeyContext<'_>, out: &mut Vec<Hit>) {
    let keyed = |words: &[&str], at: usize| {
        keyword_in(ctx.keys, words) || keyword_before(value, at, words, KEYWORD_DISTANCE)
    };
    let b = value.as_bytes();
    let is_run = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'_' | b'-');
    let mut i = 0;
    while i < b.len() {
        if !is_run(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_run(b[i]) {
            i += 1;
        }
        let pad = run(b, i, |c| c == b'=');
        let Some(s) = value.get(start..i) else {
            continue;
        };
        let hex = |t: &str| {
            t.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        };
        let mixed = |t: &str| {
            t.bytes().any(|c| c.is_ascii_digit()) && t.bytes().any(|c| c.is_ascii_alphabetic())
        };
        let rule = match (s.len(), pad) {
            (86, 2)
                if s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
                    && s.bytes().any(|c| c.is_ascii_uppercase())
                    && s.bytes().any(|c| c.is_ascii_lowercase())
                    && keyed(AZURE_WORDS, start) =>
            {
                Some(AZURE_KEY)
            }
            (32, 0) if hex(s) && mixed(s) && keyed(DATADOG_WORDS, start) => Some(DATADOG),
            (40, 0)
                if hex(s) && mixed(s) && keyed(DATADOG_WORDS, start) && keyed(&["app"], start) =>
            {
                Some(DATADOG)
            }
            (32, 0) if hex(s) && mixed(s) && keyed(TWILIO_WORDS, start) => Some(TWILIO),
            (34, 0)
                if s.starts_with("SK")
                    && hex(s.get(2..).unwrap_or(""))
                    && mixed(s.get(2..).unwrap_or(""))
                    && keyed(TWILIO_WORDS, start) =>
            {
                Some(TWILIO)
            }
            _ => None,
        };
        if let Some(rule) = rule.filter(|_| plausible(s)) {
            out.push(Hit::new(rule, start, i + pad, redact::ends(s, 4, 0)));
        }
        i += pad;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::detect::excerpts_of;

    /// Rule ids of the hits in `value` (tokens and keyed keys, with `keys` as the tag key).
    fn rules(value: &str, keys: &str) -> Vec<String> {
        let mut out = Vec::new();
        find_tokens(value, &mut out);
        find_keyed(value, KeyContext { keys }, &mut out);
        out.into_iter().map(|h| h.rule).collect()
    }

    /// `prefix` + `random` + its checksum: test tokens are built here so that no valid token
    /// sits in the source.
    fn checksummed(prefix: &str, random: &str) -> String {
        let crc = base62_crc(random.as_bytes());
        format!("{prefix}{random}{}", String::from_utf8_lossy(&crc))
    }

    const RANDOM30: &str = "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y";

    #[test]
    fn github_and_npm_tokens_need_their_checksum() {
        for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
            let t = checksummed(p, RANDOM30);
            assert_eq!(rules(&format!("token {t}."), ""), [GITHUB], "{t}");
        }
        let npm = checksummed("npm_", RANDOM30);
        assert_eq!(rules(&format!("//registry/:_authToken={npm}"), ""), [NPM]);
        let good = checksummed("ghp_", RANDOM30);
        let wrong = format!("{}0", &good[..good.len() - 1]);
        let wrong = if wrong == good {
            format!("{}1", &good[..good.len() - 1])
        } else {
            wrong
        };
        for bad in [
            wrong.as_str(),
            &good[..good.len() - 1],
            &format!("{good}A"),
            &format!("x{good}"),
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "ghp_1234567890abcdefghijklmnopqrstuvwxyz",
            "ghp_<token>",
            &checksummed("ghp_", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            &checksummed("ghp_", "abcdefghijklmnopqrstuvwxyzABCD"),
            &checksummed("GHP_", RANDOM30),
        ] {
            assert!(rules(bad, "").is_empty(), "{bad}");
        }
    }

    #[test]
    fn github_fine_grained_tokens() {
        let t = format!(
            "github_pat_{}_{}",
            "c3j27xdcg2lMLzgeonyLGc", "TJFiz4soCmZ9cpvnpKnA1hEDCM4PmBxdUcl1MhOoSfAqFdpRaj71FtQUwOg"
        );
        assert_eq!(rules(&t, ""), [GITHUB]);
        assert_eq!(excerpts_of(|o| find_tokens(&t, o)), ["github_pat_…UwOg"]);
        assert!(rules(&t[..t.len() - 1], "").is_empty());
        assert!(rules("github_pat_11AAAAAAAAAAAAAAAAAAAAAA_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "").is_empty());
    }

    #[test]
    fn gitlab_tokens() {
        assert_eq!(rules("CI_TOKEN=glpat-kDINzNlxICAbaG8wy1JZ", ""), [GITLAB]);
        assert_eq!(rules("glrt-t1_kDINzNlxICAbaG8wy1JZa", ""), [GITLAB]);
        assert_eq!(
            rules("glpat-kDINzNlxICAbaG8wy1JZ3k9Lm.01.0w1bx8mqb.", ""),
            [GITLAB]
        );
        for bad in [
            "glpat-xxxxxxxxxxxxxxxxxxxx",
            "glpat-kDINzNlxICAbaG8wy1J",
            "glpat-<your-token-here>",
            "glpat-12345678901234567890",
        ] {
            assert!(rules(bad, "").is_empty(), "{bad}");
        }
    }

    #[test]
    fn slack_tokens_and_webhooks() {
        let bot = format!(
            "xoxb-45145061231-0077283783266-{}",
            "HZaNAR3zlT4BNLZ2mpkGCJNc"
        );
        assert_eq!(rules(&format!("Bearer {bot}"), ""), [SLACK]);
        assert_eq!(rules(&bot.replace("xoxb", "xoxp"), ""), [SLACK]);
        let app = format!(
            "xapp-1-A0123BCDE45-4151450612317-{}",
            "0f9a3c1d7e2b4a5968c7d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5"
        );
        assert_eq!(rules(&app, ""), [SLACK]);
        let hook = format!(
            "https://hooks.slack.com/services/TQAVSYEEF/BNPAXX3I4IY/{}",
            "LoJT6O0nPuMKvo8jMr8Y4emF"
        );
        assert_eq!(rules(&hook, ""), [SLACK_WEBHOOK]);
        assert_eq!(
            excerpts_of(|o| find_tokens(&hook, o)),
            ["https://hooks.slack.com/services/****"]
        );
        for bad in [
            "xoxb-xxxxxxxxxxx-xxxxxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx",
            "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx",
            "xoxb-your-token",
            "xoxb-45145061231-0077283783266",
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/TQAVSYEEF/BNPAXX3I4IY/LoJT6O0nPuMKvo8jMr8Y4em",
        ] {
            assert!(rules(bad, "").is_empty(), "{bad}");
        }
    }

    #[test]
    fn stripe_live_keys_only() {
        let live = format!("sk_live_{}", "aDGGCg9QPvtZQa05mfShL7uE");
        assert_eq!(rules(&live, ""), [STRIPE]);
        assert_eq!(rules(&live.replace("sk_", "rk_"), ""), [STRIPE]);
        for bad in [
            live.replace("live", "test"),
            live.replace("sk_", "pk_"),
            "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx".to_string(),
            "sk_live_4eC39HqLyjWDarjtT1".to_string(),
            "sk_live_...".to_string(),
        ] {
            assert!(rules(&bad, "").is_empty(), "{bad}");
        }
    }

    #[test]
    fn google_keys() {
        let key = format!("AIza{}", "Qd9JjbaCIi05fHFWkvQLuR5qREC8tnECJ9I");
        assert_eq!(rules(&format!("?key={key}&q=1"), ""), [GOOGLE]);
        for bad in [
            &key[..key.len() - 1],
            &format!("{key}x"),
            "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "AIza-your-api-key",
        ] {
            assert!(rules(bad, "").is_empty(), "{bad}");
        }
    }

    const AZURE: &str =
        "u09RIv8SE3OLXrwL5u+8vLQhy/bqV1oVr3nmE9/bavHKB91/kgOfqWFhlQObEhQXox3+QeFqulRj77yxlHVwdg==";

    #[test]
    fn azure_account_keys_need_a_keyword() {
        let conn = format!("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={AZURE};EndpointSuffix=core.windows.net");
        assert_eq!(rules(&conn, ""), [AZURE_KEY]);
        assert_eq!(rules(AZURE, "azure_storage_key body:tags"), [AZURE_KEY]);
        assert!(rules(AZURE, "backup body:tags").is_empty());
        assert!(rules(&format!("AccountKey={}", &AZURE[1..]), "").is_empty());
        assert!(rules("AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==", "").len() == 1);
    }

    #[test]
    fn azure_sas_signatures() {
        let sig = "1ooVhMCDB0%2BZFnsFOvWyHH%2FHnajrfEHlAl5NJK2cM4Q%3D";
        let url = format!("https://acme.blob.core.windows.net/c/b.txt?sv=2022-11-02&ss=b&srt=o&sp=r&se=2027-01-01T00:00:00Z&sig={sig}");
        assert_eq!(rules(&url, ""), [AZURE_SAS]);
        let conn = format!("BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&sp=rl&se=2027-01-01&sig={sig}");
        assert_eq!(rules(&conn, ""), [AZURE_SAS]);
        for bad in [
            format!("https://x.example/?sig={sig}"),
            "https://x.example/?sv=2022-11-02&se=2027&sig=<signature>".to_string(),
            "https://x.example/?sv=2022-11-02&se=2027&sig=abc".to_string(),
            format!("https://x.example/?sv=2022-11-02&xsig={sig}"),
        ] {
            assert!(rules(&bad, "").is_empty(), "{bad}");
        }
    }

    #[test]
    fn pypi_openai_anthropic_sendgrid_vault() {
        let cases = [
            (format!("pypi-AgEIcHlwaS5vcmc{}", "Vr4-epzgZ3ZbxcoaRR-sFIjVO58jb0w-o5pJEjFjtnCRz6YDieSGO5NvJZZ8"), PYPI),
            (format!("sk-proj-{}", "gWB8EWcisUycL0xQ56ZAwr7paMPbfxLnphCsKE4r1j_DbI2EWqR8T4-Lc4lV"), OPENAI),
            (format!("sk-{}T3BlbkFJ{}", "hg16jQTqY9235nNT2J9i", "hRkfMaiHgAmYBiCh6Ziz"), OPENAI),
            (format!("sk-ant-api03-{}AA", "P_LVI60zif8-Qr38oNY1DhQCEYTdBkptf-N-PgZ3Cw0UabbRdsXooYbYMReQLhxM31QZzCMZtuOrYJ9NDE9SYXOaWUkMH"), ANTHROPIC),
            (format!("SG.{}.{}", "DBfFU0xGoyGoJc29gfFM7S", "fOG16PaGtTPu4R16h1uRlQe9OntjiYjeYfZFHBih2DE"), SENDGRID),
            (format!("hvs.{}", "NcjJLUev99tarr-RJP5b42hxTvTplX2vM7pKK3_7mBJnbKm"), VAULT),
            (format!("hvb.{}", "AAAAAQJ5cXd0ZXN0aW5nLXRva2VuLWJhdGNoLXZhbHVlcw"), VAULT),
        ];
        for (v, rule) in &cases {
            assert_eq!(rules(&format!("key: {v}"), ""), [*rule], "{v}");
        }
        for bad in [
            "sk-1234567890abcdef1234567890abcdef",
            "task-runner-with-a-very-long-name-for-the-nightly-build-job",
            "sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "sk-proj-...",
            "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "SG.DBfFU0xGoyGoJc29gfFM7S.fOG16PaGtTPu4R16h1uRlQe9OntjiYjeYfZFHBih2D",
            "msg.send", 
            "hvs.short",
            "pypi-AgEIcHlwaS5vcmc",
        ] {
            assert!(rules(bad, "").is_empty(), "{bad}");
        }
    }

    #[test]
    fn twilio_and_datadog_need_their_keyword() {
        let hex32 = "35c4abd5c652a9f30b1789a6c52cf63c";
        let hex40 = "03378ec16c03888ad3e21c5cf5f1dfd9c9b9f899";
        let sid = "SK4e23acedbd6b0165debbc6530a2c6a88";
        assert_eq!(rules(&format!("twilio api key {sid}"), ""), [TWILIO]);
        assert_eq!(rules(&format!("TWILIO_AUTH_TOKEN={hex32}"), ""), [TWILIO]);
        assert_eq!(rules(hex32, "twilio-auth-token body:tags"), [TWILIO]);
        assert!(rules("twilio account AC4e23acedbd6b0165debbc6530a2c6a88", "").is_empty());
        assert_eq!(rules(&format!("DD_API_KEY={hex32}"), ""), [DATADOG]);
        assert_eq!(rules(hex32, "datadog_api_key body:tags"), [DATADOG]);
        assert_eq!(rules(&format!("DD_APP_KEY={hex40}"), ""), [DATADOG]);
        assert!(rules(&format!("datadog agent commit {hex40}"), "").is_empty());
        for bad in [
            hex32.to_string(),
            format!("build {hex32}"),
            format!("DD_API_KEY={}", &hex32[1..]),
            "DD_API_KEY=00000000000000000000000000000000".to_string(),
            "DD_API_KEY=0123456789abcdef0123456789abcdef".to_string(),
            format!("DD_API_KEY={}", hex32.to_uppercase().replace('A', "G")),
        ] {
            assert!(rules(&bad, "").is_empty(), "{bad}");
        }
    }

    #[test]
    fn excerpts_keep_only_the_prefix_and_four_characters() {
        let t = checksummed("ghp_", RANDOM30);
        let shown = excerpts_of(|o| find_tokens(&t, o));
        assert_eq!(shown, [format!("ghp_…{}", &t[t.len() - 4..])]);
        let shown = excerpts_of(|o| {
            find_keyed(
                "DD_API_KEY=35c4abd5c652a9f30b1789a6c52cf63c",
                KeyContext { keys: "" },
                o,
            )
        });
        assert_eq!(shown, ["35c4…"]);
    }
}
