//! Unit tests for the exec summary.

use super::*;
use crate::events::Decision;
use crate::exec::fixtures;

#[test]
fn counts_calls_tls_fips_and_connections() {
    let s = Summary::new(&fixtures::events(), &FailOn::default(), 0, 0);
    assert_eq!(s.calls, 2);
    assert_eq!(s.blocked, 0);
    assert_eq!(
        s.operations,
        vec![
            OperationCount {
                service: "sqs".into(),
                operation: "CreateQueue".into(),
                calls: 1,
                blocked: 0
            },
            OperationCount {
                service: "sts".into(),
                operation: "GetCallerIdentity".into(),
                calls: 1,
                blocked: 0
            },
        ]
    );
    assert_eq!(s.client_tls, BTreeMap::from([("TLSv1.3".to_owned(), 2)]));
    assert_eq!(s.upstream_tls, BTreeMap::from([("TLSv1.2".to_owned(), 1)]));
    assert_eq!(s.fips.fips_available, 2);
    assert_eq!(
        s.fips.suggested,
        vec![
            "sqs-fips.us-east-1.amazonaws.com",
            "sts-fips.us-east-1.amazonaws.com"
        ]
    );
    assert_eq!(s.connections, BTreeMap::from([("tunnelled".to_owned(), 1)]));
}

#[test]
fn findings_group_by_rule_highest_severity_first() {
    let fail_on: FailOn = "medium".parse().unwrap();
    let s = Summary::new(&fixtures::events(), &fail_on, 0, 3);
    assert_eq!(s.findings.len(), 2);
    assert_eq!(s.findings[0].rule, "email-address");
    assert!(s.findings[0].fails);
    assert_eq!(
        s.findings[0].locations,
        vec!["queue.amazonaws.com CreateQueue body:Tags[0].Value j***@e***.com"]
    );
    assert_eq!(s.findings[1].rule, "non-fips-endpoint");
    assert_eq!(s.findings[1].count, 2);
    assert!(!s.findings[1].fails);
    assert!(any_fails(&fixtures::events(), &fail_on));
    assert!(!any_fails(&fixtures::events(), &"high".parse().unwrap()));
}

#[test]
fn text_rendering_is_stable() {
    let mut events = fixtures::events();
    events[1].decision = Decision::Blocked;
    let fail_on: FailOn = "email-address".parse().unwrap();
    let text = Summary::new(&events, &fail_on, 0, 3).to_text();
    let expected = "\
awsguard: 2 AWS calls (1 blocked), 3 findings; command exited 0; awsguard exits 3
    sqs CreateQueue        1
    sts GetCallerIdentity  1 (1 blocked)
  TLS: client TLSv1.3 x2; upstream TLSv1.2 x1
  FIPS: 0 to FIPS endpoints, 2 to standard endpoints with a FIPS alternative, 0 without a FIPS endpoint, 0 not evaluated (use sqs-fips.us-east-1.amazonaws.com, sts-fips.us-east-1.amazonaws.com)
  connections: tunnelled x1
  findings:
    email-address (medium) x1, fails the run
      queue.amazonaws.com CreateQueue body:Tags[0].Value j***@e***.com
    non-fips-endpoint (low) x2
      queue.amazonaws.com CreateQueue host queue.amazonaws.com
      sts.us-east-1.amazonaws.com GetCallerIdentity host sts.us-east-1.amazonaws.com
";
    assert_eq!(text, expected);
}

#[test]
fn no_events_says_none() {
    let text = Summary::new(&[], &FailOn::default(), 1, 1).to_text();
    assert_eq!(
        text,
        "awsguard: 0 AWS calls (0 blocked); command exited 1; awsguard exits 1\n  TLS: client none; upstream none\n  FIPS: 0 to FIPS endpoints, 0 to standard endpoints with a FIPS alternative, 0 without a FIPS endpoint, 0 not evaluated\n  findings: none\n"
    );
}

#[test]
fn long_locations_are_shortened() {
    let long = "x".repeat(500);
    let short = shorten(&long);
    assert_eq!(short.chars().count(), MAX_LOCATION_LEN + 1);
    assert!(short.ends_with('…'));
}

mod properties {
    use super::*;
    use crate::inspect::{Category, Finding};
    use proptest::prelude::*;

    fn event(host: String, op: Option<String>, rule: String, location: String) -> Event {
        let mut e = Event::new(
            EventType::ApiCall,
            &host,
            "127.0.0.1",
            time::OffsetDateTime::UNIX_EPOCH,
        );
        e.event_name = op;
        e.findings.push(Finding {
            rule,
            category: Category::Pii,
            severity: Severity::Medium,
            field: "name".into(),
            location,
            excerpt: "****".into(),
        });
        e
    }

    proptest! {
        #[test]
        fn arbitrary_events_summarise_and_convert_to_sarif(
            items in proptest::collection::vec((".{0,40}", proptest::option::of(".{0,20}"), ".{0,20}", ".{0,300}"), 0..20)
        ) {
            let events: Vec<Event> = items
                .into_iter()
                .map(|(h, o, r, l)| event(h, o, r, l))
                .collect();
            let s = Summary::new(&events, &FailOn::default(), 0, 0);
            prop_assert_eq!(s.calls, events.len());
            prop_assert_eq!(s.findings.iter().map(|g| g.count).sum::<usize>(), events.len());
            for group in &s.findings {
                prop_assert!(group.locations.iter().all(|l| l.chars().count() <= MAX_LOCATION_LEN + 1));
            }
            let _ = s.to_text();
            let log = crate::exec::sarif::sarif_log(&events, 0, true, &crate::exec::sarif::Artifact::command("aws"));
            prop_assert_eq!(log["runs"][0]["results"].as_array().map(Vec::len), Some(events.len()));
        }
    }
}
