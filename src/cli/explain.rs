//! `awsguard inspect --explain`: the call, then one line per field (location, purpose, the rules
//! that judge it, why), then the findings and the decision. Rendering only: the explanation is
//! the engine's ([`awsguard::engine::Engine::explain`]).

use std::fmt::Write;

use awsguard::capture::CapturedRequest;
use awsguard::engine::Engine;
use awsguard::events::{Decision, Event};

/// The explanation of one captured call, ending with a blank line.
pub(crate) fn explanation(engine: &Engine, request: &CapturedRequest, event: &Event) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} https://{}{} -> {} {} ({})",
        request.method,
        request.host,
        request.path,
        event.event_source.as_deref().unwrap_or("unknown"),
        event.event_name.as_deref().unwrap_or("-"),
        event.protocol.as_str()
    );
    let fields = engine.explain(request);
    let width = fields
        .iter()
        .map(|f| f.location.len())
        .max()
        .unwrap_or(0)
        .min(48);
    for f in &fields {
        let _ = writeln!(
            out,
            "  {:width$}  {:<16} {:<34} {}",
            f.location, f.purpose, f.judged_by, f.why
        );
    }
    for f in &event.findings {
        let _ = writeln!(
            out,
            "  finding: {} ({}) at {} [{}]",
            f.rule,
            f.severity.as_str(),
            f.location,
            f.excerpt
        );
    }
    let decision = match event.decision {
        Decision::Allowed => "allowed",
        Decision::Blocked => "blocked",
    };
    let _ = writeln!(out, "  decision: {decision}\n");
    out
}
