//! Customer endpoints: hosts under AWS domains that serve the customer's own application (API
//! Gateway APIs, Lambda function URLs, load balancers, AppSync APIs, OpenSearch domains).
//!
//! Their requests are the application's, not AWS API calls: the body is application payload, not
//! resource metadata, so no content rule judges it, and there is no operation to name. Transport,
//! TLS and URL-credential rules still apply. Pure: reads only the parsed host.

use super::host::HostInfo;

/// A customer endpoint: which AWS service hosts it and the resource id the host names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerEndpoint {
    /// `eventSource` of its calls (`execute-api.amazonaws.com`).
    pub event_source: &'static str,
    /// The id the host carries: API id, function URL id, load balancer or domain name.
    pub id: String,
}

/// Endpoint prefix → the event source of the customer resources served under it. Each is
/// recognised only with a resource label in front (`abc123.execute-api.…`); the bare endpoint
/// (`aoss.us-east-1.amazonaws.com`) is the service's own API.
const HOSTED: &[(&str, &str)] = &[
    ("execute-api", "execute-api.amazonaws.com"),
    ("lambda-url", "lambda-url.amazonaws.com"),
    ("elb", "elasticloadbalancing.amazonaws.com"),
    ("appsync-api", "appsync.amazonaws.com"),
    ("appsync-realtime-api", "appsync.amazonaws.com"),
    ("es", "es.amazonaws.com"),
    ("aos", "es.amazonaws.com"),
    ("aoss", "aoss.amazonaws.com"),
];

/// The customer endpoint `host` addresses, if it is one.
pub fn customer_endpoint(host: &HostInfo) -> Option<CustomerEndpoint> {
    let id = host.subdomain.as_deref().filter(|s| !s.is_empty())?;
    let (_, event_source) = HOSTED
        .iter()
        .find(|(prefix, _)| *prefix == host.endpoint_prefix)?;
    Some(CustomerEndpoint {
        event_source,
        id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::host::parse_host;

    fn of(host: &str) -> Option<(&'static str, String)> {
        let info = parse_host(host)?;
        customer_endpoint(&info).map(|c| (c.event_source, c.id))
    }

    #[test]
    fn hosted_application_endpoints_are_customer_endpoints() {
        let cases = [
            (
                "a1b2c3.execute-api.us-east-1.amazonaws.com",
                "execute-api.amazonaws.com",
                "a1b2c3",
            ),
            (
                "xyz789.lambda-url.eu-west-1.on.aws",
                "lambda-url.amazonaws.com",
                "xyz789",
            ),
            (
                "my-alb-1234.us-east-1.elb.amazonaws.com",
                "elasticloadbalancing.amazonaws.com",
                "my-alb-1234",
            ),
            (
                "abc.appsync-api.us-east-1.amazonaws.com",
                "appsync.amazonaws.com",
                "abc",
            ),
            (
                "abc.appsync-realtime-api.us-east-1.amazonaws.com",
                "appsync.amazonaws.com",
                "abc",
            ),
            (
                "search-logs-abc.us-east-1.es.amazonaws.com",
                "es.amazonaws.com",
                "search-logs-abc",
            ),
            (
                "col1.us-east-1.aoss.amazonaws.com",
                "aoss.amazonaws.com",
                "col1",
            ),
        ];
        for (host, source, id) in cases {
            assert_eq!(of(host), Some((source, id.to_owned())), "{host}");
        }
    }

    #[test]
    fn aws_apis_are_not_customer_endpoints() {
        for host in [
            "apigateway.us-east-1.amazonaws.com",
            "lambda.us-east-1.amazonaws.com",
            "aoss.us-east-1.amazonaws.com",
            "es.us-east-1.amazonaws.com",
            "elasticloadbalancing.us-east-1.amazonaws.com",
            "appsync.us-east-1.amazonaws.com",
            "sqs.us-east-1.amazonaws.com",
            "bucket.s3.us-east-1.amazonaws.com",
        ] {
            assert_eq!(of(host), None, "{host}");
        }
    }
}
