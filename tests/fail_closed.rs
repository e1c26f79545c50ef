//! Enforce mode fails closed on bodies it cannot read whole: each way of hiding a tag email from
//! the decoders (padding past the limit, gzip bombs, gzip in gzip, brotli, deep nesting, broken
//! JSON after the tags) is blocked with `uninspectable-body` and never reaches the upstream; a
//! 50 MB Lambda deploy is skimmed (its payload member dropped as it streams) and judged whole.

mod common;

use std::io::Write;
use std::process::Command;
use std::sync::atomic::Ordering;

use common::*;

const TAGS: &str = r#""Tags":{"owner":"jane.doe@example.org"}"#;
const QUEUE: &str = r#""QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/jobs""#;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Sends a JSON-protocol SQS TagQueue with `body` and extra headers; the HTTP status.
fn tag_queue(proxy: &ProxyProc, body: &[u8], headers: &[&str]) -> String {
    let file = proxy.dir.path().join(format!("body-{}", body.len()));
    std::fs::write(&file, body).unwrap();
    let data = format!("@{}", file.display());
    let mut args = vec![
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "x-amz-target: AmazonSQS.TagQueue",
        "-H",
        "content-type: application/x-amz-json-1.0",
        "--data-binary",
        &data,
    ];
    for h in headers {
        args.extend_from_slice(&["-H", h]);
    }
    args.push("https://sqs.us-east-1.amazonaws.com/");
    let out = curl(proxy, &args);
    assert_eq!(out.status, 0, "{}", out.stderr);
    out.stdout
}

#[test]
fn hidden_tag_emails_are_blocked_when_the_body_cannot_be_inspected() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &["--mode", "enforce"]);
    let plain = format!("{{{QUEUE},{TAGS}}}");
    let padded = format!("{{{QUEUE},{}{TAGS}}}", " ".repeat(1_100_000));
    let deep = format!(
        "{{{QUEUE},\"x\":{}1{},{TAGS}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    let broken = format!("{{{QUEUE},{TAGS},\"y\":}}");
    let bomb = {
        let mut big = format!("{{{QUEUE},{TAGS},\"pad\":\"").into_bytes();
        big.extend(std::iter::repeat_n(b'a', 9 * 1024 * 1024));
        big.extend_from_slice(b"\"}");
        gzip(&big)
    };
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        ("padded past the limit", padded.into_bytes(), vec![]),
        ("nested too deep", deep.into_bytes(), vec![]),
        ("invalid after the tags", broken.into_bytes(), vec![]),
        ("gzip bomb", bomb, vec!["content-encoding: gzip"]),
        (
            "gzip in gzip",
            gzip(&gzip(plain.as_bytes())),
            vec!["content-encoding: gzip"],
        ),
        (
            "brotli",
            plain.clone().into_bytes(),
            vec!["content-encoding: br"],
        ),
    ];
    for (name, body, headers) in &cases {
        assert_eq!(tag_queue(&proxy, body, headers), "403", "{name}");
    }
    assert_eq!(
        upstream.accepted.load(Ordering::SeqCst),
        0,
        "nothing forwarded"
    );
    // Each blocked call is recorded with the reason.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while proxy.events().len() < cases.len() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let events = proxy.events();
    assert_eq!(events.len(), cases.len(), "{events:#?}");
    for event in &events {
        assert_eq!(event["decision"], "blocked", "{event}");
        assert_eq!(event["eventName"], "TagQueue");
        let rules: Vec<&str> = event["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["rule"].as_str())
            .collect();
        assert!(rules.contains(&"uninspectable-body"), "{event}");
    }
    // The same call readable is blocked for what it says, and an empty-tag call passes.
    assert_eq!(tag_queue(&proxy, plain.as_bytes(), &[]), "403");
    let clean = format!("{{{QUEUE},\"Tags\":{{\"team\":\"payments\"}}}}");
    assert_eq!(tag_queue(&proxy, clean.as_bytes(), &[]), "200");
}

/// Base64 text of `n` characters (a stand-in for a zipped deployment package), not constant.
fn base64_text(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..n as u64)
        .map(|i| char::from(ALPHABET[usize::from(pattern_byte(i) & 63)]))
        .collect()
}

/// Posts `body` as a Lambda CreateFunction; curl's `-w` status after the response body.
fn create_function(proxy: &ProxyProc, name: &str, body: &[u8]) -> (String, String) {
    let file = proxy.dir.path().join(name);
    std::fs::write(&file, body).unwrap();
    let data = format!("@{}", file.display());
    let out = curl(
        proxy,
        &[
            "-w",
            "\n%{http_code}",
            "-H",
            "content-type: application/json",
            "--data-binary",
            &data,
            "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    std::fs::remove_file(&file).unwrap();
    let (answer, status) = out.stdout.rsplit_once('\n').unwrap();
    (answer.to_owned(), status.to_owned())
}

/// The findings on the request's fields (the test host is not a FIPS endpoint: that finding
/// is left out), as `rule "location"`.
fn rules(event: &serde_json::Value) -> Vec<String> {
    event["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] != "non-fips-endpoint")
        .map(|f| format!("{} {}", f["rule"].as_str().unwrap(), f["location"]))
        .collect()
}

/// A 50 MB Lambda CreateFunction (its `ZipFile` base64 in the JSON body) in enforce mode: the
/// body is skimmed as it streams, so the tags after the blob are judged. With an email in a tag
/// the call is blocked and the upstream never receives the whole request; without, it passes with
/// the exact bytes forwarded. The proxy's peak RSS grows by far less than the body.
#[test]
fn a_50_mb_lambda_deploy_is_inspected_whole_in_flat_memory() {
    const ZIP: usize = 50_000_000;
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &["--mode", "enforce"]);
    // Warm: certificates issued, detectors and models loaded, pools filled.
    let (_, status) = create_function(&proxy, "warm.json", br#"{"FunctionName":"warm"}"#);
    assert_eq!(status, "200");
    let before = proxy.peak_rss_kib();
    let zip = base64_text(ZIP);
    let create = |tags: &str| {
        format!(
            r#"{{"FunctionName":"orders","Runtime":"python3.12","Role":"arn:aws:iam::123456789012:role/r","Handler":"app.handler","Code":{{"ZipFile":"{zip}"}},"Tags":{tags}}}"#
        )
        .into_bytes()
    };
    let clean = create(r#"{"team":"payments"}"#);
    let (answer, status) = create_function(&proxy, "clean.json", &clean);
    assert_eq!(status, "200", "{answer}");
    assert_eq!(
        answer,
        format!(
            "len={} sha256={} host=lambda.us-east-1.amazonaws.com",
            clean.len(),
            sha256_hex(&clean)
        )
    );
    assert_eq!(upstream.complete.load(Ordering::SeqCst), 2);
    let tagged = create(r#"{"owner":"jane.doe@example.org"}"#);
    let (answer, status) = create_function(&proxy, "tagged.json", &tagged);
    assert_eq!(status, "403", "{answer}");
    assert!(answer.contains("email-address"), "{answer}");
    assert_eq!(
        upstream.complete.load(Ordering::SeqCst),
        2,
        "the blocked request never reached the upstream whole"
    );
    let after = proxy.peak_rss_kib();
    eprintln!(
        "peak RSS before {before} KiB, after two {} MB CreateFunction calls {after} KiB",
        clean.len() / 1_000_000
    );
    assert!(
        after.saturating_sub(before) * 1024 < clean.len() as u64 / 4,
        "peak RSS grew by {} KiB",
        after.saturating_sub(before)
    );
    let events: Vec<_> = proxy
        .events()
        .into_iter()
        .filter(|e| e["eventName"] == "CreateFunction")
        .collect();
    assert_eq!(events.len(), 3, "{events:#?}");
    let allowed = &events[1];
    assert_eq!(allowed["decision"], "allowed", "{allowed}");
    assert_eq!(allowed["bodyInspected"], true);
    assert_eq!(rules(allowed), Vec::<String>::new());
    assert_eq!(allowed["skippedFields"][0]["location"], "body:Code.ZipFile");
    assert_eq!(allowed["skippedFields"][0]["purpose"], "payload");
    let blocked = &events[2];
    assert_eq!(blocked["decision"], "blocked", "{blocked}");
    assert_eq!(blocked["bodyInspected"], true);
    assert_eq!(rules(blocked), vec![r#"email-address "body:Tags.owner""#]);
}

/// A skimmed body whose inspectable part is itself past the limit is blocked like any body that
/// cannot be read (high `uninspectable-body`), and not forwarded whole.
#[test]
fn a_skimmed_body_too_large_without_its_payload_is_blocked() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &["--mode", "enforce"]);
    let description = "d".repeat(1_200_000);
    let body = format!(
        r#"{{"FunctionName":"orders","Description":"{description}","Code":{{"ZipFile":"UEsDBA=="}}}}"#
    );
    let (answer, status) = create_function(&proxy, "large.json", body.as_bytes());
    assert_eq!(status, "403", "{answer}");
    assert!(answer.contains("uninspectable-body"), "{answer}");
    assert_eq!(upstream.complete.load(Ordering::SeqCst), 0);
    let event = proxy.wait_event(|e| e["eventName"] == "CreateFunction");
    assert_eq!(event["decision"], "blocked");
    let finding = event["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "uninspectable-body")
        .cloned()
        .unwrap_or_else(|| panic!("{event}"));
    assert_eq!(finding["severity"], "high");
}

/// The AWS CLI deploying a 37.5 MB package (`--zip-file fileb://`, a 50 MB request once
/// base64-encoded by botocore) to moto through enforce mode: blocked for an email in a tag,
/// created without one, and moto's `CodeSha256` is the package's (the exact bytes arrived).
#[test]
fn the_aws_cli_deploys_a_large_package_through_enforce_mode() {
    use base64::Engine as _;
    const PACKAGE: u64 = 37_500_000;
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let proxy = start_proxy_for_moto(&pki, &moto, &["--mode", "enforce"]);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = aws(
        &proxy,
        &[
            "iam",
            "create-role",
            "--role-name",
            "deployer",
            "--assume-role-policy-document",
            policy,
            "--query",
            "Role.Arn",
            "--output",
            "text",
        ],
    );
    assert_eq!(role.status, 0, "{}", role.stderr);
    let role = role.stdout.trim().to_owned();
    // A real zip (the CLI opens it): pattern bytes stored uncompressed, so the size holds.
    let data = proxy.dir.path().join("data.bin");
    write_pattern_file(&data, PACKAGE);
    let package = proxy.dir.path().join("package.zip");
    let zipped = run(Command::new("python3")
        .args(["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.write(sys.argv[2], 'data.bin')"])
        .arg(&package)
        .arg(&data));
    assert_eq!(zipped.status, 0, "{}", zipped.stderr);
    let digest = ring::digest::digest(&ring::digest::SHA256, &std::fs::read(&package).unwrap());
    let zip_file = format!("fileb://{}", package.display());
    let create = |tags: &str| {
        aws(
            &proxy,
            &[
                "lambda",
                "create-function",
                "--function-name",
                "orders",
                "--runtime",
                "python3.12",
                "--handler",
                "app.handler",
                "--role",
                &role,
                "--zip-file",
                &zip_file,
                "--tags",
                tags,
                "--query",
                "CodeSha256",
                "--output",
                "text",
            ],
        )
    };
    let blocked = create("owner=jane.doe@example.org");
    assert_ne!(blocked.status, 0);
    assert!(
        blocked.stderr.contains("email-address"),
        "{}",
        blocked.stderr
    );
    let before = proxy.peak_rss_kib();
    let created = create("team=payments");
    assert_eq!(created.status, 0, "{}", created.stderr);
    assert_eq!(
        created.stdout.trim(),
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    );
    let after = proxy.peak_rss_kib();
    eprintln!("peak RSS before {before} KiB, after the 50 MB CLI deploy {after} KiB");
    assert!(
        after.saturating_sub(before) * 1024 < PACKAGE / 4,
        "peak RSS grew by {} KiB",
        after.saturating_sub(before)
    );
    let events: Vec<_> = proxy
        .events()
        .into_iter()
        .filter(|e| e["eventName"] == "CreateFunction")
        .collect();
    let decisions: Vec<_> = events.iter().map(|e| e["decision"].clone()).collect();
    assert_eq!(decisions, ["blocked", "allowed"], "{events:#?}");
    assert!(events.iter().all(|e| e["bodyInspected"] == true));
}
