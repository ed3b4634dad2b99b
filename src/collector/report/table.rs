//! The report as a plain-text table for an operator's terminal and as CSV for spreadsheets:
//! the same groups, totals and previous-period figures as the JSON.

use std::fmt::Write;

use crate::wire::{Figures, Report, ReportGroup};

/// A group's time as one short text: its date and hour, week, month, weekday or `all`.
fn when(g: &ReportGroup) -> String {
    const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if let Some(week) = &g.week {
        return week.clone();
    }
    if let Some(month) = &g.month {
        return month.clone();
    }
    if let Some(d) = g.weekday {
        return WEEKDAYS
            .get(usize::from(d).wrapping_sub(1))
            .map_or_else(|| d.to_string(), |d| (*d).to_owned());
    }
    match (&g.date, g.hour) {
        (Some(date), Some(h)) => format!("{date} {h:02}h"),
        (Some(date), None) => date.clone(),
        (None, Some(h)) => format!("{h:02}h"),
        (None, None) => "all".to_owned(),
    }
}

/// A group's place: site, touchpoint and device as far as the grouping goes.
fn place(g: &ReportGroup) -> String {
    let parts: Vec<&str> = [&g.site, &g.touchpoint, &g.device]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if parts.is_empty() {
        "all places".to_owned()
    } else {
        parts.join(" / ")
    }
}

fn fixed(v: Option<f64>, places: usize) -> String {
    v.map_or("-".to_owned(), |v| format!("{v:.places$}"))
}

/// One table line; `cells` are when, place, question, scale, n, mean, % easy, % difficult,
/// suppressed, and with a comparison the previous n and % difficult.
fn line(out: &mut String, cells: &[String], note: &str) {
    let widths: [isize; 11] = [-14, -32, -22, -8, 7, 6, 7, 11, 10, 7, 11];
    let mut row = String::new();
    for (cell, width) in cells.iter().zip(widths) {
        let w = width.unsigned_abs();
        let _ = if width < 0 {
            write!(row, "{cell:<w$} ")
        } else {
            write!(row, "{cell:>w$} ")
        };
    }
    row.push_str(note);
    let _ = writeln!(out, "{}", row.trim_end());
}

fn cells(g: &ReportGroup, when: String, place: String, compared: bool) -> Vec<String> {
    let f = &g.figures;
    let mut cells = vec![
        when,
        place,
        format!("{} v{}", g.question_id, g.question_version),
        g.scale.as_str().to_owned(),
        f.n.to_string(),
        fixed(f.mean, 2),
        fixed(f.pct_easy, 1),
        fixed(f.pct_difficult, 1),
        f.suppressed.to_string(),
    ];
    if compared {
        let p = g.previous.clone().unwrap_or_default();
        cells.extend([p.n.to_string(), fixed(p.pct_difficult, 1)]);
    }
    cells
}

/// The report as a plain-text table, totals under the groups, the formulas underneath.
pub fn table(report: &Report) -> String {
    let compared = report.previous_period.is_some();
    let mut out = String::new();
    let mut header: Vec<String> = [
        "when",
        "place",
        "question",
        "scale",
        "n",
        "mean",
        "% easy",
        "% difficult",
        "suppressed",
    ]
    .map(str::to_owned)
    .to_vec();
    if compared {
        header.extend(["prev n".to_owned(), "prev % diff".to_owned()]);
    }
    line(&mut out, &header, "");
    for g in &report.groups {
        let note = if g.too_few { "too few" } else { "" };
        line(&mut out, &cells(g, when(g), place(g), compared), note);
    }
    if report.groups.is_empty() {
        out.push_str("(no answers match)\n");
    } else {
        for t in &report.totals {
            let note = if t.too_few { "too few" } else { "" };
            line(
                &mut out,
                &cells(t, "total".into(), String::new(), compared),
                note,
            );
        }
    }
    if let Some(p) = &report.previous_period {
        let _ = writeln!(out, "\nprevious period: {} to {}", p.from, p.to);
    }
    if let Some(cursor) = &report.next_cursor {
        let _ = writeln!(out, "\nmore groups follow: --cursor {cursor}");
    }
    for f in &report.formulas {
        let _ = writeln!(out, "\n{f}");
    }
    out
}

/// The report's groups as CSV: one line per group; the distribution as counts for score 1,
/// 2, … separated by `;`, and the formula in its own column. The columns of earlier versions
/// come first, in their order; text cells are neutralised for spreadsheets.
pub fn csv(report: &Report) -> Vec<u8> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record([
        "date",
        "hour",
        "site",
        "touchpoint",
        "question_id",
        "question_version",
        "scale",
        "direction",
        "n",
        "mean",
        "pct_easy",
        "pct_difficult",
        "suppressed",
        "distribution",
        "formula",
        "device",
        "week",
        "month",
        "weekday",
        "too_few",
        "previous_n",
        "previous_mean",
        "previous_pct_easy",
        "previous_pct_difficult",
    ]);
    let figure = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
    let cell = |s: &Option<String>| {
        s.as_deref()
            .map_or(String::new(), |s| crate::text::csv_cell(s).into_owned())
    };
    let number = |n: Option<u8>| n.map_or(String::new(), |n| n.to_string());
    for g in &report.groups {
        let f = &g.figures;
        let distribution: Vec<String> = f.distribution.iter().map(u64::to_string).collect();
        let (p, compared) = match &g.previous {
            Some(p) => (p.clone(), true),
            None => (Figures::default(), false),
        };
        let _ = out.write_record([
            cell(&g.date),
            number(g.hour),
            cell(&g.site),
            cell(&g.touchpoint),
            cell(&Some(g.question_id.clone())),
            g.question_version.to_string(),
            g.scale.as_str().to_owned(),
            g.direction.as_str().to_owned(),
            f.n.to_string(),
            figure(f.mean),
            figure(f.pct_easy),
            figure(f.pct_difficult),
            f.suppressed.to_string(),
            distribution.join(";"),
            cell(&Some(g.formula.clone())),
            cell(&g.device),
            cell(&g.week),
            cell(&g.month),
            number(g.weekday),
            g.too_few.to_string(),
            if compared {
                p.n.to_string()
            } else {
                String::new()
            },
            figure(p.mean),
            figure(p.pct_easy),
            figure(p.pct_difficult),
        ]);
    }
    out.into_inner().unwrap_or_default()
}
