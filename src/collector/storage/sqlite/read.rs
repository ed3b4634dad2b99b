//! The collector's read queries on SQLite: credential lookups, the fleet, exports and the
//! score counts behind the report. Every function runs on a pooled read-only connection.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params_from_iter};
use tokio::sync::mpsc;

use crate::collector::storage::filter::rfc3339;
use crate::collector::storage::{AnswerFilter, DeviceIdentity, StorageError};
use crate::store::text_column;
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

/// The conditions of a filter with SQLite's numbered placeholders, their values appended
/// to `values` and numbered after those already there.
pub fn filter_conditions(f: &AnswerFilter, values: &mut Vec<Value>) -> Vec<String> {
    f.conditions(|v| {
        values.push(Value::Text(v));
        format!("?{}", values.len())
    })
}

pub fn export(
    c: &Connection,
    f: &AnswerFilter,
    rows: &mpsc::Sender<ExportRow>,
) -> Result<(), StorageError> {
    let mut values = Vec::new();
    let conditions = filter_conditions(f, &mut values);
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let mut stmt = c.prepare(&format!(
        "SELECT id, device_id, site, touchpoint, seq, boot_id, question_id, question_version,
            language, scale, direction, score, low, reason, suppressed, input, device_time,
            device_time_ms, clock_trusted, received_at_ms, clock_skew_ms, local_date,
            local_hour, time_estimated
         FROM answers {filter} ORDER BY received_at_ms, id"
    ))?;
    let mut found = stmt.query(params_from_iter(values))?;
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
