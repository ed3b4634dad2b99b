//! The fleet: every terminal the person may see with its last contact, queue, dead letters,
//! app and survey config version, refused config and clock skew, silent terminals first;
//! and the short list of terminals that need attention, which the overview shows.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State as Shared};
use axum::http::StatusCode;
use axum::response::Response;

use super::access::Person;
use super::overview::{query_of, unavailable};
use super::period::PageQuery;
use super::texts::Texts;
use super::view::{self, Cell, Table};
use super::{Frame, csv_download};
use crate::collector::State;
use crate::collector::storage::StorageError;
use crate::wire::DeviceStatus;

#[derive(Template)]
#[template(path = "fleet.html")]
struct FleetPage {
    frame: Frame,
    terminals: Table,
}

/// When a terminal was last heard from, in milliseconds; `None` if never.
fn last_contact_ms(d: &DeviceStatus) -> Option<i64> {
    d.last_seen
        .as_deref()
        .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_millisecond())
}

/// "2026-11-29 14:20 UTC (3 h ago)", or "never".
fn contact_text(t: &Texts, d: &DeviceStatus, now_ms: i64) -> String {
    let Some(ms) = last_contact_ms(d) else {
        return t.get("never").to_owned();
    };
    let when = jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let minutes = (now_ms - ms).max(0) / 60_000;
    let ago = if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 48 * 60 {
        format!("{} h", minutes / 60)
    } else {
        format!("{} d", minutes / (24 * 60))
    };
    format!("{when} ({ago} {})", t.get("ago"))
}

/// What is wrong with a terminal, in words; empty when nothing is.
fn troubles(t: &Texts, d: &DeviceStatus, now_ms: i64, silent_ms: i64) -> Vec<String> {
    let mut found = Vec::new();
    match last_contact_ms(d) {
        None => found.push(t.get("trouble_never_seen").to_owned()),
        Some(ms) if now_ms - ms > silent_ms => found.push(t.get("trouble_silent").to_owned()),
        Some(_) => {}
    }
    if let Some(n) = d.dead_letters.filter(|n| *n > 0) {
        found.push(format!("{n} {}", t.get("trouble_dead_letters")));
    }
    if d.config_error.is_some() {
        found.push(t.get("trouble_config_refused").to_owned());
    }
    if d.clock_skewed {
        found.push(t.get("trouble_clock").to_owned());
    }
    found
}

/// The terminals the person may see, not revoked, silent (or never seen) first, then the
/// longest silent, then by place.
async fn terminals(state: &State, person: &Person) -> Result<Vec<DeviceStatus>, StorageError> {
    let flag = i64::try_from(state.settings.skew_flag.as_millis()).unwrap_or(i64::MAX);
    let mut devices: Vec<DeviceStatus> = state
        .storage
        .devices(flag)
        .await?
        .into_iter()
        .filter(|d| person.may_see(&d.site))
        .collect();
    devices.sort_by(|a, b| {
        a.revoked_at
            .is_some()
            .cmp(&b.revoked_at.is_some())
            .then(last_contact_ms(a).cmp(&last_contact_ms(b)))
            .then((&a.site, &a.touchpoint, &a.id).cmp(&(&b.site, &b.touchpoint, &b.id)))
    });
    Ok(devices)
}

fn silent_ms(state: &State) -> i64 {
    i64::try_from(state.settings.dashboard.silent_after.as_millis()).unwrap_or(i64::MAX)
}

/// The terminals that need attention (silent, dead letters, a refused config, a wrong
/// clock), as the overview's table.
pub async fn attention(
    state: &State,
    person: &Person,
    q: &PageQuery,
) -> Result<Table, StorageError> {
    let t = Texts::english();
    let (now, silent) = (jiff::Timestamp::now().as_millisecond(), silent_ms(state));
    let rows = terminals(state, person)
        .await?
        .iter()
        .filter(|d| d.revoked_at.is_none())
        .filter_map(|d| {
            let why = troubles(t, d, now, silent);
            (!why.is_empty()).then(|| {
                vec![
                    Cell::text(d.id.clone()),
                    Cell::text(format!("{} / {}", d.site, d.touchpoint)),
                    Cell::text(why.join("; ")).class("trouble"),
                    Cell::text(contact_text(t, d, now)),
                ]
            })
        })
        .collect();
    let id = "attention".to_owned();
    Ok(Table {
        csv_href: q.csv_href("/", &id),
        id,
        caption: t.get("needs_attention").to_owned(),
        headers: [
            t.get("terminal"),
            t.get("place"),
            t.get("why"),
            t.get("last_contact"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows,
        empty: t.get("all_terminals_fine").to_owned(),
        class: "",
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
    let t = Texts::english();
    let now = jiff::Timestamp::now().as_millisecond();
    let devices = match terminals(&state, &person).await {
        Ok(d) => d,
        Err(e) => return unavailable(&person, e),
    };
    let count = |n: Option<u64>| n.map_or("\u{2013}".to_owned(), |n| n.to_string());
    let rows = devices
        .iter()
        .map(|d| {
            let why = troubles(t, d, now, silent_ms(&state));
            let status = if d.revoked_at.is_some() {
                Cell::text(t.get("revoked"))
            } else if why.is_empty() {
                Cell::text(t.get("fine"))
            } else {
                Cell::text(why.join("; ")).class("trouble")
            };
            let config = match (d.config_version, d.config_latest) {
                (Some(v), Some(l)) if v < l => format!("{v} ({} {l})", t.get("latest_is")),
                (v, _) => count(v),
            };
            vec![
                Cell::text(d.id.clone()),
                Cell::text(format!("{} / {}", d.site, d.touchpoint)),
                status,
                Cell::text(contact_text(t, d, now)),
                Cell::number(count(d.queue_depth)),
                Cell::number(count(d.dead_letters)),
                Cell::text(d.app_version.clone().unwrap_or_else(|| "\u{2013}".into())),
                Cell::number(config),
                Cell::text(d.config_error.clone().unwrap_or_default()),
                Cell::number(d.clock_skew_ms.map_or("\u{2013}".to_owned(), |ms| {
                    format!("{} s", view::signed(ms as f64 / 1000.0, 1))
                })),
            ]
        })
        .collect();
    let id = "terminals".to_owned();
    let terminals = Table {
        csv_href: q.csv_href("/fleet", &id),
        id,
        caption: t.get("fleet_caption").to_owned(),
        headers: [
            t.get("terminal"),
            t.get("place"),
            t.get("status"),
            t.get("last_contact"),
            t.get("queue"),
            t.get("dead_letters"),
            t.get("app_version"),
            t.get("config_version"),
            t.get("config_refused"),
            t.get("clock_skew"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows,
        empty: t.get("no_terminals").to_owned(),
        class: "",
    };
    if q.wants_csv() {
        return csv_download(&terminals);
    }
    super::page(
        StatusCode::OK,
        &FleetPage {
            frame: Frame::of(&person, "fleet"),
            terminals,
        },
    )
}
