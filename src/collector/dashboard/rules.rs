//! The alert rules page, for admins: the rules in force, each with a button to remove it,
//! and a form to add one (floor, praise, silent or trouble; for the fleet, a site or one
//! touchpoint), checked as `ces-collector alert-rule add` checks it.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::access::Person;
use super::overview::unavailable;
use super::texts::Texts;
use super::{Frame, admin_form, admin_only, page, problem};
use crate::collector::State;
use crate::collector::alert::rule::{Given, Kind, Rule};
use crate::collector::storage::StorageError;

/// A rule as the page lists it.
pub struct RuleRow {
    pub name: String,
    pub scope: String,
    pub condition: String,
    pub timing: String,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    frame: Frame,
    rules: Vec<RuleRow>,
}

pub async fn page_of(Shared(state): Shared<Arc<State>>, person: Person) -> Response {
    if let Some(refused) = admin_only(&person) {
        return refused;
    }
    let t = Texts::english();
    let rules = match state.storage.alert_rules().await {
        Ok(r) => r,
        Err(e) => return unavailable(&person, e),
    };
    let rules = rules
        .into_iter()
        .map(|r| RuleRow {
            scope: match (&r.site, &r.touchpoint) {
                (None, _) => t.get("every_site").to_owned(),
                (Some(s), None) => s.clone(),
                (Some(s), Some(tp)) => format!("{s} / {tp}"),
            },
            condition: r.condition.to_string(),
            timing: format!(
                "{} {} s, {} {} s, {} {} s",
                t.get("pending_for"),
                r.pending_s,
                t.get("clear_for"),
                r.clear_s,
                t.get("repeat_every"),
                r.repeat_s
            ),
            name: r.name,
        })
        .collect();
    page(
        StatusCode::OK,
        &RulesPage {
            frame: Frame::of(&person, "rules"),
            rules,
        },
    )
}

/// A number from the form; `None` when left empty.
fn number<T: std::str::FromStr>(
    form: &HashMap<String, String>,
    key: &str,
) -> Result<Option<T>, String> {
    match form.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{key}: {v:?} is not a number")),
    }
}

/// The rule the add form describes.
fn rule_of(form: &HashMap<String, String>) -> Result<Rule, String> {
    let text = |k: &str| {
        Some(form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default()).filter(|v| !v.is_empty())
    };
    let kind = text("kind").unwrap_or_default();
    let kind = <Kind as clap::ValueEnum>::from_str(&kind, false)
        .map_err(|_| format!("{kind:?} is not a kind of rule"))?;
    let given = Given {
        name: text("name").unwrap_or_default(),
        site: text("site"),
        touchpoint: text("touchpoint"),
        share: number(form, "share")?,
        window: number(form, "window")?,
        min_answers: number(form, "min_answers")?,
        hours: number(form, "hours")?,
        pending: number(form, "pending")?,
        clear: number(form, "clear")?,
        repeat: number(form, "repeat")?,
    };
    Ok(given.rule(kind))
}

/// Adds (`do` = `add`) or removes (`do` = `remove`, `name`) a rule.
pub async fn change(
    Shared(state): Shared<Arc<State>>,
    person: Person,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or_default();
    if let Some(refused) = admin_form(&person, field("csrf")) {
        return refused;
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let done = if field("do") == "remove" {
        state.storage.remove_alert_rule(field("name"), now).await
    } else {
        let rule = match rule_of(&form).and_then(|r| r.check().map(|()| r)) {
            Ok(r) => r,
            Err(why) => return problem(&person, StatusCode::UNPROCESSABLE_ENTITY, why),
        };
        state.storage.add_alert_rule(rule, now).await.map(|_| ())
    };
    match done {
        Ok(()) => Redirect::to("/rules").into_response(),
        Err(StorageError::Conflict(why) | StorageError::NotFound(why)) => {
            problem(&person, StatusCode::UNPROCESSABLE_ENTITY, why)
        }
        Err(e) => unavailable(&person, e),
    }
}
