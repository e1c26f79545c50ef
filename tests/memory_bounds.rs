//! Memory under hostile byte patterns, through the real binary: a 175 KiB inspected body sent
//! one byte per TLS record (as 1-byte chunks, and as a Content-Length body) must not cost
//! kilobytes per byte. Prints the proxy's peak RSS before and after.

mod common;

use std::process::Command;

use common::*;

const BODY: usize = 175 * 1024;

fn one_byte_body(proxy: &ProxyProc, mode: &str) -> String {
    let out = run(Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/one_byte_body.py"
        ))
        .arg(proxy.addr.ip().to_string())
        .arg(proxy.addr.port().to_string())
        .arg(proxy.ca_pem())
        .arg(mode)
        .arg(BODY.to_string()));
    assert_eq!(out.status, 0, "{}", out.stderr);
    out.stdout.trim().to_owned()
}

#[test]
fn a_body_sent_one_byte_per_record_costs_its_size_not_kilobytes_per_byte() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    // Warm: certificates issued, detectors loaded, pools filled.
    assert_eq!(
        curl(&proxy, &["https://sqs.us-east-1.amazonaws.com/x"]).status,
        0
    );
    let before = proxy.peak_rss_kib();
    for mode in ["chunks", "records"] {
        assert_eq!(one_byte_body(&proxy, mode), "HTTP/1.1 200 OK", "{mode}");
    }
    let after = proxy.peak_rss_kib();
    eprintln!("peak RSS before {before} KiB, after two 175 KiB one-byte-record bodies {after} KiB");
    let events = proxy.events();
    let inspected: Vec<_> = events
        .iter()
        .filter(|e| e["eventName"] == "ListQueues")
        .collect();
    assert_eq!(inspected.len(), 2, "{events:#?}");
    assert!(inspected.iter().all(|e| e["bodyInspected"] == true));
    // The defect cost ~4.3 KB per byte (727 MiB for one such body); the bound leaves room for
    // allocator noise while catching any per-byte cost.
    assert!(
        after.saturating_sub(before) < 32 * 1024,
        "peak RSS grew by {} KiB",
        after.saturating_sub(before)
    );
}
