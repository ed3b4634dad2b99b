//! Answers on PostgreSQL: a batch stored by one statement that inserts the answers once
//! each, says which were new, and counts exactly those in every rollup table and on their
//! device, so that concurrent batches on several collectors neither lose nor double a
//! count; and exports streamed row by row.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::GenericClient;
use futures_util::{TryStreamExt, pin_mut};
use tokio::sync::mpsc;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::connection::named;
use super::pg_error;
use crate::collector::storage::filter::rfc3339;
use crate::collector::storage::{AnswerFilter, IncomingBatch, LIVE_HORIZON_MS, StorageError};
use crate::wire::{AnswerResult, AnswerStatus, ExportRow};

/// Tries of a batch whose statement lost a deadlock or a serialisation conflict to another
/// collector's batch for the same places.
const TRIES: usize = 4;

/// The counted answers per score 1 … 7 and the suppressed taps of a group of new answers.
const SCORES: &str = "count(*) FILTER (WHERE score = 1 AND NOT suppressed),
    count(*) FILTER (WHERE score = 2 AND NOT suppressed),
    count(*) FILTER (WHERE score = 3 AND NOT suppressed),
    count(*) FILTER (WHERE score = 4 AND NOT suppressed),
    count(*) FILTER (WHERE score = 5 AND NOT suppressed),
    count(*) FILTER (WHERE score = 6 AND NOT suppressed),
    count(*) FILTER (WHERE score = 7 AND NOT suppressed),
    count(*) FILTER (WHERE suppressed)";

/// Adding score columns to a rollup row that is there.
fn add_scores(table: &str) -> String {
    ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "suppressed"]
        .iter()
        .map(|n| format!("{n} = {table}.{n} + excluded.{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statement: the batch as arrays ($1 … $21), the device ($22 … $24), arrival and skew
/// ($25, $26). Each rollup's rows go in in key order, so that two batches for the same
/// places take their row locks in the same order. Made once.
fn statement() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(statement_text)
}

fn statement_text() -> String {
    let horizon = LIVE_HORIZON_MS;
    format!(
        "WITH batch AS (
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[],
                $5::integer[], $6::text[], $7::text[], $8::text[], $9::smallint[],
                $10::boolean[], $11::text[], $12::boolean[], $13::text[], $14::text[],
                $15::bigint[], $16::boolean[], $17::text[], $18::smallint[], $19::boolean[],
                $20::boolean[], $21::boolean[])
            AS b(id, seq, boot_id, question_id, question_version, language, scale, direction,
                score, low, reason, suppressed, input, device_time, device_time_ms,
                clock_trusted, local_date, local_hour, time_estimated, difficult, easy)
         ),
         new AS (
            INSERT INTO answers (id, device_id, site, touchpoint, seq, boot_id, question_id,
                question_version, language, scale, direction, score, low, reason, suppressed,
                input, device_time, device_time_ms, clock_trusted, received_at_ms,
                clock_skew_ms, local_date, local_hour, time_estimated)
            SELECT DISTINCT ON (id) id, $22, $23, $24, seq, boot_id, question_id,
                question_version, language, scale, direction, score, low, reason, suppressed,
                input, device_time, device_time_ms, clock_trusted, $25, $26, local_date,
                local_hour, time_estimated
            FROM batch ORDER BY id
            ON CONFLICT (id) DO NOTHING
            RETURNING id, site, touchpoint, device_id, question_id, question_version, scale,
                direction, score, suppressed, coalesce(reason, '') AS reason, local_date,
                local_hour, least(device_time_ms - $26, $25) AS given_at
         ),
         fine AS (
            INSERT INTO answer_counts (local_date, site, touchpoint, device_id, question_id,
                question_version, scale, direction, local_hour, score, suppressed, reason, n)
            SELECT local_date, site, touchpoint, device_id, question_id, question_version,
                scale, direction, local_hour, score, suppressed, reason, count(*)
            FROM new GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
            ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
            ON CONFLICT (local_date, site, touchpoint, device_id, question_id, question_version,
                scale, direction, local_hour, score, suppressed, reason)
            DO UPDATE SET n = answer_counts.n + excluded.n
         ),
         days AS (
            INSERT INTO day_counts (local_date, question_id, question_version, scale,
                direction, site, touchpoint, n1, n2, n3, n4, n5, n6, n7, suppressed)
            SELECT local_date, question_id, question_version, scale, direction, site,
                touchpoint, {SCORES}
            FROM new GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
            ON CONFLICT (local_date, question_id, question_version, scale, direction, site,
                touchpoint) DO UPDATE SET {days}
         ),
         site_days AS (
            INSERT INTO site_day_counts (local_date, question_id, question_version, scale,
                direction, site, n1, n2, n3, n4, n5, n6, n7, suppressed)
            SELECT local_date, question_id, question_version, scale, direction, site, {SCORES}
            FROM new GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
            ON CONFLICT (local_date, question_id, question_version, scale, direction, site)
            DO UPDATE SET {site_days}
         ),
         months AS (
            INSERT INTO month_counts (month, question_id, question_version, scale, direction,
                site, touchpoint, n1, n2, n3, n4, n5, n6, n7, suppressed)
            SELECT substr(local_date, 1, 7), question_id, question_version, scale, direction,
                site, touchpoint, {SCORES}
            FROM new GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
            ON CONFLICT (month, question_id, question_version, scale, direction, site,
                touchpoint) DO UPDATE SET {months}
         ),
         hours AS (
            INSERT INTO hour_counts (month, site, touchpoint, question_id, question_version,
                scale, direction, weekday, local_hour, n1, n2, n3, n4, n5, n6, n7, suppressed)
            SELECT substr(local_date, 1, 7), site, touchpoint, question_id, question_version,
                scale, direction, extract(isodow FROM local_date::date)::smallint, local_hour,
                {SCORES}
            FROM new GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9
            ON CONFLICT (month, site, touchpoint, question_id, question_version, scale,
                direction, weekday, local_hour) DO UPDATE SET {hours}
         ),
         reasons AS (
            INSERT INTO reason_month_counts (site, touchpoint, month, question_id,
                question_version, scale, direction, reason, n)
            SELECT site, touchpoint, substr(local_date, 1, 7), question_id, question_version,
                scale, direction, reason, count(*)
            FROM new WHERE reason <> '' AND NOT suppressed
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
            ON CONFLICT (site, touchpoint, month, question_id, question_version, scale,
                direction, reason) DO UPDATE SET n = reason_month_counts.n + excluded.n
         ),
         live AS (
            INSERT INTO live_counts (minute, site, touchpoint, counted, difficult, easy)
            SELECT floor(new.given_at / 60000.0)::bigint, site, touchpoint, count(*),
                count(*) FILTER (WHERE b.difficult), count(*) FILTER (WHERE b.easy)
            FROM new JOIN (SELECT DISTINCT ON (id) id, difficult, easy FROM batch) b
                USING (id)
            WHERE NOT suppressed AND new.given_at >= $25 - {horizon}
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
            ON CONFLICT (minute, site, touchpoint) DO UPDATE SET
                counted = live_counts.counted + excluded.counted,
                difficult = live_counts.difficult + excluded.difficult,
                easy = live_counts.easy + excluded.easy
         ),
         device AS (
            UPDATE devices SET answers = answers + (SELECT count(*) FROM new),
                last_seen_ms = $25, last_upload_ms = $25, clock_skew_ms = $26,
                last_answer_ms = greatest(last_answer_ms, (SELECT max(given_at) FROM new))
            WHERE id = $22
         )
         SELECT id FROM new",
        days = add_scores("day_counts"),
        site_days = add_scores("site_day_counts"),
        months = add_scores("month_counts"),
        hours = add_scores("hour_counts"),
    )
}

/// The batch's columns as arrays, in the statement's order.
struct Columns {
    id: Vec<String>,
    seq: Vec<i64>,
    boot_id: Vec<String>,
    question_id: Vec<String>,
    question_version: Vec<i32>,
    language: Vec<String>,
    scale: Vec<&'static str>,
    direction: Vec<&'static str>,
    score: Vec<i16>,
    low: Vec<bool>,
    reason: Vec<Option<String>>,
    suppressed: Vec<bool>,
    input: Vec<String>,
    device_time: Vec<String>,
    device_time_ms: Vec<i64>,
    clock_trusted: Vec<bool>,
    local_date: Vec<String>,
    local_hour: Vec<i16>,
    time_estimated: Vec<bool>,
    difficult: Vec<bool>,
    easy: Vec<bool>,
}

impl Columns {
    fn of(b: &IncomingBatch) -> Result<Columns, StorageError> {
        let answers = &b.answers;
        let each = |f: &dyn Fn(&crate::collector::storage::CheckedAnswer) -> String| {
            answers.iter().map(f).collect::<Vec<_>>()
        };
        let version = |v: u32| {
            i32::try_from(v)
                .map_err(|_| StorageError::Failed(format!("question version {v} is too large")))
        };
        Ok(Columns {
            id: each(&|c| c.wire.id.to_string()),
            seq: answers.iter().map(|c| c.wire.seq).collect(),
            boot_id: each(&|c| c.wire.boot_id.clone()),
            question_id: each(&|c| c.wire.question_id.clone()),
            question_version: answers
                .iter()
                .map(|c| version(c.wire.question_version))
                .collect::<Result<_, _>>()?,
            language: each(&|c| c.wire.language.clone()),
            scale: answers.iter().map(|c| c.wire.scale.as_str()).collect(),
            direction: answers.iter().map(|c| c.wire.direction.as_str()).collect(),
            score: answers.iter().map(|c| i16::from(c.wire.score)).collect(),
            low: answers.iter().map(|c| c.wire.low).collect(),
            reason: answers.iter().map(|c| c.wire.reason.clone()).collect(),
            suppressed: answers.iter().map(|c| c.wire.suppressed).collect(),
            input: each(&|c| c.wire.input.clone()),
            device_time: each(&|c| c.wire.device_time.clone()),
            device_time_ms: answers.iter().map(|c| c.wire.device_time_ms).collect(),
            clock_trusted: answers.iter().map(|c| c.wire.clock_trusted).collect(),
            local_date: each(&|c| c.local_date.clone()),
            local_hour: answers.iter().map(|c| i16::from(c.local_hour)).collect(),
            time_estimated: answers.iter().map(|c| c.time_estimated).collect(),
            difficult: answers
                .iter()
                .map(|c| c.wire.scale.difficult_scores().contains(&c.wire.score))
                .collect(),
            easy: answers
                .iter()
                .map(|c| c.wire.scale.easy_scores().contains(&c.wire.score))
                .collect(),
        })
    }

    fn params<'a>(&'a self, b: &'a IncomingBatch) -> [&'a (dyn ToSql + Sync); 26] {
        let d = &b.device;
        [
            &self.id,
            &self.seq,
            &self.boot_id,
            &self.question_id,
            &self.question_version,
            &self.language,
            &self.scale,
            &self.direction,
            &self.score,
            &self.low,
            &self.reason,
            &self.suppressed,
            &self.input,
            &self.device_time,
            &self.device_time_ms,
            &self.clock_trusted,
            &self.local_date,
            &self.local_hour,
            &self.time_estimated,
            &self.difficult,
            &self.easy,
            &d.id,
            &d.site,
            &d.touchpoint,
            &b.received_at_ms,
            &b.clock_skew_ms,
        ]
    }
}

/// Stores a batch and says per answer: accepted, duplicate or rejected.
pub async fn store_batch(
    c: &impl GenericClient,
    b: &IncomingBatch,
) -> Result<Vec<AnswerResult>, StorageError> {
    let columns = Columns::of(b)?;
    let params = columns.params(b);
    let stmt = c.prepare_cached(statement()).await.map_err(pg_error)?;
    let mut tries = 0;
    let rows = loop {
        tries += 1;
        match c.query(&stmt, &params).await {
            Ok(rows) => break rows,
            Err(e) if tries < TRIES && retryable(&e) => {
                tracing::debug!("a batch is tried again: {}", super::describe(&e));
            }
            Err(e) => return Err(pg_error(e)),
        }
    };
    let mut new: HashSet<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    let others: Vec<&String> = columns.id.iter().filter(|id| !new.contains(*id)).collect();
    let owners: HashMap<String, String> = if others.is_empty() {
        HashMap::new()
    } else {
        c.query(
            "SELECT id, device_id FROM answers WHERE id = ANY($1)",
            &[&others],
        )
        .await
        .map_err(pg_error)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
    };
    let mut results = Vec::with_capacity(b.answers.len());
    for (checked, id) in b.answers.iter().zip(&columns.id) {
        // An id sent twice in one batch is new once, a duplicate after.
        let (status, reason) = if new.remove(id) {
            (AnswerStatus::Accepted, None)
        } else {
            match owners.get(id) {
                Some(owner) if *owner != b.device.id => {
                    let why = "an answer with this id was stored for another device";
                    (AnswerStatus::Rejected, Some(why.to_owned()))
                }
                _ => (AnswerStatus::Duplicate, None),
            }
        };
        results.push(AnswerResult {
            id: checked.wire.id,
            status,
            reason,
        });
    }
    Ok(results)
}

/// A deadlock or serialisation failure: the statement did nothing and may be run again.
pub(super) fn retryable(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|code| {
        *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
    })
}

/// Sends every matching answer to `rows`, in the order received, as the rows arrive.
pub async fn export(
    c: &impl GenericClient,
    f: &AnswerFilter,
    rows: &mpsc::Sender<ExportRow>,
) -> Result<(), StorageError> {
    let mut values: Vec<String> = Vec::new();
    let conditions = f.conditions(|v| {
        values.push(v);
        format!("${}", values.len())
    });
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT id, device_id, site, touchpoint, seq, boot_id, question_id, question_version,
            language, scale, direction, score, low, reason, suppressed, input, device_time,
            device_time_ms, clock_trusted, received_at_ms, clock_skew_ms, local_date,
            local_hour, time_estimated
         FROM answers {filter} ORDER BY received_at_ms, id COLLATE \"C\""
    );
    let found = c.query_raw(&sql, &values).await.map_err(pg_error)?;
    pin_mut!(found);
    while let Some(r) = found.try_next().await.map_err(pg_error)? {
        if rows.send(export_row(&r)?).await.is_err() {
            break; // the reader went away
        }
    }
    Ok(())
}

fn export_row(r: &Row) -> Result<ExportRow, StorageError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        StorageError::Failed(format!("a stored answer's {what} is not valid: {e}"))
    };
    let id: String = r.get(0);
    Ok(ExportRow {
        id: id.parse().map_err(|e| bad("id", &e))?,
        device_id: r.get(1),
        site: r.get(2),
        touchpoint: r.get(3),
        seq: r.get(4),
        boot_id: r.get(5),
        question_id: r.get(6),
        question_version: u32::try_from(r.get::<_, i32>(7)).unwrap_or(0),
        language: r.get(8),
        scale: named(r, 9)?,
        direction: named(r, 10)?,
        score: u8::try_from(r.get::<_, i16>(11)).unwrap_or(0),
        low: r.get(12),
        reason: r.get(13),
        suppressed: r.get(14),
        input: r.get(15),
        device_time: r.get(16),
        device_time_ms: r.get(17),
        clock_trusted: r.get(18),
        received_at: rfc3339(r.get(19)),
        clock_skew_ms: r.get(20),
        local_date: r.get(21),
        local_hour: u8::try_from(r.get::<_, i16>(22)).unwrap_or(0),
        time_estimated: r.get(23),
    })
}
