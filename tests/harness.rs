//! The Rust harness (`awsguard::harness::Guard`) driven the way an integration test would: curl
//! through the guard to a local TLS upstream, typed events and findings, enforce mode, async
//! tests, and the AWS CLI against moto.

mod common;

use std::time::Duration;

use awsguard::config::{FipsMode, Mode};
use awsguard::events::{Decision, EventType};
use awsguard::harness::Guard;
use awsguard::inspect::Severity;
use common::*;

const CREATE_QUEUE: &str = r#"{"QueueName":"orders","tags":{"owner":"jane.doe@example.com"}}"#;

fn curl_create_queue(guard: &Guard) -> Output {
    run(guard.command("curl").args([
        "-sS",
        "-X",
        "POST",
        "-H",
        "X-Amz-Target: AmazonSQS.CreateQueue",
        "-H",
        "Content-Type: application/x-amz-json-1.0",
        "--data",
        CREATE_QUEUE,
        "https://sqs.us-east-1.amazonaws.com/",
    ]))
}

#[test]
fn audit_mode_forwards_and_records_typed_findings() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let guard = Guard::builder()
        .connect_to("*.amazonaws.com", upstream.addr)
        .upstream_ca(&pki.ca_pem)
        .start()
        .unwrap();
    let out = curl_create_queue(&guard);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with(&format!("len={} ", CREATE_QUEUE.len())),
        "{}",
        out.stdout
    );

    let calls = guard.api_calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.event_type, EventType::ApiCall);
    assert_eq!(call.event_source.as_deref(), Some("sqs.amazonaws.com"));
    assert_eq!(call.event_name.as_deref(), Some("CreateQueue"));
    assert_eq!(call.decision, Decision::Allowed);
    assert_eq!(call.response_status, Some(200));
    assert_eq!(call.tls_details.tls_version.as_deref(), Some("TLSv1.3"));
    assert_eq!(call.fips.endpoint_is_fips, Some(false));
    let email = guard
        .findings()
        .into_iter()
        .find(|f| f.rule == "email-address")
        .unwrap();
    assert_eq!(email.severity, Severity::Medium);
    assert_eq!(email.location, "body:tags.owner");
    assert_eq!(email.field, "tag-value");
    assert!(!email.excerpt.contains("jane.doe"), "{}", email.excerpt);
}

#[test]
fn enforce_mode_blocks_before_anything_reaches_upstream() {
    // No upstream at all: the blocked call never leaves the proxy.
    let guard = Guard::builder()
        .mode(Mode::Enforce)
        .fips(FipsMode::Off)
        .connect_to("*.amazonaws.com", "127.0.0.1:9")
        .start()
        .unwrap();
    let out = curl_create_queue(&guard);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("AwsGuardPolicyViolation"),
        "{}",
        out.stdout
    );
    let events = guard.wait_for_events(1, Duration::from_secs(5)).unwrap();
    assert_eq!(events[0].decision, Decision::Blocked);
    assert_eq!(events[0].response_status, Some(403));
    assert_eq!(events[0].findings.len(), 1);
    assert_eq!(events[0].findings[0].rule, "email-address");
}

#[tokio::test]
async fn works_from_async_tests() {
    let guard = Guard::builder().mode(Mode::Enforce).start().unwrap();
    let out = tokio::process::Command::new("curl")
        .envs(guard.env())
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "http://sts.amazonaws.com/",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403");
    assert_eq!(guard.findings()[0].rule, "cleartext");
    let addr = guard.proxy_addr();
    drop(guard);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "stopped on drop"
    );
}

#[test]
fn aws_cli_against_moto_through_the_guard() {
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let guard = Guard::builder()
        .connect_to("*.amazonaws.com", format!("127.0.0.1:{}", moto.port))
        .upstream_ca(&pki.ca_pem)
        .start()
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = run(guard
        .command("aws")
        .args(["sts", "get-caller-identity"])
        .env("HOME", home.path())
        .env("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "testing/secret/key/not/real/0000000000",
        )
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", home.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true"));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let calls = guard.api_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].event_name.as_deref(), Some("GetCallerIdentity"));
    assert_eq!(
        calls[0].fips.fips_endpoint.as_deref(),
        Some("sts-fips.us-east-1.amazonaws.com")
    );
    assert_eq!(
        calls[0].user_identity.access_key_id.as_deref(),
        Some("AKIA…KEY7")
    );
}

#[test]
fn a_hyper_client_connects_through_the_guard_to_the_upstream() {
    // The echo upstream owns a runtime, so it starts (and stops) outside the client's runtime.
    use http_body_util::{BodyExt, Full};
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let guard = Guard::builder()
        .connect_to("*.amazonaws.com", upstream.addr)
        .upstream_ca(&pki.ca_pem)
        .start()
        .unwrap();
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let text = runtime.block_on(async {
        let tls = guard
            .connect("sts.us-east-1.amazonaws.com", 443)
            .await
            .unwrap();
        let io = hyper_util::rt::TokioIo::new(tls);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(connection);
        let request = http::Request::post("/")
            .header("host", "sts.us-east-1.amazonaws.com")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(bytes::Bytes::from(body)))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let text = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8_lossy(&text).into_owned()
    });
    assert!(text.starts_with(&format!("len={} ", body.len())), "{text}");
    assert!(text.ends_with("host=sts.us-east-1.amazonaws.com"), "{text}");
    let calls = guard.api_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].event_name.as_deref(), Some("GetCallerIdentity"));
    assert_eq!(calls[0].decision, Decision::Allowed);
    assert_eq!(guard.findings()[0].rule, "non-fips-endpoint");
}

#[tokio::test]
async fn connect_reports_a_refused_connect() {
    let guard = Guard::builder().start().unwrap();
    // Port 1 on a name nothing resolves: the proxy cannot tunnel it and answers 502.
    let err = guard
        .connect("awsguard-nonexistent.invalid", 1)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the proxy refused CONNECT awsguard-nonexistent.invalid:1: HTTP/1.1 502"),
        "{err}"
    );
}

#[tokio::test]
async fn dropping_the_guard_with_an_idle_client_connection_is_prompt() {
    use http_body_util::{BodyExt, Full};
    let guard = Guard::builder().mode(Mode::Enforce).start().unwrap();
    let tls = guard
        .connect("sqs.us-east-1.amazonaws.com", 443)
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = http::Request::post("/")
        .header("host", "sqs.us-east-1.amazonaws.com")
        .header("x-amz-target", "AmazonSQS.CreateQueue")
        .header("content-type", "application/x-amz-json-1.0")
        .body(Full::new(bytes::Bytes::from_static(
            br#"{"QueueName":"q","tags":{"owner":"jane.doe@example.com"}}"#,
        )))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), 403);
    let _ = response.into_body().collect().await.unwrap();
    // The keep-alive connection stays open (and this runtime is blocked while the guard
    // stops): the proxy must close it itself rather than wait out its grace period.
    let started = std::time::Instant::now();
    drop(guard);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(sender);
}
