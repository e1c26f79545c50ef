//! HTTP/2 on the upstream leg: an upstream that speaks only h2 works for HTTP/1.1 and HTTP/2
//! clients alike, and the calls of many client streams share one upstream connection.

mod common;

use std::sync::atomic::Ordering;

use common::*;

#[test]
fn h2_only_upstream_serves_both_client_protocols_on_one_connection() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream_h2(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    let file = proxy.dir.path().join("upload.bin");
    let sha = write_pattern_file(&file, 2 * 1024 * 1024 + 3);
    let data = format!("@{}", file.display());
    for http in ["--http1.1", "--http2"] {
        let out = curl(
            &proxy,
            &[
                http,
                "--data-binary",
                &data,
                "https://sqs.us-east-1.amazonaws.com/object",
                "-X",
                "PUT",
            ],
        );
        assert_eq!(out.status, 0, "{http}: {}", out.stderr);
        assert_eq!(
            out.stdout,
            format!(
                "len={} sha256={sha} host=sqs.us-east-1.amazonaws.com",
                2 * 1024 * 1024 + 3
            ),
            "{http}"
        );
    }
    // 40 concurrent streams on one client connection.
    let urls: Vec<String> = (0..40)
        .map(|i| format!("https://sqs.us-east-1.amazonaws.com/q{i}"))
        .collect();
    let mut args = vec!["--http2", "--parallel", "--parallel-max", "40"];
    args.extend(urls.iter().map(String::as_str));
    let out = curl(&proxy, &args);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout.matches("len=0 ").count(), 40, "{}", out.stdout);
    assert_eq!(
        upstream.accepted.load(Ordering::SeqCst),
        1,
        "every call shares the one h2 upstream connection"
    );
    let event = proxy.wait_event(|e| e["requestMethod"] == "PUT");
    assert_eq!(event["responseStatus"], 200);
    assert_eq!(event["tlsDetails"]["upstreamTlsVersion"], "TLSv1.3");
}
