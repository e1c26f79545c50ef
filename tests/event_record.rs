//! The event record through the real binary: a sink that fails is loud and fails `exec`, an
//! events path that cannot be opened stops `run` before it listens, and the User-Agent is
//! bounded and redacted.

mod common;

use std::process::Command;

use common::*;

#[test]
fn exec_with_events_on_a_full_disk_says_so_and_exits_non_zero() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let dir = tempfile::tempdir().unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .arg("exec")
        .arg("--ca-dir")
        .arg(dir.path().join("ca"))
        .arg("--connect-to")
        .arg(format!(
            "*.amazonaws.com=127.0.0.1:{}",
            upstream.addr.port()
        ))
        .arg("--upstream-ca")
        .arg(&pki.ca_pem)
        .args(["--events", "/dev/full", "--"])
        .args(["curl", "-sS", "https://sqs.us-east-1.amazonaws.com/x"])
        .env("HOME", dir.path()));
    assert!(
        out.stdout.contains("len=0"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cannot write events: No space left on device"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the event record is incomplete"),
        "{}",
        out.stderr
    );
}

#[test]
fn run_refuses_to_start_on_an_events_path_it_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    // Root may write anywhere: a path under a regular file fails for everyone.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .arg("run")
        .args(["--listen", "127.0.0.1:0", "--ca-dir"])
        .arg(dir.path().join("ca"))
        .arg("--events")
        .arg(file.join("events.jsonl")));
    assert_ne!(out.status, 0);
    assert!(
        out.stderr.contains("cannot open events file"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("listening on"), "{}", out.stderr);
}

#[test]
fn user_agents_are_bounded_and_redacted_when_they_carry_a_secret() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let proxy = start_proxy_routed(&pki, upstream.addr.port(), &[]);
    let sdk = "aws-cli/2.15.0 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.0-18-amd64 md/arch#x86_64 \
               lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe \
               md/distrib#debian.12 md/prompt#off md/command#sqs.create-queue";
    let long = format!("sdk/1.0 {}", "x".repeat(60_000));
    let secret = "deploy/1.0 https://ci:hunter2secretpass@git.example.com/repo.git";
    for (path, ua) in [("/sdk", sdk), ("/long", long.as_str()), ("/secret", secret)] {
        let url = format!("https://sqs.us-east-1.amazonaws.com{path}");
        let out = curl(&proxy, &["-A", ua, &url]);
        assert_eq!(out.status, 0, "{}", out.stderr);
    }
    let ua_of = |want: &str| {
        proxy.wait_event(|e| {
            e["eventType"] == "api-call"
                && e["userAgent"]
                    .as_str()
                    .is_some_and(|ua| ua.starts_with(want))
        })["userAgent"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(ua_of("aws-cli/"), sdk);
    let long_kept = ua_of("sdk/1.0");
    assert_eq!(long_kept.len(), 1024 + "…[truncated]".len());
    assert!(long_kept.ends_with("…[truncated]"));
    assert_eq!(ua_of("deploy"), "deploy/… [redacted]");
    let text = std::fs::read_to_string(&proxy.events_path).unwrap();
    assert!(!text.contains("hunter2secretpass"));
}
