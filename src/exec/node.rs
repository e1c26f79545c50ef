//! Clients that ignore `HTTPS_PROXY`: the Node.js preload `exec` injects, and the note the
//! summary adds when the command made no call through the proxy.
//!
//! Node's `https` and `http2` modules (and so the AWS SDK for JavaScript v3 with its default
//! handlers) connect directly whatever `HTTPS_PROXY` says; a `--require` preload in
//! `NODE_OPTIONS` sends them through the proxy instead, with no change to the program.

use std::io::Write;
use std::path::Path;

use crate::events::Event;

/// The preload script (see the file's own header).
const PRELOAD: &str = include_str!("node_preload.js");

/// Writes the preload to a temporary file that lives as long as the returned handle.
pub fn temp_preload() -> std::io::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("awsguard-node-preload-")
        .suffix(".cjs")
        .tempfile()?;
    file.write_all(PRELOAD.as_bytes())?;
    file.flush()?;
    Ok(file)
}

/// `NODE_OPTIONS` for the child: what it had, then `--require "<preload>"` (quoted, as Node
/// reads quoted values there).
pub fn node_options(existing: Option<&str>, preload: &Path) -> String {
    let path = preload
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let require = format!("--require \"{path}\"");
    match existing.map(str::trim).filter(|e| !e.is_empty()) {
        Some(existing) => format!("{existing} {require}"),
        None => require,
    }
}

/// Programs that run JavaScript on Node.js (or are launched through it).
const NODE_PROGRAMS: &[&str] = &[
    "node", "nodejs", "npm", "npx", "yarn", "pnpm", "ts-node", "tsx",
];

/// A note for the summary when the command sent nothing through the proxy (no call and no
/// connection of any kind), naming the likely cause for `program`; `None` when it did.
pub fn no_traffic_note(program: &str, events: &[Event]) -> Option<String> {
    if !events.is_empty() {
        return None;
    }
    let name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cause = if NODE_PROGRAMS.contains(&name.as_str()) {
        "Node.js ignores HTTPS_PROXY (so does the AWS SDK for JavaScript v3): awsguard preloads a \
         fix through NODE_OPTIONS, which a program that resets NODE_OPTIONS, runs another Node or \
         uses its own agent does not get"
    } else if name == "java" || name.ends_with("gradle") || name == "mvn" {
        "Java ignores HTTPS_PROXY: awsguard sets -Dhttps.proxyHost, -Dhttps.proxyPort and a trust \
         store through JAVA_TOOL_OPTIONS, which a launcher that resets it, a client with its own \
         proxy settings or -Djava.net.useSystemProxies does not follow"
    } else {
        "if it called AWS, its client ignored HTTPS_PROXY (or NO_PROXY listed the host, or it \
         reached AWS another way, such as a VPC endpoint set in its configuration)"
    };
    Some(format!(
        "awsguard: note: the command made no connection through the proxy; {cause}\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventType;

    #[test]
    fn node_options_keep_what_was_there() {
        let path = Path::new("/tmp/awsguard-node-preload-x.cjs");
        assert_eq!(
            node_options(None, path),
            "--require \"/tmp/awsguard-node-preload-x.cjs\""
        );
        assert_eq!(
            node_options(Some(" --max-old-space-size=512 "), path),
            "--max-old-space-size=512 --require \"/tmp/awsguard-node-preload-x.cjs\""
        );
        assert_eq!(
            node_options(Some(""), Path::new("/tmp/a \"b\".cjs")),
            "--require \"/tmp/a \\\"b\\\".cjs\""
        );
    }

    #[test]
    fn the_note_names_the_likely_cause() {
        let node = no_traffic_note("/usr/bin/node", &[]).unwrap();
        assert!(node.contains("Node.js ignores HTTPS_PROXY"), "{node}");
        let java = no_traffic_note("java", &[]).unwrap();
        assert!(java.contains("-Dhttps.proxyHost"), "{java}");
        let other = no_traffic_note("./app", &[]).unwrap();
        assert!(other.contains("ignored HTTPS_PROXY"), "{other}");
        let event = Event::new(
            EventType::Connection,
            "example.com",
            "127.0.0.1",
            time::OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!(no_traffic_note("node", &[event]), None);
    }
}
