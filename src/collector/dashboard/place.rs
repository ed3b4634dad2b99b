//! A place (a site, or a touchpoint within it) over a period: per question its key figures
//! and trend, heatmaps of % difficult and of volume by weekday and hour of day, the
//! distribution of scores, and the follow-up reasons given after low scores (the "why");
//! and the actions taken there with their effect, marked on the trend (`actions`).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State as Shared};
use axum::http::StatusCode;
use axum::response::Response;

use super::access::Person;
use super::actions::{self, PlaceLoop};
use super::chart;
use super::overview::{Choice, dates_of, query_of, request};
use super::period::{Dates, PageQuery};
use super::section::{self, Section};
use super::texts::Texts;
use super::view::{self, Cell, Table};
use super::{Frame, Tables, problem, respond};
use crate::collector::State;
use crate::collector::report::{self, By};
use crate::collector::storage::{
    AnswerFilter, CountQuery, GroupCounts, Grouping, ReasonCount, StorageError, TimeSplit,
};
use crate::wire::ReportGroup;

/// One question's part of the place page.
struct Part {
    section: Section,
    heat_difficult: Table,
    heat_volume: Table,
    distribution: Table,
    reasons: Table,
}

#[derive(Template)]
#[template(path = "place.html")]
struct PlacePage {
    frame: Frame,
    choice: Choice,
    place: String,
    site: String,
    site_href: String,
    /// The site's touchpoints, when the page shows a whole site.
    touchpoints: Option<Table>,
    parts: Vec<Part>,
    /// Its actions with their effect, and its alerts.
    closing: PlaceLoop,
}

impl Tables for PlacePage {
    fn tables(&self) -> Vec<&Table> {
        let tables = self
            .touchpoints
            .iter()
            .chain(self.closing.actions.iter().map(|a| &a.effect))
            .chain([&self.closing.alerts])
            .chain(self.parts.iter().flat_map(|p| {
                [
                    &p.section.trend,
                    &p.heat_difficult,
                    &p.heat_volume,
                    &p.distribution,
                    &p.reasons,
                ]
            }));
        tables.collect()
    }
}

pub async fn page(
    Shared(state): Shared<Arc<State>>,
    person: Person,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let q = match query_of(&person, q) {
        Ok(q) => q,
        Err(r) => return *r,
    };
    let t = Texts::english();
    let Some(site) = q.site.clone().filter(|s| !s.is_empty() && s.len() <= 64) else {
        return problem(
            &person,
            StatusCode::BAD_REQUEST,
            t.get("place_needs_site").to_owned(),
        );
    };
    if !person.may_see(&site) {
        return problem(
            &person,
            StatusCode::FORBIDDEN,
            t.get("not_your_site").to_owned(),
        );
    }
    if q.touchpoint
        .as_ref()
        .is_some_and(|tp| tp.is_empty() || tp.len() > 64)
    {
        return problem(
            &person,
            StatusCode::BAD_REQUEST,
            t.get("place_needs_site").to_owned(),
        );
    }
    let (name, dates) = match dates_of(&person, &q) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    respond(
        &person,
        &q,
        build(&state, &person, &q, &name, dates, site).await,
    )
}

async fn build(
    state: &State,
    person: &Person,
    q: &PageQuery,
    name: &str,
    dates: Dates,
    site: String,
) -> Result<PlacePage, StorageError> {
    let t = Texts::english();
    let storage = state.storage.as_ref();
    let filter = AnswerFilter {
        site: Some(site.clone()),
        touchpoint: q.touchpoint.clone(),
        ..dates.filter(person.scope())
    };
    let closing = actions::read(state, person, q, &site).await?;
    let (totals, sections) =
        section::read(storage, &filter, t, q, "/place", dates, &closing.days).await?;
    let hours = storage
        .report_counts(CountQuery {
            filter: filter.clone(),
            group: Grouping::Question,
            time: TimeSplit::WeekdayHour,
            page: None,
        })
        .await?;
    let reasons = storage.reason_counts(filter.clone()).await?;
    let touchpoints = if q.touchpoint.is_none() {
        let min_n = state.settings.dashboard.min_answers;
        let places = report::read(
            storage,
            filter,
            Grouping::Touchpoint,
            request(By::Period, min_n),
        )
        .await?;
        Some(touchpoint_table(t, q, &places.groups))
    } else {
        None
    };
    let parts = sections
        .into_iter()
        .zip(&totals.groups)
        .map(|(section, total)| Part {
            heat_difficult: heatmap(t, q, total, &hours, true),
            heat_volume: heatmap(t, q, total, &hours, false),
            distribution: distribution(t, q, total),
            reasons: reason_table(t, q, total, &reasons),
            section,
        })
        .collect();
    let place = match &q.touchpoint {
        Some(tp) => format!("{site} / {tp}"),
        None => site.clone(),
    };
    Ok(PlacePage {
        frame: Frame::of(person, "place"),
        choice: Choice::new(name, dates, q),
        place,
        site,
        site_href: q.href("/place", &[("touchpoint", None)]),
        touchpoints,
        parts,
        closing,
    })
}

fn touchpoint_table(t: &Texts, q: &PageQuery, groups: &[ReportGroup]) -> Table {
    let rows = groups
        .iter()
        .map(|g| {
            let tp = g.touchpoint.clone().unwrap_or_default();
            let href = q.href("/place", &[("touchpoint", Some(&tp))]);
            let mut cells = vec![Cell::link(tp, href), Cell::text(view::question_name(g))];
            cells.extend(view::figure_cells(&g.figures));
            cells
        })
        .collect();
    let id = "touchpoints".to_owned();
    Table {
        csv_href: q.csv_href("/place", &id),
        id,
        caption: t.get("touchpoints").to_owned(),
        headers: [
            t.get("touchpoint"),
            t.get("question"),
            t.get("answers"),
            t.get("mean"),
            t.get("pct_easy"),
            t.get("pct_difficult"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows,
        empty: t.get("no_answers").to_owned(),
        class: "",
    }
}

fn same_question(total: &ReportGroup, g: &GroupCounts) -> bool {
    g.question_id == total.question_id
        && g.question_version == total.question_version
        && g.scale == total.scale
        && g.direction == total.direction
}

/// Weekday (1 Monday … 7 Sunday) × hour of day: % difficult (`difficult`) or the number of
/// counted answers. Hours run from the earliest to the latest with answers.
fn heatmap(
    t: &Texts,
    q: &PageQuery,
    total: &ReportGroup,
    hours: &[GroupCounts],
    difficult: bool,
) -> Table {
    let scale = total.scale;
    let hard: Vec<usize> = scale
        .difficult_scores()
        .map(|s| usize::from(s) - 1)
        .collect();
    let mut cells: BTreeMap<(u8, u8), (u64, u64)> = BTreeMap::new();
    for g in hours.iter().filter(|g| same_question(total, g)) {
        let (Some(weekday), Some(hour)) = (g.weekday, g.hour) else {
            continue;
        };
        let n: u64 = g.counts.iter().sum();
        let d: u64 = hard.iter().filter_map(|i| g.counts.get(*i)).sum();
        let cell = cells.entry((weekday, hour)).or_default();
        cell.0 += n;
        cell.1 += d;
    }
    let first = cells.keys().map(|k| k.1).min().unwrap_or(0);
    let last = cells.keys().map(|k| k.1).max().unwrap_or(23);
    let value = |(n, d): (u64, u64)| -> Option<f64> {
        if difficult {
            (n > 0).then(|| d as f64 * 100.0 / n as f64)
        } else {
            Some(n as f64)
        }
    };
    let max = if difficult {
        100.0
    } else {
        cells.values().map(|c| c.0).max().unwrap_or(0) as f64
    };
    let rows = (1..=7)
        .map(|weekday: u8| {
            let mut row = vec![Cell::text(t.get(WEEKDAYS[usize::from(weekday - 1)]))];
            for hour in first..=last {
                let c = cells.get(&(weekday, hour)).copied().unwrap_or_default();
                let v = value(c);
                let text = match (difficult, v) {
                    (true, Some(p)) => format!("{p:.0}"),
                    (true, None) => String::new(),
                    (false, _) => c.0.to_string(),
                };
                let shown = if c.0 == 0 && !difficult { None } else { v };
                row.push(Cell::number(text).class(chart::shade(shown, max)));
            }
            row
        })
        .collect();
    let key = view::question_key(total);
    let (id, caption) = if difficult {
        (format!("heat-difficult-{key}"), t.get("heat_difficult"))
    } else {
        (format!("heat-volume-{key}"), t.get("heat_volume"))
    };
    let mut headers = vec![t.get("weekday").to_owned()];
    headers.extend((first..=last).map(|h| format!("{h:02}")));
    Table {
        csv_href: q.csv_href("/place", &id),
        id,
        caption: format!("{caption} \u{2013} {}", view::question_name(total)),
        headers,
        rows,
        empty: t.get("no_answers").to_owned(),
        class: "heat",
    }
}

pub(super) const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// How many counted answers gave each score, and their share.
fn distribution(t: &Texts, q: &PageQuery, total: &ReportGroup) -> Table {
    let f = &total.figures;
    let rows = total
        .scale
        .scores()
        .map(|score| {
            let n = f
                .distribution
                .get(usize::from(score) - 1)
                .copied()
                .unwrap_or(0);
            let share = (f.n > 0).then(|| n as f64 * 100.0 / f.n as f64);
            vec![
                Cell::text(score.to_string()),
                Cell::number(n.to_string()),
                Cell::number(view::percent(share)).class(chart::shade(share, 100.0)),
            ]
        })
        .collect();
    let id = format!("scores-{}", view::question_key(total));
    Table {
        csv_href: q.csv_href("/place", &id),
        id,
        caption: format!(
            "{} \u{2013} {}",
            t.get("distribution"),
            view::question_name(total)
        ),
        headers: [t.get("score"), t.get("answers"), t.get("share")]
            .map(str::to_owned)
            .to_vec(),
        rows,
        empty: t.get("no_answers").to_owned(),
        class: "",
    }
}

/// The follow-up reasons of one question, most given first, with their share of all the
/// reasons given.
fn reason_table(t: &Texts, q: &PageQuery, total: &ReportGroup, reasons: &[ReasonCount]) -> Table {
    let mine: Vec<&ReasonCount> = reasons
        .iter()
        .filter(|r| {
            r.question_id == total.question_id
                && r.question_version == total.question_version
                && r.scale == total.scale
                && r.direction == total.direction
        })
        .collect();
    let given: u64 = mine.iter().map(|r| r.n).sum();
    let rows = mine
        .iter()
        .map(|r| {
            vec![
                Cell::text(r.reason.clone()),
                Cell::number(r.n.to_string()),
                Cell::number(view::percent(Some(r.n as f64 * 100.0 / given as f64))),
            ]
        })
        .collect();
    let id = format!("reasons-{}", view::question_key(total));
    Table {
        csv_href: q.csv_href("/place", &id),
        id,
        caption: format!(
            "{} \u{2013} {}",
            t.get("reasons"),
            view::question_name(total)
        ),
        headers: [t.get("reason"), t.get("answers"), t.get("share_of_reasons")]
            .map(str::to_owned)
            .to_vec(),
        rows,
        empty: t.get("no_reasons").to_owned(),
        class: "",
    }
}
