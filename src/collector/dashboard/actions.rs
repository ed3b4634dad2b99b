//! A place's part of closing the loop, on its page: the actions recorded there (a site's
//! with its touchpoints', a touchpoint's with its site's), each with its effect (before
//! against after, per question), a form to record one, and the place's alerts.

use std::sync::Arc;

use axum::extract::{Form, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::Person;
use super::overview::unavailable;
use super::period::PageQuery;
use super::problem;
use super::texts::Texts;
use super::view::{Cell, Table};
use crate::collector::State;
use crate::collector::action::Action;
use crate::collector::action::effect::{self, Verdict, Window};
use crate::collector::alert::message;
use crate::collector::storage::{ActionFilter, AlertFilter, StorageError};

/// Days in each window of an action's effect.
const DAYS: u32 = 14;
/// Actions shown on a place's page.
const SHOWN: usize = 20;

/// An action with its effect, as the page shows it.
pub struct ActionView {
    pub id: i64,
    pub heading: String,
    pub effect: Table,
}

/// The place's actions, their effect, its alerts, and what the form needs.
pub struct PlaceLoop {
    pub actions: Vec<ActionView>,
    pub alerts: Table,
    pub site: String,
    pub touchpoint: String,
    pub today: String,
    /// The days actions were taken, for the trend.
    pub days: Vec<jiff::civil::Date>,
}

fn window_text(w: &Window) -> String {
    let f = &w.figures;
    match (f.pct_difficult, w.interval) {
        (Some(p), Some((low, high))) => format!(
            "{} {}, {p:.1} % ({low:.1}\u{2013}{high:.1}), {} {}",
            f.n,
            Texts::english().get("answers").to_lowercase(),
            Texts::english().get("mean").to_lowercase(),
            f.mean.map_or("\u{2013}".to_owned(), |m| format!("{m:.2}"))
        ),
        _ => Texts::english().get("no_answers").to_owned(),
    }
}

pub async fn read(
    state: &State,
    person: &Person,
    q: &PageQuery,
    site: &str,
) -> Result<PlaceLoop, StorageError> {
    let t = Texts::english();
    let storage = state.storage.as_ref();
    let touchpoint = q.touchpoint.clone();
    let found = storage
        .actions(ActionFilter {
            site: Some(site.to_owned()),
            touchpoint: touchpoint.clone(),
            sites: person.scope(),
            limit: SHOWN,
        })
        .await?;
    let today = jiff::ZonedDateTime::now().date();
    let min_n = state.settings.dashboard.min_answers;
    let mut actions = Vec::new();
    let mut days = Vec::new();
    for a in found {
        days.extend(a.taken_on.parse::<jiff::civil::Date>().ok());
        let place = match &a.touchpoint {
            Some(tp) => format!("{} / {tp}", a.site),
            None => a.site.clone(),
        };
        let heading = format!(
            "{} · {place} · {} {}: {}",
            a.taken_on,
            t.get("by"),
            a.by,
            a.what
        );
        let id = a.id;
        let e = effect::read(storage, a, DAYS, min_n, today, person.scope()).await?;
        let rows = e
            .questions
            .iter()
            .map(|qe| {
                let verdict = match qe.verdict {
                    Verdict::TooFew => format!(
                        "{} ({} {min_n})",
                        t.get("too_few_to_tell"),
                        t.get("fewer_than")
                    ),
                    Verdict::Better => t.get("verdict_better").to_owned(),
                    Verdict::Worse => t.get("verdict_worse").to_owned(),
                    Verdict::NoClearChange => t.get("verdict_no_clear_change").to_owned(),
                };
                vec![
                    Cell::text(format!(
                        "{} v{} ({})",
                        qe.question_id,
                        qe.question_version,
                        qe.scale.as_str()
                    )),
                    Cell::text(window_text(&qe.before)),
                    Cell::text(window_text(&qe.after)),
                    Cell::text(verdict),
                ]
            })
            .collect();
        let table_id = format!("effect-{id}");
        let effect = Table::of(
            t,
            &table_id,
            q.csv_href("/place", &table_id),
            (
                "before_after",
                &["question", "before_14", "after_14", "verdict"],
                "no_answers_either_window",
            ),
            rows,
        );
        actions.push(ActionView {
            id,
            heading,
            effect,
        });
    }
    let alerts = storage
        .alerts(AlertFilter {
            open_only: false,
            sites: Some(vec![site.to_owned()]),
            limit: 200,
        })
        .await?;
    let rows = alerts
        .iter()
        .filter(|a| touchpoint.as_ref().is_none_or(|tp| *tp == a.touchpoint))
        .take(SHOWN)
        .map(|a| {
            vec![
                Cell::text(message::place(a)),
                Cell::text(message::text(a)),
                Cell::text(a.state.as_str().to_owned()),
                Cell::text(message::time(a.fired_at_ms.or(Some(a.since_ms)))),
            ]
        })
        .collect();
    let alerts = Table::of(
        t,
        "place-alerts",
        q.csv_href("/place", "place-alerts"),
        (
            "alerts_here",
            &["place", "what_was_seen", "status", "fired"],
            "no_alerts_here",
        ),
        rows,
    );
    Ok(PlaceLoop {
        actions,
        alerts,
        site: site.to_owned(),
        touchpoint: touchpoint.unwrap_or_default(),
        today: today.to_string(),
        days,
    })
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    site: String,
    #[serde(default)]
    touchpoint: String,
    what: String,
    on: String,
}

/// Records an action at a place the person may see, then shows the place again.
pub async fn record(
    Shared(state): Shared<Arc<State>>,
    person: Person,
    Form(form): Form<ActionForm>,
) -> Response {
    if !person.csrf_ok(&form.csrf) {
        return (StatusCode::FORBIDDEN, "the form expired; reload the page").into_response();
    }
    if !person.may_see(&form.site) {
        let t = Texts::english();
        return problem(
            &person,
            StatusCode::FORBIDDEN,
            t.get("not_your_site").to_owned(),
        );
    }
    let touchpoint = Some(form.touchpoint.trim().to_owned()).filter(|t| !t.is_empty());
    let action = Action {
        id: 0,
        site: form.site.clone(),
        touchpoint: touchpoint.clone(),
        taken_on: form.on.trim().to_owned(),
        what: form.what.trim().to_owned(),
        by: person.user.name.clone(),
        alert_id: None,
        recorded_at_ms: jiff::Timestamp::now().as_millisecond(),
    };
    if let Err(why) = action.check(jiff::ZonedDateTime::now().date()) {
        return problem(&person, StatusCode::UNPROCESSABLE_ENTITY, why);
    }
    if let Err(e) = state.storage.add_action(action).await {
        return unavailable(&person, e);
    }
    let mut back = url::form_urlencoded::Serializer::new(String::new());
    back.append_pair("site", &form.site);
    if let Some(tp) = &touchpoint {
        back.append_pair("touchpoint", tp);
    }
    Redirect::to(&format!("/place?{}#actions", back.finish())).into_response()
}
