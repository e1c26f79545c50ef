//! AWS hostnames: is a host AWS, and which endpoint, region, partition, bucket or account it names.
//!
//! The proxy calls [`is_aws_host`] on every CONNECT to choose between intercepting and tunnelling,
//! and the identifier calls [`parse_host`] for each intercepted request. Parsing is pure: it reads
//! only the host string and the embedded catalogue ([`crate::aws::endpoints`]). A host the data
//! lists is answered from the data; other hosts under an AWS suffix are read by their shape
//! (`{prefix}.{region}.{suffix}`, S3 virtual hosts and access points, `{account}.` prefixes), and
//! so are the sign-in hosts outside every partition suffix (`{region}.signin.aws.amazon.com`).

use crate::aws::endpoints::catalogue::{catalogue, Catalogue, Endpoint};
use crate::aws::endpoints::shape;

/// Longest host accepted (the DNS limit).
const MAX_HOST: usize = 253;
/// Longest label accepted (the DNS limit).
const MAX_LABEL: usize = 63;

/// What an AWS host says about the endpoint it addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// The host, lower-cased, without port or trailing dot.
    pub host: String,
    /// The endpoint prefix (service part of the host, as endpoints.json keys it): `sqs`,
    /// `api.ecr`, `runtime.sagemaker`, `s3`.
    pub endpoint_prefix: String,
    /// The real region (fips pseudo-regions removed), or the signing region of a global endpoint.
    pub region: Option<String>,
    /// The partition id, e.g. `aws`, `aws-us-gov`, `aws-cn`.
    pub partition: &'static str,
    /// The host addresses a FIPS endpoint.
    pub fips: bool,
    /// The host addresses a dual-stack (IPv4 + IPv6) endpoint.
    pub dualstack: bool,
    /// S3 virtual-hosted bucket (`bucket.s3.us-east-1.amazonaws.com`).
    pub bucket: Option<String>,
    /// S3 access point name (`name-123456789012.s3-accesspoint.…`) or multi-region alias.
    pub access_point: Option<String>,
    /// Account id taken from the host (`123456789012.s3-control.…`, access points, ECR registries).
    pub account_id: Option<String>,
    /// Other labels in front of a known endpoint (API Gateway ids and the like).
    pub subdomain: Option<String>,
    /// The endpoint (host without bucket/account labels) is listed in botocore's endpoints.json.
    pub known: bool,
    /// The endpoint prefix as the host spells it: the labels between any leading labels and the
    /// suffix, without region and FIPS/dual-stack markers (`bedrock-runtime`, `data.iotevents`).
    /// endpoints.json sometimes keys the endpoint otherwise (`bedrock`, `ioteventsdata`); the
    /// service models mostly follow the host. Empty when only a region stands before the suffix.
    pub spelled_prefix: String,
}

impl HostInfo {
    /// Endpoint prefixes a service model may know this host by, longest (most specific) first:
    /// [`Self::spelled_prefix`] and [`Self::endpoint_prefix`], each with any subdomain in front
    /// and each shorter dotted tail (`abc.execute-api`, `execute-api`; `bedrock-runtime`,
    /// `bedrock`; `api.ecr`, `ecr`). endpoints.json and the service models do not always cut or
    /// name a host alike, so identification takes the first one a model knows. Bucket, access
    /// point and account labels are never candidates.
    pub fn prefix_candidates(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for stem in [&self.spelled_prefix, &self.endpoint_prefix] {
            if stem.is_empty() {
                continue;
            }
            let full = match &self.subdomain {
                Some(sub) => format!("{sub}.{stem}"),
                None => stem.clone(),
            };
            let tails = full
                .match_indices('.')
                .filter_map(|(i, _)| full.get(i + 1..));
            for candidate in std::iter::once(full.as_str()).chain(tails) {
                if !out.iter().any(|c| c == candidate) {
                    out.push(candidate.to_string());
                }
            }
        }
        // Stable: on equal length the host's own spelling stays ahead.
        out.sort_by_key(|c| std::cmp::Reverse(c.len()));
        out
    }
}

/// Lower-case a host, drop a `:port` and one trailing dot; `None` unless it is a valid DNS name.
pub fn normalize_host(host: &str) -> Option<String> {
    let host = match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        Some(_) => return None,
        None => host,
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    let valid_char = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
    if host.is_empty() || host.len() > MAX_HOST || !host.bytes().all(valid_char) {
        return None;
    }
    if host.split('.').any(|l| l.is_empty() || l.len() > MAX_LABEL) {
        return None;
    }
    Some(host.to_ascii_lowercase())
}

/// Split a region into the real region and whether it was a FIPS pseudo-region:
/// `fips-us-east-1`, `us-east-1-fips` and `fips-us-gov-west-1` give (`us-east-1`|…, true).
pub fn normalize_region(region: &str) -> (String, bool) {
    let mut real = region.to_ascii_lowercase();
    let mut fips = false;
    if real.len() > 5 && real.starts_with("fips-") {
        real.drain(..5);
        fips = true;
    }
    if real.len() > 5 && real.ends_with("-fips") {
        real.truncate(real.len() - 5);
        fips = true;
    }
    (real, fips)
}

/// True when the host (no port, any case, optional trailing dot) is under an AWS partition
/// suffix, e.g. `sqs.us-east-1.amazonaws.com` or `bucket.s3.cn-north-1.amazonaws.com.cn`, or
/// under a sign-in domain (`eu-central-1.signin.aws.amazon.com`, an API the CLI calls).
pub fn is_aws_host(host: &str) -> bool {
    normalize_host(host)
        .is_some_and(|h| catalogue().suffix_of(&h).is_some() || shape::service_domain(&h).is_some())
}

/// Whether `host` is an S3 static-website endpoint (`bucket.s3-website-us-east-1.amazonaws.com`,
/// `bucket.s3-website.eu-central-1.amazonaws.com`): HTTP-only by design, serving public content.
pub fn is_s3_website(host: &str) -> bool {
    let Some(host) = normalize_host(host) else {
        return false;
    };
    // Bucket names may hold dots: the website label is any label after the first.
    host.split('.').skip(1).any(|label| {
        label == "s3-website"
            || label
                .strip_prefix("s3-website-")
                .is_some_and(|r| !r.is_empty())
    }) && catalogue().suffix_of(&host).is_some()
}

/// Parse an AWS host into endpoint prefix, region, partition, FIPS and dual-stack flags, and any
/// bucket, access point or account labels. `None` when the host is not under an AWS suffix.
pub fn parse_host(host: &str) -> Option<HostInfo> {
    resolve(host).map(|r| r.info)
}

/// A parsed host plus what the FIPS verdict needs: the catalogue record and the labels in front
/// of the endpoint.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) info: HostInfo,
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) partition_index: usize,
    /// Labels in front of the endpoint host (bucket, access point, account), if any.
    pub(crate) leading: Option<String>,
    pub(crate) suffix: &'static str,
}

pub(crate) fn resolve(host: &str) -> Option<Resolved> {
    let mut resolved = lookup(host)?;
    resolved.info.spelled_prefix = spelled_prefix(&resolved);
    legacy(&mut resolved.info);
    Some(resolved)
}

/// Legacy host forms the endpoint data no longer lists but SDKs still send to: the endpoint
/// prefix they stand for, and the region their global form serves.
const LEGACY_PREFIXES: &[(&str, &str, &str)] = &[
    // The AWS CLI v1 and older SDKs send SQS to `queue.amazonaws.com` (us-east-1) and
    // `<region>.queue.amazonaws.com`.
    ("queue", "sqs", "us-east-1"),
];

/// Rewrites a legacy host's endpoint prefix (and the region of its global form) to the service
/// it stands for, so identification and the FIPS verdict see SQS rather than `queue`.
fn legacy(info: &mut HostInfo) {
    let Some((_, prefix, region)) = LEGACY_PREFIXES
        .iter()
        .find(|(legacy, _, _)| *legacy == info.endpoint_prefix)
    else {
        return;
    };
    info.endpoint_prefix = (*prefix).to_owned();
    info.spelled_prefix = (*prefix).to_owned();
    if info.region.is_none() && info.partition == "aws" {
        info.region = Some((*region).to_owned());
    }
}

/// Data first, then shape; `spelled_prefix` is left empty.
fn lookup(host: &str) -> Option<Resolved> {
    let host = normalize_host(host)?;
    let cat = catalogue();
    let Some(suffix) = cat.suffix_of(&host) else {
        return shape::from_service_domain(cat, host);
    };
    if let Some(ep) = cat.endpoint(&host) {
        return Some(from_endpoint(cat, host, ep, None, suffix));
    }
    // suffix_of guarantees at least one label before the suffix.
    let front_len = host.len().saturating_sub(suffix.len() + 1);
    for (dot, _) in host.match_indices('.').take_while(|(i, _)| *i < front_len) {
        if let Some(ep) = host.get(dot + 1..).and_then(|rest| cat.endpoint(rest)) {
            let leading = host.get(..dot).map(str::to_string);
            return Some(from_endpoint(cat, host, ep, leading, suffix));
        }
    }
    shape::from_shape(cat, host, suffix)
}

fn from_endpoint(
    cat: &'static Catalogue,
    host: String,
    ep: Endpoint,
    leading: Option<String>,
    suffix: &'static str,
) -> Resolved {
    let partition = cat.partitions().get(ep.partition).map_or("aws", |p| p.name);
    let mut info = HostInfo {
        host,
        endpoint_prefix: ep.service.to_string(),
        region: ep.region.map(str::to_string),
        partition,
        fips: ep.fips,
        dualstack: ep.dualstack,
        bucket: None,
        access_point: None,
        account_id: None,
        subdomain: None,
        known: true,
        spelled_prefix: String::new(),
    };
    if let Some(lead) = &leading {
        assign_leading(&mut info, lead);
    }
    Resolved {
        info,
        endpoint: Some(ep),
        partition_index: ep.partition,
        leading,
        suffix,
    }
}

/// The endpoint labels as the host spells them: the host without suffix, leading labels, region
/// and FIPS/dual-stack markers (`api-fips.sagemaker` → `api.sagemaker`, `s3-us-west-2` → `s3`).
fn spelled_prefix(r: &Resolved) -> String {
    let host = r.info.host.as_str();
    let front = host
        .strip_suffix(r.suffix)
        .and_then(|f| f.strip_suffix('.'))
        .unwrap_or_default();
    let front = match &r.leading {
        Some(lead) => front
            .strip_prefix(lead.as_str())
            .and_then(|f| f.strip_prefix('.'))
            .unwrap_or(front),
        None => front,
    };
    let region = r.info.region.as_deref();
    let labels: Vec<&str> = front
        .split('.')
        .filter_map(|l| spelled_label(l, region))
        .collect();
    labels.join(".")
}

/// One label of [`spelled_prefix`]: `None` for region and FIPS/dual-stack markers.
fn spelled_label<'a>(label: &'a str, region: Option<&str>) -> Option<&'a str> {
    if matches!(label, "" | "fips" | "dualstack") {
        return None;
    }
    if let Some(region) = region {
        if normalize_region(label).0 == region {
            return None;
        }
        let s3_dash = label
            .strip_prefix("s3-")
            .map(|rest| rest.strip_prefix("fips-").unwrap_or(rest));
        if s3_dash == Some(region) {
            return Some("s3");
        }
    }
    match label.strip_suffix("-fips") {
        Some(bare) if !bare.is_empty() => Some(bare),
        _ => Some(label),
    }
}

/// Put the labels in front of an endpoint where they belong: an S3 (or S3 Express) bucket, an
/// account id, or a plain subdomain.
pub(crate) fn assign_leading(info: &mut HostInfo, lead: &str) {
    if matches!(info.endpoint_prefix.as_str(), "s3" | "s3express") {
        info.bucket = Some(lead.to_string());
    } else if is_account_id(lead) {
        info.account_id = Some(lead.to_string());
    } else {
        info.subdomain = Some(lead.to_string());
    }
}

/// Twelve ASCII digits.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_sqs_hosts_name_sqs_and_their_region() {
        let global = parse_host("queue.amazonaws.com").unwrap();
        assert_eq!(global.endpoint_prefix, "sqs");
        assert_eq!(global.region.as_deref(), Some("us-east-1"));
        let regional = parse_host("eu-west-1.queue.amazonaws.com").unwrap();
        assert_eq!(regional.endpoint_prefix, "sqs");
        assert_eq!(regional.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn s3_website_endpoints_in_both_spellings() {
        assert!(is_s3_website("site.s3-website-us-east-1.amazonaws.com"));
        assert!(is_s3_website(
            "www.example.com.s3-website.eu-central-1.amazonaws.com"
        ));
        assert!(is_s3_website("site.s3-website.eu-central-1.amazonaws.com"));
        assert!(!is_s3_website("s3-website-us-east-1.amazonaws.com"));
        assert!(!is_s3_website("site.s3.us-east-1.amazonaws.com"));
        assert!(!is_s3_website("site.s3-website-us-east-1.example.com"));
    }

    fn info(host: &str) -> HostInfo {
        match parse_host(host) {
            Some(i) => i,
            None => panic!("{host} did not parse"),
        }
    }

    #[test]
    fn normalize_host_lowercases_and_strips_port_and_dot() {
        assert_eq!(
            normalize_host("SQS.us-east-1.AmazonAWS.com.:443").as_deref(),
            Some("sqs.us-east-1.amazonaws.com")
        );
        assert_eq!(normalize_host("a.b:").as_deref(), None);
        assert_eq!(normalize_host("[::1]:443"), None);
        assert_eq!(normalize_host("a..b"), None);
        assert_eq!(normalize_host(""), None);
        assert_eq!(normalize_host("a b.com"), None);
        assert_eq!(normalize_host(&"a".repeat(64)), None);
    }

    #[test]
    fn normalize_region_strips_fips_pseudo_regions() {
        assert_eq!(
            normalize_region("fips-us-east-1"),
            ("us-east-1".to_string(), true)
        );
        assert_eq!(
            normalize_region("us-east-1-fips"),
            ("us-east-1".to_string(), true)
        );
        assert_eq!(
            normalize_region("fips-us-gov-west-1"),
            ("us-gov-west-1".to_string(), true)
        );
        assert_eq!(
            normalize_region("US-EAST-1"),
            ("us-east-1".to_string(), false)
        );
        assert_eq!(normalize_region("fips"), ("fips".to_string(), false));
        assert_eq!(normalize_region("fips-"), ("fips-".to_string(), false));
    }

    #[test]
    fn aws_hosts_are_recognised_under_every_partition_suffix() {
        for host in [
            "sqs.us-east-1.amazonaws.com",
            "SQS.US-EAST-1.AMAZONAWS.COM.",
            "sqs.us-east-1.api.aws",
            "s3.cn-north-1.amazonaws.com.cn",
            "sqs.us-iso-east-1.c2s.ic.gov",
            "sqs.us-isob-east-1.sc2s.sgov.gov",
            "sqs.eu-isoe-west-1.cloud.adc-e.uk",
            "sqs.us-isof-south-1.csp.hci.ic.gov",
            "sqs.eusc-de-east-1.amazonaws.eu",
            "abc.lambda-url.us-east-1.on.aws",
        ] {
            assert!(is_aws_host(host), "{host}");
        }
        for host in [
            "amazonaws.com",
            "evilamazonaws.com",
            "example.com",
            "amazonaws.com.evil.io",
            "",
        ] {
            assert!(!is_aws_host(host), "{host}");
        }
    }

    #[test]
    fn regional_endpoint_from_the_data() {
        let i = info("sqs.us-east-1.amazonaws.com");
        assert_eq!(i.endpoint_prefix, "sqs");
        assert_eq!(i.region.as_deref(), Some("us-east-1"));
        assert_eq!(i.partition, "aws");
        assert!(!i.fips && !i.dualstack && i.known);
    }

    #[test]
    fn odd_fips_hosts_name_their_endpoint_prefix() {
        for (host, prefix) in [
            ("fips.eks.us-east-1.amazonaws.com", "eks"),
            ("fips.batch.us-east-1.amazonaws.com", "batch"),
            (
                "api-fips.sagemaker.us-east-1.amazonaws.com",
                "api.sagemaker",
            ),
            (
                "runtime-fips.sagemaker.us-east-1.amazonaws.com",
                "runtime.sagemaker",
            ),
            ("data.iot-fips.us-east-1.amazonaws.com", "data.iot"),
            ("ecr-fips.us-east-1.amazonaws.com", "api.ecr"),
        ] {
            let i = info(host);
            assert_eq!(
                (i.endpoint_prefix.as_str(), i.fips),
                (prefix, true),
                "{host}"
            );
            assert_eq!(i.region.as_deref(), Some("us-east-1"), "{host}");
        }
    }

    #[test]
    fn govcloud_partition_and_pseudo_region_hosts() {
        let i = info("sqs.us-gov-west-1.amazonaws.com");
        assert_eq!((i.partition, i.fips), ("aws-us-gov", true));
        let i = info("secretsmanager.us-east-1-fips.amazonaws.com");
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.region.as_deref(), i.fips),
            ("secretsmanager", Some("us-east-1"), true)
        );
    }

    #[test]
    fn s3_virtual_hosted_bucket() {
        let i = info("my.bucket.s3-fips.us-east-1.amazonaws.com");
        assert_eq!(i.bucket.as_deref(), Some("my.bucket"));
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.fips, i.known),
            ("s3", true, true)
        );
        let i = info("bucket.s3-fips.dualstack.us-east-1.amazonaws.com");
        assert_eq!(
            (i.bucket.as_deref(), i.fips, i.dualstack),
            (Some("bucket"), true, true)
        );
    }

    #[test]
    fn s3_control_account_prefix() {
        let i = info("123456789012.s3-control.us-east-1.amazonaws.com");
        assert_eq!(i.account_id.as_deref(), Some("123456789012"));
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.bucket.as_deref()),
            ("s3-control", None)
        );
    }

    #[test]
    fn global_endpoints_carry_their_signing_region() {
        let i = info("iam.amazonaws.com");
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.region.as_deref(), i.fips),
            ("iam", Some("us-east-1"), false)
        );
        let i = info("iam-fips.amazonaws.com");
        assert_eq!((i.endpoint_prefix.as_str(), i.fips), ("iam", true));
    }

    #[test]
    fn every_prefix_and_suffix_of_real_hosts_parses_without_panic() {
        for host in [
            "name-123456789012.s3-accesspoint-fips.dualstack.us-gov-west-1.amazonaws.com",
            "api-fips.sagemaker.us-east-1.amazonaws.com",
            "secretsmanager.us-east-1-fips.amazonaws.com:443",
        ] {
            for i in 0..=host.len() {
                let (head, tail) = host.split_at(i);
                let _ = (parse_host(head), parse_host(tail));
                let _ = (crate::aws::endpoints::fips_verdict(head), is_aws_host(tail));
            }
        }
        // A cut at a label boundary still parses as the shorter host.
        let cut = parse_host("sagemaker.us-east-1.amazonaws.com").map(|i| i.endpoint_prefix);
        assert_eq!(cut.as_deref(), Some("sagemaker"));
    }

    #[test]
    fn prefix_candidates_longest_first() {
        for (host, want) in [
            ("api.ecr.us-east-1.amazonaws.com", vec!["api.ecr", "ecr"]),
            ("sqs-fips.us-gov-west-1.amazonaws.com", vec!["sqs"]),
            (
                "bedrock-runtime.us-east-1.amazonaws.com",
                vec!["bedrock-runtime", "bedrock"],
            ),
            (
                "data.iotevents.us-east-1.amazonaws.com",
                vec!["data.iotevents", "ioteventsdata", "iotevents"],
            ),
            (
                "abc123.execute-api.us-east-1.amazonaws.com",
                vec!["abc123.execute-api", "execute-api"],
            ),
            ("my.bucket.s3.us-east-1.amazonaws.com", vec!["s3"]),
            (
                "123456789012.s3-control.us-east-1.amazonaws.com",
                vec!["s3-control"],
            ),
            ("eu-central-1.signin.aws.amazon.com", vec!["signin"]),
        ] {
            assert_eq!(info(host).prefix_candidates(), want, "{host}");
        }
    }

    #[test]
    fn spelled_prefix_drops_region_and_fips_markers() {
        for (host, want) in [
            (
                "api-fips.sagemaker.us-east-1.amazonaws.com",
                "api.sagemaker",
            ),
            ("bucket.s3-us-west-2.amazonaws.com", "s3"),
            (
                "secretsmanager.us-east-1-fips.amazonaws.com",
                "secretsmanager",
            ),
            ("sqs.fips-us-east-1.amazonaws.com", "sqs"),
            ("s3-fips.dualstack.us-east-1.amazonaws.com", "s3"),
            ("fips.eks.us-east-1.amazonaws.com", "eks"),
            ("iam.amazonaws.com", "iam"),
            ("eu-central-1.signin.aws.amazon.com", ""),
        ] {
            assert_eq!(info(host).spelled_prefix, want, "{host}");
        }
    }

    #[test]
    fn sign_in_hosts_outside_the_partition_suffixes() {
        let i = info("EU-Central-1.Signin.AWS.Amazon.com");
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.region.as_deref(), i.partition),
            ("signin", Some("eu-central-1"), "aws")
        );
        assert!(!i.fips && !i.known);
        let i = info("us-gov-west-1.signin.amazonaws-us-gov.com");
        assert_eq!(
            (i.region.as_deref(), i.partition),
            (Some("us-gov-west-1"), "aws-us-gov")
        );
        assert!(is_aws_host("cn-north-1.signin.amazonaws.cn"));
        for host in [
            "signin.aws.amazon.com",
            "console.aws.amazon.com",
            "eu-central-1.console.aws.amazon.com",
        ] {
            assert!(!is_aws_host(host), "{host}");
            assert_eq!(parse_host(host), None, "{host}");
        }
    }

    #[test]
    fn non_aws_hosts_do_not_parse() {
        for host in [
            "example.com",
            "amazonaws.com",
            "localhost:8000",
            "sqs.amazonaws.com:x",
        ] {
            assert_eq!(parse_host(host), None, "{host}");
        }
    }

    mod prop {
        use super::super::*;
        use crate::aws::endpoints::fips_verdict;
        use proptest::prelude::*;

        fn check(host: &str) -> Result<(), TestCaseError> {
            let info = parse_host(host);
            let verdict = fips_verdict(host);
            prop_assert_eq!(info.is_some(), verdict.is_some());
            if let (Some(info), Some(verdict)) = (info, verdict) {
                prop_assert!(is_aws_host(host));
                prop_assert_eq!(info.fips, verdict.endpoint_is_fips);
                prop_assert_eq!(info.endpoint_prefix, verdict.service);
                if verdict.endpoint_is_fips {
                    prop_assert_eq!(verdict.fips_endpoint, Some(info.host));
                }
            }
            Ok(())
        }

        proptest! {
            #[test]
            fn arbitrary_strings_never_panic(host in any::<String>()) {
                check(&host)?;
                let _ = normalize_region(&host);
            }

            #[test]
            fn aws_shaped_strings_never_panic(
                host in "([a-z0-9-]{0,12}[.]){0,5}(fips[.-])?(us|eu|cn|us-gov|fips-us)?-?[a-z]{0,6}-?[0-9]?(-fips)?[.](amazonaws[.]com|api[.]aws|on[.]aws|c2s[.]ic[.]gov)[.]?(:[0-9]{0,5})?"
            ) {
                check(&host)?;
            }

            #[test]
            fn arbitrary_bytes_as_lossy_text_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                check(&String::from_utf8_lossy(&bytes))?;
            }
        }
    }
}
