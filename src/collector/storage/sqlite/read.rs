//! The collector's read queries on SQLite: credential lookups, the fleet, exports and the
//! score counts behind the report. Every function runs on a pooled read-only connection.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use tokio::sync::mpsc;

use crate::collector::storage::{
    AnswerFilter, CountDifference, CountQuery, DeviceIdentity, GroupCounts, Grouping, StorageError,
    TimeSplit, Verification,
};
use crate::store::text_column;
use crate::survey::{Direction, Scale};
use crate::wire::{DeviceStatus, ExportRow};

pub fn device_by_credential(
    c: &Connection,
    hash: &str,
) -> Result<Option<DeviceIdentity>, StorageError> {
    Ok(c.prepare_cached(
        "SELECT id, site, touchpoint, revoked_at_ms IS NOT NULL FROM devices
         WHERE credential_sha256 = ?1",
    )?
    .query_row([hash], |r| {
        Ok(DeviceIdentity {
            id: r.get(0)?,
            site: r.get(1)?,
            touchpoint: r.get(2)?,
            revoked: r.get(3)?,
        })
    })
    .optional()?)
}

pub fn admin_token(c: &Connection, hash: &str) -> Result<Option<bool>, StorageError> {
    Ok(c.prepare_cached(
        "SELECT revoked_at_ms IS NOT NULL FROM admin_tokens WHERE token_sha256 = ?1",
    )?
    .query_row([hash], |r| r.get(0))
    .optional()?)
}

pub fn devices(c: &Connection, skew_flag_ms: i64) -> Result<Vec<DeviceStatus>, StorageError> {
    let mut stmt = c.prepare(
        "SELECT id, site, touchpoint, created_at_ms, revoked_at_ms, last_seen_ms, last_upload_ms,
            app_version, queue_depth, oldest_unsynced_age_s, dead_letters, last_error,
            clock_skew_ms, clock_trusted, answers, config_version, config_error,
            (SELECT max(version) FROM survey_configs s
             WHERE s.device_id = devices.id OR s.site = devices.site)
         FROM devices ORDER BY site, touchpoint, id",
    )?;
    let time = |r: &Row, i| -> rusqlite::Result<Option<String>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(rfc3339))
    };
    let count = |r: &Row, i| -> rusqlite::Result<Option<u64>> {
        Ok(r.get::<_, Option<i64>>(i)?
            .map(|n| u64::try_from(n).unwrap_or(0)))
    };
    let rows = stmt.query_map([], |r| {
        let skew: Option<i64> = r.get(12)?;
        Ok(DeviceStatus {
            id: r.get(0)?,
            site: r.get(1)?,
            touchpoint: r.get(2)?,
            created_at: rfc3339(r.get(3)?),
            revoked_at: time(r, 4)?,
            last_seen: time(r, 5)?,
            last_upload: time(r, 6)?,
            app_version: r.get(7)?,
            queue_depth: count(r, 8)?,
            oldest_unsynced_age_seconds: count(r, 9)?,
            dead_letters: count(r, 10)?,
            last_error: r.get(11)?,
            clock_skew_ms: skew,
            clock_skewed: skew.is_some_and(|s| s.saturating_abs() > skew_flag_ms),
            clock_trusted: r.get(13)?,
            answers: count(r, 14)?.unwrap_or(0),
            config_version: count(r, 15)?,
            config_error: r.get(16)?,
            config_latest: count(r, 17)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The WHERE clause of a filter, with its parameters in order ?1 … ?5.
const FILTER: &str = "(?1 IS NULL OR local_date >= ?1) AND (?2 IS NULL OR local_date <= ?2)
    AND (?3 IS NULL OR site = ?3) AND (?4 IS NULL OR touchpoint = ?4)
    AND (?5 IS NULL OR device_id = ?5)";

pub fn export(
    c: &Connection,
    f: &AnswerFilter,
    rows: &mpsc::Sender<ExportRow>,
) -> Result<(), StorageError> {
    let mut stmt = c.prepare(&format!(
        "SELECT id, device_id, site, touchpoint, seq, boot_id, question_id, question_version,
            language, scale, direction, score, low, reason, suppressed, input, device_time,
            device_time_ms, clock_trusted, received_at_ms, clock_skew_ms, local_date,
            local_hour, time_estimated
         FROM answers WHERE {FILTER} ORDER BY received_at_ms, id"
    ))?;
    let mut found = stmt.query(params![f.from, f.to, f.site, f.touchpoint, f.device])?;
    while let Some(r) = found.next()? {
        let row = ExportRow {
            id: text_column(r, 0)?,
            device_id: r.get(1)?,
            site: r.get(2)?,
            touchpoint: r.get(3)?,
            seq: r.get(4)?,
            boot_id: r.get(5)?,
            question_id: r.get(6)?,
            question_version: r.get(7)?,
            language: r.get(8)?,
            scale: text_column(r, 9)?,
            direction: text_column(r, 10)?,
            score: r.get(11)?,
            low: r.get(12)?,
            reason: r.get(13)?,
            suppressed: r.get(14)?,
            input: r.get(15)?,
            device_time: r.get(16)?,
            device_time_ms: r.get(17)?,
            clock_trusted: r.get(18)?,
            received_at: rfc3339(r.get(19)?),
            clock_skew_ms: r.get(20)?,
            local_date: r.get(21)?,
            local_hour: r.get(22)?,
            time_estimated: r.get(23)?,
        };
        if rows.blocking_send(row).is_err() {
            break; // the reader went away
        }
    }
    Ok(())
}

pub fn report_counts(c: &Connection, q: &CountQuery) -> Result<Vec<GroupCounts>, StorageError> {
    let (site, touchpoint, device) = match q.group {
        Grouping::Site => ("site", "NULL", "NULL"),
        Grouping::Touchpoint => ("site", "touchpoint", "NULL"),
        Grouping::Device => ("site", "touchpoint", "device_id"),
        Grouping::Question => ("NULL", "NULL", "NULL"),
    };
    let (date, hour) = match q.time {
        TimeSplit::None => ("NULL", "NULL"),
        TimeSplit::Date => ("local_date", "NULL"),
        TimeSplit::DateHour => ("local_date", "local_hour"),
        TimeSplit::Hour => ("NULL", "local_hour"),
    };
    let mut stmt = c.prepare(&format!(
        "SELECT {site}, {touchpoint}, {device}, question_id, question_version, scale, direction,
            {date}, {hour}, score, suppressed, sum(n)
         FROM answer_counts WHERE {FILTER}
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"
    ))?;
    let f = &q.filter;
    let mut found = stmt.query(params![f.from, f.to, f.site, f.touchpoint, f.device])?;
    let mut groups: BTreeMap<CountKey, GroupCounts> = BTreeMap::new();
    while let Some(r) = found.next()? {
        let scale: Scale = text_column(r, 5)?;
        let key: CountKey = (
            (r.get(0)?, r.get(1)?, r.get(2)?),
            (r.get(3)?, r.get(4)?, scale, text_column(r, 6)?),
            (r.get(7)?, r.get(8)?),
        );
        let group = groups.entry(key.clone()).or_insert_with(|| GroupCounts {
            site: key.0.0,
            touchpoint: key.0.1,
            device: key.0.2,
            question_id: key.1.0,
            question_version: key.1.1,
            scale,
            direction: key.1.3,
            date: key.2.0,
            hour: key.2.1,
            counts: vec![0; usize::from(scale.max())],
            suppressed: 0,
        });
        let score: u8 = r.get(9)?;
        let suppressed: bool = r.get(10)?;
        let n = u64::try_from(r.get::<_, i64>(11)?).unwrap_or(0);
        match group.counts.get_mut(usize::from(score).wrapping_sub(1)) {
            Some(slot) if !suppressed => *slot += n,
            _ => group.suppressed += n,
        }
    }
    Ok(groups.into_values().collect())
}

/// A report group's identity as read: place, question and time.
type CountKey = (
    (Option<String>, Option<String>, Option<String>),
    (String, u32, Scale, Direction),
    (Option<String>, Option<u8>),
);

/// The columns that key a rollup row, in `answer_counts`' order.
const COUNT_KEY: &str = "local_date, site, touchpoint, device_id, question_id, question_version,
    scale, direction, local_hour, score, suppressed, reason";

/// Recounts the answers as the rollups count them, and lists the rows that differ.
pub fn verify_counts(c: &Connection) -> Result<Verification, StorageError> {
    let answers: i64 = c.query_row("SELECT count(*) FROM answers", [], |r| r.get(0))?;
    let rows: i64 = c.query_row("SELECT count(*) FROM answer_counts", [], |r| r.get(0))?;
    let same = COUNT_KEY
        .split(',')
        .map(|k| format!("r.{0} IS c.{0}", k.trim()))
        .collect::<Vec<_>>()
        .join(" AND ");
    let key = |side: &str| {
        COUNT_KEY
            .split(',')
            .map(|k| format!("{side}.{}", k.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut stmt = c.prepare(&format!(
        "WITH recount AS (
            SELECT local_date, site, touchpoint, device_id, question_id, question_version,
                scale, direction, local_hour, score, suppressed, coalesce(reason, '') AS reason,
                count(*) AS n
            FROM answers GROUP BY {COUNT_KEY_BY}
         )
         SELECT {r}, r.n, {c}, c.n
         FROM recount r FULL OUTER JOIN answer_counts c ON {same}
         WHERE r.n IS NOT c.n
         LIMIT 1000",
        COUNT_KEY_BY = COUNT_KEY.replace("reason", "coalesce(reason, '')"),
        r = key("r"),
        c = key("c"),
    ))?;
    let mut found = stmt.query([])?;
    let mut differences = Vec::new();
    while let Some(row) = found.next()? {
        // The key from whichever side has the row.
        let base = if row.get::<_, Option<String>>(0)?.is_some() {
            0
        } else {
            13
        };
        let text = |i: usize| -> rusqlite::Result<String> {
            Ok(match row.get_ref(base + i)? {
                rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                _ => String::new(),
            })
        };
        let key = format!(
            "{} {:0>2}h site {} touchpoint {} device {} question {} v{} {} score {}{}{}",
            text(0)?,
            text(8)?,
            text(1)?,
            text(2)?,
            text(3)?,
            text(4)?,
            text(5)?,
            text(6)?,
            text(9)?,
            if text(10)? == "1" { " suppressed" } else { "" },
            match text(11)? {
                r if r.is_empty() => String::new(),
                r => format!(" reason {r}"),
            },
        );
        let count = |i: usize| -> rusqlite::Result<u64> {
            Ok(u64::try_from(row.get::<_, Option<i64>>(i)?.unwrap_or(0)).unwrap_or(0))
        };
        differences.push(CountDifference {
            key,
            stored: count(25)?,
            counted: count(12)?,
        });
    }
    Ok(Verification {
        answers: u64::try_from(answers).unwrap_or(0),
        rollup_rows: u64::try_from(rows).unwrap_or(0),
        differences,
    })
}

/// Unix milliseconds as RFC 3339 in UTC.
fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ms.to_string())
}
