//! Reading a host the catalogue does not list by its shape: `{prefix}.{region}.{suffix}`,
//! `{leading}.{region}.{prefix}.{suffix}`, FIPS markers (`-fips`, `fips.`, fips pseudo-regions),
//! `dualstack`, S3 buckets, access points and `{account}.` prefixes; and the sign-in hosts that
//! sit outside every partition suffix (`{region}.signin.aws.amazon.com`).
//!
//! Called by [`crate::aws::host`] after the exact and prefix-stripped catalogue lookups fail. It
//! never invents a FIPS counterpart; it only says what the host itself is.

use super::catalogue::{is_under, Catalogue};
use crate::aws::host::{assign_leading, is_account_id, normalize_region, HostInfo, Resolved};

/// Service domains outside the partition suffixes, as botocore's endpoint rule sets build them
/// (`https://{Region}.signin.aws.amazon.com`): (domain, endpoint prefix, partition).
const SERVICE_DOMAINS: &[(&str, &str, &str)] = &[
    ("signin.aws.amazon.com", "signin", "aws"),
    ("signin.amazonaws.cn", "signin", "aws-cn"),
    ("signin.amazonaws-us-gov.com", "signin", "aws-us-gov"),
];

/// Labels after the region that do not name the service: interface VPC endpoints are
/// `vpce-{id}.{service}.{region}.vpce.amazonaws.com`.
const NOT_A_SERVICE_AFTER_REGION: &[&str] = &["vpce"];

/// The region label found in a host.
struct RegionLabel {
    /// Index of the label among the labels in front of the suffix.
    index: usize,
    region: String,
    /// The label was a fips pseudo-region (`fips-us-east-1`, `us-east-1-fips`).
    fips: bool,
    /// Legacy S3 dash form: `s3-us-west-2` carries the service too.
    s3_dash: bool,
}

/// Labels before the region (or the whole front when there is none), split into the endpoint
/// and what stands in front of it.
struct Split {
    prefix: String,
    leading: Option<String>,
    fips: bool,
    access_point: Option<(String, Option<String>)>,
}

/// Parse `host` (normalised, under `suffix`) by shape. `None` when nothing stands before the
/// suffix and region.
pub(crate) fn from_shape(
    cat: &'static Catalogue,
    host: String,
    suffix: &'static str,
) -> Option<Resolved> {
    let front = host.get(..host.len().checked_sub(suffix.len() + 1)?)?;
    let labels: Vec<&str> = front.split('.').collect();
    let found = find_region(cat, suffix, &labels);
    let (mut before, after) = match &found {
        Some(r) => (
            labels.get(..r.index)?.to_vec(),
            labels.get(r.index + 1..).unwrap_or_default(),
        ),
        None => (labels.clone(), &[][..]),
    };
    if found.as_ref().is_some_and(|r| r.s3_dash) {
        before.push("s3");
    }
    let mut dualstack = false;
    if before.last() == Some(&"dualstack") {
        before.pop();
        dualstack = true;
    }
    let split = if after.is_empty() || NOT_A_SERVICE_AFTER_REGION == after {
        split_endpoint(cat, &before)?
    } else {
        split_region_first(cat, &before, after)?
    };
    let region = found.as_ref().map(|r| r.region.clone());
    let partition_index = cat.partition_for(suffix, region.as_deref())?;
    let partition = cat.partitions().get(partition_index)?;
    dualstack |= partition.dualstack_suffix == suffix;
    let mut info = HostInfo {
        host,
        endpoint_prefix: split.prefix,
        region,
        partition: partition.name,
        fips: split.fips || found.as_ref().is_some_and(|r| r.fips),
        dualstack,
        bucket: None,
        access_point: None,
        account_id: None,
        subdomain: None,
        known: false,
        spelled_prefix: String::new(),
    };
    match (split.access_point, &split.leading) {
        (Some((name, account)), _) => {
            info.access_point = Some(name);
            info.account_id = account;
        }
        (None, Some(lead)) => assign_leading(&mut info, lead),
        (None, None) => {}
    }
    let leading = split.leading;
    Some(Resolved {
        info,
        endpoint: None,
        partition_index,
        leading,
        suffix,
    })
}

/// The service domain `host` sits strictly under: (domain, endpoint prefix, partition).
pub(crate) fn service_domain(host: &str) -> Option<(&'static str, &'static str, &'static str)> {
    SERVICE_DOMAINS
        .iter()
        .copied()
        .find(|(domain, _, _)| is_under(host, domain))
}

/// Parse `host` (normalised) under a service domain: `{region}.signin.aws.amazon.com`. A label
/// that is a region of the domain's partition is the region; any other labels lead.
pub(crate) fn from_service_domain(cat: &'static Catalogue, host: String) -> Option<Resolved> {
    let (domain, prefix, partition_name) = service_domain(&host)?;
    let partitions = cat.partitions();
    let partition_index = partitions.iter().position(|p| p.name == partition_name)?;
    let partition = partitions.get(partition_index)?;
    let front = host.get(..host.len().checked_sub(domain.len() + 1)?)?;
    let labels: Vec<&str> = front.split('.').collect();
    let at = labels.iter().rposition(|l| partition.has_region(l));
    let region = at.and_then(|i| labels.get(i)).map(|r| r.to_string());
    let others: Vec<&str> = (0..labels.len())
        .filter(|i| Some(*i) != at)
        .filter_map(|i| labels.get(i).copied())
        .collect();
    let leading = (!others.is_empty()).then(|| others.join("."));
    let mut info = HostInfo {
        endpoint_prefix: prefix.to_string(),
        region,
        partition: partition.name,
        fips: false,
        dualstack: false,
        bucket: None,
        access_point: None,
        account_id: None,
        subdomain: None,
        known: false,
        spelled_prefix: String::new(),
        host,
    };
    if let Some(lead) = &leading {
        assign_leading(&mut info, lead);
    }
    Some(Resolved {
        info,
        endpoint: None,
        partition_index,
        leading,
        suffix: domain,
    })
}

/// The rightmost label that is a region of a partition owning `suffix`.
fn find_region(cat: &Catalogue, suffix: &str, labels: &[&str]) -> Option<RegionLabel> {
    for (index, label) in labels.iter().enumerate().rev() {
        let (region, fips) = normalize_region(label);
        if cat.is_region_under(suffix, &region) {
            return Some(RegionLabel {
                index,
                region,
                fips,
                s3_dash: false,
            });
        }
        let Some(rest) = label.strip_prefix("s3-") else {
            continue;
        };
        let (rest, s3_fips) = match rest.strip_prefix("fips-") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        if cat.is_region_under(suffix, rest) {
            let region = rest.to_string();
            return Some(RegionLabel {
                index,
                region,
                fips: s3_fips,
                s3_dash: true,
            });
        }
    }
    None
}

/// Split the labels before the region into endpoint prefix and leading labels.
fn split_endpoint(cat: &Catalogue, labels: &[&str]) -> Option<Split> {
    let (last, front) = labels.split_last()?;
    let (tail, tail_fips) = strip_fips(last);
    if tail.starts_with("s3") {
        return Some(split_s3(tail, tail_fips, front));
    }
    let mut fips = tail_fips;
    let mut bare: Vec<&str> = Vec::with_capacity(labels.len());
    for label in labels {
        if *label == "fips" {
            fips = true;
            continue;
        }
        let (label, f) = strip_fips(label);
        fips |= f;
        bare.push(label);
    }
    let account_first = bare.len() > 1 && bare.first().is_some_and(|l| is_account_id(l));
    let fallback = if account_first {
        1
    } else {
        bare.len().saturating_sub(1)
    };
    let at = (0..bare.len())
        .find(|&k| bare.get(k..).is_some_and(|s| cat.is_service(&s.join("."))))
        .unwrap_or(fallback);
    let prefix = bare.get(at..)?.join(".");
    if prefix.is_empty() {
        return None;
    }
    let leading = bare
        .get(..at)
        .filter(|l| !l.is_empty())
        .map(|l| l.join("."));
    Some(Split {
        prefix,
        leading,
        fips,
        access_point: None,
    })
}

/// `{leading}.{region}.{service}.{suffix}` (Neptune Analytics graphs, RDS and EKS resource
/// hosts): the labels after the region are the endpoint, every label before it leads.
fn split_region_first(cat: &Catalogue, before: &[&str], after: &[&str]) -> Option<Split> {
    let mut split = split_endpoint(cat, after)?;
    let leading: Vec<&str> = before
        .iter()
        .copied()
        .chain(split.leading.as_deref())
        .collect();
    split.leading = (!leading.is_empty()).then(|| leading.join("."));
    Some(split)
}

/// S3 family endpoints: buckets, access points, S3 Express zones, multi-region access points.
fn split_s3(tail: &str, fips: bool, front: &[&str]) -> Split {
    let leading = (!front.is_empty()).then(|| front.join("."));
    let mut split = Split {
        prefix: tail.to_string(),
        leading,
        fips,
        access_point: None,
    };
    match tail {
        "s3-accesspoint" | "s3-object-lambda" => {
            if tail == "s3-accesspoint" {
                split.prefix = "s3".to_string();
            }
            split.access_point = split.leading.as_deref().map(access_point_parts);
        }
        // Transfer Acceleration: `bucket.s3-accelerate[.dualstack].amazonaws.com`.
        "s3-accelerate" => split.prefix = "s3".to_string(),
        "s3-global" => {
            split.prefix = "s3".to_string();
            if let [alias, "accesspoint"] | [alias, "mrap", "accesspoint"] = front {
                split.access_point = Some((alias.to_string(), None));
            }
        }
        // Zonal data plane (`s3express-usw2-az1`); `s3express-control` is an endpoint of its own.
        t if t.starts_with("s3express-") && t != "s3express-control" => {
            split.prefix = "s3express".to_string();
        }
        _ => {}
    }
    split
}

/// `name-123456789012` → (`name`, Some(`123456789012`)); anything else is all name.
fn access_point_parts(label: &str) -> (String, Option<String>) {
    match label.rsplit_once('-') {
        Some((name, account)) if !name.is_empty() && is_account_id(account) => {
            (name.to_string(), Some(account.to_string()))
        }
        _ => (label.to_string(), None),
    }
}

fn strip_fips(label: &str) -> (&str, bool) {
    match label.strip_suffix("-fips") {
        Some(bare) if !bare.is_empty() => (bare, true),
        _ => (label, false),
    }
}

#[cfg(test)]
mod tests {
    use crate::aws::host::{parse_host, HostInfo};

    fn info(host: &str) -> HostInfo {
        match parse_host(host) {
            Some(i) => i,
            None => panic!("{host} did not parse"),
        }
    }

    #[test]
    fn access_point_splits_name_and_account() {
        let i = info("name-123456789012.s3-accesspoint.us-east-1.amazonaws.com");
        assert_eq!(i.endpoint_prefix, "s3");
        assert_eq!(i.access_point.as_deref(), Some("name"));
        assert_eq!(i.account_id.as_deref(), Some("123456789012"));
        assert_eq!(
            (i.region.as_deref(), i.fips, i.known),
            (Some("us-east-1"), false, false)
        );
        let i =
            info("my-ap-123456789012.s3-accesspoint-fips.dualstack.us-gov-west-1.amazonaws.com");
        assert_eq!(i.access_point.as_deref(), Some("my-ap"));
        assert_eq!(
            (i.partition, i.fips, i.dualstack),
            ("aws-us-gov", true, true)
        );
    }

    #[test]
    fn multi_region_access_point_has_no_region() {
        let i = info("mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com");
        assert_eq!((i.endpoint_prefix.as_str(), i.region), ("s3", None));
        assert_eq!(i.bucket, None);
        assert_eq!(i.access_point.as_deref(), Some("mfzwi23gnjvgw"));
    }

    #[test]
    fn s3_express_zonal_bucket() {
        let i = info("bucket--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com");
        assert_eq!(i.endpoint_prefix, "s3express");
        assert_eq!(i.bucket.as_deref(), Some("bucket--use1-az4--x-s3"));
        assert_eq!(
            (i.region.as_deref(), i.subdomain),
            (Some("us-east-1"), None)
        );
    }

    #[test]
    fn legacy_s3_dash_region() {
        let i = info("bucket.s3-us-west-2.amazonaws.com");
        assert_eq!(i.endpoint_prefix, "s3");
        assert_eq!(
            (i.bucket.as_deref(), i.region.as_deref()),
            (Some("bucket"), Some("us-west-2"))
        );
    }

    #[test]
    fn unknown_region_keeps_the_shape() {
        let i = info("sqs-fips.us-east-9.amazonaws.com");
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.region.as_deref()),
            ("sqs", Some("us-east-9"))
        );
        assert_eq!((i.fips, i.known, i.partition), (true, false, "aws"));
        let i = info("api-fips.sagemaker.us-west-9.amazonaws.com");
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.fips),
            ("api.sagemaker", true)
        );
        let i = info("fips.eks.us-west-9.amazonaws.com");
        assert_eq!((i.endpoint_prefix.as_str(), i.fips), ("eks", true));
    }

    #[test]
    fn pseudo_region_in_host() {
        let i = info("sqs.fips-us-gov-west-1.amazonaws.com");
        assert_eq!(
            (i.region.as_deref(), i.fips, i.partition),
            (Some("us-gov-west-1"), true, "aws-us-gov")
        );
    }

    #[test]
    fn account_prefix_on_unknown_endpoint() {
        let i = info("123456789012.dkr.ecr.us-east-1.amazonaws.com");
        assert_eq!(i.account_id.as_deref(), Some("123456789012"));
        assert_eq!(i.endpoint_prefix, "dkr.ecr");
    }

    #[test]
    fn unknown_service_label_with_subdomain() {
        let i = info("abcdef.lambda-url.us-east-1.on.aws");
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.subdomain.as_deref()),
            ("lambda-url", Some("abcdef"))
        );
        assert_eq!((i.partition, i.dualstack), ("aws", false));
    }

    #[test]
    fn dualstack_suffix_marks_dualstack() {
        let i = info("sqs.us-west-9.api.aws");
        assert_eq!((i.endpoint_prefix.as_str(), i.dualstack), ("sqs", true));
    }

    #[test]
    fn region_first_hosts_put_the_service_after_the_region() {
        let i = info("g-1.eu-central-1.neptune-graph.amazonaws.com");
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.region.as_deref()),
            ("neptune-graph", Some("eu-central-1"))
        );
        assert_eq!(i.subdomain.as_deref(), Some("g-1"));
        let i = info("db.abc123.us-east-1.rds.amazonaws.com");
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.subdomain.as_deref()),
            ("rds", Some("db.abc123"))
        );
    }

    #[test]
    fn vpc_endpoint_hosts_keep_the_service_before_the_region() {
        let i = info("vpce-0a1b2c-d3e4.sqs.us-east-1.vpce.amazonaws.com");
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.subdomain.as_deref()),
            ("sqs", Some("vpce-0a1b2c-d3e4"))
        );
    }

    #[test]
    fn s3_express_control_is_not_a_zonal_endpoint() {
        let i = info("s3express-control.us-west-2.amazonaws.com");
        assert_eq!(
            (i.endpoint_prefix.as_str(), i.bucket),
            ("s3express-control", None)
        );
    }

    #[test]
    fn transfer_acceleration_bucket() {
        for host in [
            "bucket.s3-accelerate.amazonaws.com",
            "bucket.s3-accelerate.dualstack.amazonaws.com",
        ] {
            let i = info(host);
            assert_eq!(
                (i.endpoint_prefix.as_str(), i.bucket.as_deref()),
                ("s3", Some("bucket")),
                "{host}"
            );
        }
    }

    #[test]
    fn bare_region_is_not_an_endpoint() {
        assert_eq!(parse_host("us-east-1.amazonaws.com"), None);
        assert_eq!(parse_host("dualstack.us-east-1.amazonaws.com"), None);
    }
}
