//! The FIPS endpoint catalogue: partition DNS suffixes and, for any request host, whether it is a
//! FIPS endpoint and which FIPS endpoint serves the same service and region.
//!
//! The policy step calls [`fips_verdict`] for every intercepted request and puts the answer in the
//! event's `fips` field (and in the block message: "FIPS endpoint: sqs-fips.us-east-1…"). The
//! proxy and [`crate::aws::host`] use [`partition_dns_suffixes`] to recognise AWS hosts.
//!
//! Source of truth: botocore's endpoints.json, embedded as `data/endpoints.tsv.gz` (see
//! `tools/gen_endpoints.py`). Only explicit variants there say a FIPS endpoint exists: a standard
//! host without one gets no counterpart, even where the SDK rule sets would build a `-fips` name.

pub(crate) mod catalogue;
pub(crate) mod shape;

use crate::aws::host::{normalize_region, resolve, Resolved};
use catalogue::catalogue;
pub use catalogue::CatalogueError;

/// The FIPS answer for one request host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FipsVerdict {
    /// The host is a FIPS endpoint (including GovCloud hosts whose FIPS variant is the standard
    /// host itself, and the deprecated fips pseudo-region hosts).
    pub endpoint_is_fips: bool,
    /// The FIPS host to use instead: the host itself when it is FIPS; for a standard host, the
    /// FIPS endpoint of the same service and region (with any bucket/account labels kept), or
    /// `None` when the data lists none.
    pub fips_endpoint: Option<String>,
    /// The endpoint prefix, e.g. `sqs`, `api.ecr`, `s3`.
    pub service: String,
    /// The real region (fips pseudo-regions removed), if the host names or implies one.
    pub region: Option<String>,
}

/// Every partition's DNS suffixes, standard and dual-stack, plus suffixes the endpoint rule sets
/// use (`on.aws`); longest first so the first match is the most specific.
pub fn partition_dns_suffixes() -> &'static [&'static str] {
    catalogue().suffixes()
}

/// Parse the embedded catalogue now (it is otherwise parsed on first use) and return how many
/// hosts it lists. An error means a corrupt build; every host would then be unknown.
pub fn catalogue_check() -> Result<usize, CatalogueError> {
    catalogue::check()
}

/// The FIPS verdict for a request host (no port needed; any case; optional trailing dot).
/// `None` when the host is not under an AWS suffix or has no endpoint label.
pub fn fips_verdict(host: &str) -> Option<FipsVerdict> {
    fips_verdict_in(host, None)
}

/// [`fips_verdict`] for a host that does not name its region (`ec2.amazonaws.com`,
/// `monitoring.amazonaws.com`): `scope_region`, the region the request is signed for, fills in.
pub fn fips_verdict_in(host: &str, scope_region: Option<&str>) -> Option<FipsVerdict> {
    let mut resolved = resolve(host)?;
    if resolved.info.region.is_none() {
        resolved.info.region = scope_region.map(|r| normalize_region(r).0);
    }
    let fips_endpoint = if resolved.info.fips {
        Some(resolved.info.host.clone())
    } else {
        counterpart(&resolved)
    };
    Some(FipsVerdict {
        endpoint_is_fips: resolved.info.fips,
        fips_endpoint,
        service: resolved.info.endpoint_prefix,
        region: resolved.info.region,
    })
}

/// The FIPS host serving the same service and region as a standard host, from explicit data.
fn counterpart(r: &Resolved) -> Option<String> {
    let cat = catalogue();
    let info = &r.info;
    let target = match r.endpoint {
        Some(ep) => ep.fips_host?,
        None => cat.fips_for(
            r.partition_index,
            &info.endpoint_prefix,
            info.region.as_deref()?,
        )?,
    };
    if r.endpoint.is_none() && info.access_point.is_some() {
        return access_point_fips(r);
    }
    Some(match &r.leading {
        Some(lead) => format!("{lead}.{target}"),
        None => target.to_string(),
    })
}

/// An S3 access point's FIPS host. endpoints.json does not list access point hosts; the S3 rule
/// set serves them as `s3-accesspoint-fips` exactly where S3 itself has an explicit FIPS variant,
/// which the caller has checked.
fn access_point_fips(r: &Resolved) -> Option<String> {
    let info = &r.info;
    if info.endpoint_prefix != "s3" {
        return None;
    }
    let (lead, region) = (r.leading.as_deref()?, info.region.as_deref()?);
    let dualstack = if info.dualstack { "dualstack." } else { "" };
    Some(format!(
        "{lead}.s3-accesspoint-fips.{dualstack}{region}.{}",
        r.suffix
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_and_regionless_hosts_get_the_right_fips_endpoint() {
        let sqs = verdict("queue.amazonaws.com");
        assert_eq!(
            (sqs.service.as_str(), sqs.fips_endpoint.as_deref()),
            ("sqs", Some("sqs-fips.us-east-1.amazonaws.com"))
        );
        assert_eq!(
            verdict("us-west-2.queue.amazonaws.com")
                .fips_endpoint
                .as_deref(),
            Some("sqs-fips.us-west-2.amazonaws.com")
        );
        assert_eq!(verdict("ec2.amazonaws.com").fips_endpoint, None);
        let scoped = fips_verdict_in("ec2.amazonaws.com", Some("us-west-2")).unwrap();
        assert_eq!(
            scoped.fips_endpoint.as_deref(),
            Some("ec2-fips.us-west-2.amazonaws.com")
        );
        let named = fips_verdict_in("sqs.us-east-2.amazonaws.com", Some("us-west-2")).unwrap();
        assert_eq!(named.region.as_deref(), Some("us-east-2"));
    }

    fn verdict(host: &str) -> FipsVerdict {
        match fips_verdict(host) {
            Some(v) => v,
            None => panic!("{host}: no verdict"),
        }
    }

    fn standard(host: &str, fips: Option<&str>, service: &str, region: Option<&str>) {
        let want = FipsVerdict {
            endpoint_is_fips: false,
            fips_endpoint: fips.map(str::to_string),
            service: service.to_string(),
            region: region.map(str::to_string),
        };
        assert_eq!(verdict(host), want, "{host}");
    }

    fn is_fips(host: &str, service: &str, region: Option<&str>) {
        let want = FipsVerdict {
            endpoint_is_fips: true,
            fips_endpoint: Some(host.to_ascii_lowercase()),
            service: service.to_string(),
            region: region.map(str::to_string),
        };
        assert_eq!(verdict(host), want, "{host}");
    }

    #[test]
    fn suffixes_cover_every_partition() {
        let s = partition_dns_suffixes();
        for want in [
            "amazonaws.com",
            "amazonaws.com.cn",
            "api.aws",
            "api.amazonwebservices.com.cn",
            "c2s.ic.gov",
            "sc2s.sgov.gov",
            "cloud.adc-e.uk",
            "csp.hci.ic.gov",
            "amazonaws.eu",
            "api.amazonwebservices.eu",
            "on.aws",
        ] {
            assert!(s.contains(&want), "{want} missing from {s:?}");
        }
        assert_eq!(s.first(), Some(&"api.amazonwebservices.com.cn"));
    }

    #[test]
    fn standard_host_points_to_its_explicit_fips_variant() {
        standard(
            "sqs.us-east-1.amazonaws.com",
            Some("sqs-fips.us-east-1.amazonaws.com"),
            "sqs",
            Some("us-east-1"),
        );
        standard(
            "SQS.US-EAST-1.AMAZONAWS.COM.",
            Some("sqs-fips.us-east-1.amazonaws.com"),
            "sqs",
            Some("us-east-1"),
        );
    }

    #[test]
    fn fips_hosts_not_shaped_service_dash_fips() {
        standard(
            "eks.us-east-1.amazonaws.com",
            Some("fips.eks.us-east-1.amazonaws.com"),
            "eks",
            Some("us-east-1"),
        );
        standard(
            "batch.us-east-1.amazonaws.com",
            Some("fips.batch.us-east-1.amazonaws.com"),
            "batch",
            Some("us-east-1"),
        );
        standard(
            "api.sagemaker.us-east-1.amazonaws.com",
            Some("api-fips.sagemaker.us-east-1.amazonaws.com"),
            "api.sagemaker",
            Some("us-east-1"),
        );
        standard(
            "runtime.sagemaker.us-east-1.amazonaws.com",
            Some("runtime-fips.sagemaker.us-east-1.amazonaws.com"),
            "runtime.sagemaker",
            Some("us-east-1"),
        );
        standard(
            "data.iot.us-east-1.amazonaws.com",
            Some("data.iot-fips.us-east-1.amazonaws.com"),
            "data.iot",
            Some("us-east-1"),
        );
        standard(
            "api.ecr.us-east-1.amazonaws.com",
            Some("ecr-fips.us-east-1.amazonaws.com"),
            "api.ecr",
            Some("us-east-1"),
        );
        is_fips("fips.eks.us-east-1.amazonaws.com", "eks", Some("us-east-1"));
        is_fips(
            "api-fips.sagemaker.us-east-1.amazonaws.com",
            "api.sagemaker",
            Some("us-east-1"),
        );
        is_fips(
            "runtime-fips.sagemaker.us-east-1.amazonaws.com",
            "runtime.sagemaker",
            Some("us-east-1"),
        );
        is_fips(
            "data.iot-fips.us-east-1.amazonaws.com",
            "data.iot",
            Some("us-east-1"),
        );
        is_fips(
            "ecr-fips.us-east-1.amazonaws.com",
            "api.ecr",
            Some("us-east-1"),
        );
    }

    #[test]
    fn govcloud_standard_host_that_is_its_own_fips_variant() {
        is_fips(
            "sqs.us-gov-west-1.amazonaws.com",
            "sqs",
            Some("us-gov-west-1"),
        );
        is_fips(
            "eks.us-gov-west-1.amazonaws.com",
            "eks",
            Some("us-gov-west-1"),
        );
        is_fips(
            "runtime.sagemaker.us-gov-west-1.amazonaws.com",
            "runtime.sagemaker",
            Some("us-gov-west-1"),
        );
        is_fips("iam.us-gov.amazonaws.com", "iam", Some("us-gov-west-1"));
        standard(
            "s3.us-gov-west-1.amazonaws.com",
            Some("s3-fips.us-gov-west-1.amazonaws.com"),
            "s3",
            Some("us-gov-west-1"),
        );
    }

    #[test]
    fn deprecated_pseudo_region_hosts_are_fips() {
        is_fips(
            "secretsmanager.us-east-1-fips.amazonaws.com",
            "secretsmanager",
            Some("us-east-1"),
        );
        is_fips(
            "m2.fips-us-gov-west-1.amazonaws.com",
            "m2",
            Some("us-gov-west-1"),
        );
        is_fips(
            "kms-fips.us-gov-west-1.amazonaws.com",
            "kms",
            Some("us-gov-west-1"),
        );
        is_fips("sqs.fips-us-east-1.amazonaws.com", "sqs", Some("us-east-1"));
    }

    #[test]
    fn dualstack_fips_hosts() {
        is_fips(
            "secretsmanager-fips.us-east-1.api.aws",
            "secretsmanager",
            Some("us-east-1"),
        );
        is_fips(
            "s3-fips.dualstack.us-east-1.amazonaws.com",
            "s3",
            Some("us-east-1"),
        );
        standard(
            "s3.dualstack.us-east-1.amazonaws.com",
            Some("s3-fips.dualstack.us-east-1.amazonaws.com"),
            "s3",
            Some("us-east-1"),
        );
        standard(
            "secretsmanager.us-east-1.api.aws",
            Some("secretsmanager-fips.us-east-1.api.aws"),
            "secretsmanager",
            Some("us-east-1"),
        );
        standard(
            "sqs.us-east-1.api.aws",
            Some("sqs-fips.us-east-1.amazonaws.com"),
            "sqs",
            Some("us-east-1"),
        );
    }

    #[test]
    fn s3_buckets_and_access_points_keep_their_labels() {
        is_fips(
            "bucket.s3-fips.us-east-1.amazonaws.com",
            "s3",
            Some("us-east-1"),
        );
        standard(
            "bucket.s3.us-east-1.amazonaws.com",
            Some("bucket.s3-fips.us-east-1.amazonaws.com"),
            "s3",
            Some("us-east-1"),
        );
        standard(
            "bucket.s3.amazonaws.com",
            Some("bucket.s3-fips.us-east-1.amazonaws.com"),
            "s3",
            Some("us-east-1"),
        );
        standard(
            "name-123456789012.s3-accesspoint.us-east-1.amazonaws.com",
            Some("name-123456789012.s3-accesspoint-fips.us-east-1.amazonaws.com"),
            "s3",
            Some("us-east-1"),
        );
        standard(
            "name-123456789012.s3-accesspoint.eu-west-1.amazonaws.com",
            None,
            "s3",
            Some("eu-west-1"),
        );
        is_fips(
            "name-123456789012.s3-accesspoint-fips.us-east-1.amazonaws.com",
            "s3",
            Some("us-east-1"),
        );
        standard(
            "123456789012.s3-control.us-east-1.amazonaws.com",
            Some("123456789012.s3-control-fips.us-east-1.amazonaws.com"),
            "s3-control",
            Some("us-east-1"),
        );
    }

    #[test]
    fn global_endpoints() {
        standard(
            "iam.amazonaws.com",
            Some("iam-fips.amazonaws.com"),
            "iam",
            Some("us-east-1"),
        );
        is_fips("iam-fips.amazonaws.com", "iam", Some("us-east-1"));
        standard(
            "route53.amazonaws.com",
            Some("route53-fips.amazonaws.com"),
            "route53",
            Some("us-east-1"),
        );
        is_fips("route53-fips.amazonaws.com", "route53", Some("us-east-1"));
        standard(
            "sts.amazonaws.com",
            Some("sts-fips.us-east-1.amazonaws.com"),
            "sts",
            Some("us-east-1"),
        );
    }

    #[test]
    fn no_fips_endpoint_is_invented() {
        standard(
            "sqs.eu-west-1.amazonaws.com",
            None,
            "sqs",
            Some("eu-west-1"),
        );
        standard(
            "sqs.cn-north-1.amazonaws.com.cn",
            None,
            "sqs",
            Some("cn-north-1"),
        );
        standard(
            "sqs.us-west-9.amazonaws.com",
            None,
            "sqs",
            Some("us-west-9"),
        );
        standard(
            "mystery.us-east-1.amazonaws.com",
            None,
            "mystery",
            Some("us-east-1"),
        );
    }

    #[test]
    fn non_aws_hosts_have_no_verdict() {
        assert_eq!(fips_verdict("example.com"), None);
        assert_eq!(fips_verdict("amazonaws.com"), None);
        assert_eq!(fips_verdict("us-east-1.amazonaws.com"), None);
    }
}
