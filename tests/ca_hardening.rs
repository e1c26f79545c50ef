//! The CA on disk through the real binary: private whatever the umask, an open key refused
//! unless allowed (loudly), and first runs racing on an empty home all working on one CA.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use common::*;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn ca_init_under_umask_000_makes_a_private_directory_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("home").join("ca");
    let out = run(Command::new("sh").arg("-c").arg(format!(
        "umask 000 && exec '{}' ca init --dir '{}'",
        env!("CARGO_BIN_EXE_awsguard"),
        ca_dir.display()
    )));
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(mode(&ca_dir), 0o700);
    assert_eq!(mode(&ca_dir.join("awsguard-ca.key")), 0o600);
}

#[test]
fn a_ca_key_others_can_read_is_refused_unless_allow_open_key() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let bin = env!("CARGO_BIN_EXE_awsguard");
    assert_eq!(
        run(Command::new(bin).args(["ca", "init", "--dir"]).arg(&ca_dir)).status,
        0
    );
    let key = ca_dir.join("awsguard-ca.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(Command::new(bin)
        .args(["run", "--listen", "127.0.0.1:0", "--ca-dir"])
        .arg(&ca_dir));
    assert_ne!(out.status, 0);
    assert!(
        out.stderr.contains("readable by other users"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--allow-open-key"), "{}", out.stderr);
    let proxy = start_proxy_with_ca(&ca_dir, &["--allow-open-key"]);
    assert!(
        proxy.1.contains("WARNING") && proxy.1.contains("readable by other users"),
        "{}",
        proxy.1
    );
}

/// Starts `run` on `ca_dir`; returns the child and its stderr up to the listening line.
fn start_proxy_with_ca(ca_dir: &std::path::Path, args: &[&str]) -> (ChildGuard, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["run", "--listen", "127.0.0.1:0", "--ca-dir"])
        .arg(ca_dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let guard = ChildGuard(child);
    let mut seen = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("awsguard listening on") {
            return (guard, seen);
        }
    }
    panic!("proxy did not start: {seen}");
}

#[test]
fn first_runs_racing_on_an_empty_home_all_start_on_one_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let started: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| start_proxy_with_ca(&ca_dir, &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(started.len(), 4);
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["ca", "show", "--dir"])
        .arg(&ca_dir));
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(mode(&ca_dir.join("awsguard-ca.key")), 0o600);
}
