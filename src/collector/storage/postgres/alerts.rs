//! Sites' opening hours, alert rules and the alerts they raise on PostgreSQL; a site's
//! summary queued once. Rounds are in `round.rs`.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::{outbox, pg_error};
use crate::collector::alert::decide::State;
use crate::collector::alert::hours::{OpeningHours, SiteHours};
use crate::collector::alert::rule::{Condition, Rule, Share};
use crate::collector::alert::settings::EMAIL_CHANNEL;
use crate::collector::alert::summary::Every;
use crate::collector::storage::alerts::Acknowledgement;
use crate::collector::storage::{AlertFilter, AlertView, StorageError};

pub async fn set_site(c: &impl GenericClient, s: &SiteHours) -> Result<(), StorageError> {
    c.execute(
        "INSERT INTO sites (name, time_zone, hours, summary) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET time_zone = excluded.time_zone, hours = excluded.hours,
            summary = excluded.summary",
        &[
            &s.site,
            &s.time_zone,
            &s.hours.to_string(),
            &s.summary.as_str(),
        ],
    )
    .await
    .map_err(pg_error)?;
    Ok(())
}

pub async fn sites(c: &impl GenericClient) -> Result<Vec<SiteHours>, StorageError> {
    let rows = c
        .query(
            "SELECT name, time_zone, hours, summary, summary_through FROM sites
             ORDER BY name COLLATE \"C\"",
            &[],
        )
        .await
        .map_err(pg_error)?;
    let mut sites = Vec::with_capacity(rows.len());
    for r in rows {
        let site: String = r.get(0);
        let hours = OpeningHours::parse(r.get(2))
            .map_err(|e| StorageError::Failed(format!("the stored hours of site {site:?}: {e}")))?;
        sites.push(SiteHours {
            site,
            time_zone: r.get(1),
            hours,
            summary: Every::from_name(r.get(3)).unwrap_or_default(),
            summary_through: r.get(4),
        });
    }
    Ok(sites)
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub async fn add_rule(
    c: &impl GenericClient,
    rule: &Rule,
    at_ms: i64,
) -> Result<i64, StorageError> {
    let share = rule.condition.share();
    let hours = match rule.condition {
        Condition::Silent { hours } => Some(int(hours)),
        _ => None,
    };
    let added = c
        .query_opt(
            "INSERT INTO alert_rules (name, kind, site, touchpoint, share_pct, window_min,
                min_answers, silent_hours, pending_s, clear_s, repeat_s, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT DO NOTHING RETURNING id",
            &[
                &rule.name,
                &rule.condition.kind(),
                &rule.site,
                &rule.touchpoint,
                &share.map(|s| i32::from(s.share_pct)),
                &share.map(|s| int(s.window_min)),
                &share.map(|s| int(s.min_answers)),
                &hours,
                &int(rule.pending_s),
                &int(rule.clear_s),
                &int(rule.repeat_s),
                &at_ms,
            ],
        )
        .await
        .map_err(pg_error)?;
    added.map(|r| r.get(0)).ok_or_else(|| {
        StorageError::Conflict(format!(
            "an alert rule named {:?} exists already",
            rule.name
        ))
    })
}

fn small(r: &Row, i: usize) -> Option<u32> {
    r.get::<_, Option<i32>>(i)
        .map(|n| u32::try_from(n).unwrap_or(0))
}

/// A rule's condition from its columns, starting at `first`: kind, share, window, least
/// answers, silent hours.
fn condition(r: &Row, first: usize) -> Condition {
    let share = Share {
        share_pct: small(r, first + 1).map_or(0, |n| u8::try_from(n).unwrap_or(100)),
        window_min: small(r, first + 2).unwrap_or(0),
        min_answers: small(r, first + 3).unwrap_or(0),
    };
    match r.get::<_, &str>(first) {
        "floor" => Condition::Floor(share),
        "praise" => Condition::Praise(share),
        "silent" => Condition::Silent {
            hours: small(r, first + 4).unwrap_or(1),
        },
        _ => Condition::Trouble,
    }
}

pub async fn rules(c: &impl GenericClient) -> Result<Vec<Rule>, StorageError> {
    let rows = c
        .query(
            "SELECT id, name, kind, share_pct, window_min, min_answers, silent_hours, site,
                touchpoint, pending_s, clear_s, repeat_s
             FROM alert_rules WHERE removed_at_ms IS NULL ORDER BY name COLLATE \"C\"",
            &[],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| Rule {
            id: r.get(0),
            name: r.get(1),
            condition: condition(r, 2),
            site: r.get(7),
            touchpoint: r.get(8),
            pending_s: small(r, 9).unwrap_or(0),
            clear_s: small(r, 10).unwrap_or(0),
            repeat_s: small(r, 11).unwrap_or(0),
        })
        .collect())
}

pub async fn remove_rule(
    c: &impl GenericClient,
    name: &str,
    at_ms: i64,
) -> Result<(), StorageError> {
    let id: i64 = c
        .query_opt(
            "UPDATE alert_rules SET removed_at_ms = $2
             WHERE name = $1 AND removed_at_ms IS NULL RETURNING id",
            &[&name, &at_ms],
        )
        .await
        .map_err(pg_error)?
        .ok_or_else(|| StorageError::NotFound(format!("no alert rule named {name:?}")))?
        .get(0);
    c.execute(
        "DELETE FROM alerts WHERE rule_id = $1 AND state = 'pending'",
        &[&id],
    )
    .await
    .map_err(pg_error)?;
    c.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at_ms = $2
         WHERE rule_id = $1 AND state <> 'resolved'",
        &[&id, &at_ms],
    )
    .await
    .map_err(pg_error)?;
    Ok(())
}

const VIEW: &str = "SELECT a.id, r.name, r.kind, r.share_pct, r.window_min, r.min_answers,
        r.silent_hours, a.site, a.touchpoint, a.device_id, a.state, a.since_ms, a.fired_at_ms,
        a.resolved_at_ms, a.acked_by, a.acked_at_ms, a.ack_comment, a.figures
    FROM alerts a JOIN alert_rules r ON r.id = a.rule_id";

fn view_row(r: &Row) -> Result<AlertView, StorageError> {
    let figures = serde_json::from_str(r.get(17))
        .map_err(|e| StorageError::Failed(format!("an alert's stored figures: {e}")))?;
    let acknowledged = match (r.get::<_, Option<String>>(14), r.get(15)) {
        (Some(by), Some(at_ms)) => Some(Acknowledgement {
            by,
            at_ms,
            comment: r.get::<_, Option<String>>(16).unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(AlertView {
        id: r.get(0),
        rule: r.get(1),
        condition: condition(r, 2),
        site: r.get(7),
        touchpoint: r.get(8),
        device: r.get(9),
        state: State::from_name(r.get(10)).unwrap_or(State::Firing),
        since_ms: r.get(11),
        fired_at_ms: r.get(12),
        resolved_at_ms: r.get(13),
        acknowledged,
        figures,
    })
}

pub async fn alert_view(
    c: &impl GenericClient,
    id: i64,
) -> Result<Option<AlertView>, StorageError> {
    let sql = format!("{VIEW} WHERE a.id = $1");
    let row = c.query_opt(&sql, &[&id]).await.map_err(pg_error)?;
    row.as_ref().map(view_row).transpose()
}

pub async fn alerts(
    c: &impl GenericClient,
    filter: &AlertFilter,
) -> Result<Vec<AlertView>, StorageError> {
    let sql = format!(
        "{VIEW} WHERE (NOT $1 OR a.state <> 'resolved')
            AND ($2::text[] IS NULL OR a.site = ANY($2))
         ORDER BY a.since_ms DESC, a.id DESC LIMIT $3"
    );
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    let rows = c
        .query(&sql, &[&filter.open_only, &filter.sites, &limit])
        .await
        .map_err(pg_error)?;
    rows.iter().map(view_row).collect()
}

pub async fn acknowledge(
    c: &impl GenericClient,
    id: i64,
    by: &str,
    comment: &str,
    at_ms: i64,
) -> Result<AlertView, StorageError> {
    let n = c
        .execute(
            "UPDATE alerts SET state = 'acknowledged', acked_by = $2, acked_at_ms = $3,
                ack_comment = $4
             WHERE id = $1 AND state = 'firing'",
            &[&id, &by, &at_ms, &comment],
        )
        .await
        .map_err(pg_error)?;
    if n == 0 {
        return Err(StorageError::NotFound(format!("no firing alert {id}")));
    }
    alert_view(c, id)
        .await?
        .ok_or_else(|| StorageError::NotFound(format!("no alert {id}")))
}

/// Queues a site's summary for the e-mail channel and notes the last date it covers, once:
/// `false` when a summary through that date (or later) was queued before.
pub async fn queue_summary(
    c: &impl GenericClient,
    site: &str,
    through: &str,
    title: &str,
    text: &str,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let n = c
        .execute(
            "UPDATE sites SET summary_through = $2
             WHERE name = $1 AND (summary_through IS NULL OR summary_through < $2)",
            &[&site, &through],
        )
        .await
        .map_err(pg_error)?;
    if n == 0 {
        return Ok(false);
    }
    outbox::queue_message(c, EMAIL_CHANNEL, "summary", title, text, now_ms).await?;
    Ok(true)
}
