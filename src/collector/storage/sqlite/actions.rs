//! The actions central teams record at places, in SQLite.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::collector::action::Action;
use crate::collector::storage::{ActionFilter, StorageError};

pub fn add(c: &Connection, a: &Action) -> Result<i64, StorageError> {
    if let Some(alert) = a.alert_id {
        let known: Option<i64> = c
            .query_row("SELECT id FROM alerts WHERE id = ?1", [alert], |r| r.get(0))
            .optional()?;
        if known.is_none() {
            return Err(StorageError::NotFound(format!("no alert {alert}")));
        }
    }
    c.execute(
        "INSERT INTO actions (site, touchpoint, taken_on, what, by_whom, alert_id,
            recorded_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            a.site,
            a.touchpoint,
            a.taken_on,
            a.what,
            a.by,
            a.alert_id,
            a.recorded_at_ms
        ],
    )?;
    Ok(c.last_insert_rowid())
}

const COLUMNS: &str =
    "id, site, touchpoint, taken_on, what, by_whom, alert_id, recorded_at_ms FROM actions";

fn row(r: &Row<'_>) -> rusqlite::Result<Action> {
    Ok(Action {
        id: r.get(0)?,
        site: r.get(1)?,
        touchpoint: r.get(2)?,
        taken_on: r.get(3)?,
        what: r.get(4)?,
        by: r.get(5)?,
        alert_id: r.get(6)?,
        recorded_at_ms: r.get(7)?,
    })
}

pub fn one(c: &Connection, id: i64) -> Result<Option<Action>, StorageError> {
    let sql = format!("SELECT {COLUMNS} WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?.query_row([id], row).optional()?)
}

/// A place's actions (a site's include its touchpoints'), newest first.
pub fn list(c: &Connection, f: &ActionFilter) -> Result<Vec<Action>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS}
         WHERE (?1 IS NULL OR site = ?1) AND (?2 IS NULL OR touchpoint IS NULL OR touchpoint = ?2)
            AND (?3 IS NULL OR site IN (SELECT value FROM json_each(?3)))
         ORDER BY taken_on DESC, id DESC LIMIT ?4"
    );
    let sites = f
        .sites
        .as_ref()
        .map(|s| serde_json::to_string(s).expect("names serialise"));
    let limit = i64::try_from(f.limit).unwrap_or(i64::MAX);
    let mut q = c.prepare_cached(&sql)?;
    let rows = q.query_map(params![f.site, f.touchpoint, sites, limit], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
