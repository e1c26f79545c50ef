//! The README's rule table is what `awsguard rules --format markdown` prints: one table, kept
//! equal by this test.

use std::process::Command;

#[test]
fn readme_rule_table_is_the_rules_command_output() {
    let out = Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .args(["rules", "--format", "markdown"])
        .output()
        .expect("awsguard runs");
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).expect("utf-8");
    let readme = include_str!("../README.md");
    let begin = readme.find("<!-- rules:begin").expect("begin marker");
    let body = &readme[begin..];
    let body = &body[body.find('\n').expect("marker line") + 1..];
    let end = body.find("<!-- rules:end -->").expect("end marker");
    assert_eq!(&body[..end], table, "run: awsguard rules --format markdown");
    for id in ["uninspectable-body", "non-fips-endpoint", "cleartext"] {
        assert!(table.contains(&format!("| `{id}` |")), "{id}");
    }
}
