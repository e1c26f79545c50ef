//! The report page: inline CSS, inline SVG, a few lines of inline JavaScript for the calls
//! filter, and a Content-Security-Policy that forbids every fetch, so opening the file never
//! touches the network.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::svg::{self, Bar};
use super::{rank, rule_help, Located, Totals, MAX_OCCURRENCES, MAX_ROWS};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root{--bg:#f6f7f9;--card:#fff;--ink:#1c2330;--muted:#667085;--line:#e4e7ec;--accent:#3b6fd8;
--bad:#d92d20;--warn:#dc6803;--low:#0e9384;--ok:#12b76a;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink)}
header{background:#101828;color:#fff;padding:20px 32px}header h1{margin:0;font-size:22px;font-weight:650}
header h1 span{color:#98a2b3;font-weight:400}header p{margin:4px 0 0;color:#d0d5dd;font-size:13px}
main{max-width:1200px;margin:0 auto;padding:20px 32px 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin:16px 0}
h2{font-size:16px;margin:0 0 12px}h3{font-size:14px;margin:0 0 8px;color:var(--muted);font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.card b{display:block;font-size:26px;font-weight:650}.card span{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card.bad b{color:var(--bad)}.card.warn b{color:var(--warn)}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px}@media(max-width:900px){.grid2{grid-template-columns:1fr}}
.grid2 section{margin:0}
svg.chart{width:100%;height:auto;display:block}svg .label{font-size:11px;fill:var(--muted)}svg .value{font-size:12px;fill:var(--ink)}
svg .grid{stroke:var(--line)}svg .muted{fill:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:13px}th{text-align:left;color:var(--muted);font-weight:600;border-bottom:2px solid var(--line);padding:6px 8px;white-space:nowrap}
td{border-bottom:1px solid var(--line);padding:5px 8px;vertical-align:top}tr:hover td{background:#f9fafb}
td.mono,td.nw{white-space:nowrap}td.src{font-family:ui-monospace,monospace;font-size:11px;white-space:nowrap}.scroll{overflow-x:auto}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.badge{display:inline-block;border-radius:999px;padding:1px 8px;font-size:11px;font-weight:600;color:#fff;margin:1px 2px 1px 0;white-space:nowrap}
.sev-high{background:var(--bad)}.sev-medium{background:var(--warn)}.sev-low{background:var(--low)}.sev-{background:var(--muted)}
.blocked{color:var(--bad);font-weight:650}.allowed{color:var(--ok)}.err{color:var(--warn)}
details{border-top:1px solid var(--line);padding:8px 0}details:first-of-type{border-top:0}summary{cursor:pointer;font-weight:600}
.fix{margin:6px 0 8px;padding:8px 12px;background:#f0f6ff;border-left:3px solid var(--accent);border-radius:4px}
.filters{display:flex;gap:10px;flex-wrap:wrap;align-items:center;margin-bottom:10px}
.filters input[type=search]{flex:1;min-width:220px;padding:7px 10px;border:1px solid var(--line);border-radius:6px;font:inherit}
.filters select{padding:6px;border:1px solid var(--line);border-radius:6px;font:inherit}
.muted{color:var(--muted)}.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}
footer{color:var(--muted);font-size:12px;text-align:center;padding:12px}
"#;

const SCRIPT: &str = r#"
(function(){
var q=document.getElementById('q'),d=document.getElementById('decision'),f=document.getElementById('with-findings'),
rows=[].slice.call(document.querySelectorAll('#calls tbody tr')),shown=document.getElementById('shown');
function apply(){var t=q.value.toLowerCase(),n=0;rows.forEach(function(r){
var ok=(!t||r.textContent.toLowerCase().indexOf(t)>=0)&&(!d.value||r.dataset.decision===d.value)&&(!f.checked||r.dataset.findings!=='0');
r.hidden=!ok;if(ok)n++;});shown.textContent=n;}
var h=new URLSearchParams(location.hash.slice(1));
if(h.get('q'))q.value=h.get('q');if(h.get('decision'))d.value=h.get('decision');if(h.get('findings'))f.checked=true;
[q,d,f].forEach(function(e){e.addEventListener('input',apply);e.addEventListener('change',apply);});apply();
})();
"#;

/// RFC 3339 to the second.
fn fmt_time(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Whole page.
pub(crate) fn page(
    records: &[Located],
    totals: &Totals,
    sources: &[String],
    generated: OffsetDateTime,
) -> String {
    let mut out = String::with_capacity(64 * 1024 + records.len() * 400);
    let span = totals.span.map_or_else(
        || "no timestamps".to_owned(),
        |(a, b)| format!("{} – {}", fmt_time(a), fmt_time(b)),
    );
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <title>awsguard report</title><style>{STYLE}</style></head><body>\
         <header><h1>awsguard <span>report</span></h1><p>{} · {} · generated {} by awsguard {}</p></header><main>",
        esc(&span),
        esc(&sources.join(", ")),
        fmt_time(generated),
        env!("CARGO_PKG_VERSION")
    );
    cards(&mut out, totals);
    charts(&mut out, records, totals);
    findings(&mut out, records, totals);
    posture(&mut out, totals);
    calls(&mut out, records);
    let _ = writeln!(
        out,
        "</main><footer>Excerpts are redacted by awsguard before they are recorded; this file \
         holds no secret values.</footer><script>{SCRIPT}</script></body></html>"
    );
    out
}

fn cards(out: &mut String, t: &Totals) {
    let services = t.services.len();
    let items: [(&str, usize, &str, &str); 6] = [
        ("calls", t.calls, "API calls", ""),
        (
            "blocked",
            t.blocked,
            "blocked",
            if t.blocked > 0 { "bad" } else { "" },
        ),
        (
            "findings",
            t.findings,
            "findings",
            if t.findings > 0 { "warn" } else { "" },
        ),
        ("services", services, "services", ""),
        ("errors", t.errors, "error responses", ""),
        (
            "refused",
            t.refused,
            "connections refused",
            if t.refused > 0 { "bad" } else { "" },
        ),
    ];
    out.push_str("<div class=\"cards\">");
    for (id, n, label, class) in items {
        let _ = write!(
            out,
            "<div class=\"card {class}\" id=\"card-{id}\"><b>{n}</b><span>{label}</span></div>"
        );
    }
    out.push_str("</div>");
}

/// A bucket width that gives at most ~48 bars over `span`, and its name.
fn bucket(span: Duration) -> (Duration, &'static str) {
    const STEPS: &[(i64, &str)] = &[
        (1, "second"),
        (10, "10 seconds"),
        (60, "minute"),
        (300, "5 minutes"),
        (900, "15 minutes"),
        (3600, "hour"),
        (6 * 3600, "6 hours"),
        (86400, "day"),
        (7 * 86400, "week"),
    ];
    let secs = span.whole_seconds().max(1);
    let chosen = STEPS
        .iter()
        .find(|(s, _)| secs / s < 48)
        .unwrap_or(&STEPS[STEPS.len() - 1]);
    (Duration::seconds(chosen.0), chosen.1)
}

fn timeline(records: &[Located], t: &Totals) -> String {
    let Some((first, last)) = t.span else {
        return "<p class=\"muted\">no timestamps</p>".to_owned();
    };
    let (step, name) = bucket(last - first);
    let step_secs = step.whole_seconds().max(1);
    let start = first.unix_timestamp() - first.unix_timestamp().rem_euclid(step_secs);
    let n = usize::try_from((last.unix_timestamp() - start) / step_secs + 1)
        .unwrap_or(1)
        .min(500);
    let mut buckets = vec![(0usize, 0usize); n];
    for r in records.iter().map(|l| &l.record).filter(|r| r.is_call()) {
        let Ok(time) = OffsetDateTime::parse(&r.event_time, &Rfc3339) else {
            continue;
        };
        let i = usize::try_from((time.unix_timestamp() - start) / step_secs).unwrap_or(0);
        if let Some(b) = buckets.get_mut(i) {
            if r.is_blocked() {
                b.1 += 1;
            } else {
                b.0 += 1;
            }
        }
    }
    let label = |secs: i64| {
        OffsetDateTime::from_unix_timestamp(secs)
            .map(fmt_time)
            .unwrap_or_default()
    };
    let last_start = start + (n as i64 - 1) * step_secs;
    svg::timeline(&buckets, (&label(start), &label(last_start)), name)
        + &format!("<p class=\"muted\">one bar per {name}; blocked calls in red</p>")
}

fn severity_colour(severity: &str) -> &'static str {
    match severity {
        "high" => "var(--bad)",
        "medium" => "var(--warn)",
        "low" => "var(--low)",
        _ => "var(--muted)",
    }
}

fn charts(out: &mut String, records: &[Located], t: &Totals) {
    let _ = write!(
        out,
        "<section id=\"timeline\"><h2>Calls over time</h2>{}</section>",
        timeline(records, t)
    );
    let mut rules: Vec<_> = t.rules.iter().collect();
    rules.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    let rule_bars: Vec<Bar> = rules
        .iter()
        .take(15)
        .map(|(rule, (n, severity))| Bar {
            label: (*rule).clone(),
            value: *n,
            alert: 0,
            colour: severity_colour(severity),
        })
        .collect();
    let mut services: Vec<_> = t.services.iter().collect();
    services.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    let service_bars: Vec<Bar> = services
        .iter()
        .take(15)
        .map(|(service, (n, blocked))| Bar {
            label: (*service).clone(),
            value: *n,
            alert: *blocked,
            colour: "var(--accent)",
        })
        .collect();
    let _ = write!(
        out,
        "<div class=\"grid2\"><section id=\"chart-rules\"><h2>Findings by rule</h2>{}</section>\
         <section id=\"chart-services\"><h2>Calls by service</h2>{}</section></div>",
        svg::bars("findings by rule", &rule_bars),
        svg::bars("calls by service", &service_bars)
    );
}

fn badge(severity: &str, text: &str) -> String {
    format!(
        "<span class=\"badge sev-{}\">{}</span>",
        esc(severity),
        esc(text)
    )
}

fn findings(out: &mut String, records: &[Located], t: &Totals) {
    out.push_str("<section id=\"findings\"><h2>Findings</h2>");
    if t.rules.is_empty() {
        out.push_str("<p class=\"muted\">No findings.</p></section>");
        return;
    }
    let mut rules: Vec<_> = t.rules.iter().collect();
    rules.sort_by(|a, b| rank(&b.1 .1).cmp(&rank(&a.1 .1)).then(a.0.cmp(b.0)));
    for (rule, (count, severity)) in rules {
        let help = rule_help(rule);
        let _ = write!(
            out,
            "<details class=\"rule\" data-rule=\"{0}\"{4}><summary>{1} <code>{0}</code> × {count} \
             <span class=\"muted\">— {2}</span></summary><div class=\"fix\"><b>Fix:</b> {3}</div>\
             <table><thead><tr><th>time</th><th>call</th><th>field</th><th>location</th>\
             <th>excerpt (redacted)</th><th>decision</th></tr></thead><tbody>",
            esc(rule),
            badge(severity, severity),
            esc(help.summary),
            esc(help.fix),
            // Low-severity findings (non-FIPS endpoints) are often many; they start folded.
            if rank(severity) >= 2 { " open" } else { "" }
        );
        let mut listed = 0;
        for located in records {
            let r = &located.record;
            for f in r.findings.iter().filter(|f| &f.rule == rule) {
                if listed == MAX_OCCURRENCES {
                    break;
                }
                listed += 1;
                let _ = write!(
                    out,
                    "<tr class=\"occurrence\"><td class=\"mono\">{}</td><td>{}</td><td>{}</td>\
                     <td><code>{}</code></td><td><code>{}</code></td><td class=\"{}\">{}</td></tr>",
                    esc(r.event_time.get(11..19).unwrap_or(&r.event_time)),
                    esc(&r.call_name()),
                    esc(&f.field),
                    esc(&f.location),
                    esc(&f.excerpt),
                    esc(&r.decision),
                    esc(&r.decision)
                );
            }
        }
        out.push_str("</tbody></table>");
        if *count > listed {
            let _ = write!(
                out,
                "<p class=\"muted\">{} more not listed</p>",
                count - listed
            );
        }
        out.push_str("</details>");
    }
    out.push_str("</section>");
}

fn kv_counts(map: &BTreeMap<String, usize>) -> String {
    if map.is_empty() {
        return "<span class=\"muted\">none recorded</span>".to_owned();
    }
    map.iter()
        .map(|(k, v)| format!("<code>{}</code> × {v}", esc(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn posture(out: &mut String, t: &Totals) {
    let [fips, standard, none, unknown] = t.fips;
    let suggestion = if t.fips_suggested.is_empty() {
        String::new()
    } else {
        format!(
            "<div class=\"fix\"><b>Fix:</b> set <code>AWS_USE_FIPS_ENDPOINT=true</code>; FIPS \
             endpoints for these calls: {}</div>",
            t.fips_suggested
                .iter()
                .take(20)
                .map(|h| format!("<code>{}</code>", esc(h)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let _ = write!(
        out,
        "<div class=\"grid2\"><section id=\"tls\"><h2>TLS</h2><div class=\"kv\">\
         <span class=\"muted\">client leg</span><span>{}</span>\
         <span class=\"muted\">upstream leg</span><span>{}</span>\
         <span class=\"muted\">client cipher suites</span><span>{}</span></div></section>\
         <section id=\"fips\"><h2>FIPS endpoints</h2><div class=\"kv\">\
         <span class=\"muted\">to FIPS endpoints</span><span id=\"fips-fips\">{fips}</span>\
         <span class=\"muted\">standard, FIPS available</span><span id=\"fips-standard\">{standard}</span>\
         <span class=\"muted\">no FIPS endpoint</span><span>{none}</span>\
         <span class=\"muted\">not evaluated</span><span>{unknown}</span></div>{suggestion}</section></div>",
        kv_counts(&t.client_tls),
        kv_counts(&t.upstream_tls),
        kv_counts(&t.ciphers)
    );
}

/// The file name of a source path (the full path is in the cell's title).
fn short_name(source: &str) -> &str {
    source.rsplit('/').next().unwrap_or(source)
}

fn calls(out: &mut String, records: &[Located]) {
    let total = records.len();
    let _ = write!(
        out,
        "<section id=\"calls-section\"><h2>Calls</h2><div class=\"filters\">\
         <input type=\"search\" id=\"q\" placeholder=\"filter: service, operation, rule, region, status…\">\
         <select id=\"decision\"><option value=\"\">any decision</option>\
         <option value=\"allowed\">allowed</option><option value=\"blocked\">blocked</option></select>\
         <label><input type=\"checkbox\" id=\"with-findings\"> with findings</label>\
         <span class=\"muted\"><span id=\"shown\">{}</span> of {total} shown</span></div>\
         <div class=\"scroll\"><table id=\"calls\"><thead><tr><th>time (UTC)</th><th>call</th><th>region</th>\
         <th>status</th><th>decision</th><th>findings</th><th>error</th><th>TLS</th>\
         <th>source</th></tr></thead><tbody>",
        total.min(MAX_ROWS)
    );
    for located in records.iter().take(MAX_ROWS) {
        let r = &located.record;
        let badges: String = r
            .findings
            .iter()
            .map(|f| badge(&f.severity, &f.rule))
            .collect();
        let status = r
            .response_status
            .map_or_else(String::new, |s| s.to_string());
        let status_class = if r.response_status.is_some_and(|s| s >= 400) {
            "err"
        } else {
            ""
        };
        let error = r
            .error_code
            .as_deref()
            .or(r.connection.as_ref().and_then(|c| c.message.as_deref()))
            .unwrap_or("");
        let _ = write!(
            out,
            "<tr class=\"call\" data-decision=\"{}\" data-findings=\"{}\"><td class=\"mono\">{}</td>\
             <td>{}</td><td class=\"nw\">{}</td><td class=\"{status_class}\">{status}</td><td class=\"{}\">{}</td>\
             <td>{badges}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"src muted\" title=\"{}\">{}:{}</td></tr>",
            esc(&r.decision),
            r.findings.len(),
            esc(&r.event_time.get(..19).unwrap_or(&r.event_time).replace('T', " ")),
            esc(&r.call_name()),
            esc(r.aws_region.as_deref().unwrap_or("")),
            esc(&r.decision),
            esc(&r.decision),
            esc(error),
            esc(r.tls_details.tls_version.as_deref().unwrap_or("")),
            esc(&located.source),
            esc(short_name(&located.source)),
            located.line
        );
    }
    out.push_str("</tbody></table></div>");
    if total > MAX_ROWS {
        let _ = write!(
            out,
            "<p class=\"muted\">{} more calls not listed (the counts above include them)</p>",
            total - MAX_ROWS
        );
    }
    out.push_str("</section>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::read;

    const EVENTS: &str = concat!(
        r#"{"eventType":"api-call","eventTime":"2026-01-01T10:00:00Z","eventSource":"sqs.amazonaws.com","eventName":"CreateQueue","awsRegion":"us-east-1","requestHost":"sqs.us-east-1.amazonaws.com","decision":"blocked","responseStatus":403,"tlsDetails":{"tlsVersion":"TLSv1.3"},"fips":{"endpointIsFips":false,"fipsEndpoint":"sqs-fips.us-east-1.amazonaws.com"},"findings":[{"rule":"email-address","severity":"medium","field":"tag-value","location":"body:tags.owner","excerpt":"j***@e***.com"}]}"#,
        "\n",
        r#"{"eventType":"api-call","eventTime":"2026-01-01T10:05:00Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","requestHost":"sts.amazonaws.com","decision":"allowed","responseStatus":200,"fips":{"endpointIsFips":true}}"#,
        "\n",
        r#"{"eventType":"connection","eventTime":"2026-01-01T10:06:00Z","requestHost":"<script>","decision":"blocked","connection":{"outcome":"tls-refused"}}"#,
        "\n"
    );

    #[test]
    fn the_page_has_counts_rows_fixes_and_escapes_everything() {
        let records = read(EVENTS.as_bytes(), "e.jsonl").unwrap();
        let totals = Totals::new(&records);
        assert_eq!(
            (
                totals.calls,
                totals.blocked,
                totals.findings,
                totals.refused
            ),
            (2, 1, 1, 1)
        );
        assert_eq!(totals.fips, [1, 1, 0, 0]);
        let html = page(
            &records,
            &totals,
            &["e.jsonl".into()],
            OffsetDateTime::UNIX_EPOCH,
        );
        assert!(html.contains("<div class=\"card \" id=\"card-calls\"><b>2</b>"));
        assert!(html.contains("id=\"card-blocked\"><b>1</b>"));
        assert_eq!(html.matches("<tr class=\"call\"").count(), 3);
        assert_eq!(html.matches("<tr class=\"occurrence\"").count(), 1);
        assert!(html.contains("j***@e***.com"));
        assert!(html.contains(rule_help("email-address").fix.split(':').next().unwrap()));
        assert!(html.contains("sqs-fips.us-east-1.amazonaws.com"));
        assert!(!html.contains("<script>\""), "hosts are escaped");
        assert!(html.contains("&lt;script&gt; (tls-refused)"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "nothing to fetch"
        );
    }

    #[test]
    fn buckets_stay_few() {
        assert_eq!(bucket(Duration::seconds(30)).1, "second");
        assert_eq!(bucket(Duration::minutes(30)).1, "minute");
        assert_eq!(bucket(Duration::hours(30)).1, "hour");
        assert_eq!(bucket(Duration::days(300)).1, "week");
    }
}
