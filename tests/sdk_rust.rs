//! The AWS SDK for Rust (`aws-sdk-sqs` with its default HTTPS client) through the harness,
//! against moto over TLS, set up as the README's client table says: `HTTPS_PROXY` (which the
//! default client reads from behavior version 2025-08-07 on) and `SSL_CERT_FILE` pointing at the
//! guard's bundle (system roots and the guard's CA).

mod common;

use aws_sdk_sqs::error::ProvideErrorMetadata;
use awsguard::config::Mode;
use awsguard::events::Decision;
use awsguard::harness::Guard;
use common::*;

/// An SQS client whose calls go through `guard`, configured by the environment `awsguard exec`
/// gives a child ([`Guard::env`]): the only test in this binary, so setting the process
/// environment races with nothing.
async fn sqs_through(guard: &Guard) -> aws_sdk_sqs::Client {
    for (name, value) in guard.env() {
        std::env::set_var(name, value);
    }
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            TEST_ACCESS_KEY_ID,
            "testing/secret/key/not/real/0000000000",
            None,
            None,
            "test",
        ))
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_sdk_is_inspected_and_blocked_like_any_client() {
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let guard = Guard::builder()
        .mode(Mode::Enforce)
        .connect_to("*.amazonaws.com", format!("127.0.0.1:{}", moto.port))
        .upstream_ca(&pki.ca_pem)
        .start()
        .unwrap();
    let sqs = sqs_through(&guard).await;

    let created = sqs
        .create_queue()
        .queue_name("orders")
        .tags("team", "payments")
        .send()
        .await
        .expect("a clean call reaches moto");
    assert!(
        created.queue_url().is_some_and(|u| u.ends_with("/orders")),
        "{created:?}"
    );

    let refused = sqs
        .create_queue()
        .queue_name("orders-owned")
        .tags("owner", "jane.doe@example.com")
        .send()
        .await
        .expect_err("awsguard blocks an email address in a tag");
    assert_eq!(
        refused.code(),
        Some("AwsGuardPolicyViolation"),
        "{refused:?}"
    );
    assert!(!format!("{refused:?}").contains("jane.doe@example.com"));

    let queues = sqs.list_queues().send().await.expect("moto lists queues");
    assert_eq!(queues.queue_urls().len(), 1, "{queues:?}");

    let calls = guard.api_calls();
    let summary: Vec<(Option<&str>, Decision)> = calls
        .iter()
        .map(|c| (c.event_name.as_deref(), c.decision))
        .collect();
    assert_eq!(
        summary,
        [
            (Some("CreateQueue"), Decision::Allowed),
            (Some("CreateQueue"), Decision::Blocked),
            (Some("ListQueues"), Decision::Allowed),
        ]
    );
    let blocked = &calls[1];
    assert_eq!(blocked.event_source.as_deref(), Some("sqs.amazonaws.com"));
    let rules: Vec<&str> = blocked.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["email-address", "non-fips-endpoint"]);
    assert_eq!(calls[0].response_status, Some(200));
    assert!(calls[0]
        .user_agent
        .as_deref()
        .is_some_and(|ua| ua.contains("aws-sdk-rust")));
}
