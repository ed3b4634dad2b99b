//! Keeping the rollups: the new answers of a group commit tallied per `answer_counts` row
//! ([`Tally`]), then added to every rollup table once per row, in each table's key order,
//! just before the commit ([`count_group`]).
//!
//! Counting per group rather than per request writes a row that several requests add to
//! once, visits each table's pages in order, and runs outside the requests' savepoints, so
//! that SQLite keeps no copy of the rollup pages for a rollback of one request. A request
//! whose savepoint was rolled back adds nothing to the group's tally; a failure here rolls
//! back the whole group, answers and rollups together.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Arc;

use rusqlite::types::Value;
use rusqlite::{Connection, ToSql, params_from_iter};

use crate::collector::storage::{CheckedAnswer, DeviceIdentity};

/// An `answer_counts` row, its fields in the table's key order (text as SQLite orders it).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FineKey {
    local_date: String,
    site: Arc<str>,
    touchpoint: Arc<str>,
    device_id: Arc<str>,
    question_id: String,
    question_version: u32,
    scale: &'static str,
    direction: &'static str,
    local_hour: u8,
    score: u8,
    suppressed: bool,
    /// `""` when the visitor gave none.
    reason: String,
}

/// New answers per `answer_counts` row, of one request or of a whole group commit.
#[derive(Default)]
pub struct Tally {
    rows: BTreeMap<FineKey, i64>,
}

/// The device a request's answers are counted for, shared by its answers' keys.
pub struct Counted {
    site: Arc<str>,
    touchpoint: Arc<str>,
    device_id: Arc<str>,
}

impl Counted {
    pub fn device(d: &DeviceIdentity) -> Counted {
        Counted {
            site: d.site.as_str().into(),
            touchpoint: d.touchpoint.as_str().into(),
            device_id: d.id.as_str().into(),
        }
    }
}

impl Tally {
    /// Counts one newly stored answer of device `d`.
    pub fn add(&mut self, d: &Counted, checked: &CheckedAnswer) {
        let a = &checked.wire;
        let key = FineKey {
            local_date: checked.local_date.clone(),
            site: d.site.clone(),
            touchpoint: d.touchpoint.clone(),
            device_id: d.device_id.clone(),
            question_id: a.question_id.clone(),
            question_version: a.question_version,
            scale: a.scale.as_str(),
            direction: a.direction.as_str(),
            local_hour: checked.local_hour,
            score: a.score,
            suppressed: a.suppressed,
            reason: a.reason.clone().unwrap_or_default(),
        };
        *self.rows.entry(key).or_default() += 1;
    }

    /// Adds another tally (a request's whose work was kept) to this one.
    pub fn merge(&mut self, other: Tally) {
        if self.rows.is_empty() {
            self.rows = other.rows;
            return;
        }
        for (key, n) in other.rows {
            *self.rows.entry(key).or_default() += n;
        }
    }
}

/// Counted answers per score 1 … 7, then suppressed taps.
type ScoreColumns = [i64; 8];

/// Adds `n` answers of `k` to a row's score columns.
fn tally(columns: &mut ScoreColumns, k: &FineKey, n: i64) {
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

/// A `day_counts` row: local date, question id, version, scale, direction, site, touchpoint.
type DayKey<'a> = (&'a str, &'a str, u32, &'a str, &'a str, &'a str, &'a str);
/// A `site_day_counts` row: local date, question id, version, scale, direction, site.
type SiteDayKey<'a> = (&'a str, &'a str, u32, &'a str, &'a str, &'a str);
/// An `hour_counts` row: month, site, touchpoint, question id, version, scale, direction,
/// weekday, hour.
type HourKey<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    u32,
    &'a str,
    &'a str,
    u8,
    u8,
);

/// Adds a group commit's tally to every rollup table. Runs inside its transaction, after
/// the requests' savepoints.
pub fn count_group(c: &Connection, group: &Tally) -> rusqlite::Result<()> {
    if group.rows.is_empty() {
        return Ok(());
    }
    add_fine_rows(c, &group.rows)?;
    let mut days: BTreeMap<DayKey<'_>, ScoreColumns> = BTreeMap::new();
    let mut hours: BTreeMap<HourKey<'_>, ScoreColumns> = BTreeMap::new();
    let mut weekdays: BTreeMap<&str, u8> = BTreeMap::new();
    for (k, &n) in &group.rows {
        let (id, version, scale, direction) = (
            k.question_id.as_str(),
            k.question_version,
            k.scale,
            k.direction,
        );
        let (date, site, touchpoint) = (k.local_date.as_str(), &*k.site, &*k.touchpoint);
        let day = (date, id, version, scale, direction, site, touchpoint);
        tally(days.entry(day).or_default(), k, n);
        let weekday = match weekdays.entry(date) {
            Entry::Occupied(known) => *known.get(),
            Entry::Vacant(new) => *new.insert(weekday(date)?),
        };
        let month = date.get(..7).unwrap_or(date);
        let hour = (
            month,
            site,
            touchpoint,
            id,
            version,
            scale,
            direction,
            weekday,
            k.local_hour,
        );
        tally(hours.entry(hour).or_default(), k, n);
    }
    let mut sites: BTreeMap<SiteDayKey<'_>, ScoreColumns> = BTreeMap::new();
    let mut months: BTreeMap<DayKey<'_>, ScoreColumns> = BTreeMap::new();
    for (&(date, id, version, scale, direction, site, touchpoint), n) in &days {
        add(sites.entry((date, id, version, scale, direction, site)), n);
        let month = date.get(..7).unwrap_or(date);
        add(
            months.entry((month, id, version, scale, direction, site, touchpoint)),
            n,
        );
    }
    let question = ["question_id", "question_version", "scale", "direction"];
    let day_key = [&["local_date"][..], &question, &["site", "touchpoint"]].concat();
    let mut rows = Rows::new(c, "day_counts", &day_key)?;
    for ((date, id, version, scale, direction, site, touchpoint), n) in &days {
        let key: [&dyn ToSql; 7] = [date, id, version, scale, direction, site, touchpoint];
        rows.add(n, &key)?;
    }
    let mut rows = Rows::new(c, "site_day_counts", &day_key[..6])?;
    for ((date, id, version, scale, direction, site), n) in &sites {
        let key: [&dyn ToSql; 6] = [date, id, version, scale, direction, site];
        rows.add(n, &key)?;
    }
    let month_key = [&["month"][..], &question, &["site", "touchpoint"]].concat();
    let mut rows = Rows::new(c, "month_counts", &month_key)?;
    for ((month, id, version, scale, direction, site, touchpoint), n) in &months {
        let key: [&dyn ToSql; 7] = [month, id, version, scale, direction, site, touchpoint];
        rows.add(n, &key)?;
    }
    add_reasons(c, group)?;
    let hour_key = [
        &["month", "site", "touchpoint"][..],
        &question,
        &["weekday", "local_hour"],
    ]
    .concat();
    let mut rows = Rows::new(c, "hour_counts", &hour_key)?;
    for ((month, site, touchpoint, id, version, scale, direction, weekday, hour), n) in &hours {
        let key: [&dyn ToSql; 9] = [
            month, site, touchpoint, id, version, scale, direction, weekday, hour,
        ];
        rows.add(n, &key)?;
    }
    Ok(())
}

/// Adds the group's follow-up reasons of counted answers to `reason_month_counts`.
fn add_reasons(c: &Connection, group: &Tally) -> rusqlite::Result<()> {
    type ReasonKey<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        u32,
        &'a str,
        &'a str,
        &'a str,
    );
    let mut reasons: BTreeMap<ReasonKey<'_>, i64> = BTreeMap::new();
    for (k, &n) in &group.rows {
        if k.reason.is_empty() || k.suppressed {
            continue;
        }
        let month = k.local_date.get(..7).unwrap_or(&k.local_date);
        let key = (
            &*k.site,
            &*k.touchpoint,
            month,
            k.question_id.as_str(),
            k.question_version,
            k.scale,
            k.direction,
            k.reason.as_str(),
        );
        *reasons.entry(key).or_default() += n;
    }
    let mut add = c.prepare_cached(
        "INSERT INTO reason_month_counts (site, touchpoint, month, question_id,
            question_version, scale, direction, reason, n)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT DO UPDATE SET n = n + excluded.n",
    )?;
    for ((site, touchpoint, month, id, version, scale, direction, reason), n) in reasons {
        add.execute(rusqlite::params![
            site, touchpoint, month, id, version, scale, direction, reason, n
        ])?;
    }
    Ok(())
}

/// Adds score columns `n` to a row of a map being built.
fn add<K: Ord>(entry: Entry<'_, K, ScoreColumns>, n: &ScoreColumns) {
    let sum = entry.or_default();
    for (total, add) in sum.iter_mut().zip(n) {
        *total += add;
    }
}

/// The statements that add score columns to the rows of one rollup table.
struct Rows<'c> {
    update: rusqlite::CachedStatement<'c>,
    insert: rusqlite::CachedStatement<'c>,
}

impl<'c> Rows<'c> {
    /// For `table`, whose rows are found by the columns `key`.
    fn new(c: &'c Connection, table: &str, key: &[&str]) -> rusqlite::Result<Rows<'c>> {
        let scores = ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "suppressed"];
        let add: Vec<String> = scores
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s} = {s} + ?{}", i + 1))
            .collect();
        let find: Vec<String> = key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{k} = ?{}", i + 9))
            .collect();
        let places: Vec<String> = (1..=scores.len() + key.len())
            .map(|i| format!("?{i}"))
            .collect();
        let update = format!(
            "UPDATE {table} SET {} WHERE {}",
            add.join(", "),
            find.join(" AND ")
        );
        let insert = format!(
            "INSERT INTO {table} ({}, {}) VALUES ({})",
            scores.join(", "),
            key.join(", "),
            places.join(", ")
        );
        Ok(Rows {
            update: c.prepare_cached(&update)?,
            insert: c.prepare_cached(&insert)?,
        })
    }

    /// Adds `n` to the row found by `key`: updates it, or inserts it when it is the first
    /// of its kind (most rows exist already: today's, this month's).
    fn add(&mut self, n: &ScoreColumns, key: &[&dyn ToSql]) -> rusqlite::Result<()> {
        let mut row: Vec<&dyn ToSql> = n.iter().map(|v| v as &dyn ToSql).collect();
        row.extend_from_slice(key);
        if self.update.execute(&*row)? == 0 {
            self.insert.execute(&*row)?;
        }
        Ok(())
    }
}

/// `answer_counts` rows written by one statement: a group's rows go in statements of this
/// many, the rest one by one, so that SQLite runs a few statements per group, not one per row.
const FINE_ROWS_AT_ONCE: usize = 32;

/// Adds a group's counts to `answer_counts`.
fn add_fine_rows(c: &Connection, rows: &BTreeMap<FineKey, i64>) -> rusqlite::Result<()> {
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
    let rows: Vec<(&FineKey, &i64)> = rows.iter().collect();
    let mut chunks = rows.chunks_exact(FINE_ROWS_AT_ONCE);
    if chunks.len() > 0 {
        let mut statement = c.prepare_cached(&insert(FINE_ROWS_AT_ONCE))?;
        for chunk in chunks.by_ref() {
            statement.execute(params_from_iter(fine_values(chunk)))?;
        }
    }
    let mut one = c.prepare_cached(&insert(1))?;
    for row in chunks.remainder() {
        one.execute(params_from_iter(fine_values(std::slice::from_ref(row))))?;
    }
    Ok(())
}

/// The parameters of `answer_counts` rows, 13 a row.
fn fine_values(rows: &[(&FineKey, &i64)]) -> Vec<Value> {
    let text = |s: &str| Value::Text(s.to_owned());
    let mut values = Vec::with_capacity(rows.len() * 13);
    for (k, n) in rows {
        values.extend([
            text(&k.local_date),
            text(&k.site),
            text(&k.touchpoint),
            text(&k.device_id),
            text(&k.question_id),
            Value::Integer(i64::from(k.question_version)),
            text(k.scale),
            text(k.direction),
            Value::Integer(i64::from(k.local_hour)),
            Value::Integer(i64::from(k.score)),
            Value::Integer(i64::from(k.suppressed)),
            text(&k.reason),
            Value::Integer(**n),
        ]);
    }
    values
}
