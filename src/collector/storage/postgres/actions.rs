//! The actions central teams record at places, on PostgreSQL.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::pg_error;
use crate::collector::action::Action;
use crate::collector::storage::{ActionFilter, StorageError};

pub async fn add(c: &impl GenericClient, a: &Action) -> Result<i64, StorageError> {
    let row = c
        .query_opt(
            "INSERT INTO actions (site, touchpoint, taken_on, what, by_whom, alert_id,
                recorded_at_ms)
             SELECT $1, $2, $3, $4, $5, $6, $7
             WHERE $6::bigint IS NULL OR EXISTS (SELECT 1 FROM alerts WHERE id = $6)
             RETURNING id",
            &[
                &a.site,
                &a.touchpoint,
                &a.taken_on,
                &a.what,
                &a.by,
                &a.alert_id,
                &a.recorded_at_ms,
            ],
        )
        .await
        .map_err(pg_error)?;
    match row {
        Some(r) => Ok(r.get(0)),
        None => Err(StorageError::NotFound(format!(
            "no alert {}",
            a.alert_id.unwrap_or_default()
        ))),
    }
}

const COLUMNS: &str =
    "id, site, touchpoint, taken_on, what, by_whom, alert_id, recorded_at_ms FROM actions";

fn row(r: &Row) -> Action {
    Action {
        id: r.get(0),
        site: r.get(1),
        touchpoint: r.get(2),
        taken_on: r.get(3),
        what: r.get(4),
        by: r.get(5),
        alert_id: r.get(6),
        recorded_at_ms: r.get(7),
    }
}

pub async fn one(c: &impl GenericClient, id: i64) -> Result<Option<Action>, StorageError> {
    let sql = format!("SELECT {COLUMNS} WHERE id = $1");
    let found = c.query_opt(&sql, &[&id]).await.map_err(pg_error)?;
    Ok(found.as_ref().map(row))
}

/// A place's actions (a site's include its touchpoints'), newest first.
pub async fn list(c: &impl GenericClient, f: &ActionFilter) -> Result<Vec<Action>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS}
         WHERE ($1::text IS NULL OR site = $1)
            AND ($2::text IS NULL OR touchpoint IS NULL OR touchpoint = $2)
            AND ($3::text[] IS NULL OR site = ANY($3))
         ORDER BY taken_on DESC, id DESC LIMIT $4"
    );
    let limit = i64::try_from(f.limit).unwrap_or(i64::MAX);
    let rows = c
        .query(&sql, &[&f.site, &f.touchpoint, &f.sites, &limit])
        .await
        .map_err(pg_error)?;
    Ok(rows.iter().map(row).collect())
}
