//! The CES maths of the report, on score counts from storage: n, mean, % easy, % difficult
//! and the distribution, with the formula printed next to them. Pure, so that every backend
//! reports the same figures.

use std::collections::BTreeSet;

use crate::collector::storage::GroupCounts;
use crate::wire::{Report, ReportGroup};

/// Turns score counts into the report. Groups whose answers were all suppressed are kept
/// (n = 0, figures absent) so that misuse stays visible.
pub fn build(groups: Vec<GroupCounts>) -> Report {
    let scales: BTreeSet<&str> = groups.iter().map(|g| g.scale.as_str()).collect();
    let formulas = crate::survey::Scale::ALL
        .into_iter()
        .filter(|s| scales.contains(s.as_str()))
        .map(|s| s.formula())
        .collect();
    Report {
        formulas,
        groups: groups.into_iter().map(group).collect(),
    }
}

fn group(g: GroupCounts) -> ReportGroup {
    let n: u64 = g.counts.iter().sum();
    let sum: u64 = g
        .counts
        .iter()
        .zip(1u64..)
        .map(|(count, score)| count * score)
        .sum();
    let share = |scores: std::ops::RangeInclusive<u8>| {
        let hits: u64 = scores
            .filter_map(|s| g.counts.get(usize::from(s) - 1))
            .sum();
        percent(hits, n)
    };
    ReportGroup {
        mean: (n > 0).then(|| sum as f64 / n as f64),
        pct_easy: share(g.scale.easy_scores()),
        pct_difficult: share(g.scale.difficult_scores()),
        formula: g.scale.formula(),
        n,
        site: g.site,
        touchpoint: g.touchpoint,
        question_id: g.question_id,
        question_version: g.question_version,
        scale: g.scale,
        direction: g.direction,
        date: g.date,
        hour: g.hour,
        distribution: g.counts,
        suppressed: g.suppressed,
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// The report as a plain-text table for the terminal, with the formulas underneath.
pub fn table(report: &Report) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:>4}  {:<18} {:<18} {:<20} {:<8} {:>6} {:>6} {:>7} {:>11} {:>10}",
        "date",
        "hour",
        "site",
        "touchpoint",
        "question",
        "scale",
        "n",
        "mean",
        "% easy",
        "% difficult",
        "suppressed"
    );
    let fixed =
        |v: Option<f64>, places: usize| v.map_or("-".to_owned(), |v| format!("{v:.places$}"));
    for g in &report.groups {
        let _ = writeln!(
            out,
            "{:<10} {:>4}  {:<18} {:<18} {:<20} {:<8} {:>6} {:>6} {:>7} {:>11} {:>10}",
            g.date,
            g.hour.map_or("all".to_owned(), |h| format!("{h:02}")),
            g.site,
            g.touchpoint,
            format!("{} v{}", g.question_id, g.question_version),
            g.scale.as_str(),
            g.n,
            fixed(g.mean, 2),
            fixed(g.pct_easy, 1),
            fixed(g.pct_difficult, 1),
            g.suppressed,
        );
    }
    if report.groups.is_empty() {
        out.push_str("(no answers match)\n");
    }
    for f in &report.formulas {
        let _ = writeln!(out, "\n{f}");
    }
    out
}

/// The report as CSV: one line per group; the distribution as counts for score 1, 2, …
/// separated by `;`, and the formula in its own column.
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
    ]);
    let figure = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
    for g in &report.groups {
        let distribution: Vec<String> = g.distribution.iter().map(u64::to_string).collect();
        let cell = |s: &str| crate::text::csv_cell(s).into_owned();
        let _ = out.write_record([
            cell(&g.date),
            g.hour.map_or(String::new(), |h| h.to_string()),
            cell(&g.site),
            cell(&g.touchpoint),
            cell(&g.question_id),
            g.question_version.to_string(),
            g.scale.as_str().to_owned(),
            g.direction.as_str().to_owned(),
            g.n.to_string(),
            figure(g.mean),
            figure(g.pct_easy),
            figure(g.pct_difficult),
            g.suppressed.to_string(),
            distribution.join(";"),
            cell(&g.formula),
        ]);
    }
    out.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::{Direction, Scale};

    fn counts(scale: Scale, counts: Vec<u64>, suppressed: u64) -> GroupCounts {
        GroupCounts {
            site: "s".into(),
            touchpoint: "t".into(),
            question_id: "q".into(),
            question_version: 1,
            scale,
            direction: Direction::HigherIsEasier,
            date: "2026-11-24".into(),
            hour: None,
            counts,
            suppressed,
        }
    }

    #[test]
    fn ces7_figures_by_hand() {
        // Scores 1, 2, 5, 6, 6, 7, 7, 7: n 8, sum 41, mean 5.125;
        // easy (5-7) 6 of 8 = 75 %, difficult (1-3) 2 of 8 = 25 %.
        let r = build(vec![counts(Scale::Ces7, vec![1, 1, 0, 0, 1, 2, 3], 4)]);
        let g = &r.groups[0];
        assert_eq!(g.n, 8);
        assert_eq!(g.mean, Some(5.125));
        assert_eq!(g.pct_easy, Some(75.0));
        assert_eq!(g.pct_difficult, Some(25.0));
        assert_eq!(g.suppressed, 4);
        assert_eq!(r.formulas, [Scale::Ces7.formula()]);
        assert!(table(&r).contains("5.12"), "{}", table(&r));
    }

    #[test]
    fn a_group_of_only_suppressed_taps_has_no_figures() {
        let r = build(vec![counts(Scale::Smiley3, vec![0, 0, 0], 40)]);
        let g = &r.groups[0];
        assert_eq!((g.n, g.mean, g.pct_easy), (0, None, None));
        assert_eq!(g.suppressed, 40);
    }
}
