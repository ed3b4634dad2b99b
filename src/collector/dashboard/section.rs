//! One question's part of a page: its key figures with their change, and its daily trend as
//! a chart and a table. Questions, versions and scales each get their own part: never mixed.

use super::chart::{self, Day};
use super::period::{Dates, PageQuery};
use super::texts::Texts;
use super::view::{self, Cell, Table, Tile};
use crate::collector::report::{self, By};
use crate::collector::storage::{AnswerFilter, Grouping, Storage, StorageError};
use crate::wire::{Report, ReportGroup};

/// A question's key figures and trend over the period.
pub struct Section {
    /// `returns-ease v1 (ces7)`.
    pub name: String,
    pub key: String,
    pub formula: String,
    pub tiles: Vec<Tile>,
    /// The trend chart (SVG made by `chart`, its texts escaped).
    pub chart: String,
    pub trend: Table,
}

/// The period of `filter` per question: its totals (with the previous equal period) and a
/// section for each, read from storage; `marks` are the days actions were taken, marked on
/// the trend.
pub async fn read(
    storage: &dyn Storage,
    filter: &AnswerFilter,
    t: &Texts,
    q: &PageQuery,
    path: &str,
    dates: Dates,
    marks: &[jiff::civil::Date],
) -> Result<(Report, Vec<Section>), StorageError> {
    let request = |by| report::Request {
        by,
        ..report::Request::default()
    };
    let (whole, per_day) = (request(By::Period), request(By::Day));
    let totals = report::read(storage, filter.clone(), Grouping::Question, whole).await?;
    let days = report::read(storage, filter.clone(), Grouping::Question, per_day).await?;
    let sections = totals
        .groups
        .iter()
        .map(|g| section(t, q, path, dates, g, &days, marks))
        .collect();
    Ok((totals, sections))
}

fn same_question(a: &ReportGroup, b: &ReportGroup) -> bool {
    a.question_id == b.question_id
        && a.question_version == b.question_version
        && a.scale == b.scale
        && a.direction == b.direction
}

fn section(
    t: &Texts,
    q: &PageQuery,
    path: &str,
    dates: Dates,
    total: &ReportGroup,
    days: &Report,
    marks: &[jiff::civil::Date],
) -> Section {
    let key = view::question_key(total);
    let name = view::question_name(total);
    let trend_days: Vec<Day> = dates
        .days()
        .map(|date| {
            let label = date.to_string();
            let found = days
                .groups
                .iter()
                .find(|g| same_question(g, total) && g.date.as_deref() == Some(label.as_str()));
            match found {
                Some(g) => Day {
                    date,
                    n: g.figures.n,
                    mean: g.figures.mean,
                    pct_difficult: g.figures.pct_difficult,
                },
                None => Day {
                    date,
                    n: 0,
                    mean: None,
                    pct_difficult: None,
                },
            }
        })
        .collect();
    let summary = format!(
        "{}: {} {}, {} {}, {} {} ({} {} {} {})",
        name,
        t.get("answers"),
        total.figures.n,
        t.get("mean"),
        view::mean(total.figures.mean),
        t.get("pct_difficult"),
        view::percent(total.figures.pct_difficult),
        t.get("per_day_from"),
        dates.from,
        t.get("to"),
        dates.to
    );
    let mean_label = format!("{} (1\u{2013}{})", t.get("mean"), total.scale.max());
    let summary = if marks.is_empty() {
        summary
    } else {
        let days: Vec<String> = marks.iter().map(ToString::to_string).collect();
        format!("{summary} {} {}.", t.get("actions_on"), days.join(", "))
    };
    let chart = chart::trend(
        &trend_days,
        total.scale.max(),
        [t.get("pct_difficult"), &mean_label, t.get("answers")],
        &summary,
        marks,
    );
    let id = format!("trend-{key}");
    let rows = trend_days
        .iter()
        .map(|d| {
            vec![
                Cell::text(d.date.to_string()),
                Cell::number(d.n.to_string()),
                Cell::number(view::mean(d.mean)),
                Cell::number(view::percent(d.pct_difficult)),
            ]
        })
        .collect();
    let trend = Table {
        csv_href: q.csv_href(path, &id),
        id,
        caption: format!("{} \u{2013} {}", t.get("trend_per_day"), name),
        headers: vec![
            t.get("date").to_owned(),
            t.get("answers").to_owned(),
            t.get("mean").to_owned(),
            t.get("pct_difficult").to_owned(),
        ],
        rows,
        empty: t.get("no_answers").to_owned(),
        class: "",
    };
    Section {
        tiles: view::tiles(t, total),
        formula: total.formula.clone(),
        name,
        key,
        chart,
        trend,
    }
}
