//! The environment a child process needs to send its AWS calls through awsguard.
//!
//! Called by [`crate::exec`] and [`crate::harness::Guard::env`]. Pure: the caller reads the
//! current `NO_PROXY`/`no_proxy` and passes it in. Every AWS client family is covered: proxy
//! variables in both cases, and the combined CA bundle under every name a client reads.

use std::path::Path;

/// Variables that point clients at the proxy.
pub const PROXY_VARS: &[&str] = &["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"];

/// Variables that name a CA bundle (botocore, requests, OpenSSL, Node.js, curl).
pub const BUNDLE_VARS: &[&str] = &[
    "AWS_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS",
    "CURL_CA_BUNDLE",
];

/// Variables that list hosts clients reach directly.
pub const NO_PROXY_VARS: &[&str] = &["NO_PROXY", "no_proxy"];

/// The variables to set for a child: proxy URL, bundle path, and `NO_PROXY` without AWS hosts.
///
/// `no_proxy` is the current value (`NO_PROXY`, else `no_proxy`), if any; when nothing is left
/// after removing AWS entries, both variables are set empty so an inherited value cannot leak
/// AWS calls past the proxy.
pub fn child_env(
    proxy_url: &str,
    bundle: &Path,
    no_proxy: Option<&str>,
    aws_suffixes: &[&str],
) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    for name in PROXY_VARS {
        vars.push(((*name).to_owned(), proxy_url.to_owned()));
    }
    let bundle = bundle.display().to_string();
    for name in BUNDLE_VARS {
        vars.push(((*name).to_owned(), bundle.clone()));
    }
    let kept = no_proxy
        .map(|v| without_aws(v, aws_suffixes))
        .unwrap_or_default();
    for name in NO_PROXY_VARS {
        vars.push(((*name).to_owned(), kept.clone()));
    }
    vars
}

/// `NO_PROXY` with every entry removed that would send some AWS host around the proxy.
pub fn without_aws(no_proxy: &str, aws_suffixes: &[&str]) -> String {
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty() && !bypasses_aws(entry, aws_suffixes))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether a `NO_PROXY` entry matches any host under an AWS DNS suffix: `*`, a parent domain of a
/// suffix (`com`, `.amazonaws.com`), or a host under one (`sqs.us-east-1.amazonaws.com`).
fn bypasses_aws(entry: &str, aws_suffixes: &[&str]) -> bool {
    let domain = host_part(entry)
        .trim_start_matches('*')
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if domain.is_empty() {
        return entry.trim() == "*";
    }
    aws_suffixes.iter().any(|suffix| {
        let suffix = suffix.to_ascii_lowercase();
        label_suffix(&suffix, &domain) || label_suffix(&domain, &suffix)
    })
}

/// The host of an entry written `host:port` (IPv6 literals in brackets are left alone).
fn host_part(entry: &str) -> &str {
    if entry.starts_with('[') {
        return entry;
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !host.contains(':') => {
            host
        }
        _ => entry,
    }
}

/// Whether `name` ends with `suffix` on a label boundary (or equals it).
fn label_suffix(name: &str, suffix: &str) -> bool {
    name == suffix
        || name
            .strip_suffix(suffix)
            .is_some_and(|rest| rest.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AWS: &[&str] = &["amazonaws.com", "amazonaws.com.cn", "api.aws"];

    #[test]
    fn aws_entries_are_removed_and_others_kept() {
        let value =
            "localhost,127.0.0.1, .amazonaws.com,*.api.aws,sqs.us-east-1.amazonaws.com:443,\
                     169.254.169.254,example.com,10.0.0.0/8,com,[::1]:8080";
        assert_eq!(
            without_aws(value, AWS),
            "localhost,127.0.0.1,169.254.169.254,example.com,10.0.0.0/8,[::1]:8080"
        );
    }

    #[test]
    fn a_star_bypasses_everything_and_is_removed() {
        assert_eq!(without_aws("*", AWS), "");
        assert_eq!(without_aws("*,internal.test", AWS), "internal.test");
    }

    #[test]
    fn lookalike_domains_are_kept() {
        assert_eq!(
            without_aws("evilamazonaws.com,amazonaws.com.evil.test", AWS),
            "evilamazonaws.com,amazonaws.com.evil.test"
        );
    }

    #[test]
    fn child_env_sets_every_name() {
        let vars = child_env(
            "http://127.0.0.1:9",
            Path::new("/tmp/b.pem"),
            Some(".amazonaws.com,localhost"),
            AWS,
        );
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or("<unset>")
        };
        assert_eq!(vars.len(), 11);
        assert_eq!(get("HTTPS_PROXY"), "http://127.0.0.1:9");
        assert_eq!(get("http_proxy"), "http://127.0.0.1:9");
        assert_eq!(get("AWS_CA_BUNDLE"), "/tmp/b.pem");
        assert_eq!(get("CURL_CA_BUNDLE"), "/tmp/b.pem");
        assert_eq!(get("NODE_EXTRA_CA_CERTS"), "/tmp/b.pem");
        assert_eq!(get("NO_PROXY"), "localhost");
        assert_eq!(get("no_proxy"), "localhost");
    }

    proptest! {
        #[test]
        fn never_panics_and_never_keeps_an_aws_suffix(value in ".{0,200}") {
            let kept = without_aws(&value, AWS);
            for entry in kept.split(',') {
                prop_assert!(!bypasses_aws(entry, AWS));
            }
        }
    }
}
