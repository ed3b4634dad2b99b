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

use rusqlite::{Connection, ToSql};

use super::live::{self, LiveColumns, LiveKey};
use super::upsert::Table;

use crate::collector::storage::{CheckedAnswer, IncomingBatch};

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

/// New answers per `answer_counts` row, and per `live_counts` row, of one request or of a
/// whole group commit.
#[derive(Default)]
pub struct Tally {
    rows: BTreeMap<FineKey, i64>,
    live: BTreeMap<LiveKey, LiveColumns>,
}

/// The device and arrival a request's answers are counted for, shared by their keys.
pub struct Counted {
    site: Arc<str>,
    touchpoint: Arc<str>,
    device_id: Arc<str>,
    received_at_ms: i64,
    clock_skew_ms: i64,
}

impl Counted {
    pub fn batch(b: &IncomingBatch) -> Counted {
        let d = &b.device;
        Counted {
            site: d.site.as_str().into(),
            touchpoint: d.touchpoint.as_str().into(),
            device_id: d.id.as_str().into(),
            received_at_ms: b.received_at_ms,
            clock_skew_ms: b.clock_skew_ms,
        }
    }
}

impl Tally {
    /// Counts one newly stored answer of device `d`.
    pub fn add(&mut self, d: &Counted, checked: &CheckedAnswer) {
        if let Some(at) = live::given_at_ms(checked, d.received_at_ms, d.clock_skew_ms) {
            live::tally(&mut self.live, &d.site, &d.touchpoint, checked, at);
        }
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
        for (key, n) in other.live {
            let row = self.live.entry(key).or_default();
            for (total, add) in row.iter_mut().zip(n) {
                *total += add;
            }
        }
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

/// The count columns of the rollups kept per score, in [`ScoreColumns`] order.
const SCORES: &str = "n1, n2, n3, n4, n5, n6, n7, suppressed";

static FINE: Table = Table::new(
    "answer_counts",
    "local_date, site, touchpoint, device_id, question_id, question_version, scale, direction,
        local_hour, score, suppressed, reason",
    "n",
);
static DAYS: Table = Table::new(
    "day_counts",
    "local_date, question_id, question_version, scale, direction, site, touchpoint",
    SCORES,
);
static SITE_DAYS: Table = Table::new(
    "site_day_counts",
    "local_date, question_id, question_version, scale, direction, site",
    SCORES,
);
static MONTHS: Table = Table::new(
    "month_counts",
    "month, question_id, question_version, scale, direction, site, touchpoint",
    SCORES,
);
static HOURS: Table = Table::new(
    "hour_counts",
    "month, site, touchpoint, question_id, question_version, scale, direction, weekday,
        local_hour",
    SCORES,
);
static REASONS: Table = Table::new(
    "reason_month_counts",
    "site, touchpoint, month, question_id, question_version, scale, direction, reason",
    "n",
);

/// Adds a group's tally to every rollup table. Runs inside its transaction, after
/// the requests' savepoints.
pub fn count_group(c: &Connection, group: &Tally) -> rusqlite::Result<()> {
    live::add(c, &group.live)?;
    if group.rows.is_empty() {
        return Ok(());
    }
    let mut params: Vec<&dyn ToSql> = Vec::with_capacity(group.rows.len() * FINE.width());
    for (k, n) in &group.rows {
        params.extend([
            &k.local_date as &dyn ToSql,
            &k.site,
            &k.touchpoint,
            &k.device_id,
            &k.question_id,
            &k.question_version,
            &k.scale,
            &k.direction,
            &k.local_hour,
            &k.score,
            &k.suppressed,
            &k.reason,
            n,
        ]);
    }
    FINE.add(c, &params)?;

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
    DAYS.add(c, &day_rows(&days))?;
    let mut params = Vec::with_capacity(sites.len() * SITE_DAYS.width());
    for ((date, id, version, scale, direction, site), n) in &sites {
        params.extend([date as &dyn ToSql, id, version, scale, direction, site]);
        scored(&mut params, n);
    }
    SITE_DAYS.add(c, &params)?;
    MONTHS.add(c, &day_rows(&months))?;
    add_reasons(c, group)?;
    params.clear();
    for (k, n) in &hours {
        let (month, site, touchpoint, id, version, scale, direction, weekday, hour) = k;
        params.extend([
            month as &dyn ToSql,
            site,
            touchpoint,
            id,
            version,
            scale,
            direction,
            weekday,
            hour,
        ]);
        scored(&mut params, n);
    }
    HOURS.add(c, &params)
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
    let mut params: Vec<&dyn ToSql> = Vec::with_capacity(reasons.len() * REASONS.width());
    for ((site, touchpoint, month, id, version, scale, direction, reason), n) in &reasons {
        params.extend([
            site as &dyn ToSql,
            touchpoint,
            month,
            id,
            version,
            scale,
            direction,
            reason,
            n,
        ]);
    }
    REASONS.add(c, &params)
}

/// Adds score columns `n` to a row of a map being built.
fn add<K: Ord>(entry: Entry<'_, K, ScoreColumns>, n: &ScoreColumns) {
    let sum = entry.or_default();
    for (total, add) in sum.iter_mut().zip(n) {
        *total += add;
    }
}

/// The parameters of `day_counts` or `month_counts` rows: their keys are alike.
fn day_rows<'a>(rows: &'a BTreeMap<DayKey<'a>, ScoreColumns>) -> Vec<&'a dyn ToSql> {
    let mut params = Vec::with_capacity(rows.len() * DAYS.width());
    for ((date, id, version, scale, direction, site, touchpoint), n) in rows {
        params.extend([
            date as &dyn ToSql,
            id,
            version,
            scale,
            direction,
            site,
            touchpoint,
        ]);
        scored(&mut params, n);
    }
    params
}

/// Appends a row's score columns to its parameters.
fn scored<'a>(params: &mut Vec<&'a dyn ToSql>, n: &'a ScoreColumns) {
    params.extend(n.iter().map(|v| v as &dyn ToSql));
}
