//! Charts drawn on the server as SVG (no script, nothing inline for the CSP to refuse): a
//! daily trend as three small panels on one time axis (% difficult, the mean, the number of
//! answers as bars), and the shades of the heatmaps' cells. Every chart has a table beside
//! it with the same figures; the SVG carries a text summary for screen readers.

use std::fmt::Write;

use jiff::civil::Date;

/// One day of a trend: its answers, mean and % difficult (absent without answers).
#[derive(Clone, Debug)]
pub struct Day {
    pub date: Date,
    pub n: u64,
    pub mean: Option<f64>,
    pub pct_difficult: Option<f64>,
}

const WIDTH: f64 = 640.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const PANEL: f64 = 70.0;
const GAP: f64 = 26.0;

/// Escapes text for SVG (the same rules as HTML).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// The trend chart of `days` (one per date of the period, in order) on a scale whose top
/// score is `top`; `labels` are the panels' titles and `summary` the chart's description.
/// Each day of `marks` (an action taken) is a dashed line across the panels.
pub fn trend(days: &[Day], top: u8, labels: [&str; 3], summary: &str, marks: &[Date]) -> String {
    let height = 3.0 * PANEL + 3.0 * GAP + 20.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        escape(summary),
        escape(summary)
    );
    let count = days.len().max(1) as f64;
    let step = (WIDTH - LEFT - RIGHT) / count;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let max_n = days.iter().map(|d| d.n).max().unwrap_or(0).max(1) as f64;
    let panels: [(f64, f64, &str, &str); 3] = [
        (0.0, 100.0, labels[0], "difficult"),
        (1.0, f64::from(top), labels[1], "mean"),
        (0.0, max_n, labels[2], "volume"),
    ];
    for (p, (low, high, label, class)) in panels.iter().enumerate() {
        let top_y = GAP + p as f64 * (PANEL + GAP);
        let y = |v: f64| top_y + PANEL - (v - low) / (high - low).max(1e-9) * PANEL;
        let _ = write!(
            svg,
            "<text class=\"panel-title\" x=\"{LEFT}\" y=\"{:.1}\">{}</text>\
             <line class=\"axis\" x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>\
             <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            top_y - 8.0,
            escape(label),
            top_y + PANEL,
            WIDTH - RIGHT,
            top_y + PANEL,
            LEFT - 6.0,
            top_y + 4.0,
            tick(*high),
            LEFT - 6.0,
            top_y + PANEL,
            tick(*low),
        );
        if p == 2 {
            for (i, d) in days.iter().enumerate() {
                let h = d.n as f64 / max_n * PANEL;
                let _ = write!(
                    svg,
                    "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\"/>",
                    x(i) - step * 0.35,
                    top_y + PANEL - h,
                    step * 0.7,
                );
            }
            continue;
        }
        let value = |d: &Day| if p == 0 { d.pct_difficult } else { d.mean };
        let mut path = String::new();
        let mut pen_down = false;
        for (i, d) in days.iter().enumerate() {
            match value(d) {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1} {:.1} ",
                        if pen_down { "L" } else { "M" },
                        x(i),
                        y(v)
                    );
                    pen_down = true;
                    let _ = write!(
                        svg,
                        "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"/>",
                        x(i),
                        y(v)
                    );
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = write!(svg, "<path class=\"{class}\" d=\"{}\"/>", path.trim_end());
        }
    }
    // Dates under the last panel: the first, the last, and about six between.
    let base = GAP + 3.0 * (PANEL + GAP) - GAP + 14.0;
    let every = days.len().div_ceil(7).max(1);
    for (i, d) in days.iter().enumerate() {
        if i % every == 0 || i + 1 == days.len() {
            let _ = write!(
                svg,
                "<text class=\"tick\" x=\"{:.1}\" y=\"{base:.1}\" text-anchor=\"middle\">{}</text>",
                x(i),
                d.date.strftime("%d %b")
            );
        }
    }
    for mark in marks {
        if let Some(i) = days.iter().position(|d| d.date == *mark) {
            let _ = write!(
                svg,
                "<line class=\"mark\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>\
                 <text class=\"mark-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">\u{25bc}</text>",
                x(i),
                GAP - 4.0,
                x(i),
                GAP + 3.0 * PANEL + 2.0 * GAP,
                x(i),
                GAP - 6.0,
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn tick(v: f64) -> String {
    if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The shade class (`shade-0` … `shade-5`) of a heatmap cell holding `value` of `max`;
/// `shade-none` for a cell without answers.
pub fn shade(value: Option<f64>, max: f64) -> String {
    match value {
        None => "shade-none".to_owned(),
        Some(_) if max <= 0.0 => "shade-0".to_owned(),
        Some(v) => format!("shade-{}", ((v / max) * 5.0).round().clamp(0.0, 5.0) as u8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_trend_is_svg_with_a_summary_and_escaped_text() {
        let days = vec![
            Day {
                date: date(2026, 11, 23),
                n: 4,
                mean: Some(4.75),
                pct_difficult: Some(25.0),
            },
            Day {
                date: date(2026, 11, 24),
                n: 0,
                mean: None,
                pct_difficult: None,
            },
        ];
        let svg = trend(
            &days,
            7,
            ["% difficult", "mean <1-7>", "answers"],
            "a & b",
            &[],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("aria-label=\"a &amp; b\""));
        assert!(svg.contains("mean &lt;1-7&gt;"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert_eq!(svg.matches("<circle class=\"difficult\"").count(), 1);
        assert!(!svg.contains("style="), "no inline styles under the CSP");
    }

    #[test]
    fn shades_grow_with_the_value() {
        assert_eq!(shade(None, 10.0), "shade-none");
        assert_eq!(shade(Some(0.0), 10.0), "shade-0");
        assert_eq!(shade(Some(10.0), 10.0), "shade-5");
        assert_eq!(shade(Some(5.0), 10.0), "shade-3");
        assert_eq!(shade(Some(3.0), 0.0), "shade-0");
    }
}
