//! Sample events for the summary and SARIF unit tests: two identified calls with findings and
//! one tunnelled connection.

use crate::events::{ConnectionDetails, Event, EventType};
use crate::inspect::{Category, Finding, Severity};

fn at() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_700_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn non_fips(host: &str) -> Finding {
    Finding {
        rule: "non-fips-endpoint".into(),
        category: Category::Endpoint,
        severity: Severity::Low,
        field: "endpoint".into(),
        location: "host".into(),
        excerpt: host.into(),
    }
}

/// Events in recording order.
pub(crate) fn events() -> Vec<Event> {
    let mut sqs = Event::new(EventType::ApiCall, "queue.amazonaws.com", "127.0.0.1", at());
    sqs.event_source = Some("sqs.amazonaws.com".into());
    sqs.event_name = Some("CreateQueue".into());
    sqs.tls_details.tls_version = Some("TLSv1.3".into());
    sqs.tls_details.upstream_tls_version = Some("TLSv1.2".into());
    sqs.fips.endpoint_is_fips = Some(false);
    sqs.fips.fips_endpoint = Some("sqs-fips.us-east-1.amazonaws.com".into());
    sqs.findings = vec![
        non_fips("queue.amazonaws.com"),
        Finding {
            rule: "email-address".into(),
            category: Category::Pii,
            severity: Severity::Medium,
            field: "tag-value".into(),
            location: "body:Tags[0].Value".into(),
            excerpt: "j***@e***.com".into(),
        },
    ];
    let mut sts = Event::new(
        EventType::ApiCall,
        "sts.us-east-1.amazonaws.com",
        "127.0.0.1",
        at(),
    );
    sts.event_source = Some("sts.amazonaws.com".into());
    sts.event_name = Some("GetCallerIdentity".into());
    sts.tls_details.tls_version = Some("TLSv1.3".into());
    sts.fips.endpoint_is_fips = Some(false);
    sts.fips.fips_endpoint = Some("sts-fips.us-east-1.amazonaws.com".into());
    sts.findings = vec![non_fips("sts.us-east-1.amazonaws.com")];
    let mut tunnel = Event::new(EventType::Connection, "example.com", "127.0.0.1", at());
    tunnel.connection = Some(ConnectionDetails {
        outcome: "tunnelled".into(),
        ..ConnectionDetails::default()
    });
    vec![sqs, sts, tunnel]
}
