//! The overview: for a period, each question's answers, mean, % easy and % difficult with
//! the change against the previous equal period, its daily trend, the places ranked by %
//! difficult (those with too few answers shown apart, unranked), and the terminals that
//! need attention.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State as Shared};
use axum::http::StatusCode;
use axum::response::Response;

use super::access::Person;
use super::period::{self, Dates, PageQuery};
use super::section::{self, Section};
use super::texts::Texts;
use super::view::{self, Cell, Table};
use super::{Frame, Tables, fleet, problem, respond};
use crate::collector::State;
use crate::collector::report::{self, By};
use crate::collector::storage::{Grouping, StorageError};
use crate::wire::{Report, ReportGroup};

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    frame: Frame,
    choice: Choice,
    sections: Vec<Section>,
    rankings: Vec<Table>,
    attention: Table,
}

impl Tables for OverviewPage {
    fn tables(&self) -> Vec<&Table> {
        let trends = self.sections.iter().map(|s| &s.trend);
        trends
            .chain(&self.rankings)
            .chain([&self.attention])
            .collect()
    }
}

/// The period menu's state: which preset (or custom) and the dates it stands for.
pub struct Choice {
    pub period: String,
    pub from: String,
    pub to: String,
    pub presets: Vec<(&'static str, &'static str)>,
    /// The place shown, kept by the form.
    pub site: Option<String>,
    pub touchpoint: Option<String>,
}

impl Choice {
    /// Whether the menu's choice is `key`.
    pub fn is(&self, key: &str) -> bool {
        self.period == key
    }

    pub fn new(name: &str, dates: Dates, q: &PageQuery) -> Choice {
        Choice {
            period: name.to_owned(),
            from: dates.from.to_string(),
            to: dates.to.to_string(),
            presets: period::PRESETS.to_vec(),
            site: q.site.clone(),
            touchpoint: q.touchpoint.clone(),
        }
    }
}

/// The period a page's address asks for, or the page saying why it cannot be shown.
pub fn dates_of(person: &Person, q: &PageQuery) -> Result<(String, Dates), Box<Response>> {
    period::chosen(
        q.period.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        period::today(),
    )
    .map_err(|e| Box::new(problem(person, StatusCode::BAD_REQUEST, e)))
}

/// A report request for the whole period or per day, all groups at once.
pub fn request(by: By, min_n: u64) -> report::Request {
    report::Request {
        by,
        min_n,
        ..report::Request::default()
    }
}

/// The page's address query, or the page saying what is wrong with it.
pub fn query_of(
    person: &Person,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<PageQuery, Box<Response>> {
    q.map(|Query(q)| q)
        .map_err(|e| Box::new(problem(person, StatusCode::BAD_REQUEST, e.body_text())))
}

pub fn unavailable(person: &Person, e: StorageError) -> Response {
    tracing::error!("a dashboard page could not read: {e}");
    problem(
        person,
        StatusCode::SERVICE_UNAVAILABLE,
        Texts::english().get("unavailable").to_owned(),
    )
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
    let (name, dates) = match dates_of(&person, &q) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    respond(&person, &q, build(&state, &person, &q, &name, dates).await)
}

async fn build(
    state: &State,
    person: &Person,
    q: &PageQuery,
    name: &str,
    dates: Dates,
) -> Result<OverviewPage, StorageError> {
    let t = Texts::english();
    let storage = state.storage.as_ref();
    let filter = dates.filter(person.scope());
    let min_n = state.settings.dashboard.min_answers;
    let (totals, sections) = section::read(storage, &filter, t, q, "/", dates, &[]).await?;
    let places = report::read(
        storage,
        filter,
        Grouping::Touchpoint,
        request(By::Period, min_n),
    )
    .await?;
    let rankings = totals
        .groups
        .iter()
        .map(|question| ranking(t, q, question, &places, min_n))
        .collect();
    let attention = fleet::attention(state, person, q).await?;
    Ok(OverviewPage {
        frame: Frame::of(person, "overview"),
        choice: Choice::new(name, dates, q),
        sections,
        rankings,
        attention,
    })
}

/// The places of one question ranked by % difficult, worst first; places with too few
/// answers follow, unranked.
fn ranking(t: &Texts, q: &PageQuery, question: &ReportGroup, places: &Report, min_n: u64) -> Table {
    let mut rows: Vec<&ReportGroup> = places
        .groups
        .iter()
        .filter(|g| {
            g.question_id == question.question_id
                && g.question_version == question.question_version
                && g.scale == question.scale
                && g.direction == question.direction
        })
        .collect();
    rows.sort_by(|a, b| {
        let d = |g: &ReportGroup| g.figures.pct_difficult.unwrap_or(-1.0);
        a.too_few
            .cmp(&b.too_few)
            .then(d(b).total_cmp(&d(a)))
            .then(b.figures.n.cmp(&a.figures.n))
    });
    let mut rank = 0;
    let rows = rows
        .into_iter()
        .map(|g| {
            let site = g.site.clone().unwrap_or_default();
            let touchpoint = g.touchpoint.clone().unwrap_or_default();
            let href = q.href(
                "/place",
                &[("site", Some(&site)), ("touchpoint", Some(&touchpoint))],
            );
            let place = Cell::link(format!("{site} / {touchpoint}"), href);
            let position = if g.too_few {
                Cell::text(format!("{} (n < {min_n})", t.get("too_few")))
            } else {
                rank += 1;
                Cell::number(rank.to_string())
            };
            let change = match (
                g.figures.pct_difficult,
                g.previous.as_ref().and_then(|p| p.pct_difficult),
            ) {
                (Some(now), Some(before)) if !g.too_few => {
                    format!("{} pp", view::signed(now - before, 1))
                }
                _ => "\u{2013}".to_owned(),
            };
            let mut cells = vec![position, place];
            cells.extend(view::figure_cells(&g.figures));
            cells.push(Cell::number(change));
            cells
        })
        .collect();
    let key = view::question_key(question);
    let id = format!("places-{key}");
    Table {
        csv_href: q.csv_href("/", &id),
        id,
        caption: format!(
            "{} \u{2013} {}",
            t.get("places_ranked"),
            view::question_name(question)
        ),
        headers: [
            t.get("rank"),
            t.get("place"),
            t.get("answers"),
            t.get("mean"),
            t.get("pct_easy"),
            t.get("pct_difficult"),
            t.get("change_difficult"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows,
        empty: t.get("no_answers").to_owned(),
        class: "",
    }
}
