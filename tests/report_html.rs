//! `awsguard report` in a real browser: the file renders in headless Chromium with no network,
//! shows the expected counts and rows, and its filter (driven by the URL fragment) works. A
//! screenshot is kept under the target directory for people to look at.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const FIXTURE: &str = "tests/testdata/report/events.jsonl";

/// Headless Chromium with everything that could reach the network switched off.
fn chromium(profile: &Path) -> Command {
    let mut command = Command::new("chromium");
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

fn dump_dom(profile: &Path, url: &str) -> String {
    let out = run(chromium(profile).arg("--dump-dom").arg(url));
    assert_eq!(
        out.status, 0,
        "chromium failed (tools/test installs it): {}",
        out.stderr
    );
    out.stdout
}

fn report(dir: &Path) -> PathBuf {
    let html = dir.join("report.html");
    let out = run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["report", FIXTURE, "-o"])
        .arg(&html)
        .current_dir(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("(47 events)"), "{}", out.stderr);
    html
}

#[test]
fn the_report_renders_in_chromium_with_its_counts_rows_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let html = report(dir.path());
    let profile = dir.path().join("profile");
    let url = format!("file://{}", html.display());

    let dom = dump_dom(&profile, &url);
    for (card, value) in [
        ("calls", 46),
        ("blocked", 5),
        ("findings", 40),
        ("services", 8),
        ("errors", 6),
        ("refused", 1),
    ] {
        assert!(
            dom.contains(&format!("id=\"card-{card}\"><b>{value}</b>")),
            "card {card} = {value}"
        );
    }
    assert_eq!(dom.matches("<tr class=\"call\"").count(), 47);
    assert!(dom.contains("<span id=\"shown\">47</span> of 47 shown"));
    assert_eq!(dom.matches("<details class=\"rule\"").count(), 5);
    assert!(dom.contains("j***@e***.com"));
    assert!(dom.contains("Set AWS_USE_FIPS_ENDPOINT=true"));
    assert!(dom.contains("<span id=\"fips-standard\">25</span>"));
    assert_eq!(dom.matches("<svg class=\"chart\"").count(), 3);

    // The script filters rows by the fragment's decision: 5 blocked calls and the refused
    // connection stay, the other 41 rows are hidden.
    let dom = dump_dom(&profile, &format!("{url}#decision=blocked"));
    assert!(dom.contains("<span id=\"shown\">6</span> of 47 shown"));
    assert_eq!(dom.matches("data-decision=\"allowed\"").count(), 41);
    assert_eq!(dom.matches(" hidden=\"\"").count(), 41);
    let dom = dump_dom(&profile, &format!("{url}#q=sqs.createqueue"));
    assert!(dom.contains("<span id=\"shown\">4</span> of 47 shown"));

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    let _ = std::fs::remove_file(&shot);
    let out = run(chromium(&profile)
        .arg("--window-size=1280,3000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url));
    assert_eq!(out.status, 0, "{}", out.stderr);
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "a screenshot at {}",
        shot.display()
    );
}
