//! `awsguard exec` end to end: the real AWS CLI against moto_server through the private proxy,
//! the summary, `--fail-on` exit code 3, SARIF validated against the schema, signal forwarding,
//! the combined CA bundle, and the small `ca bundle` / `ca trust` / `completions` commands.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

/// `awsguard exec` with a fresh CA dir under `dir`, routing AWS hosts to `target` (trusting
/// `pki`), a clean AWS CLI environment, and `args` before `--`.
fn exec_command(dir: &Path, pki: &Pki, target: u16, args: &[&str], cmd: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_awsguard"));
    command
        .arg("exec")
        .arg("--ca-dir")
        .arg(dir.join("ca"))
        .arg("--connect-to")
        .arg(format!("*.amazonaws.com=127.0.0.1:{target}"))
        .arg("--upstream-ca")
        .arg(&pki.ca_pem)
        .args(args)
        .arg("--")
        .args(cmd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "testing/secret/key/not/real/0000000000",
        )
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "");
    if let Some(pyenv) = std::env::var_os("PYENV_ROOT") {
        command.env("PYENV_ROOT", pyenv);
    }
    command
}

const AWS_CALLS: &str =
    "aws sqs create-queue --queue-name exec-q --tags owner=jane.doe@example.com \
                         && aws sts get-caller-identity";

#[test]
fn exec_summarises_aws_cli_calls_and_fail_on_turns_success_into_3() {
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");

    let out = run(exec_command(
        dir.path(),
        &pki,
        moto.port,
        &["--events", events.to_str().unwrap()],
        &["sh", "-c", AWS_CALLS],
    )
    .stdin(Stdio::null()));
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("\"Account\""),
        "child stdout untouched: {}",
        out.stdout
    );
    let summary = &out.stderr[out.stderr.find("awsguard: 2 AWS calls").expect(&out.stderr)..];
    let headline = summary.lines().next().unwrap();
    assert!(
        headline.starts_with("awsguard: 2 AWS calls (0 blocked), ")
            && headline.ends_with(" findings; command exited 0; awsguard exits 0"),
        "{summary}"
    );
    assert!(
        summary.contains("    sqs CreateQueue        1\n"),
        "{summary}"
    );
    assert!(
        summary.contains("    sts GetCallerIdentity  1\n"),
        "{summary}"
    );
    assert!(
        summary.contains("  TLS: client TLSv1.3 x2; upstream TLSv1.3 x2\n"),
        "{summary}"
    );
    assert!(
        summary.contains("standard endpoints with a FIPS alternative"),
        "{summary}"
    );
    assert!(
        summary.contains("sts-fips.us-east-1.amazonaws.com"),
        "{summary}"
    );
    assert!(
        summary.contains("    email-address (medium) x1\n"),
        "{summary}"
    );
    assert!(
        !summary.contains("jane.doe"),
        "excerpts are redacted: {summary}"
    );
    assert_eq!(
        std::fs::read_to_string(&events).unwrap().lines().count(),
        2,
        "--events writes the record"
    );

    let out = run(exec_command(
        dir.path(),
        &pki,
        moto.port,
        &["--fail-on", "medium"],
        &["sh", "-c", AWS_CALLS],
    )
    .stdin(Stdio::null()));
    assert_eq!(out.status, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("email-address (medium) x1, fails the run"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("command exited 0; awsguard exits 3"),
        "{}",
        out.stderr
    );

    let out = run(exec_command(
        dir.path(),
        &pki,
        moto.port,
        &["--fail-on", "high"],
        &["sh", "-c", "aws sts get-caller-identity >/dev/null; exit 7"],
    )
    .stdin(Stdio::null()));
    assert_eq!(
        out.status, 7,
        "the command's own failure wins: {}",
        out.stderr
    );
}

#[test]
fn exec_sarif_is_github_ready_and_validates_against_the_schema() {
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let sarif_run = |name: &str| {
        let sarif = dir.path().join(name);
        let out = run(exec_command(
            dir.path(),
            &pki,
            moto.port,
            &[
                "--format",
                "sarif",
                "--output",
                sarif.to_str().unwrap(),
                "--events",
                events.to_str().unwrap(),
                "--fail-on",
                "email-address",
            ],
            &["sh", "-c", AWS_CALLS],
        )
        .stdin(Stdio::null()));
        assert_eq!(out.status, 3, "{}", out.stderr);
        // The report went to the file; stderr gets one line saying so.
        let ours: Vec<_> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("awsguard"))
            .collect();
        assert_eq!(ours.len(), 1, "{}", out.stderr);
        assert!(
            ours[0].starts_with("awsguard: 2 AWS calls (0 blocked), ")
                && ours[0].ends_with(&format!("awsguard exits 3 ({})", sarif.display())),
            "{}",
            ours[0]
        );
        (
            sarif.clone(),
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(&sarif).unwrap()).unwrap(),
        )
    };
    let (sarif, log) = sarif_run("first.sarif");
    let run0 = &log["runs"][0];
    assert_eq!(run0["automationDetails"]["id"], "awsguard/sh/");
    let results = run0["results"].as_array().unwrap();
    let rules: Vec<_> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"email-address"), "{rules:?}");
    assert!(rules.contains(&"non-fips-endpoint"), "{rules:?}");
    let email = results
        .iter()
        .find(|r| r["ruleId"] == "email-address")
        .unwrap();
    assert_eq!(email["level"], "warning");
    assert_eq!(
        email["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "queue.amazonaws.com/CreateQueue/body:tags.owner"
    );
    // The physical location is the events file and the line of the call's event.
    let physical = &email["locations"][0]["physicalLocation"];
    let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
    assert_eq!(uri, url::Url::from_file_path(&events).unwrap().as_str());
    let line = physical["region"]["startLine"].as_u64().unwrap() as usize;
    let text = std::fs::read_to_string(&events).unwrap();
    let event: serde_json::Value =
        serde_json::from_str(text.lines().nth(line - 1).unwrap()).unwrap();
    assert_eq!(event["eventName"], "CreateQueue");
    let rule = run0["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "email-address")
        .unwrap();
    assert_eq!(rule["properties"]["security-severity"], "5.5");
    assert!(rule["help"]["text"]
        .as_str()
        .unwrap()
        .contains("personal data"));
    assert_eq!(log["runs"][0]["invocations"][0]["exitCode"], 3);

    // A second run appends to the events file: its lines move on, its fingerprints do not.
    let (_, again) = sarif_run("second.sarif");
    let fingerprints = |log: &serde_json::Value| {
        let mut all: Vec<String> = log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["awsguardFinding/v1"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        all.sort();
        all
    };
    assert_eq!(fingerprints(&log), fingerprints(&again));
    let email_again = again["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "email-address")
        .unwrap();
    assert!(
        email_again["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap() as usize
            > line
    );

    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/testdata/sarif-2.1.0.json");
    let check = run(Command::new("python3").arg("-c").arg(
        "import json,sys,jsonschema\n\
         schema=json.load(open(sys.argv[1]))\n\
         jsonschema.Draft7Validator.check_schema(schema)\n\
         jsonschema.validate(json.load(open(sys.argv[2])), schema)\n\
         bad={'version':'2.1.0','runs':[{'tool':{'driver':{'name':'x'}},'results':[{'ruleId':'r'}]}]}\n\
         try:\n  jsonschema.validate(bad, schema); print('schema accepts a result without message')\n\
         except jsonschema.ValidationError: print('valid')",
    ).arg(&schema).arg(&sarif));
    assert_eq!(
        (check.status, check.stdout.trim()),
        (0, "valid"),
        "{}",
        check.stderr
    );
}

/// Runs `exec` on a child that traps `name`, sends `signal` to awsguard once the child is ready,
/// and returns (awsguard's exit code, the child's later stdout, awsguard's stderr).
fn signal_round_trip(name: &str, signal: rustix::process::Signal) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let script =
        format!("trap 'echo got-{name}; exit 42' {name}; echo ready; while :; do sleep 0.05; done");
    let mut child = Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["exec", "--ca-dir"])
        .arg(dir.path().join("ca"))
        .args(["--", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert_eq!(line, "ready\n");
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        rest,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exec_forwards_sigterm_and_returns_the_command_code() {
    let (code, rest, stderr) = signal_round_trip("TERM", rustix::process::Signal::TERM);
    assert_eq!(rest, "got-TERM\n");
    assert_eq!(code, Some(42), "{stderr}");
    assert!(
        stderr.contains("command exited 42; awsguard exits 42"),
        "{stderr}"
    );
}

#[test]
fn exec_forwards_sigint_when_not_run_from_a_terminal() {
    let (code, rest, stderr) = signal_round_trip("INT", rustix::process::Signal::INT);
    assert_eq!(rest, "got-INT\n");
    assert_eq!(code, Some(42), "{stderr}");
}

#[test]
fn exec_reports_a_command_killed_by_a_signal_as_128_plus_signal() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["exec", "--ca-dir"])
        .arg(dir.path().join("ca"))
        .args(["--", "sh", "-c", "kill -KILL $$"]));
    assert_eq!(out.status, 137, "{}", out.stderr);
}

#[test]
fn exec_gives_curl_a_bundle_of_system_roots_plus_the_ca_and_no_aws_no_proxy() {
    let pki = upstream_pki();
    let upstream = start_echo_upstream(&pki);
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("bundle-copy.pem");
    let env_file = dir.path().join("env.txt");
    let script = format!(
        "cp \"$CURL_CA_BUNDLE\" {copy} && env > {env} && curl -sS https://sts.us-east-1.amazonaws.com/ping",
        copy = copy.display(),
        env = env_file.display()
    );
    let out = run(exec_command(
        dir.path(),
        &pki,
        upstream.addr.port(),
        &[],
        &["sh", "-c", &script],
    )
    .env("NO_PROXY", "localhost,.amazonaws.com,*.api.aws"));
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.starts_with("len=0 sha256="), "{}", out.stdout);
    assert!(
        out.stdout.ends_with("host=sts.us-east-1.amazonaws.com"),
        "{}",
        out.stdout
    );

    let bundle = std::fs::read_to_string(&copy).unwrap();
    let certs = bundle.matches("-----BEGIN CERTIFICATE-----").count();
    assert!(certs > 100, "system roots are included: {certs}");
    let ca = std::fs::read_to_string(dir.path().join("ca/awsguard-ca.pem")).unwrap();
    assert!(bundle.ends_with(&ca), "the awsguard CA closes the bundle");

    let env = format!("\n{}", std::fs::read_to_string(&env_file).unwrap());
    let bundle_path = env
        .lines()
        .find_map(|l| l.strip_prefix("AWS_CA_BUNDLE="))
        .unwrap();
    for name in [
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "NODE_EXTRA_CA_CERTS",
        "CURL_CA_BUNDLE",
    ] {
        assert!(
            env.contains(&format!("\n{name}={bundle_path}\n")),
            "{name}: {env}"
        );
    }
    for name in ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"] {
        assert!(
            env.contains(&format!("\n{name}=http://127.0.0.1:")),
            "{name}: {env}"
        );
    }
    assert!(env.contains("\nNO_PROXY=localhost\n"), "{env}");
    assert!(env.contains("\nno_proxy=localhost\n"), "{env}");
    assert!(
        !Path::new(bundle_path).exists(),
        "the temporary bundle is removed at exit"
    );
}

#[test]
fn exec_without_a_runnable_command_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["exec", "--ca-dir"])
        .arg(dir.path().join("ca"))
        .args(["--", "/nonexistent/program"]));
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("awsguard: error: cannot run /nonexistent/program: "),
        "{}",
        out.stderr
    );
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard")).args([
        "exec",
        "--fail-on",
        "bogus",
        "--",
        "true",
    ]));
    assert_eq!(out.status, 2, "{}", out.stderr);
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["exec", "--format", "xml", "--", "true"]));
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("[possible values: text, json, sarif]"),
        "{}",
        out.stderr
    );
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard")).args(["exec", "true"]));
    assert_eq!(out.status, 2, "the command must follow --: {}", out.stderr);
}

#[test]
fn ca_bundle_trust_and_completions() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let bin = env!("CARGO_BIN_EXE_awsguard");
    let out = run(Command::new(bin).args(["ca", "init", "--dir"]).arg(&ca_dir));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let bundle = dir.path().join("bundle.pem");
    let out = run(Command::new(bin)
        .args(["ca", "bundle", "--dir"])
        .arg(&ca_dir)
        .arg("--out")
        .arg(&bundle));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&bundle).unwrap();
    let count = text.matches("-----BEGIN CERTIFICATE-----").count();
    assert!(
        out.stdout.starts_with(&format!(
            "wrote {count} certificates (system roots + awsguard CA) to "
        )),
        "{}",
        out.stdout
    );
    assert!(text.ends_with(&std::fs::read_to_string(ca_dir.join("awsguard-ca.pem")).unwrap()));

    let out = run(Command::new(bin)
        .args(["ca", "trust", "--dir"])
        .arg(&ca_dir));
    assert_eq!(out.status, 0);
    assert!(
        out.stdout.contains("sudo update-ca-certificates"),
        "{}",
        out.stdout
    );

    for shell in ["bash", "zsh", "fish"] {
        let out = run(Command::new(bin).args(["completions", shell]));
        assert_eq!(out.status, 0, "{shell}");
        assert!(out.stdout.contains("exec"), "{shell}");
        assert!(out.stdout.contains("fail-on"), "{shell}");
    }
}

#[test]
fn the_walkthrough_script_runs() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/walkthrough.sh");
    let out = run(Command::new("bash")
        .arg(script)
        .env("AWSGUARD", env!("CARGO_BIN_EXE_awsguard")));
    assert_eq!(out.status, 0, "{}{}", out.stdout, out.stderr);
    for expected in [
        "An error occurred (AwsGuardPolicyViolation) when calling the CreateQueue operation",
        "FIPS endpoint: sts-fips.us-east-1.amazonaws.com",
        "FIPS: 1 to FIPS endpoints",
        "awsguard: 2 AWS calls (0 blocked), ",
        "; command exited 0; awsguard exits 0",
        "warning  email-address      queue.amazonaws.com/CreateQueue/body:tags.owner",
    ] {
        assert!(
            out.stdout.contains(expected) || out.stderr.contains(expected),
            "{expected}\n{}{}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn the_sample_config_is_valid() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/awsguard.toml");
    let dir = tempfile::tempdir().unwrap();
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["exec", "--config"])
        .arg(config)
        .arg("--ca-dir")
        .arg(dir.path().join("ca"))
        .args(["--", "true"]));
    assert_eq!(out.status, 0, "{}", out.stderr);
}
