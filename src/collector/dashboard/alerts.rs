//! The alerts page: the open alerts of the sites the person may see, each with what was
//! seen and a form to acknowledge it (a comment, and the action taken, which is recorded at
//! the alert's place), and the past alerts as a table.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Query, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::Person;
use super::overview::{query_of, unavailable};
use super::period::PageQuery;
use super::texts::Texts;
use super::view::{Cell, Table};
use super::{Frame, Tables, problem, respond};
use crate::collector::State;
use crate::collector::action::Action;
use crate::collector::alert::decide::State as AlertState;
use crate::collector::alert::message;
use crate::collector::storage::{AlertFilter, AlertView, StorageError};

/// An open alert as the page shows it.
pub struct OpenAlert {
    pub id: i64,
    pub title: String,
    pub text: String,
    pub state: String,
    pub since: String,
    /// Who acknowledged it, when, and what they said.
    pub acknowledged: Option<String>,
    /// Firing, not yet acknowledged.
    pub can_acknowledge: bool,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    frame: Frame,
    open: Vec<OpenAlert>,
    past: Table,
}

impl Tables for AlertsPage {
    fn tables(&self) -> Vec<&Table> {
        vec![&self.past]
    }
}

/// How many past alerts the page lists.
const PAST: usize = 200;

fn state_text(t: &Texts, s: AlertState) -> String {
    t.get(match s {
        AlertState::Pending => "alert_pending",
        AlertState::Firing => "alert_firing",
        AlertState::Acknowledged => "alert_acknowledged",
        AlertState::Resolved => "alert_resolved",
    })
    .to_owned()
}

fn acknowledgement(a: &AlertView) -> Option<String> {
    a.acknowledged.as_ref().map(|k| {
        let said = if k.comment.is_empty() {
            String::new()
        } else {
            format!(": {}", k.comment)
        };
        format!(
            "{} {} {} {}{said}",
            Texts::english().get("acknowledged_by"),
            k.by,
            Texts::english().get("at"),
            message::time(Some(k.at_ms))
        )
    })
}

async fn build(state: &State, person: &Person, q: &PageQuery) -> Result<AlertsPage, StorageError> {
    let t = Texts::english();
    let all = state
        .storage
        .alerts(AlertFilter {
            open_only: false,
            sites: person.scope(),
            limit: PAST + 1000,
        })
        .await?;
    let (open, past): (Vec<&AlertView>, Vec<&AlertView>) = all
        .iter()
        .filter(|a| a.state != AlertState::Pending)
        .partition(|a| a.state != AlertState::Resolved);
    let open = open
        .into_iter()
        .map(|a| OpenAlert {
            id: a.id,
            title: message::title(crate::collector::alert::decide::Event::Firing, a),
            text: message::text(a),
            state: state_text(t, a.state),
            since: message::time(Some(a.fired_at_ms.unwrap_or(a.since_ms))),
            acknowledged: acknowledgement(a),
            can_acknowledge: a.state == AlertState::Firing,
        })
        .collect();
    let rows = past
        .into_iter()
        .take(PAST)
        .map(|a| {
            vec![
                Cell::text(message::place(a)),
                Cell::text(a.rule.clone()),
                Cell::text(message::text(a)),
                Cell::text(message::time(a.fired_at_ms)),
                Cell::text(message::time(a.resolved_at_ms)),
                Cell::text(acknowledgement(a).unwrap_or_default()),
            ]
        })
        .collect();
    let headers = [
        "place",
        "rule",
        "what_was_seen",
        "fired",
        "resolved",
        "acknowledgement",
    ];
    let past = Table::of(
        t,
        "past_alerts",
        q.csv_href("/alerts", "past_alerts"),
        ("past_alerts", &headers, "no_past_alerts"),
        rows,
    );
    Ok(AlertsPage {
        frame: Frame::of(person, "alerts"),
        open,
        past,
    })
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
    let built = build(&state, &person, &q).await;
    respond(&person, &q, built)
}

#[derive(Deserialize)]
pub struct AckForm {
    csrf: String,
    id: i64,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    action: String,
}

/// Acknowledges an alert of a site the person may see, and records the action taken.
pub async fn acknowledge(
    Shared(state): Shared<Arc<State>>,
    person: Person,
    Form(form): Form<AckForm>,
) -> Response {
    if !person.csrf_ok(&form.csrf) {
        return (StatusCode::FORBIDDEN, "the form expired; reload the page").into_response();
    }
    let t = Texts::english();
    let not_found = || {
        problem(
            &person,
            StatusCode::NOT_FOUND,
            t.get("no_such_firing_alert").to_owned(),
        )
    };
    let alert = match state.storage.alert(form.id).await {
        Ok(alert) => alert,
        Err(e) => return unavailable(&person, e),
    };
    // Only an open alert of a site the person may see; another site's is never named.
    let open = |a: &AlertView| a.state != AlertState::Resolved && person.may_see(&a.site);
    let Some(alert) = alert.filter(open) else {
        return not_found();
    };
    let (comment, what) = (form.comment.trim(), form.action.trim());
    let today = jiff::ZonedDateTime::now().date();
    let action = (!what.is_empty()).then(|| Action {
        id: 0,
        site: alert.site.clone(),
        touchpoint: Some(alert.touchpoint.clone()),
        taken_on: today.to_string(),
        what: what.to_owned(),
        by: person.user.name.clone(),
        alert_id: Some(alert.id),
        recorded_at_ms: jiff::Timestamp::now().as_millisecond(),
    });
    let checked = crate::text::check_free_text(comment, 1000)
        .map_err(|e| format!("{}: {e}", t.get("comment")))
        .and_then(|()| action.as_ref().map_or(Ok(()), |a| a.check(today)));
    if let Err(why) = checked {
        return problem(&person, StatusCode::UNPROCESSABLE_ENTITY, why);
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let name = person.user.name.clone();
    match state
        .storage
        .acknowledge_alert(alert.id, &name, comment, now)
        .await
    {
        Ok(_) => {}
        Err(StorageError::NotFound(_)) => return not_found(),
        Err(e) => return unavailable(&person, e),
    }
    if let Some(action) = action
        && let Err(e) = state.storage.add_action(action).await
    {
        return unavailable(&person, e);
    }
    Redirect::to("/alerts").into_response()
}
