//! One alert round in one writer transaction: what each rule watches is read (`live_counts`
//! and the devices' last reports, within the sites' opening hours), [`decide`] says what
//! changes, the alerts are written, and each notification is queued in the outbox.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::{alert_view, outbox, rules, sites};
use crate::collector::alert::decide::{Event, OpenAlert, State, Step, decide};
use crate::collector::alert::rule::Rule;
use crate::collector::alert::watch::{
    Device, Seen, WindowCounts, figures_json, window_start, windows_of,
};
use crate::collector::storage::StorageError;
use crate::collector::storage::sqlite::rollups::prune_live;

/// One alert round: every rule decided at `now_ms`; returns the deliveries queued.
pub fn round(c: &Connection, now_ms: i64, channels: &[String]) -> Result<usize, StorageError> {
    prune_live(c, now_ms)?;
    let rules = rules(c)?;
    if rules.is_empty() {
        return Ok(0);
    }
    let mut windows = BTreeMap::new();
    for window_min in windows_of(&rules) {
        windows.insert(window_min, live_window(c, now_ms, window_min)?);
    }
    let seen = Seen::new(now_ms, sites(c)?, devices(c)?, windows).map_err(StorageError::Failed)?;
    let mut queued = 0;
    for rule in &rules {
        let open = open_alerts(c, rule.id)?;
        for step in decide(rule, now_ms, seen.holding(rule), &open) {
            queued += apply(c, rule, step, now_ms, channels)?;
        }
    }
    Ok(queued)
}

/// Counted, difficult and easy answers per touchpoint within the last `window_min` minutes.
fn live_window(c: &Connection, now_ms: i64, window_min: u32) -> Result<WindowCounts, StorageError> {
    let first = window_start(now_ms, window_min);
    let mut q = c.prepare_cached(
        "SELECT site, touchpoint, sum(counted), sum(difficult), sum(easy) FROM live_counts
         WHERE minute >= ?1 GROUP BY site, touchpoint",
    )?;
    let rows = q.query_map([first], |r| {
        let n = |i| r.get::<_, i64>(i).map(|v| v.max(0).unsigned_abs());
        Ok((r.get(0)?, r.get(1)?, [n(2)?, n(3)?, n(4)?]))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn devices(c: &Connection) -> Result<Vec<Device>, StorageError> {
    let mut q = c.prepare_cached(
        "SELECT id, site, touchpoint, created_at_ms, last_seen_ms, last_answer_ms,
            coalesce(dead_letters, 0), config_error
         FROM devices WHERE revoked_at_ms IS NULL",
    )?;
    let rows = q.query_map([], |r| {
        Ok(Device {
            id: r.get(0)?,
            site: r.get(1)?,
            touchpoint: r.get(2)?,
            created_at_ms: r.get(3)?,
            last_seen_ms: r.get(4)?,
            last_answer_ms: r.get(5)?,
            dead_letters: r.get::<_, i64>(6)?.max(0).unsigned_abs(),
            config_error: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn open_alerts(c: &Connection, rule: i64) -> Result<Vec<OpenAlert>, StorageError> {
    let mut q = c.prepare_cached(
        "SELECT id, place, state, since_ms, clear_since_ms, notified_at_ms, figures FROM alerts
         WHERE rule_id = ?1 AND state != 'resolved'",
    )?;
    let rows = q.query_map([rule], |r| {
        Ok(OpenAlert {
            id: r.get(0)?,
            place_key: r.get(1)?,
            state: State::from_name(&r.get::<_, String>(2)?).unwrap_or(State::Firing),
            since_ms: r.get(3)?,
            clear_since_ms: r.get(4)?,
            notified_at_ms: r.get(5)?,
            figures: serde_json::from_str(&r.get::<_, String>(6)?).ok(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Writes one step; returns the deliveries it queued.
fn apply(
    c: &Connection,
    rule: &Rule,
    step: Step,
    now_ms: i64,
    channels: &[String],
) -> Result<usize, StorageError> {
    let (alert, event) = match step {
        Step::Open { observation, state } => {
            let p = &observation.place;
            let fired = (state == State::Firing).then_some(now_ms);
            let id: i64 = c.query_row(
                "INSERT INTO alerts (rule_id, place, site, touchpoint, device_id, state,
                    since_ms, fired_at_ms, notified_at_ms, figures)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9) RETURNING id",
                params![
                    rule.id,
                    p.key(),
                    p.site,
                    p.touchpoint,
                    p.device,
                    state.as_str(),
                    now_ms,
                    fired,
                    figures_json(&observation.figures)
                ],
                |r| r.get(0),
            )?;
            (id, fired.map(|_| Event::Firing))
        }
        Step::Holds {
            alert,
            figures,
            to,
            notify,
        } => {
            c.prepare_cached(
                "UPDATE alerts SET state = ?2, figures = ?3, clear_since_ms = NULL,
                    fired_at_ms = CASE WHEN ?2 = 'firing' THEN coalesce(fired_at_ms, ?4)
                        ELSE fired_at_ms END,
                    notified_at_ms = CASE WHEN ?5 THEN ?4 ELSE notified_at_ms END
                 WHERE id = ?1",
            )?
            .execute(params![
                alert,
                to.as_str(),
                figures_json(&figures),
                now_ms,
                notify.is_some()
            ])?;
            (alert, notify)
        }
        Step::Clearing { alert, since_ms } => {
            c.prepare_cached("UPDATE alerts SET clear_since_ms = ?2 WHERE id = ?1")?
                .execute(params![alert, since_ms])?;
            (alert, None)
        }
        Step::Drop { alert } => {
            c.prepare_cached("DELETE FROM alerts WHERE id = ?1")?
                .execute([alert])?;
            (alert, None)
        }
        Step::Resolve { alert } => {
            c.prepare_cached(
                "UPDATE alerts SET state = 'resolved', resolved_at_ms = ?2 WHERE id = ?1",
            )?
            .execute(params![alert, now_ms])?;
            (alert, Some(Event::Resolved))
        }
    };
    let Some(event) = event else {
        return Ok(0);
    };
    let view = alert_view(c, alert)?
        .ok_or_else(|| StorageError::Failed(format!("alert {alert} vanished in its round")))?;
    outbox::queue(c, &view, event, channels, now_ms)
}
