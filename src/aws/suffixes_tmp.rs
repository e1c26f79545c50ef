//! Temporary partition suffix list until the endpoints catalogue lands.

/// Every AWS partition DNS suffix.
pub fn partition_dns_suffixes() -> &'static [&'static str] {
    &[
        "amazonaws.com",
        "api.aws",
        "on.aws",
        "amazonaws.com.cn",
        "api.amazonwebservices.com.cn",
        "c2s.ic.gov",
        "api.aws.ic.gov",
        "sc2s.sgov.gov",
        "api.aws.scloud",
        "cloud.adc-e.uk",
        "api.cloud-aws.adc-e.uk",
        "csp.hci.ic.gov",
        "api.aws.hci.ic.gov",
        "amazonaws.eu",
        "api.amazonwebservices.eu",
    ]
}
