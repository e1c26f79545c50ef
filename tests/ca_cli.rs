//! `awsguard ca init`, `ca show` and `env` as a user runs them.

mod common;

use std::process::Command;

use common::{run, Output};

fn awsguard(args: &[&str], home: &std::path::Path) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(args)
        .env("AWSGUARD_HOME", home))
}

#[test]
fn ca_init_show_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");

    let init = awsguard(&["ca", "init", "--permit", "localstack.test"], &home);
    assert_eq!(init.status, 0, "{}", init.stderr);
    assert!(init.stdout.contains("awsguard-ca.pem"), "{}", init.stdout);
    assert!(init.stdout.contains("(mode 0600)"), "{}", init.stdout);

    let again = awsguard(&["ca", "init"], &home);
    assert_eq!(again.status, 1);
    assert!(
        again.stderr.contains("a CA already exists"),
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains("--force"), "{}", again.stderr);

    let show = awsguard(&["ca", "show"], &home);
    assert_eq!(show.status, 0, "{}", show.stderr);
    let fingerprint = show
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("sha256"))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(fingerprint.len(), 95, "{fingerprint}");
    let openssl = run(Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(home.join("awsguard-ca.pem")));
    assert!(openssl.stdout.contains(&fingerprint), "{}", openssl.stdout);
    assert!(show.stdout.contains("amazonaws.com, "), "{}", show.stdout);
    assert!(show.stdout.contains("localstack.test"), "{}", show.stdout);
    assert!(
        show.stdout
            .contains("for a running proxy: eval \"$(awsguard env)\""),
        "{}",
        show.stdout
    );
    let text = run(Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(home.join("awsguard-ca.pem")));
    assert!(
        text.stdout.contains("X509v3 Name Constraints: critical"),
        "{}",
        text.stdout
    );

    let forced = awsguard(&["ca", "init", "--force"], &home);
    assert_eq!(forced.status, 0, "{}", forced.stderr);
    let show2 = awsguard(&["ca", "show"], &home);
    assert!(
        !show2.stdout.contains(&fingerprint),
        "a new CA has a new fingerprint"
    );

    // No proxy runs with this home: `env` says so rather than print lines that point nowhere
    // (tests/run_console.rs checks it against a running proxy).
    let env = awsguard(&["env", "--listen", "127.0.0.1:9999"], &home);
    assert_eq!(env.status, 1);
    assert_eq!(env.stdout, "");
    assert!(
        env.stderr.contains("no awsguard proxy is running"),
        "{}",
        env.stderr
    );
}

#[test]
fn usage_and_config_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad_flag = awsguard(&["run", "--mode", "sometimes"], dir.path());
    assert_eq!(bad_flag.status, 2);
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[rules.emial-address]\nmode = \"off\"\n").unwrap();
    let bad_config = awsguard(&["run", "--config", config.to_str().unwrap()], dir.path());
    assert_eq!(bad_config.status, 2, "{}", bad_config.stderr);
    assert!(
        bad_config
            .stderr
            .contains("invalid rules in config: rules: unknown rule \"emial-address\""),
        "{}",
        bad_config.stderr
    );
}
