//! `live_counts`: the last day's counted answers per minute and touchpoint, in collector
//! time, which alert rules read for their windows of minutes. Kept with the other rollups
//! in the transaction that stores the answers; an answer given more than [`HORIZON_MS`]
//! before it arrived (a terminal catching up after an outage) is counted in the reports but
//! never here: it is too old to raise an alert.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::{Connection, ToSql};

use super::upsert::Table;
use crate::collector::storage::CheckedAnswer;

/// How long before its arrival an answer still counts for alerts.
pub const HORIZON_MS: i64 = crate::collector::storage::LIVE_HORIZON_MS;

/// A `live_counts` row: minute, site, touchpoint.
pub type LiveKey = (i64, Arc<str>, Arc<str>);

/// Counted, difficult and easy answers of a row.
pub type LiveColumns = [i64; 3];

static LIVE: Table = Table::new(
    "live_counts",
    "minute, site, touchpoint",
    "counted, difficult, easy",
);

/// When an answer was given in collector time ([`CheckedAnswer::given_at_ms`]); `None` when
/// that is longer than the horizon before its arrival.
pub fn given_at_ms(checked: &CheckedAnswer, received_at_ms: i64, skew_ms: i64) -> Option<i64> {
    let at = checked.given_at_ms(received_at_ms, skew_ms);
    (at >= received_at_ms - HORIZON_MS).then_some(at)
}

/// Adds one answer given at `at_ms` to a map of rows; suppressed taps are not counted.
pub fn tally(
    rows: &mut BTreeMap<LiveKey, LiveColumns>,
    site: &Arc<str>,
    touchpoint: &Arc<str>,
    checked: &CheckedAnswer,
    at_ms: i64,
) {
    let a = &checked.wire;
    if a.suppressed {
        return;
    }
    let key = (at_ms.div_euclid(60_000), site.clone(), touchpoint.clone());
    let row = rows.entry(key).or_default();
    row[0] += 1;
    row[1] += i64::from(a.scale.difficult_scores().contains(&a.score));
    row[2] += i64::from(a.scale.easy_scores().contains(&a.score));
}

/// Adds a group's rows to `live_counts`.
pub fn add(c: &Connection, rows: &BTreeMap<LiveKey, LiveColumns>) -> rusqlite::Result<()> {
    let mut params: Vec<&dyn ToSql> = Vec::with_capacity(rows.len() * LIVE.width());
    for ((minute, site, touchpoint), n) in rows {
        params.extend([minute as &dyn ToSql, site, touchpoint]);
        params.extend(n.iter().map(|v| v as &dyn ToSql));
    }
    LIVE.add(c, &params)
}

/// Drops the rows older than the horizon before `now_ms`.
pub fn prune(c: &Connection, now_ms: i64) -> rusqlite::Result<usize> {
    let oldest = (now_ms - HORIZON_MS).div_euclid(60_000) - 1;
    c.prepare_cached("DELETE FROM live_counts WHERE minute < ?1")?
        .execute([oldest])
}
