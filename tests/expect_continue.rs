//! `Expect: 100-continue` over HTTP/1.1: a client that waits for the interim response before
//! sending its body is not left waiting (curl is told to wait 60 s for it and given 30 s in all,
//! so a proxy that never answers fails the call). Over HTTP/2 hyper's server cannot send a 1xx
//! (h2 0.4.20 can, `SendResponse::send_informational`; hyper 1.x does not expose it, hyper#2743):
//! under `exec` the Node.js preload stands in for it, see `exec_node.rs`
//! `a_5_mb_s3_upload_over_http2_lands_whole`.

mod common;

use common::*;

#[test]
fn expect_continue_is_answered_over_http1() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    let file = proxy.dir.path().join("upload.bin");
    let sha = write_pattern_file(&file, 3 * 1024 * 1024);
    let data = format!("@{}", file.display());
    let out = curl(
        &proxy,
        &[
            "--http1.1",
            "-H",
            "Expect: 100-continue",
            "--expect100-timeout",
            "60",
            "--max-time",
            "30",
            "--data-binary",
            &data,
            "https://bucket.s3.us-east-1.amazonaws.com/object",
            "-X",
            "PUT",
        ],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!(
            "len={} sha256={sha} host=bucket.s3.us-east-1.amazonaws.com",
            3 * 1024 * 1024
        )
    );
}
