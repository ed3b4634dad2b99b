//! The rollups every report reads instead of the answers: `answer_counts` (per local day,
//! place, device, question, hour, score, suppressed and reason), `day_counts` (per day,
//! question and touchpoint), `site_day_counts` (per day, question and site), `month_counts`
//! (per month, question and touchpoint) and `hour_counts` (per month, touchpoint, question,
//! weekday and hour). Kept by
//! [`count_batch`] in the transaction that stores the answers, read by [`report_counts`] from
//! the smallest table that holds what a report asks for, recounted by [`verify_counts`].

mod months;
mod read;
mod reasons;
mod rows;
mod verify;

use std::collections::BTreeMap;

use rusqlite::types::Value;
use rusqlite::{CachedStatement, Connection, ToSql, params, params_from_iter};

pub use read::report_counts;
pub use reasons::reason_counts;
pub use verify::verify_counts;

use crate::collector::storage::{CheckedAnswer, DeviceIdentity};
use crate::survey::{Direction, Scale};

/// The `answer_counts` row an answer of one device counts in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CountKey<'a> {
    local_date: &'a str,
    question_id: &'a str,
    question_version: u32,
    scale: Scale,
    direction: Direction,
    local_hour: u8,
    score: u8,
    suppressed: bool,
    /// `""` when the visitor gave none.
    reason: &'a str,
}

impl<'a> CountKey<'a> {
    pub fn of(checked: &'a CheckedAnswer) -> CountKey<'a> {
        let a = &checked.wire;
        CountKey {
            local_date: &checked.local_date,
            question_id: &a.question_id,
            question_version: a.question_version,
            scale: a.scale,
            direction: a.direction,
            local_hour: checked.local_hour,
            score: a.score,
            suppressed: a.suppressed,
            reason: a.reason.as_deref().unwrap_or(""),
        }
    }
}

/// A `day_counts` row of one device's touchpoint: local date and question.
type DayKey<'a> = (&'a str, &'a str, u32, Scale, Direction);

/// An `hour_counts` row of one device's touchpoint: month, question, weekday and hour.
type HourKey<'a> = (&'a str, &'a str, u32, Scale, Direction, u8, u8);

/// Counted answers per score 1 … 7, then suppressed taps.
type ScoreColumns = [i64; 8];

/// Adds `n` answers of `k` to a row's score columns.
fn tally(columns: &mut ScoreColumns, k: &CountKey<'_>, n: i64) {
    match usize::from(k.score) {
        _ if k.suppressed => columns[7] += n,
        score @ 1..=7 => columns[score - 1] += n,
        _ => columns[7] += n, // never stored: validation keeps scores on their scale
    }
}

/// ISO weekday (1 Monday … 7 Sunday) of a local date as stored.
fn weekday(local_date: &str) -> rusqlite::Result<u8> {
    let date: jiff::civil::Date = local_date
        .parse()
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    Ok(date.weekday().to_monday_one_offset().unsigned_abs())
}

/// Adds a batch's new answers of device `d` (how many per `answer_counts` row) to every
/// rollup table. Runs inside the transaction that stored them.
pub fn count_batch(
    c: &Connection,
    d: &DeviceIdentity,
    counts: &BTreeMap<CountKey<'_>, i64>,
) -> rusqlite::Result<()> {
    add_fine_rows(c, d, counts)?;
    let mut days: BTreeMap<DayKey<'_>, ScoreColumns> = BTreeMap::new();
    let mut hours: BTreeMap<HourKey<'_>, ScoreColumns> = BTreeMap::new();
    for (k, &n) in counts {
        let day = (
            k.local_date,
            k.question_id,
            k.question_version,
            k.scale,
            k.direction,
        );
        tally(days.entry(day).or_default(), k, n);
        let hour = (
            k.local_date.get(..7).unwrap_or(k.local_date),
            k.question_id,
            k.question_version,
            k.scale,
            k.direction,
            weekday(k.local_date)?,
            k.local_hour,
        );
        tally(hours.entry(hour).or_default(), k, n);
    }
    // Most days' rows exist already: update first, insert only a day's first answer.
    let add = "n1 = n1 + ?1, n2 = n2 + ?2, n3 = n3 + ?3, n4 = n4 + ?4, n5 = n5 + ?5,
        n6 = n6 + ?6, n7 = n7 + ?7, suppressed = suppressed + ?8";
    let day_key = "local_date = ?9 AND question_id = ?10 AND question_version = ?11
        AND scale = ?12 AND direction = ?13 AND site = ?14";
    let columns = "n1, n2, n3, n4, n5, n6, n7, suppressed, local_date, question_id,
        question_version, scale, direction, site";
    let mut update_touchpoint = c.prepare_cached(&format!(
        "UPDATE day_counts SET {add} WHERE {day_key} AND touchpoint = ?15"
    ))?;
    let mut insert_touchpoint = c.prepare_cached(&format!(
        "INSERT INTO day_counts ({columns}, touchpoint)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))?;
    let mut update_site =
        c.prepare_cached(&format!("UPDATE site_day_counts SET {add} WHERE {day_key}"))?;
    let mut insert_site = c.prepare_cached(&format!(
        "INSERT INTO site_day_counts ({columns})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))?;
    for ((date, question, version, scale, direction), n) in &days {
        let site_key = params![
            date,
            question,
            version,
            scale.as_str(),
            direction.as_str(),
            d.site
        ];
        add_to_row(&mut update_site, &mut insert_site, n, site_key)?;
        let mut touchpoint_key = site_key.to_vec();
        touchpoint_key.push(&d.touchpoint);
        add_to_row(
            &mut update_touchpoint,
            &mut insert_touchpoint,
            n,
            &touchpoint_key,
        )?;
    }
    let mut update_hour = c.prepare_cached(&format!(
        "UPDATE hour_counts SET {add} WHERE month = ?9 AND question_id = ?10
            AND question_version = ?11 AND scale = ?12 AND direction = ?13 AND site = ?14
            AND touchpoint = ?15 AND weekday = ?16 AND local_hour = ?17"
    ))?;
    let mut insert_hour = c.prepare_cached(
        "INSERT INTO hour_counts (n1, n2, n3, n4, n5, n6, n7, suppressed, month, question_id,
            question_version, scale, direction, site, touchpoint, weekday, local_hour)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut months: BTreeMap<DayKey<'_>, ScoreColumns> = BTreeMap::new();
    for ((date, question, version, scale, direction), n) in &days {
        let month = date.get(..7).unwrap_or(date);
        let sum = months
            .entry((month, question, *version, *scale, *direction))
            .or_default();
        for (total, add) in sum.iter_mut().zip(n) {
            *total += add;
        }
    }
    let mut update_month = c.prepare_cached(&format!(
        "UPDATE month_counts SET {add} WHERE month = ?9 AND question_id = ?10
            AND question_version = ?11 AND scale = ?12 AND direction = ?13 AND site = ?14
            AND touchpoint = ?15"
    ))?;
    let mut insert_month = c.prepare_cached(
        "INSERT INTO month_counts (n1, n2, n3, n4, n5, n6, n7, suppressed, month, question_id,
            question_version, scale, direction, site, touchpoint)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    for ((month, question, version, scale, direction), n) in &months {
        let key = params![
            month,
            question,
            version,
            scale.as_str(),
            direction.as_str(),
            d.site,
            d.touchpoint
        ];
        add_to_row(&mut update_month, &mut insert_month, n, key)?;
    }
    for ((month, question, version, scale, direction, weekday, hour), n) in &hours {
        let key = params![
            month,
            question,
            version,
            scale.as_str(),
            direction.as_str(),
            d.site,
            d.touchpoint,
            weekday,
            hour
        ];
        add_to_row(&mut update_hour, &mut insert_hour, n, key)?;
    }
    Ok(())
}

/// Adds score columns `n` to the row whose key is `key` (parameters ?9 on, the scores being
/// ?1 to ?8): updates it, or inserts it when it is the first of its kind.
fn add_to_row(
    update: &mut CachedStatement<'_>,
    insert: &mut CachedStatement<'_>,
    n: &ScoreColumns,
    key: &[&dyn ToSql],
) -> rusqlite::Result<()> {
    let mut row: Vec<&dyn ToSql> = n.iter().map(|v| v as &dyn ToSql).collect();
    row.extend_from_slice(key);
    if update.execute(&*row)? == 0 {
        insert.execute(&*row)?;
    }
    Ok(())
}

/// `answer_counts` rows written by one statement: a batch's rows go in statements of this
/// many, the rest one by one, so that SQLite runs a few statements per batch, not one per row.
const FINE_ROWS_AT_ONCE: usize = 16;

/// Adds a batch's counts to `answer_counts`.
fn add_fine_rows(
    c: &Connection,
    d: &DeviceIdentity,
    counts: &BTreeMap<CountKey<'_>, i64>,
) -> rusqlite::Result<()> {
    let insert = |rows: usize| {
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                let places: Vec<String> = (1..=13).map(|i| format!("?{}", r * 13 + i)).collect();
                format!("({})", places.join(", "))
            })
            .collect();
        format!(
            "INSERT INTO answer_counts (local_date, site, touchpoint, device_id, question_id,
                question_version, scale, direction, local_hour, score, suppressed, reason, n)
             VALUES {}
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
            tuples.join(", ")
        )
    };
    let rows: Vec<(&CountKey<'_>, &i64)> = counts.iter().collect();
    let mut chunks = rows.chunks_exact(FINE_ROWS_AT_ONCE);
    for chunk in chunks.by_ref() {
        let mut statement = c.prepare_cached(&insert(FINE_ROWS_AT_ONCE))?;
        statement.execute(params_from_iter(fine_values(d, chunk)))?;
    }
    let mut one = c.prepare_cached(&insert(1))?;
    for row in chunks.remainder() {
        one.execute(params_from_iter(fine_values(d, std::slice::from_ref(row))))?;
    }
    Ok(())
}

/// The parameters of `answer_counts` rows, 13 a row.
fn fine_values(d: &DeviceIdentity, rows: &[(&CountKey<'_>, &i64)]) -> Vec<Value> {
    let text = |s: &str| Value::Text(s.to_owned());
    let mut values = Vec::with_capacity(rows.len() * 13);
    for (k, n) in rows {
        values.extend([
            text(k.local_date),
            text(&d.site),
            text(&d.touchpoint),
            text(&d.id),
            text(k.question_id),
            Value::Integer(i64::from(k.question_version)),
            text(k.scale.as_str()),
            text(k.direction.as_str()),
            Value::Integer(i64::from(k.local_hour)),
            Value::Integer(i64::from(k.score)),
            Value::Integer(i64::from(k.suppressed)),
            text(k.reason),
            Value::Integer(**n),
        ]);
    }
    values
}
