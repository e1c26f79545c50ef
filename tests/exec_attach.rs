//! `awsguard exec --attach`: the command goes through the proxy `awsguard run` is running, and the
//! summary and exit code come from the calls that proxy recorded for this command only.

mod common;

use std::process::Command;

use common::*;

/// The awsguard binary with the AWS CLI's test environment (credentials, region, no config).
fn awsguard_with_aws_env(proxy: &ProxyProc) -> Command {
    let aws = aws_command(proxy, &[]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_awsguard"));
    cmd.env_clear();
    for (name, value) in aws.get_envs() {
        if let Some(value) = value {
            cmd.env(name, value);
        }
    }
    cmd
}

#[test]
fn attach_summarises_only_the_calls_of_its_own_command() {
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let proxy = start_proxy_for_moto(&pki, &moto, &[]);
    // A call before the command: outside its window.
    assert_eq!(aws(&proxy, &["sts", "get-caller-identity"]).status, 0);
    let summary = proxy.dir.path().join("summary.json");
    // Inside the command: a tagged queue through the attach URL, then a call through the same
    // proxy without it (another client of the running proxy, in the same time window).
    let plain = proxy.url();
    let script = format!(
        "aws sqs create-queue --queue-name orders --tags owner=jane.doe@example.com >/dev/null \
         && HTTPS_PROXY={plain} https_proxy={plain} aws sts get-caller-identity >/dev/null \
         && printf '%s' \"$HTTPS_PROXY\""
    );
    let out = run(awsguard_with_aws_env(&proxy)
        .args(["exec", "--attach", "--ca-dir"])
        .arg(proxy.ca_dir())
        .args(["--fail-on", "medium", "--format", "json", "--output"])
        .arg(&summary)
        .args(["--", "sh", "-c", &script]));
    assert_eq!(out.status, 3, "{}\n{}", out.stdout, out.stderr);
    // The command saw the running proxy's address with an exec id as the user name.
    let url = out.stdout.trim();
    let id = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix(&format!(":awsguard@{}", proxy.addr)))
        .unwrap_or_else(|| panic!("{url}"));
    assert!(id.starts_with("exec-") && id.len() == 21, "{id}");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(summary["calls"], 1, "{summary:#}");
    assert_eq!(summary["operations"][0]["service"], "sqs");
    assert_eq!(summary["operations"][0]["operation"], "CreateQueue");
    assert_eq!(summary["commandExitCode"], 0);
    assert!(
        summary["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "email-address"),
        "{summary:#}"
    );

    // The running proxy recorded all three calls, only the command's one with its id.
    let events = proxy.events();
    let calls: Vec<_> = events
        .iter()
        .filter(|e| e["eventType"] == "api-call")
        .map(|e| (e["eventName"].as_str().unwrap(), e["execId"].as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("GetCallerIdentity", None),
            ("CreateQueue", Some(id)),
            ("GetCallerIdentity", None)
        ]
    );
}

#[test]
fn attach_without_a_running_proxy_says_so() {
    let home = tempfile::tempdir().unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["exec", "--attach", "--ca-dir"])
        .arg(home.path())
        .args(["--", "true"]));
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("exec --attach: no awsguard proxy is running with home"),
        "{}",
        out.stderr
    );
}
