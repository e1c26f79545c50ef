//! Using `awsguard::harness` in an integration test: start a guard, run the code under test with
//! the guard's environment, then assert on the typed events and findings.
//!
//! Run it with `cargo run --example harness` (needs `curl`). No network is used: in enforce mode
//! the call that tags a queue with an email address is answered by awsguard itself with an
//! AWS-shaped 403, and a plain-http call is refused before it leaves the machine.
//!
//! In a real test suite the body of `main` is a `#[test]` function and the client is your code
//! (the AWS CLI, an SDK, a service binary); see `examples/aws-sdk-sqs.md` for the Rust SDK.

use std::process::Command;

use awsguard::config::{FipsMode, Mode};
use awsguard::events::Decision;
use awsguard::harness::Guard;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A guard for this test: enforce mode, FIPS verdicts recorded but not enforced.
    let guard = Guard::builder()
        .mode(Mode::Enforce)
        .fips(FipsMode::Audit)
        .start()?;
    println!(
        "proxy on {}, CA {}",
        guard.proxy_url(),
        guard.ca_cert_path().display()
    );

    // 2. The code under test, pointed at the guard through its environment.
    let create_queue = Command::new("curl")
        .envs(guard.env())
        .args([
            "-sS",
            "-X",
            "POST",
            "-H",
            "X-Amz-Target: AmazonSQS.CreateQueue",
            "-H",
            "Content-Type: application/x-amz-json-1.0",
            "--data",
            r#"{"QueueName":"orders","tags":{"owner":"jane.doe@example.com"}}"#,
            "https://sqs.us-east-1.amazonaws.com/",
        ])
        .output()?;
    println!(
        "CreateQueue answered: {}",
        String::from_utf8_lossy(&create_queue.stdout)
    );
    let cleartext = Command::new("curl")
        .envs(guard.env())
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "http://sts.amazonaws.com/",
        ])
        .output()?;
    println!(
        "plain http answered: {}",
        String::from_utf8_lossy(&cleartext.stdout)
    );

    // 3. Assertions on what awsguard saw.
    let calls = guard.api_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].event_name.as_deref(), Some("CreateQueue"));
    assert_eq!(calls[0].decision, Decision::Blocked);
    let rules: Vec<String> = guard.findings().into_iter().map(|f| f.rule).collect();
    assert!(rules.contains(&"email-address".to_owned()), "{rules:?}");
    assert!(rules.contains(&"cleartext".to_owned()), "{rules:?}");
    for finding in guard.findings() {
        println!(
            "{:<18} {:<7} {:<22} {}",
            finding.rule,
            finding.severity.as_str(),
            finding.location,
            finding.excerpt
        );
    }
    // 4. Dropping the guard stops the proxy and deletes the temporary CA.
    Ok(())
}
