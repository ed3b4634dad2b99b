//! Sites' opening hours, alert rules and the alerts they raise, in SQLite. An alert round
//! (`round.rs`) decides every rule in one writer transaction and queues each notification
//! in the outbox (`outbox.rs`), so that a decision and its notifications are stored
//! together or not at all.

pub mod outbox;
mod round;

use crate::collector::alert::settings::EMAIL_CHANNEL;

pub use round::round;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::collector::alert::decide::State;
use crate::collector::alert::hours::{OpeningHours, SiteHours};
use crate::collector::alert::rule::{Condition, Rule, Share};
use crate::collector::alert::summary::Every;
use crate::collector::storage::alerts::Acknowledgement;
use crate::collector::storage::{AlertFilter, AlertView, StorageError};

pub fn set_site(c: &Connection, s: &SiteHours) -> Result<(), StorageError> {
    c.execute(
        "INSERT INTO sites (name, time_zone, hours, summary) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET time_zone = excluded.time_zone, hours = excluded.hours,
            summary = excluded.summary",
        params![s.site, s.time_zone, s.hours.to_string(), s.summary.as_str()],
    )?;
    Ok(())
}

pub fn sites(c: &Connection) -> Result<Vec<SiteHours>, StorageError> {
    let mut q = c.prepare_cached(
        "SELECT name, time_zone, hours, summary, summary_through FROM sites ORDER BY name",
    )?;
    let rows = q.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut sites = Vec::new();
    for row in rows {
        let (site, time_zone, hours, summary, summary_through) = row?;
        let hours = OpeningHours::parse(&hours)
            .map_err(|e| StorageError::Failed(format!("the stored hours of site {site:?}: {e}")))?;
        sites.push(SiteHours {
            site,
            time_zone,
            hours,
            summary: Every::from_name(&summary).unwrap_or_default(),
            summary_through,
        });
    }
    Ok(sites)
}

pub fn add_rule(c: &Connection, rule: &Rule, at_ms: i64) -> Result<i64, StorageError> {
    let share = rule.condition.share();
    let hours = match rule.condition {
        Condition::Silent { hours } => Some(hours),
        _ => None,
    };
    let added = c.execute(
        "INSERT INTO alert_rules (name, kind, site, touchpoint, share_pct, window_min,
            min_answers, silent_hours, pending_s, clear_s, repeat_s, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT DO NOTHING",
        params![
            rule.name,
            rule.condition.kind(),
            rule.site,
            rule.touchpoint,
            share.map(|s| s.share_pct),
            share.map(|s| s.window_min),
            share.map(|s| s.min_answers),
            hours,
            rule.pending_s,
            rule.clear_s,
            rule.repeat_s,
            at_ms
        ],
    )?;
    if added == 0 {
        return Err(StorageError::Conflict(format!(
            "an alert rule named {:?} exists already",
            rule.name
        )));
    }
    Ok(c.last_insert_rowid())
}

const RULE_COLUMNS: &str = "id, name, kind, share_pct, window_min, min_answers, silent_hours,
    site, touchpoint, pending_s, clear_s, repeat_s";

/// A rule's condition from its columns, starting at `first`: kind, share, window, least
/// answers, silent hours.
fn condition(r: &Row<'_>, first: usize) -> rusqlite::Result<Condition> {
    let kind: String = r.get(first)?;
    let share = Share {
        share_pct: r.get::<_, Option<u8>>(first + 1)?.unwrap_or(0),
        window_min: r.get::<_, Option<u32>>(first + 2)?.unwrap_or(0),
        min_answers: r.get::<_, Option<u32>>(first + 3)?.unwrap_or(0),
    };
    Ok(match kind.as_str() {
        "floor" => Condition::Floor(share),
        "praise" => Condition::Praise(share),
        "silent" => Condition::Silent {
            hours: r.get::<_, Option<u32>>(first + 4)?.unwrap_or(1),
        },
        _ => Condition::Trouble,
    })
}

fn rule_row(r: &Row<'_>) -> rusqlite::Result<Rule> {
    Ok(Rule {
        id: r.get(0)?,
        name: r.get(1)?,
        condition: condition(r, 2)?,
        site: r.get(7)?,
        touchpoint: r.get(8)?,
        pending_s: r.get(9)?,
        clear_s: r.get(10)?,
        repeat_s: r.get(11)?,
    })
}

pub fn rules(c: &Connection) -> Result<Vec<Rule>, StorageError> {
    let sql =
        format!("SELECT {RULE_COLUMNS} FROM alert_rules WHERE removed_at_ms IS NULL ORDER BY name");
    let mut q = c.prepare_cached(&sql)?;
    let rules = q.query_map([], rule_row)?.collect::<Result<_, _>>()?;
    Ok(rules)
}

pub fn remove_rule(c: &Connection, name: &str, at_ms: i64) -> Result<(), StorageError> {
    let id: Option<i64> = c
        .query_row(
            "UPDATE alert_rules SET removed_at_ms = ?2
             WHERE name = ?1 AND removed_at_ms IS NULL RETURNING id",
            params![name, at_ms],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else {
        return Err(StorageError::NotFound(format!(
            "no alert rule named {name:?}"
        )));
    };
    c.execute(
        "DELETE FROM alerts WHERE rule_id = ?1 AND state = 'pending'",
        [id],
    )?;
    c.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at_ms = ?2
         WHERE rule_id = ?1 AND state != 'resolved'",
        params![id, at_ms],
    )?;
    Ok(())
}

const VIEW: &str = "SELECT a.id, r.name, r.kind, r.share_pct, r.window_min, r.min_answers,
        r.silent_hours, a.site, a.touchpoint, a.device_id, a.state, a.since_ms, a.fired_at_ms,
        a.resolved_at_ms, a.acked_by, a.acked_at_ms, a.ack_comment, a.figures
    FROM alerts a JOIN alert_rules r ON r.id = a.rule_id";

fn view_row(r: &Row<'_>) -> rusqlite::Result<AlertView> {
    let condition = condition(r, 2)?;
    let figures: String = r.get(17)?;
    let figures = serde_json::from_str(&figures).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(17, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let acknowledged = match (r.get::<_, Option<String>>(14)?, r.get(15)?) {
        (Some(by), Some(at_ms)) => Some(Acknowledgement {
            by,
            at_ms,
            comment: r.get::<_, Option<String>>(16)?.unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(AlertView {
        id: r.get(0)?,
        rule: r.get(1)?,
        condition,
        site: r.get(7)?,
        touchpoint: r.get(8)?,
        device: r.get(9)?,
        state: State::from_name(&r.get::<_, String>(10)?).unwrap_or(State::Firing),
        since_ms: r.get(11)?,
        fired_at_ms: r.get(12)?,
        resolved_at_ms: r.get(13)?,
        acknowledged,
        figures,
    })
}

pub fn alert_view(c: &Connection, id: i64) -> Result<Option<AlertView>, StorageError> {
    let sql = format!("{VIEW} WHERE a.id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([id], view_row)
        .optional()?)
}

pub fn alerts(c: &Connection, filter: &AlertFilter) -> Result<Vec<AlertView>, StorageError> {
    let sql = format!(
        "{VIEW} WHERE (NOT ?1 OR a.state != 'resolved')
            AND (?2 IS NULL OR a.site IN (SELECT value FROM json_each(?2)))
         ORDER BY a.since_ms DESC, a.id DESC LIMIT ?3"
    );
    let sites = filter
        .sites
        .as_ref()
        .map(|s| serde_json::to_string(s).expect("names serialise"));
    let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
    let mut q = c.prepare_cached(&sql)?;
    let rows = q.query_map(params![filter.open_only, sites, limit], view_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn acknowledge(
    c: &Connection,
    id: i64,
    by: &str,
    comment: &str,
    at_ms: i64,
) -> Result<AlertView, StorageError> {
    let n = c.execute(
        "UPDATE alerts SET state = 'acknowledged', acked_by = ?2, acked_at_ms = ?3,
            ack_comment = ?4
         WHERE id = ?1 AND state = 'firing'",
        params![id, by, at_ms, comment],
    )?;
    if n == 0 {
        return Err(StorageError::NotFound(format!("no firing alert {id}")));
    }
    alert_view(c, id)?.ok_or_else(|| StorageError::NotFound(format!("no alert {id}")))
}

/// Queues a site's summary for the e-mail channel and notes the last date it covers, once:
/// `false` when a summary through that date (or later) was queued before.
pub fn queue_summary(
    c: &Connection,
    site: &str,
    through: &str,
    title: &str,
    text: &str,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let n = c.execute(
        "UPDATE sites SET summary_through = ?2
         WHERE name = ?1 AND (summary_through IS NULL OR summary_through < ?2)",
        params![site, through],
    )?;
    if n == 0 {
        return Ok(false);
    }
    outbox::queue_message(c, EMAIL_CHANNEL, "summary", title, text, now_ms)?;
    Ok(true)
}
