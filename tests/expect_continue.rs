//! `Expect: 100-continue` over HTTP/1.1 and HTTP/2: a client that waits for the interim response
//! before sending its body is not left waiting (curl is told to wait 60 s for it and given 30 s
//! in all, so a proxy that never answers fails the call). Over HTTP/2 the `100` comes from
//! awsguard's frame-level stand-in (`src/proxy/continue_h2.rs`), since hyper's server cannot send
//! one (hyper#2743).

mod common;

use common::*;

#[test]
fn expect_continue_is_answered_over_http1() {
    upload_waiting_for_continue("--http1.1", "HTTP/1.1 100");
}

#[test]
fn expect_continue_is_answered_over_http2() {
    upload_waiting_for_continue("--http2", "HTTP/2 100");
}

/// Two uploads on one connection (the second names `expect` from the HPACK dynamic table), each
/// sent only once the interim response `interim` arrived.
fn upload_waiting_for_continue(version: &str, interim: &str) {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    let file = proxy.dir.path().join("upload.bin");
    let sha = write_pattern_file(&file, 3 * 1024 * 1024);
    let data = format!("@{}", file.display());
    let url = "https://bucket.s3.us-east-1.amazonaws.com/object";
    let out = curl(
        &proxy,
        &[
            "-v",
            version,
            "-H",
            "Expect: 100-continue",
            "--expect100-timeout",
            "60",
            "--max-time",
            "30",
            "--data-binary",
            &data,
            "-X",
            "PUT",
            url,
            url,
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let echo = format!(
        "len={} sha256={sha} host=bucket.s3.us-east-1.amazonaws.com",
        3 * 1024 * 1024
    );
    assert_eq!(out.stdout, format!("{echo}{echo}"));
    assert_eq!(
        out.stderr.matches(&format!("< {interim}")).count(),
        2,
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("Re-using existing connection").count(),
        1,
        "{}",
        out.stderr
    );
}
