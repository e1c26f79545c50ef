//! What `awsguard run` prints while it runs: one line per call on standard error, and the summary
//! when it stops (calls by service, findings by rule, blocked calls, where the events went).
//!
//! Both are built from the recorded events (the recorder's observer calls [`Console::observe`]),
//! so the terminal never says anything the events file does not. Formatting is pure; colour is
//! decided once by [`Style::detect`] (a terminal, and `NO_COLOR` unset).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::Mutex;

use awsguard::events::{Decision, Event, EventType};
use awsguard::inspect::Severity;

/// Most distinct services or rules counted by name; the rest are counted under `other`, so a
/// client calling many unidentified hosts cannot grow the tally without bound.
const MAX_KEYS: usize = 256;

/// Connection outcomes that are routine (a blind tunnel to a non-AWS host, plain http forwarded
/// to one) and would drown the calls in noise.
const QUIET_OUTCOMES: &[&str] = &["tunnelled", "forwarded"];

/// Whether lines carry ANSI colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Plain text (pipes, files, `NO_COLOR`).
    Plain,
    /// ANSI colours (a terminal).
    Colour,
}

impl Style {
    /// Colour only when standard error is a terminal and `NO_COLOR` is unset or empty
    /// (<https://no-color.org>).
    pub(crate) fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if !no_color && std::io::stderr().is_terminal() {
            Style::Colour
        } else {
            Style::Plain
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Style::Plain => text.to_owned(),
            Style::Colour => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }
}

/// The service name of a call: the signing name, or the host when unidentified.
fn service(event: &Event) -> &str {
    event
        .event_source
        .as_deref()
        .map(|s| s.strip_suffix(".amazonaws.com").unwrap_or(s))
        .unwrap_or(&event.request_host)
}

/// `HH:MM:SS` (UTC) from the event's RFC 3339 time.
fn clock(event: &Event) -> &str {
    event.event_time.get(11..19).unwrap_or(&event.event_time)
}

/// Findings grouped by rule in first-seen order, with a count when a rule fired more than once,
/// and the highest severity seen.
fn findings_by_rule(event: &Event) -> Vec<(&str, usize, Severity)> {
    let mut out: Vec<(&str, usize, Severity)> = Vec::new();
    for finding in &event.findings {
        match out.iter_mut().find(|(rule, _, _)| *rule == finding.rule) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 = entry.2.max(finding.severity);
            }
            None => out.push((&finding.rule, 1, finding.severity)),
        }
    }
    out
}

fn severity_colour(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
    }
}

/// The line for one event, or `None` for routine connection events.
pub(crate) fn line(event: &Event, style: Style) -> Option<String> {
    let call = match event.event_type {
        EventType::ApiCall => format!(
            "{}.{}",
            service(event),
            event.event_name.as_deref().unwrap_or("?")
        ),
        EventType::Connection => {
            let outcome = event.connection.as_ref().map_or("", |c| c.outcome.as_str());
            if QUIET_OUTCOMES.contains(&outcome) {
                return None;
            }
            format!("{} ({outcome})", event.request_host)
        }
    };
    let region = event.aws_region.as_deref().unwrap_or("-");
    let status = event
        .response_status
        .map_or_else(|| "-".to_owned(), |s| s.to_string());
    let status = match event.response_status {
        Some(s) if s >= 400 => style.paint("33", &format!("{status:>3}")),
        _ => format!("{status:>3}"),
    };
    let decision = match event.decision {
        Decision::Allowed => style.paint("32", "allowed"),
        Decision::Blocked => style.paint("1;31", "BLOCKED"),
    };
    let mut out = format!(
        "{}  {call:<40} {region:<14} {status} {decision}",
        style.paint("2", clock(event))
    );
    for (rule, count, severity) in findings_by_rule(event) {
        let label = if count > 1 {
            format!("{rule} x{count}")
        } else {
            rule.to_owned()
        };
        out.push_str("  ");
        out.push_str(&style.paint(severity_colour(severity), &label));
    }
    Some(out)
}

/// Counts for the summary at stop.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    /// API calls.
    pub(crate) calls: usize,
    /// Of which blocked.
    pub(crate) blocked: usize,
    /// Connections refused or failed (not routine tunnels).
    pub(crate) refused_connections: usize,
    /// Calls by service.
    pub(crate) services: BTreeMap<String, usize>,
    /// Findings by rule.
    pub(crate) rules: BTreeMap<String, usize>,
}

fn bump(map: &mut BTreeMap<String, usize>, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n += 1;
    } else if map.len() < MAX_KEYS {
        map.insert(key.to_owned(), 1);
    } else {
        *map.entry("other".to_owned()).or_default() += 1;
    }
}

impl Tally {
    /// Counts one event.
    pub(crate) fn add(&mut self, event: &Event) {
        for finding in &event.findings {
            bump(&mut self.rules, &finding.rule);
        }
        match event.event_type {
            EventType::ApiCall => {
                self.calls += 1;
                self.blocked += usize::from(event.decision == Decision::Blocked);
                bump(&mut self.services, service(event));
            }
            EventType::Connection => {
                let outcome = event.connection.as_ref().map_or("", |c| c.outcome.as_str());
                if !QUIET_OUTCOMES.contains(&outcome) {
                    self.refused_connections += 1;
                }
            }
        }
    }

    /// The summary printed when `run` stops.
    pub(crate) fn summary(&self, events: Option<&std::path::Path>) -> String {
        let findings: usize = self.rules.values().sum();
        let mut out = format!(
            "awsguard stopped: {} call{} ({} blocked), {findings} finding{}",
            self.calls,
            plural(self.calls),
            self.blocked,
            plural(findings)
        );
        if self.refused_connections > 0 {
            let _ = write!(
                out,
                ", {} connection{} refused or failed",
                self.refused_connections,
                plural(self.refused_connections)
            );
        }
        out.push('\n');
        if !self.services.is_empty() {
            let _ = writeln!(out, "  calls by service:  {}", counts(&self.services));
        }
        if !self.rules.is_empty() {
            let _ = writeln!(out, "  findings by rule:  {}", counts(&self.rules));
        }
        if let Some(path) = events {
            let _ = writeln!(out, "  events:            {}", path.display());
        }
        out
    }
}

fn counts(map: &BTreeMap<String, usize>) -> String {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    entries
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The console of one `run`: prints lines (unless quiet) and keeps the tally.
#[derive(Debug)]
pub(crate) struct Console {
    style: Style,
    quiet: bool,
    tally: Mutex<Tally>,
    /// Where events are written, for the summary.
    pub(crate) events: Option<PathBuf>,
}

impl Console {
    pub(crate) fn new(style: Style, quiet: bool, events: Option<PathBuf>) -> Self {
        Console {
            style,
            quiet,
            tally: Mutex::new(Tally::default()),
            events,
        }
    }

    /// Called for every recorded event.
    pub(crate) fn observe(&self, event: &Event) {
        if let Ok(mut tally) = self.tally.lock() {
            tally.add(event);
        }
        if self.quiet {
            return;
        }
        if let Some(line) = line(event, self.style) {
            // One write per line, so lines from concurrent calls never interleave.
            let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
        }
    }

    /// The stop summary (printed even with `--quiet`: it is one short block, asked for by
    /// stopping the proxy).
    pub(crate) fn summary(&self) -> String {
        self.tally
            .lock()
            .map(|t| t.summary(self.events.as_deref()))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use awsguard::events::ConnectionDetails;
    use awsguard::inspect::{Category, Finding};

    fn call() -> Event {
        let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut event = Event::new(
            EventType::ApiCall,
            "sqs.us-east-1.amazonaws.com",
            "127.0.0.1",
            now,
        );
        event.event_source = Some("sqs.amazonaws.com".into());
        event.event_name = Some("CreateQueue".into());
        event.aws_region = Some("us-east-1".into());
        event.response_status = Some(200);
        event
    }

    fn finding(rule: &str, severity: Severity) -> Finding {
        Finding {
            rule: rule.into(),
            category: Category::Pii,
            severity,
            field: "tag-value".into(),
            location: "body:tags.owner".into(),
            excerpt: "j***@e***.com".into(),
        }
    }

    #[test]
    fn a_plain_line_has_time_call_region_status_decision_and_findings() {
        let mut event = call();
        event.findings = vec![
            finding("email-address", Severity::Medium),
            finding("email-address", Severity::Medium),
            finding("non-fips-endpoint", Severity::Low),
        ];
        let line = line(&event, Style::Plain).unwrap();
        assert_eq!(
            line,
            "22:13:20  sqs.CreateQueue                          us-east-1      200 allowed  \
             email-address x2  non-fips-endpoint"
        );
        assert!(!line.contains('\x1b'));
    }

    #[test]
    fn colour_marks_blocked_calls_and_findings() {
        let mut event = call();
        event.decision = Decision::Blocked;
        event.response_status = Some(403);
        event.findings = vec![finding("aws-access-key-id", Severity::High)];
        let line = line(&event, Style::Colour).unwrap();
        assert!(line.contains("\x1b[1;31mBLOCKED\x1b[0m"), "{line:?}");
        assert!(line.contains("\x1b[33m403\x1b[0m"), "{line:?}");
        assert!(
            line.contains("\x1b[1;31maws-access-key-id\x1b[0m"),
            "{line:?}"
        );
    }

    #[test]
    fn routine_tunnels_are_quiet_but_refusals_show() {
        let now = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut event = Event::new(EventType::Connection, "example.com", "127.0.0.1", now);
        event.connection = Some(ConnectionDetails {
            outcome: "tunnelled".into(),
            ..ConnectionDetails::default()
        });
        assert_eq!(line(&event, Style::Plain), None);
        event.connection = Some(ConnectionDetails {
            outcome: "tls-refused".into(),
            ..ConnectionDetails::default()
        });
        let text = line(&event, Style::Plain).unwrap();
        assert!(text.contains("example.com (tls-refused)"), "{text}");
    }

    #[test]
    fn the_summary_counts_calls_by_service_and_findings_by_rule() {
        let mut tally = Tally::default();
        let mut first = call();
        first.findings = vec![finding("email-address", Severity::Medium)];
        tally.add(&first);
        let mut blocked = call();
        blocked.decision = Decision::Blocked;
        tally.add(&blocked);
        let mut sts = call();
        sts.event_source = Some("sts.amazonaws.com".into());
        tally.add(&sts);
        let text = tally.summary(Some(std::path::Path::new("/h/events/e.jsonl")));
        assert_eq!(
            text,
            "awsguard stopped: 3 calls (1 blocked), 1 finding\n  \
             calls by service:  sqs 2, sts 1\n  \
             findings by rule:  email-address 1\n  \
             events:            /h/events/e.jsonl\n"
        );
    }

    #[test]
    fn the_tally_is_bounded() {
        let mut tally = Tally::default();
        for i in 0..(MAX_KEYS + 10) {
            let mut event = call();
            event.event_source = None;
            event.request_host = format!("h{i}.example.com");
            tally.add(&event);
        }
        assert_eq!(tally.services.len(), MAX_KEYS + 1);
        assert_eq!(tally.services["other"], 10);
    }
}
