//! The real AWS CLI through the proxy to a local moto_server upstream over TLS.

mod common;

use common::*;

#[test]
fn aws_cli_s3_sqs_and_sts_work_through_the_proxy() {
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let proxy = start_proxy_for_moto(&pki, &moto, &[]);

    let out = aws(&proxy, &["s3", "mb", "s3://awsguard-test"]);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);

    let up = proxy.dir.path().join("big.bin");
    let sha = write_pattern_file(&up, 50 * 1024 * 1024);
    let out = aws(
        &proxy,
        &[
            "s3",
            "cp",
            up.to_str().unwrap(),
            "s3://awsguard-test/big.bin",
        ],
    );
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    let down = proxy.dir.path().join("down.bin");
    let out = aws(
        &proxy,
        &[
            "s3",
            "cp",
            "s3://awsguard-test/big.bin",
            down.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(sha256_hex(&std::fs::read(&down).unwrap()), sha);

    let out = aws(
        &proxy,
        &["sqs", "create-queue", "--queue-name", "awsguard-q"],
    );
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("awsguard-q"), "{}", out.stdout);

    let out = aws(&proxy, &["sts", "get-caller-identity"]);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("\"Account\""), "{}", out.stdout);

    let events = proxy.events();
    let api: Vec<_> = events
        .iter()
        .filter(|e| e["eventType"] == "api-call")
        .collect();
    assert!(
        api.len() >= 10,
        "multipart upload and download make many calls: {}",
        api.len()
    );
    for e in &api {
        assert_eq!(e["decision"], "allowed", "{e}");
        assert_eq!(e["tlsDetails"]["tlsVersion"], "TLSv1.3", "{e}");
        assert!(e["tlsDetails"]["upstreamTlsVersion"].is_string(), "{e}");
        let masked = e["userIdentity"]["accessKeyId"]
            .as_str()
            .unwrap_or("AKIA…KEY7");
        assert_eq!(masked, "AKIA…KEY7");
    }
    let named = |name: &'static str| api.iter().filter(move |e| e["eventName"] == name);
    assert_eq!(named("CreateBucket").count(), 1);
    assert_eq!(named("CreateMultipartUpload").count(), 1);
    assert!(named("UploadPart").count() >= 6, "50 MiB in 8 MiB parts");
    for part in named("UploadPart") {
        assert_eq!(
            part["bodyInspected"], false,
            "object data streams, never buffered: {part}"
        );
        assert_eq!(part["protocol"], "rest-xml");
        assert_eq!(part["eventSource"], "s3.amazonaws.com");
    }
    assert_eq!(named("CreateQueue").next().unwrap()["protocol"], "json");
    assert_eq!(
        named("GetCallerIdentity").next().unwrap()["protocol"],
        "query"
    );
    let hosts: std::collections::BTreeSet<_> = api
        .iter()
        .map(|e| e["requestHost"].as_str().unwrap().to_owned())
        .collect();
    // AWS CLI v1 addresses us-east-1 SQS by its legacy host and S3 buckets virtual-hosted.
    assert_eq!(
        hosts.into_iter().collect::<Vec<_>>(),
        vec![
            "awsguard-test.s3.amazonaws.com",
            "queue.amazonaws.com",
            "sts.us-east-1.amazonaws.com"
        ]
    );
    let log = std::fs::read_to_string(&proxy.events_path).unwrap();
    assert!(
        !log.contains(TEST_ACCESS_KEY_ID),
        "the full key id never reaches events"
    );
}

#[test]
fn fips_enforce_blocks_a_standard_endpoint_and_passes_the_fips_one() {
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let proxy = start_proxy_for_moto(&pki, &moto, &["--fips", "enforce"]);

    let out = aws(&proxy, &["sts", "get-caller-identity"]);
    assert_eq!(out.status, 255, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(
            "An error occurred (AwsGuardPolicyViolation) when calling the GetCallerIdentity operation: \
             awsguard blocked this call: rule non-fips-endpoint (low severity) matched endpoint at host \
             [sts.us-east-1.amazonaws.com]; set AWS_USE_FIPS_ENDPOINT=true"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("FIPS endpoint: sts-fips.us-east-1.amazonaws.com"),
        "{}",
        out.stderr
    );
    let blocked = proxy.wait_event(|e| e["decision"] == "blocked");
    assert_eq!(blocked["eventName"], "GetCallerIdentity");
    assert_eq!(blocked["eventSource"], "sts.amazonaws.com");
    assert_eq!(blocked["awsRegion"], "us-east-1");
    assert_eq!(blocked["protocol"], "query");
    assert_eq!(blocked["responseStatus"], 403);
    assert_eq!(blocked["fips"]["endpointIsFips"], false);
    assert_eq!(
        blocked["fips"]["fipsEndpoint"],
        "sts-fips.us-east-1.amazonaws.com"
    );
    assert_eq!(blocked["findings"][0]["rule"], "non-fips-endpoint");

    let out =
        run(aws_command(&proxy, &["sts", "get-caller-identity"])
            .env("AWS_USE_FIPS_ENDPOINT", "true"));
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    let allowed = proxy.wait_event(|e| e["decision"] == "allowed");
    assert_eq!(allowed["requestHost"], "sts-fips.us-east-1.amazonaws.com");
    assert_eq!(allowed["fips"]["endpointIsFips"], true);
    assert_eq!(allowed["findings"], serde_json::json!([]));
}

#[test]
fn an_email_in_a_queue_tag_is_blocked_in_enforce_and_recorded_redacted_in_audit() {
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let enforce = start_proxy_for_moto(&pki, &moto, &["--mode", "enforce", "--fips", "off"]);
    let args = [
        "sqs",
        "create-queue",
        "--queue-name",
        "tagged-q",
        "--tags",
        "owner=jane@example.com",
    ];

    let out = aws(&enforce, &args);
    assert_eq!(out.status, 255, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(
            "An error occurred (AwsGuardPolicyViolation) when calling the CreateQueue operation: \
             awsguard blocked this call: rule email-address (medium severity) matched tag-value at \
             body:tags.owner [j***@e***.com]"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("jane@example.com"));
    let blocked = enforce.wait_event(|e| e["decision"] == "blocked");
    assert_eq!(blocked["eventName"], "CreateQueue");
    assert_eq!(blocked["responseStatus"], 403);
    // Nothing reached moto: the queue does not exist.
    let out = aws(&enforce, &["sqs", "list-queues"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("tagged-q"), "{}", out.stdout);

    let audit = start_proxy_for_moto(&pki, &moto, &["--fips", "off"]);
    let out = aws(&audit, &args);
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("tagged-q"), "{}", out.stdout);
    let event = audit.wait_event(|e| e["eventName"] == "CreateQueue");
    assert_eq!(event["decision"], "allowed");
    assert_eq!(
        event["findings"],
        serde_json::json!([{
            "rule": "email-address", "category": "pii", "severity": "medium",
            "field": "tag-value", "location": "body:tags.owner", "excerpt": "j***@e***.com"
        }])
    );
    for proxy in [&enforce, &audit] {
        let written = std::fs::read_to_string(&proxy.events_path).unwrap();
        assert!(!written.contains("jane@example.com"));
        assert!(!proxy.stderr.lock().unwrap().contains("jane@example.com"));
    }
}
