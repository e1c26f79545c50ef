//! `awsguard run` as a user sees it: one line per call on stderr (plain through a pipe, coloured
//! on a terminal), the default daily events file, the state file `awsguard env` reads, and the
//! summary at SIGTERM.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// Collects a reader's bytes on a thread; `wait_for` polls them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn start(mut reader: impl Read + Send + 'static) -> Captured {
        let captured = Captured::default();
        let sink = captured.0.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        captured
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(Instant::now() < deadline, "no {needle:?} in:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The listen address and pid from the state file in `home`.
fn state(home: &Path) -> (String, i32) {
    let text = std::fs::read_to_string(home.join("awsguard-state.json")).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    (
        state["listen"].as_str().unwrap().to_owned(),
        i32::try_from(state["pid"].as_u64().unwrap()).unwrap(),
    )
}

fn terminate(pid: i32) {
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
}

fn awsguard_env(home: &Path) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["env", "--ca-dir"])
        .arg(home))
}

#[test]
fn run_through_a_pipe_prints_plain_lines_writes_the_daily_file_and_summarises_at_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut child = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_awsguard"))
            .args([
                "run",
                "--mode",
                "enforce",
                "--fips",
                "off",
                "--listen",
                "127.0.0.1:0",
            ])
            .env("AWSGUARD_HOME", &home)
            .env_remove("NO_COLOR")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = Captured::start(child.0.stderr.take().unwrap());
    let banner = stderr.wait_for("export AWS_CA_BUNDLE=");
    let (listen, pid) = state(&home);
    assert!(
        banner.contains(&format!("awsguard listening on {listen} (enforce mode")),
        "{banner}"
    );
    let day = time::OffsetDateTime::now_utc().date();
    let daily = home.join("events").join(format!(
        "awsguard-{:04}-{:02}-{:02}.jsonl",
        day.year(),
        u8::from(day.month()),
        day.day()
    ));
    assert!(
        banner.contains(&format!("events  {}\n", daily.display())),
        "{banner}"
    );
    assert!(
        banner.contains(&format!(
            "export AWS_CA_BUNDLE={}\n",
            home.join("awsguard-bundle.pem").display()
        )),
        "{banner}"
    );

    let out = blocked_create_queue(&listen, &home.join("awsguard-ca.pem"));
    assert!(
        out.stdout.contains("AwsGuardPolicyViolation"),
        "{}",
        out.stderr
    );
    let text = stderr.wait_for("sqs.CreateQueue");
    let line = text
        .lines()
        .find(|l| l.contains("sqs.CreateQueue"))
        .unwrap();
    assert!(
        line.ends_with("us-east-1      403 BLOCKED  email-address"),
        "{line:?}"
    );
    assert_eq!(line.as_bytes()[2], b':', "{line:?} starts with HH:MM:SS");

    terminate(pid);
    assert!(child.0.wait().unwrap().success());
    let text = stderr.wait_for("  events:");
    assert!(
        text.contains(
            "awsguard stopped: 1 call (1 blocked), 1 finding\n  \
             calls by service:  sqs 1\n  \
             findings by rule:  email-address 1\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains('\x1b'),
        "no ANSI codes through a pipe: {text:?}"
    );
    let events = std::fs::read_to_string(&daily).unwrap();
    let event: serde_json::Value = serde_json::from_str(events.lines().next().unwrap()).unwrap();
    assert_eq!(event["eventName"], "CreateQueue");
    assert_eq!(event["decision"], "blocked");
    assert!(
        !home.join("awsguard-state.json").exists(),
        "the state file goes with the proxy"
    );
    assert!(awsguard_env(&home)
        .stderr
        .contains("no awsguard proxy is running"));
}

#[test]
fn run_on_a_terminal_colours_the_line_and_quiet_prints_only_banner_and_summary() {
    for (quiet, no_color) in [(false, false), (true, false), (false, true)] {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let mut command = format!(
            "{} run --mode enforce --fips off --listen 127.0.0.1:0 --ca-dir {}",
            env!("CARGO_BIN_EXE_awsguard"),
            home.display()
        );
        if quiet {
            command.push_str(" --quiet");
        }
        // `script` gives the proxy a pseudo-terminal for stdin, stdout and stderr.
        let mut script = Command::new("script");
        script
            .args(["-qfec", &command, "/dev/null"])
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if no_color {
            script.env("NO_COLOR", "1");
        } else {
            script.env_remove("NO_COLOR");
        }
        let mut child = ChildGuard(script.spawn().unwrap());
        let terminal = Captured::start(child.0.stdout.take().unwrap());
        terminal.wait_for("export AWS_CA_BUNDLE=");
        let (listen, pid) = state(&home);
        blocked_create_queue(&listen, &home.join("awsguard-ca.pem"));
        // The event is recorded before the response is sent, so the line (if any) is out.
        terminate(pid);
        let text = terminal.wait_for("  events:");
        let _ = child.0.wait();
        let line = text.lines().find(|l| l.contains("sqs.CreateQueue"));
        match (quiet, no_color) {
            (true, _) => assert_eq!(line, None, "{text}"),
            (false, true) => {
                let line = line.unwrap();
                assert!(!line.contains('\x1b'), "NO_COLOR: {line:?}");
                assert!(line.contains("403 BLOCKED  email-address"), "{line:?}");
            }
            (false, false) => {
                let line = line.unwrap();
                assert!(line.contains("\x1b[1;31mBLOCKED\x1b[0m"), "{line:?}");
                assert!(line.contains("\x1b[33memail-address\x1b[0m"), "{line:?}");
            }
        }
        assert!(
            text.contains("awsguard stopped: 1 call (1 blocked), 1 finding"),
            "{text}"
        );
    }
}

#[test]
fn env_prints_the_running_proxys_port_and_combined_bundle() {
    let proxy = start_proxy(&[]);
    let out = awsguard_env(&proxy.ca_dir());
    assert_eq!(out.status, 0, "{}", out.stderr);
    let bundle = proxy.ca_dir().join("awsguard-bundle.pem");
    assert_eq!(
        out.stdout,
        format!(
            "export HTTPS_PROXY=http://{0}\nexport https_proxy=http://{0}\nexport AWS_CA_BUNDLE={1}\n",
            proxy.addr,
            bundle.display()
        )
    );
    assert_ne!(proxy.addr.port(), 8080);
    // The bundle holds the system roots and the awsguard CA, as `ca bundle` writes it.
    let pem = std::fs::read_to_string(&bundle).unwrap();
    let ca = std::fs::read_to_string(proxy.ca_pem()).unwrap();
    assert!(pem.contains(ca.trim()), "the CA is in the bundle");
    assert!(pem.matches("BEGIN CERTIFICATE").count() > 1);
}
