//! Small inline SVG charts for the HTML report: stacked bars over time and labelled horizontal
//! bars. Pure string building; every label is escaped by the caller's [`super::html::esc`].

use std::fmt::Write as _;

use super::html::esc;

/// One bar of a horizontal chart: label, value, and the part of it drawn in the alert colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: usize,
    pub(crate) alert: usize,
    /// CSS colour of the main part.
    pub(crate) colour: &'static str,
}

/// Horizontal bars, one per row, longest first as given.
pub(crate) fn bars(title: &str, bars: &[Bar]) -> String {
    const ROW: usize = 26;
    const LABEL: usize = 190;
    const WIDTH: usize = 520;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let height = (bars.len() * ROW).max(ROW) + 8;
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-label=\"{}\">",
        esc(title)
    );
    if bars.is_empty() {
        let _ = write!(
            out,
            "<text x=\"0\" y=\"18\" class=\"muted\">none</text></svg>"
        );
        return out;
    }
    let room = WIDTH - LABEL - 50;
    for (i, bar) in bars.iter().enumerate() {
        let y = i * ROW + 4;
        let w = (bar.value * room).div_ceil(max).max(2);
        let alert = (bar.alert * room).div_ceil(max).min(w);
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"label\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{y}\" width=\"{w}\" height=\"18\" rx=\"3\" fill=\"{}\"/>",
            LABEL - 8,
            y + 13,
            esc(&bar.label),
            bar.colour
        );
        if alert > 0 {
            let _ = write!(
                out,
                "<rect x=\"{LABEL}\" y=\"{y}\" width=\"{alert}\" height=\"18\" rx=\"3\" \
                 fill=\"var(--bad)\"><title>{} blocked</title></rect>",
                bar.alert
            );
        }
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" class=\"value\">{}</text>",
            LABEL + w + 6,
            y + 13,
            bar.value
        );
    }
    out.push_str("</svg>");
    out
}

/// Calls per time bucket, allowed and blocked stacked; `labels` are the first and last bucket's
/// start times.
pub(crate) fn timeline(buckets: &[(usize, usize)], labels: (&str, &str), step: &str) -> String {
    const WIDTH: usize = 760;
    const HEIGHT: usize = 170;
    const LEFT: usize = 36;
    const BOTTOM: usize = 22;
    let plot_h = HEIGHT - BOTTOM - 8;
    let max = buckets.iter().map(|(a, b)| a + b).max().unwrap_or(0).max(1);
    let n = buckets.len().max(1);
    let slot = (WIDTH - LEFT) as f64 / n as f64;
    let bar_w = (slot * 0.8).max(1.0);
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-label=\"calls over time, one bar per {}\">",
        esc(step)
    );
    for (frac, label) in [(0usize, 0usize), (1, max / 2), (2, max)] {
        let y = 8 + plot_h - plot_h * frac / 2;
        if frac > 0 && label == 0 {
            continue;
        }
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{WIDTH}\" y1=\"{y}\" y2=\"{y}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"label\">{label}</text>",
            LEFT - 6,
            y + 4
        );
    }
    for (i, (allowed, blocked)) in buckets.iter().enumerate() {
        let x = LEFT as f64 + i as f64 * slot + (slot - bar_w) / 2.0;
        let total = allowed + blocked;
        if total == 0 {
            continue;
        }
        let h_total = (plot_h * total).div_ceil(max);
        let h_blocked = (plot_h * blocked).div_ceil(max).min(h_total);
        let y = 8 + plot_h - h_total;
        let _ = write!(
            out,
            "<g><title>{total} calls ({blocked} blocked)</title>\
             <rect x=\"{x:.1}\" y=\"{y}\" width=\"{bar_w:.1}\" height=\"{}\" fill=\"var(--accent)\"/>",
            h_total - h_blocked
        );
        if h_blocked > 0 {
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{}\" width=\"{bar_w:.1}\" height=\"{h_blocked}\" \
                 fill=\"var(--bad)\"/>",
                8 + plot_h - h_blocked
            );
        }
        out.push_str("</g>");
    }
    let _ = write!(
        out,
        "<text x=\"{LEFT}\" y=\"{}\" class=\"label\">{}</text>\
         <text x=\"{WIDTH}\" y=\"{}\" text-anchor=\"end\" class=\"label\">{}</text></svg>",
        HEIGHT - 4,
        esc(labels.0),
        HEIGHT - 4,
        esc(labels.1)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_longest_and_escape_labels() {
        let svg = bars(
            "t",
            &[
                Bar {
                    label: "<b>".into(),
                    value: 4,
                    alert: 1,
                    colour: "red",
                },
                Bar {
                    label: "b".into(),
                    value: 2,
                    alert: 0,
                    colour: "red",
                },
            ],
        );
        assert!(svg.contains("&lt;b&gt;"), "{svg}");
        assert!(svg.contains("width=\"280\""), "{svg}");
        assert!(svg.contains("width=\"140\""), "{svg}");
        assert!(svg.contains("width=\"70\""), "{svg}");
        assert!(svg.contains("<title>1 blocked</title>"), "{svg}");
    }

    #[test]
    fn timeline_stacks_blocked_on_allowed() {
        let svg = timeline(&[(1, 1), (0, 0), (4, 0)], ("a", "b"), "minute");
        assert_eq!(svg.matches("<g>").count(), 2, "{svg}");
        assert!(svg.contains("<title>2 calls (1 blocked)</title>"), "{svg}");
    }
}
