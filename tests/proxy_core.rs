//! The proxy core through real clients: curl and openssl against local TLS upstreams.

mod common;

use std::process::Command;

use common::*;

#[test]
fn curl_round_trips_a_large_upload_byte_exact_over_http1_and_http2() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    let file = proxy.dir.path().join("upload.bin");
    let sha = write_pattern_file(&file, 24 * 1024 * 1024 + 17);
    for http in ["--http1.1", "--http2"] {
        let out = curl(
            &proxy,
            &[
                http,
                "--data-binary",
                &format!("@{}", file.display()),
                "https://sqs.us-east-1.amazonaws.com/upload",
            ],
        );
        assert_eq!(out.status, 0, "{}", out.stderr);
        assert_eq!(
            out.stdout,
            format!(
                "len={} sha256={sha} host=sqs.us-east-1.amazonaws.com",
                24 * 1024 * 1024 + 17
            )
        );
    }
    let event = proxy.wait_event(|e| e["requestMethod"] == "POST");
    assert_eq!(event["eventType"], "api-call");
    assert_eq!(event["requestHost"], "sqs.us-east-1.amazonaws.com");
    assert_eq!(event["decision"], "allowed");
    assert_eq!(event["responseStatus"], 200);
    assert_eq!(
        event["bodyInspected"], false,
        "a 24 MiB body is over the inspection limit"
    );
    assert_eq!(event["tlsDetails"]["tlsVersion"], "TLSv1.3");
    assert_eq!(event["tlsDetails"]["upstreamTlsVersion"], "TLSv1.3");
    assert!(event["tlsDetails"]["upstreamCipherSuite"]
        .as_str()
        .unwrap()
        .starts_with("TLS_"));
}

#[test]
fn upstream_connections_are_reused_across_client_connections() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    let url = "https://sqs.us-east-1.amazonaws.com/";
    // Four client connections, one after the other, each with two calls.
    for http in ["--http1.1", "--http2", "--http1.1", "--http2"] {
        let out = curl(&proxy, &[http, url, url]);
        assert_eq!(out.status, 0, "{}", out.stderr);
        assert_eq!(out.stdout.matches("len=0 ").count(), 2, "{}", out.stdout);
    }
    assert_eq!(
        upstream.accepted.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    // Events are flushed in batches: wait for all eight.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while proxy.events().len() < 8 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let events = proxy.events();
    assert_eq!(events.len(), 8, "{events:#?}");
    for event in events {
        assert_eq!(event["tlsDetails"]["upstreamTlsVersion"], "TLSv1.3");
    }
}

#[test]
fn downloads_stream_back_byte_exact() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    let out_file = proxy.dir.path().join("down.bin");
    let n: u64 = 16 * 1024 * 1024 + 3;
    let out = curl(
        &proxy,
        &[
            "-o",
            out_file.to_str().unwrap(),
            &format!("https://s3.us-east-1.amazonaws.com/bytes/{n}"),
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let expected = write_pattern_file(&proxy.dir.path().join("expected.bin"), n);
    assert_eq!(sha256_hex(&std::fs::read(&out_file).unwrap()), expected);
}

#[test]
fn expect_100_continue_and_chunked_uploads_pass() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    let file = proxy.dir.path().join("small.bin");
    let sha = write_pattern_file(&file, 300_000);
    let out = curl(
        &proxy,
        &[
            "--http1.1",
            "-H",
            "Expect: 100-continue",
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            &format!("@{}", file.display()),
            "https://s3.us-east-1.amazonaws.com/bucket/key",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!("len=300000 sha256={sha} host=s3.us-east-1.amazonaws.com")
    );
    let event = proxy.wait_event(|e| e["requestMethod"] == "POST");
    assert_eq!(event["bodyInspected"], true);
}

#[test]
fn upstream_below_minimum_tls_gets_502_and_an_event() {
    let pki = upstream_pki();
    let (_server, port) =
        start_s_server(&pki, &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-www"]);
    let proxy = start_proxy_routed(&pki, port, &[]);
    let out = curl(
        &proxy,
        &[
            "-w",
            "\n%{http_code}",
            "https://sts.us-east-1.amazonaws.com/",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stdout.ends_with("\n502"), "{}", out.stdout);
    assert!(
        out.stdout.contains("AwsGuardUpstreamError"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("does not support TLSv1.2 or later"),
        "{}",
        out.stdout
    );
    let event = proxy.wait_event(|e| e["responseStatus"] == 502);
    assert_eq!(event["connection"]["outcome"], "upstream-failed");
    assert_eq!(
        event["connection"]["message"],
        "upstream sts.us-east-1.amazonaws.com does not support TLSv1.2 or later"
    );
    assert_eq!(event["decision"], "blocked");
    let tls = event["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "tls-version")
        .unwrap();
    assert_eq!(tls["location"], "upstream-leg");
    assert_eq!(tls["excerpt"], "below TLSv1.2");
}

#[test]
fn min_tls_13_refuses_a_tls12_only_upstream() {
    let pki = upstream_pki();
    let (_server, port) = start_s_server(&pki, &["-tls1_2", "-www"]);
    let proxy = start_proxy_routed(&pki, port, &["--min-tls", "1.3"]);
    let out = curl(
        &proxy,
        &[
            "-w",
            "\n%{http_code}",
            "https://sts.us-east-1.amazonaws.com/",
        ],
    );
    assert!(out.stdout.ends_with("\n502"), "{}", out.stdout);
    assert!(
        out.stdout.contains("does not support TLSv1.3 or later"),
        "{}",
        out.stdout
    );
}

fn s_client(proxy: &ProxyProc, extra: &[&str]) -> Output {
    run(Command::new("openssl")
        .arg("s_client")
        .arg("-proxy")
        .arg(proxy.addr.to_string())
        .arg("-connect")
        .arg("sqs.us-east-1.amazonaws.com:443")
        .arg("-servername")
        .arg("sqs.us-east-1.amazonaws.com")
        .arg("-CAfile")
        .arg(proxy.ca_pem())
        .args(extra))
}

#[test]
fn client_offering_only_tls11_is_refused_with_the_offered_versions() {
    let proxy = start_proxy(&[]);
    let out = s_client(&proxy, &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    assert_ne!(out.status, 0);
    assert!(
        out.stderr.contains("alert protocol version"),
        "{}",
        out.stderr
    );
    let event = proxy.wait_event(|e| e["eventType"] == "connection");
    assert_eq!(event["connection"]["outcome"], "tls-refused");
    assert_eq!(
        event["connection"]["offeredTlsVersions"],
        serde_json::json!(["TLSv1.1"])
    );
    assert_eq!(
        event["connection"]["serverName"],
        "sqs.us-east-1.amazonaws.com"
    );
    assert_eq!(event["decision"], "blocked");
    assert_eq!(event["findings"][0]["rule"], "tls-version");
    assert_eq!(
        event["connection"]["message"],
        "client offered only TLSv1.1; the minimum is TLSv1.2"
    );
}

#[test]
fn min_tls_13_refuses_a_tls12_only_client_and_accepts_tls13() {
    let proxy = start_proxy(&["--min-tls", "1.3"]);
    let refused = s_client(&proxy, &["-tls1_2"]);
    assert_ne!(refused.status, 0);
    let event = proxy.wait_event(|e| e["connection"]["outcome"] == "tls-refused");
    assert_eq!(
        event["connection"]["offeredTlsVersions"],
        serde_json::json!(["TLSv1.2"])
    );
    let accepted = s_client(&proxy, &["-tls1_3", "-verify_return_error", "-brief"]);
    assert!(
        accepted.stderr.contains("Protocol version: TLSv1.3"),
        "{}",
        accepted.stderr
    );
    assert!(
        accepted.stderr.contains("Verification: OK"),
        "{}",
        accepted.stderr
    );
}

#[test]
fn non_aws_hosts_are_tunnelled_without_decryption() {
    let pki = upstream_pki();
    let (_server, port) = start_s_server(&pki, &["-www"]);
    let proxy = start_proxy(&["--connect-to", &format!("upstream.test=127.0.0.1:{port}")]);
    // Trusting only the upstream's own CA: the handshake can succeed only if awsguard did not
    // terminate TLS.
    let out = run(Command::new("curl")
        .arg("-sS")
        .arg("--proxy")
        .arg(proxy.url())
        .arg("--cacert")
        .arg(&pki.ca_pem)
        .arg("-o")
        .arg("/dev/null")
        .arg("-w")
        .arg("%{http_code}")
        .arg(format!("https://upstream.test:{port}/")));
    assert_eq!(out.stdout, "200", "{}", out.stderr);
    let event = proxy.wait_event(|e| e["eventType"] == "connection");
    assert_eq!(event["connection"]["outcome"], "tunnelled");
    assert_eq!(event["connection"]["serverName"], "upstream.test");
    assert_eq!(event["requestHost"], "upstream.test");
    assert!(event["connection"]["offeredTlsVersions"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("TLSv1.3")));
    assert!(proxy.events().iter().all(|e| e["eventType"] != "api-call"));
}

#[test]
fn cleartext_http_to_aws_is_refused() {
    let proxy = start_proxy(&[]);
    let out = run(Command::new("curl")
        .arg("-sS")
        .arg("--proxy")
        .arg(proxy.url())
        .arg("-w")
        .arg("\n%{http_code}")
        .arg("http://sqs.us-east-1.amazonaws.com/"));
    assert!(out.stdout.ends_with("\n403"), "{}", out.stdout);
    let event = proxy.wait_event(|e| e["eventType"] == "connection");
    assert_eq!(event["connection"]["outcome"], "cleartext-refused");
    assert_eq!(event["findings"][0]["rule"], "cleartext");
    assert_eq!(event["decision"], "blocked");
}

#[test]
fn garbage_after_connect_to_aws_is_an_event_not_a_hang() {
    use std::io::{Read, Write};
    let proxy = start_proxy(&[]);
    let mut s = std::net::TcpStream::connect(proxy.addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    s.write_all(b"CONNECT sqs.us-east-1.amazonaws.com:443 HTTP/1.1\r\nHost: sqs.us-east-1.amazonaws.com:443\r\n\r\n").unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    s.write_all(&[0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03])
        .unwrap();
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the proxy closes the connection");
    let event = proxy.wait_event(|e| e["eventType"] == "connection");
    assert_eq!(event["connection"]["outcome"], "malformed");
}

#[test]
fn malformed_and_oversized_requests_get_clear_http_errors() {
    use std::io::{Read, Write};
    let proxy = start_proxy(&[]);
    let exchange = |request: &[u8]| {
        let mut s = std::net::TcpStream::connect(proxy.addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(15)))
            .unwrap();
        s.write_all(request).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    assert!(exchange(b"NOT A REQUEST\r\n\r\n").starts_with("HTTP/1.1 400"));
    let mut big = b"CONNECT sqs.us-east-1.amazonaws.com:443 HTTP/1.1\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 200 * 1024));
    big.extend(b"\r\n\r\n");
    assert!(exchange(&big).starts_with("HTTP/1.1 431"));
    assert!(exchange(b"CONNECT nohostport HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400"));
}

#[test]
fn ca_name_constraints_reject_non_aws_leaves() {
    let proxy = start_proxy(&[]);
    let ca_dir = proxy.ca_dir();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(ca_dir.join("awsguard-ca.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let sign = |name: &str| {
        let dir = proxy.dir.path();
        let key = dir.join(format!("{name}.key"));
        let csr = dir.join(format!("{name}.csr"));
        let crt = dir.join(format!("{name}.pem"));
        let ext = dir.join(format!("{name}.ext"));
        std::fs::write(&ext, format!("subjectAltName=DNS:{name}\n")).unwrap();
        let out = run(Command::new("openssl")
            .args([
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&csr)
            .args(["-subj", &format!("/CN={name}")]));
        assert_eq!(out.status, 0, "{}", out.stderr);
        let out = run(Command::new("openssl")
            .args(["x509", "-req", "-days", "1", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(ca_dir.join("awsguard-ca.pem"))
            .arg("-CAkey")
            .arg(ca_dir.join("awsguard-ca.key"))
            .arg("-set_serial")
            .arg("7")
            .arg("-out")
            .arg(&crt)
            .arg("-extfile")
            .arg(&ext));
        assert_eq!(out.status, 0, "{}", out.stderr);
        run(Command::new("openssl")
            .arg("verify")
            .arg("-CAfile")
            .arg(ca_dir.join("awsguard-ca.pem"))
            .arg(&crt))
    };
    let aws = sign("sqs.us-east-1.amazonaws.com");
    assert_eq!(aws.status, 0, "{}{}", aws.stdout, aws.stderr);
    let other = sign("www.example.com");
    assert_ne!(other.status, 0);
    assert!(
        format!("{}{}", other.stdout, other.stderr).contains("permitted subtree violation"),
        "{}{}",
        other.stdout,
        other.stderr
    );
}

#[test]
fn a_1_gib_upload_passes_byte_exact_in_flat_memory() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    let dir = proxy.dir.path();
    let make = |name: &str, mib: u64| {
        let path = dir.join(name);
        let script = format!(
            "openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f -iv 0 -in /dev/zero 2>/dev/null | head -c {} > {}; sha256sum {}",
            mib * 1024 * 1024,
            path.display(),
            path.display()
        );
        let out = run(Command::new("sh").arg("-c").arg(script));
        (
            path,
            out.stdout.split_whitespace().next().unwrap().to_owned(),
        )
    };
    let upload = |path: &std::path::Path| {
        curl(
            &proxy,
            &[
                "-T",
                path.to_str().unwrap(),
                "https://s3.us-east-1.amazonaws.com/b/k",
            ],
        )
    };
    let (small, _) = make("warm.bin", 1);
    assert_eq!(upload(&small).status, 0);
    let baseline = proxy.peak_rss_kib();
    let mut growth = Vec::new();
    for mib in [256, 1024] {
        let (file, sha) = make("big.bin", mib);
        let out = upload(&file);
        assert_eq!(out.status, 0, "{}", out.stderr);
        assert_eq!(
            out.stdout,
            format!(
                "len={} sha256={sha} host=s3.us-east-1.amazonaws.com",
                mib * 1024 * 1024
            )
        );
        growth.push(proxy.peak_rss_kib().saturating_sub(baseline));
        std::fs::remove_file(&file).unwrap();
    }
    // Streaming means the peak does not depend on the body size: a few MiB of buffers at most.
    assert!(
        growth[1] < 32 * 1024,
        "peak RSS grew {} KiB over baseline",
        growth[1]
    );
    assert!(
        growth[1] <= growth[0] + 4 * 1024,
        "1 GiB grew more than 256 MiB: {growth:?}"
    );
}

#[test]
fn ctrl_c_stops_the_proxy_cleanly_with_events_flushed() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let mut proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    let out = curl(&proxy, &["https://sqs.us-east-1.amazonaws.com/x"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let pid = proxy.child.0.id().to_string();
    assert_eq!(run(Command::new("kill").args(["-INT", &pid])).status, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = proxy.child.0.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "proxy did not stop");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert_eq!(proxy.events().len(), 1);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !proxy.stderr.lock().unwrap().contains("awsguard stopped") {
        assert!(std::time::Instant::now() < deadline, "no stop message");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn an_upstream_that_resets_gets_the_client_a_502_and_an_event() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // Read a little of the ClientHello, then drop the connection.
            let mut buf = [0u8; 16];
            let _ = std::io::Read::read(&mut &stream, &mut buf);
            drop(stream);
        }
    });
    let proxy = start_proxy(&["--connect-to", &format!("*.amazonaws.com=127.0.0.1:{port}")]);
    let out = curl(
        &proxy,
        &[
            "-w",
            "\n%{http_code}",
            "https://sqs.us-east-1.amazonaws.com/",
        ],
    );
    assert!(out.stdout.ends_with("\n502"), "{}", out.stdout);
    assert!(
        out.stdout.contains("AwsGuardUpstreamError"),
        "{}",
        out.stdout
    );
    let event = proxy.wait_event(|e| e["responseStatus"] == 502);
    assert_eq!(event["connection"]["outcome"], "upstream-failed");
    let message = event["connection"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("tls handshake with upstream sqs.us-east-1.amazonaws.com failed"),
        "{message}"
    );
}

#[test]
fn an_sni_outside_aws_is_tunnelled_blind_even_inside_an_aws_connect() {
    let pki = upstream_pki();
    let (_server, port) = start_s_server(&pki, &["-www"]);
    let proxy = start_proxy(&["--connect-to", &format!("*.amazonaws.com=127.0.0.1:{port}")]);
    // Trusting only the upstream's CA: verification succeeds only if nothing decrypted the session.
    let out = run(Command::new("openssl")
        .arg("s_client")
        .arg("-proxy")
        .arg(proxy.addr.to_string())
        .args([
            "-connect",
            "sqs.us-east-1.amazonaws.com:443",
            "-servername",
            "upstream.test",
        ])
        .arg("-CAfile")
        .arg(&pki.ca_pem)
        .args(["-verify_return_error", "-brief"]));
    assert!(out.stderr.contains("Verification: OK"), "{}", out.stderr);
    let event = proxy.wait_event(|e| e["eventType"] == "connection");
    assert_eq!(event["connection"]["outcome"], "tunnelled");
    assert_eq!(event["connection"]["serverName"], "upstream.test");
}

#[test]
fn a_body_larger_than_the_whole_inspection_budget_still_passes_inspected() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "inspect-budget = 2048\n").unwrap();
    let proxy = start_proxy_routed(
        &pki,
        upstream.addr.port(),
        &["--config", config.path().to_str().unwrap()],
    );
    let policy = "x".repeat(100 * 1024);
    let body = format!(r#"{{"QueueName":"q","Attributes":{{"Policy":"{policy}"}}}}"#);
    let out = curl(
        &proxy,
        &[
            "-H",
            "Content-Type: application/x-amz-json-1.0",
            "-H",
            "X-Amz-Target: AmazonSQS.CreateQueue",
            "--data-binary",
            &body,
            "https://sqs.us-east-1.amazonaws.com/",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(&format!("len={} ", body.len())),
        "{}",
        out.stdout
    );
    let event = proxy.wait_event(|e| e["requestMethod"] == "POST");
    assert_eq!(event["eventName"], "CreateQueue");
    assert_eq!(event["bodyInspected"], true, "{event}");
}
