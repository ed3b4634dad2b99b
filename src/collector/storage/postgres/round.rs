//! One alert round on PostgreSQL, in the caller's transaction, which first takes an
//! advisory lock: two collectors' rounds run one after the other, so each alert is decided,
//! and each notification queued, once.

use std::collections::BTreeMap;

use deadpool_postgres::GenericClient;

use super::alerts::{alert_view, rules, sites};
use super::connection::unsigned;
use super::{outbox, pg_error};
use crate::collector::alert::decide::{Event, OpenAlert, State, Step, decide};
use crate::collector::alert::rule::Rule;
use crate::collector::alert::watch::{Device, Seen, figures_json, window_start, windows_of};
use crate::collector::storage::{LIVE_HORIZON_MS, StorageError};

/// The advisory lock an alert round holds for its transaction ("ces-alrt" in ASCII).
const ROUND_LOCK: i64 = 0x6365_732d_616c_7274;

/// One alert round in the caller's transaction: every rule decided at `now_ms`; returns the
/// deliveries queued.
pub async fn round(
    c: &impl GenericClient,
    now_ms: i64,
    channels: &[String],
) -> Result<usize, StorageError> {
    c.execute("SELECT pg_advisory_xact_lock($1)", &[&ROUND_LOCK])
        .await
        .map_err(pg_error)?;
    let oldest = (now_ms - LIVE_HORIZON_MS).div_euclid(60_000) - 1;
    c.execute("DELETE FROM live_counts WHERE minute < $1", &[&oldest])
        .await
        .map_err(pg_error)?;
    let rules = rules(c).await?;
    if rules.is_empty() {
        return Ok(0);
    }
    let mut windows = BTreeMap::new();
    for window_min in windows_of(&rules) {
        let rows = c
            .query(
                "SELECT site, touchpoint, sum(counted)::bigint, sum(difficult)::bigint,
                    sum(easy)::bigint
                 FROM live_counts WHERE minute >= $1 GROUP BY site, touchpoint",
                &[&window_start(now_ms, window_min)],
            )
            .await
            .map_err(pg_error)?;
        let counts = rows
            .iter()
            .map(|r| {
                let n = |i| unsigned(r.get(i));
                (r.get(0), r.get(1), [n(2), n(3), n(4)])
            })
            .collect();
        windows.insert(window_min, counts);
    }
    let seen = Seen::new(now_ms, sites(c).await?, devices(c).await?, windows)
        .map_err(StorageError::Failed)?;
    let mut queued = 0;
    for rule in &rules {
        let open = open_alerts(c, rule.id).await?;
        for step in decide(rule, now_ms, seen.holding(rule), &open) {
            queued += apply(c, rule, step, now_ms, channels).await?;
        }
    }
    Ok(queued)
}

async fn devices(c: &impl GenericClient) -> Result<Vec<Device>, StorageError> {
    let rows = c
        .query(
            "SELECT id, site, touchpoint, created_at_ms, last_seen_ms, last_answer_ms,
                coalesce(dead_letters, 0), config_error
             FROM devices WHERE revoked_at_ms IS NULL",
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| Device {
            id: r.get(0),
            site: r.get(1),
            touchpoint: r.get(2),
            created_at_ms: r.get(3),
            last_seen_ms: r.get(4),
            last_answer_ms: r.get(5),
            dead_letters: unsigned(r.get(6)),
            config_error: r.get(7),
        })
        .collect())
}

async fn open_alerts(c: &impl GenericClient, rule: i64) -> Result<Vec<OpenAlert>, StorageError> {
    let rows = c
        .query(
            "SELECT id, place, state, since_ms, clear_since_ms, notified_at_ms, figures
             FROM alerts WHERE rule_id = $1 AND state <> 'resolved'",
            &[&rule],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| OpenAlert {
            id: r.get(0),
            place_key: r.get(1),
            state: State::from_name(r.get(2)).unwrap_or(State::Firing),
            since_ms: r.get(3),
            clear_since_ms: r.get(4),
            notified_at_ms: r.get(5),
            figures: serde_json::from_str(r.get(6)).ok(),
        })
        .collect())
}

/// Writes one step; returns the deliveries it queued.
async fn apply(
    c: &impl GenericClient,
    rule: &Rule,
    step: Step,
    now_ms: i64,
    channels: &[String],
) -> Result<usize, StorageError> {
    let (alert, event) = match step {
        Step::Open { observation, state } => {
            let p = &observation.place;
            let fired = (state == State::Firing).then_some(now_ms);
            let row = c
                .query_one(
                    "INSERT INTO alerts (rule_id, place, site, touchpoint, device_id, state,
                        since_ms, fired_at_ms, notified_at_ms, figures)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id",
                    &[
                        &rule.id,
                        &p.key(),
                        &p.site,
                        &p.touchpoint,
                        &p.device,
                        &state.as_str(),
                        &now_ms,
                        &fired,
                        &figures_json(&observation.figures),
                    ],
                )
                .await
                .map_err(pg_error)?;
            (row.get(0), fired.map(|_| Event::Firing))
        }
        Step::Holds {
            alert,
            figures,
            to,
            notify,
        } => {
            c.execute(
                "UPDATE alerts SET state = $2, figures = $3, clear_since_ms = NULL,
                    fired_at_ms = CASE WHEN $2 = 'firing' THEN coalesce(fired_at_ms, $4)
                        ELSE fired_at_ms END,
                    notified_at_ms = CASE WHEN $5 THEN $4 ELSE notified_at_ms END
                 WHERE id = $1",
                &[
                    &alert,
                    &to.as_str(),
                    &figures_json(&figures),
                    &now_ms,
                    &notify.is_some(),
                ],
            )
            .await
            .map_err(pg_error)?;
            (alert, notify)
        }
        Step::Clearing { alert, since_ms } => {
            c.execute(
                "UPDATE alerts SET clear_since_ms = $2 WHERE id = $1",
                &[&alert, &since_ms],
            )
            .await
            .map_err(pg_error)?;
            (alert, None)
        }
        Step::Drop { alert } => {
            c.execute("DELETE FROM alerts WHERE id = $1", &[&alert])
                .await
                .map_err(pg_error)?;
            (alert, None)
        }
        Step::Resolve { alert } => {
            c.execute(
                "UPDATE alerts SET state = 'resolved', resolved_at_ms = $2 WHERE id = $1",
                &[&alert, &now_ms],
            )
            .await
            .map_err(pg_error)?;
            (alert, Some(Event::Resolved))
        }
    };
    let Some(event) = event else {
        return Ok(0);
    };
    let view = alert_view(c, alert)
        .await?
        .ok_or_else(|| StorageError::Failed(format!("alert {alert} vanished in its round")))?;
    outbox::queue(c, &view, event, channels, now_ms).await
}
