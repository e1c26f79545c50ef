//! Small things a user notices first: `inspect` reads standard input and gates on findings,
//! subcommands refuse flags that are not theirs, TOML errors say where, `--listen` takes a host
//! name, and the proxy starts without warnings.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const TAGGED: &str = "POST / HTTP/1.1\r\nHost: sqs.us-east-1.amazonaws.com\r\n\
    X-Amz-Target: AmazonSQS.CreateQueue\r\nContent-Type: application/x-amz-json-1.0\r\n\
    Content-Length: 62\r\n\r\n{\"QueueName\":\"orders\",\"tags\":{\"owner\":\"jane.doe@example.com\"}}";

fn inspect_stdin(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .arg("inspect")
        .args(["--fips", "off"])
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(TAGGED.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn inspect_reads_stdin_gates_on_findings_and_formats() {
    assert_eq!(TAGGED.split("\r\n\r\n").nth(1).unwrap().len(), 62);
    let events = inspect_stdin(&[]);
    assert_eq!(events.status, 0, "{}", events.stderr);
    let event: serde_json::Value = serde_json::from_str(events.stdout.trim()).unwrap();
    assert_eq!(event["eventName"], "CreateQueue");
    assert_eq!(event["findings"][0]["rule"], "email-address");

    let gated = inspect_stdin(&["--fail-on", "medium"]);
    assert_eq!(gated.status, 3, "{}", gated.stderr);
    assert_eq!(inspect_stdin(&["--fail-on", "high"]).status, 0);

    let text = inspect_stdin(&["--format", "text", "--fail-on", "email-address"]);
    assert_eq!(text.status, 3);
    assert!(
        text.stdout.starts_with(
            "awsguard: 1 AWS call (0 blocked), 1 finding; command exited 0; awsguard exits 3\n"
        ),
        "{}",
        text.stdout
    );
    assert!(text
        .stdout
        .contains("email-address (medium) x1, fails the run"));

    let sarif = inspect_stdin(&["--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(log["runs"][0]["results"][0]["ruleId"], "email-address");
    assert_eq!(
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "inspect"
    );
}

#[test]
fn subcommands_refuse_flags_that_are_not_theirs_and_toml_errors_say_where() {
    let dir = tempfile::tempdir().unwrap();
    let awsguard = |args: &[&str]| run(Command::new(env!("CARGO_BIN_EXE_awsguard")).args(args));
    for args in [
        &["inspect", "--listen", "127.0.0.1:0", "-"][..],
        &["inspect", "--events", "x.jsonl", "-"],
        &["inspect", "--connect-to", "a=b:1", "-"],
        &["report", "--mode", "enforce", "e.jsonl", "-o", "r.html"],
        &["export", "e.jsonl"],
    ] {
        let out = awsguard(args);
        assert_eq!(out.status, 2, "{args:?}: {}", out.stderr);
    }
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "mode = \"enforce\"\nmood = \"audit\"\n").unwrap();
    let out = awsguard(&["inspect", "--config", config.to_str().unwrap(), "-"]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "invalid config file {}: line 2, column 1: unknown field `mood`",
            config.display()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn listen_accepts_a_host_name_and_start_up_prints_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut child = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_awsguard"))
            .args(["run", "--listen", "localhost:0", "--ca-dir"])
            .arg(&home)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let state = home.join("awsguard-state.json");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !state.exists() {
        assert!(Instant::now() < deadline, "the proxy did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let listen = state["listen"].as_str().unwrap();
    assert!(listen.starts_with("127.0.0.1:"), "{listen}");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(child.0.id()).unwrap()).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let _ = child.0.wait();
    let mut out = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(!out.contains("WARN"), "{out}");
    assert!(out.contains("awsguard listening on 127.0.0.1:"), "{out}");
}
