//! Enforce mode on real clients, judged by field purpose: the AWS CLI against moto over TLS
//! (secrets stored where secrets belong pass, credentials in plain configuration and personal
//! data in tags are blocked), customer endpoints through curl, and the CLI v1's legacy SQS host
//! under `--fips enforce`.

mod common;

use common::*;

const CREDS_URL: &str = "postgres://app:pw-Quartz-91@db.internal:5432/orders";
const PRESIGNED: &str = "https://my-bucket.s3.us-east-1.amazonaws.com/report.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261205%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261205T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=3f1c2b9a8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a49382716a5b4c3d";

fn blocked(out: &Output, rule: &str) {
    assert_ne!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("AwsGuardPolicyViolation") && out.stderr.contains(rule),
        "{}",
        out.stderr
    );
}

fn ok(out: &Output) {
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn enforce_passes_secrets_and_payloads_and_blocks_plain_credentials_and_tag_pii() {
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let proxy = start_proxy_for_moto(&pki, &moto, &["--mode", "enforce"]);

    ok(&aws(
        &proxy,
        &[
            "secretsmanager",
            "create-secret",
            "--name",
            "orders-db",
            "--secret-string",
            CREDS_URL,
        ],
    ));
    ok(&aws(
        &proxy,
        &[
            "ssm",
            "put-parameter",
            "--name",
            "/orders/db",
            "--type",
            "SecureString",
            "--value",
            CREDS_URL,
        ],
    ));
    let created = aws(
        &proxy,
        &[
            "sqs",
            "create-queue",
            "--queue-name",
            "jobs",
            "--query",
            "QueueUrl",
            "--output",
            "text",
        ],
    );
    ok(&created);
    let queue_url = created.stdout.trim().to_owned();
    ok(&aws(
        &proxy,
        &[
            "sqs",
            "send-message",
            "--queue-url",
            &queue_url,
            "--message-body",
            &format!("Your report is ready: {PRESIGNED}"),
        ],
    ));

    blocked(
        &aws(
            &proxy,
            &[
                "ssm",
                "put-parameter",
                "--name",
                "/orders/plain",
                "--type",
                "String",
                "--value",
                CREDS_URL,
            ],
        ),
        "url-credentials",
    );
    blocked(
        &aws(
            &proxy,
            &[
                "sqs",
                "tag-queue",
                "--queue-url",
                &queue_url,
                "--tags",
                "owner=jane.doe@example.org",
            ],
        ),
        "email-address",
    );

    let events = proxy.events();
    let call = |name: &str| {
        events
            .iter()
            .find(|e| e["eventName"] == name)
            .unwrap_or_else(|| panic!("no {name} event in {events:#?}"))
            .clone()
    };
    let secret = call("CreateSecret");
    assert_eq!(secret["decision"], "allowed");
    assert_eq!(
        secret["skippedFields"],
        serde_json::json!([{"location": "body:SecretString", "purpose": "secret"}])
    );
    let message = call("SendMessage");
    assert_eq!(message["decision"], "allowed");
    assert_eq!(message["skippedFields"][0]["purpose"], "payload");
    assert_eq!(call("TagQueue")["decision"], "blocked");
    let text = serde_json::to_string(&events).unwrap();
    assert!(
        !text.contains("pw-Quartz-91"),
        "a secret reached the events"
    );
}

#[test]
fn customer_endpoints_forward_application_json_but_still_judge_urls() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let port = upstream.addr.port();
    let lambda_route = format!("*.on.aws=127.0.0.1:{port}");
    let proxy = start_proxy_routed(
        &pki,
        port,
        &["--mode", "enforce", "--connect-to", &lambda_route],
    );
    let app_json = r#"{"tags":{"owner":"jane.doe@example.org"},"name":"Jane Doe +1 415 555 2671"}"#;
    for url in [
        "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/orders",
        "https://xyz789abc.lambda-url.us-east-1.on.aws/orders",
    ] {
        let out = curl(
            &proxy,
            &[
                "-H",
                "content-type: application/json",
                "--data-binary",
                app_json,
                url,
            ],
        );
        assert_eq!(out.status, 0, "{}", out.stderr);
        assert!(
            out.stdout.starts_with(&format!("len={} ", app_json.len())),
            "{}",
            out.stdout
        );
    }
    let out = curl(
        &proxy,
        &[
            "-w",
            "%{http_code}",
            "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/orders?password=hunter2-Quartz",
        ],
    );
    assert!(out.stdout.ends_with("403"), "{}", out.stdout);

    let api =
        proxy.wait_event(|e| e["customerEndpointId"] == "a1b2c3d4e5" && e["decision"] == "allowed");
    assert_eq!(api["eventSource"], "execute-api.amazonaws.com");
    assert_eq!(api["eventName"], serde_json::Value::Null);
    assert_eq!(api["customerEndpoint"], true);
    let content: Vec<_> = api["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] != "non-fips-endpoint")
        .collect();
    assert!(content.is_empty(), "{api}");
    assert_eq!(
        api["skippedFields"],
        serde_json::json!([{"location": "body", "purpose": "payload"}])
    );
    let function = proxy.wait_event(|e| e["customerEndpointId"] == "xyz789abc");
    assert_eq!(function["eventSource"], "lambda-url.amazonaws.com");
    assert_eq!(function["decision"], "allowed");
    let refused =
        proxy.wait_event(|e| e["customerEndpointId"] == "a1b2c3d4e5" && e["decision"] == "blocked");
    assert_eq!(refused["findings"][0]["rule"], "url-secret-parameter");
    assert!(!refused.to_string().contains("hunter2"));
}

#[test]
fn legacy_sqs_host_is_held_to_fips_enforce_with_the_right_advice() {
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let proxy = start_proxy_for_moto(&pki, &moto, &["--fips", "enforce"]);
    let legacy = aws(
        &proxy,
        &[
            "--endpoint-url",
            "https://queue.amazonaws.com",
            "sqs",
            "list-queues",
        ],
    );
    blocked(&legacy, "non-fips-endpoint");
    assert!(
        legacy
            .stderr
            .contains("FIPS endpoint: sqs-fips.us-east-1.amazonaws.com"),
        "{}",
        legacy.stderr
    );
    ok(&aws(
        &proxy,
        &[
            "--endpoint-url",
            "https://sqs-fips.us-east-1.amazonaws.com",
            "sqs",
            "list-queues",
        ],
    ));
    let event = proxy.wait_event(|e| e["requestHost"] == "queue.amazonaws.com");
    assert_eq!(event["eventSource"], "sqs.amazonaws.com");
    assert_eq!(event["eventName"], "ListQueues");
    assert_eq!(event["fips"]["endpointIsFips"], false);
    assert_eq!(
        event["fips"]["fipsEndpoint"],
        "sqs-fips.us-east-1.amazonaws.com"
    );
}
