//! A corpus of secrets sent through the proxy: every one is found, none reaches anything awsguard
//! writes (events, logs, the blocked-call answer).

mod common;

use common::*;

/// (rule, tag key, value, the part that must never be written)
const SECRETS: &[(&str, &str, &str, &str)] = &[
    ("email-address", "owner", "jane.doe@example.com", "jane.doe@example.com"),
    ("aws-access-key-id", "deploy-key", "AKIA4HSTXRZQ2LMN7WPV", "4HSTXRZQ2LMN"),
    ("aws-secret-access-key", "aws_secret_access_key", "Zq8tR2vLx9Wm4Kp7Ny3Hs6Jd1Fg5Bc0Ae2Tu8Io4", "Zq8tR2vLx9Wm4Kp7Ny3Hs6Jd1Fg5Bc0Ae2Tu8Io4"),
    ("json-web-token", "session", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ.Qm9ndXNTaWduYXR1cmVWYWx1ZTEyMzQ1Njc4OTA", "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ"),
    ("credit-card-number", "billing", "4111 1111 1111 1111", "1111 1111 1111"),
    ("iban", "payout", "DE89370400440532013000", "370400440532013"),
    ("phone-number", "phone", "+1 415 555 2671", "415 555 2671"),
    ("us-ssn", "ssn", "536-22-8741", "536-22-8741"),
    ("url-credentials", "repo", "postgres://app:S3cr3tPassw0rd@db.internal:5432/prod", "S3cr3tPassw0rd"),
    ("url-secret-parameter", "webhook", "https://hooks.example.com/notify?access_token=tok_9f8e7d6c5b4a39281706", "tok_9f8e7d6c5b4a39281706"),
];

fn body() -> String {
    let tags: Vec<_> = SECRETS
        .iter()
        .map(|(_, key, value, _)| serde_json::json!({"Key": key, "Value": value}))
        .collect();
    serde_json::json!({"ResourceArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t", "Tags": tags})
        .to_string()
}

fn tag_resource(proxy: &ProxyProc) -> Output {
    curl(
        proxy,
        &[
            "-H",
            "Content-Type: application/x-amz-json-1.0",
            "-H",
            "X-Amz-Target: DynamoDB_20120810.TagResource",
            "-H",
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIA2OGYBAH6TESTKEY7/20261123/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0000",
            "--data-binary",
            &body(),
            "https://dynamodb.us-east-1.amazonaws.com/",
        ],
    )
}

fn assert_nothing_leaked(what: &str, text: &str) {
    for (rule, _, _, secret) in SECRETS {
        assert!(
            !text.contains(secret),
            "{rule}: secret part {secret:?} leaked into {what}"
        );
    }
}

#[test]
fn every_secret_is_found_and_none_is_written_anywhere() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let port = upstream.addr.port();
    let audit = start_proxy_routed(&pki, port, &[]);
    let out = tag_resource(&audit);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("len="),
        "audit forwards: {}",
        out.stdout
    );
    let event = audit.wait_event(|e| e["eventName"] == "TagResource");
    let mut rules: Vec<String> = event["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .filter(|r| r != "non-fips-endpoint")
        .collect();
    rules.sort();
    let mut expected: Vec<String> = SECRETS.iter().map(|s| s.0.to_owned()).collect();
    expected.sort();
    assert_eq!(rules, expected);

    let enforce = start_proxy_routed(&pki, port, &["--mode", "enforce"]);
    let blocked = tag_resource(&enforce);
    assert!(
        blocked.stdout.contains("AwsGuardPolicyViolation"),
        "{}",
        blocked.stdout
    );
    enforce.wait_event(|e| e["decision"] == "blocked");

    assert_nothing_leaked("the blocked-call answer", &blocked.stdout);
    for proxy in [&audit, &enforce] {
        assert_nothing_leaked(
            "events",
            &std::fs::read_to_string(&proxy.events_path).unwrap(),
        );
        assert_nothing_leaked("logs", &proxy.stderr.lock().unwrap());
    }
}
