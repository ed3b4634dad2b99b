//! Reading the rollups for a report: the smallest table that holds what it asks for, one
//! place's rows looked up day by day (or month by month: `months`), pages cut by SQLite in
//! the tables' order; the rows read are turned into groups by `rows`.

use rusqlite::Connection;
use rusqlite::types::Value;

use super::super::read::filter_conditions;
use super::months::{Months, by_months, by_whole_months, weekday_hours};
use super::rows::{read_groups, read_summed};
use crate::collector::storage::{
    AnswerFilter, CountQuery, GroupCounts, Grouping, StorageError, TimeSplit,
};

/// The rollup table a report reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Table {
    /// `answer_counts`: devices, hours and reasons; within a day, one place's rows lie
    /// together.
    Fine,
    /// `day_counts`: per touchpoint and day.
    TouchpointDays,
    /// `site_day_counts`: per site and day.
    SiteDays,
}

impl Table {
    /// The smallest table that holds what `q` asks for and reads few rows for it.
    pub(super) fn for_query(q: &CountQuery) -> Table {
        let f = &q.filter;
        let hours = matches!(q.time, TimeSplit::DateHour | TimeSplit::Hour);
        if hours || q.group == Grouping::Device || f.device.is_some() {
            Table::Fine
        } else if f.site.is_some() {
            // A site's or a touchpoint's days, through the index by place.
            Table::TouchpointDays
        } else if f.touchpoint.is_none() && q.group != Grouping::Touchpoint {
            Table::SiteDays
        } else {
            Table::TouchpointDays
        }
    }

    /// The table to read for filter `f`: a site's days through the index by place.
    pub(super) fn source(self, f: &AnswerFilter) -> &'static str {
        match self {
            Table::TouchpointDays if f.site.is_some() => {
                "day_counts INDEXED BY day_counts_by_place"
            }
            other => other.name(),
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Table::Fine => "answer_counts",
            Table::TouchpointDays => "day_counts",
            Table::SiteDays => "site_day_counts",
        }
    }

    /// The counted answers per score 1 … 7, then the suppressed taps, summed.
    pub(super) fn sums(self) -> String {
        match self {
            Table::Fine => (1..=7)
                .map(|s| format!("sum(n * (score = {s} AND NOT suppressed))"))
                .chain(["sum(n * suppressed)".to_owned()])
                .collect::<Vec<_>>()
                .join(", "),
            _ => "sum(n1), sum(n2), sum(n3), sum(n4), sum(n5), sum(n6), sum(n7), sum(suppressed)"
                .to_owned(),
        }
    }
}

/// Score counts for a report: one row per group, from the rollups.
pub fn report_counts(c: &Connection, q: &CountQuery) -> Result<Vec<GroupCounts>, StorageError> {
    if q.time == TimeSplit::WeekdayHour {
        return weekday_hours(c, q);
    }
    match Months::of(q) {
        Some(months) => by_months(c, q, &months, false),
        None => from_table(c, q),
    }
}

/// Score counts from the smallest table that holds what `q` asks for.
pub(super) fn from_table(c: &Connection, q: &CountQuery) -> Result<Vec<GroupCounts>, StorageError> {
    let table = Table::for_query(q);
    let has_date = matches!(q.time, TimeSplit::Date | TimeSplit::DateHour);
    let has_hour = matches!(q.time, TimeSplit::DateHour | TimeSplit::Hour);
    let (site, touchpoint, device) = match q.group {
        Grouping::Site => (true, false, false),
        Grouping::Touchpoint => (true, true, false),
        Grouping::Device => (true, true, true),
        Grouping::Question => (false, false, false),
    };
    let shown = |on: bool, column: &'static str| if on { column } else { "NULL" };
    // A whole period read from a per-day table is added up in Rust from the table's rows:
    // far quicker than SQLite grouping them.
    let per_day = q.time == TimeSplit::None && table != Table::Fine && q.page.is_none();
    // The group's key in the order groups are sorted and paged: time, question, place.
    let key: Vec<&str> = [(has_date, "local_date"), (has_hour, "local_hour")]
        .into_iter()
        .filter_map(|(on, column)| on.then_some(column))
        .chain(["question_id", "question_version", "scale", "direction"])
        .chain(
            [
                (site, "site"),
                (touchpoint, "touchpoint"),
                (device, "device_id"),
            ]
            .into_iter()
            .filter_map(|(on, column)| on.then_some(column)),
        )
        .collect();

    let f = &q.filter;
    let mut values: Vec<Value> = Vec::new();
    let mut conditions = filter_conditions(f, &mut values);
    let mut page = String::new();
    if let Some(p) = &q.page {
        if let Some(after) = &p.after {
            let mut bound: Vec<Value> = Vec::new();
            let text = |v: &Option<String>| Value::Text(v.clone().unwrap_or_default());
            if has_date {
                bound.push(text(&after.date));
            }
            if has_hour {
                bound.push(Value::Integer(after.hour.map_or(0, i64::from)));
            }
            bound.extend([
                Value::Text(after.question_id.clone()),
                Value::Integer(i64::from(after.question_version)),
                Value::Text(after.scale.as_str().to_owned()),
                Value::Text(after.direction.as_str().to_owned()),
            ]);
            for (on, v) in [
                (site, &after.site),
                (touchpoint, &after.touchpoint),
                (device, &after.device),
            ] {
                if on {
                    bound.push(text(v));
                }
            }
            let first = values.len() + 1;
            let places: Vec<String> = (first..first + bound.len())
                .map(|i| format!("?{i}"))
                .collect();
            conditions.push(format!("({}) > ({})", key.join(", "), places.join(", ")));
            values.extend(bound);
        }
        values.push(Value::Integer(i64::try_from(p.groups).unwrap_or(i64::MAX)));
        page = format!("ORDER BY {} LIMIT ?{}", key.join(", "), values.len());
    }
    // One place's (or device's) rows: looked up day by day, as each day's rows are sorted
    // by place, instead of reading every place's rows of the period.
    let (days, from) = if table == Table::Fine && (f.site.is_some() || f.device.is_some()) {
        (
            place_days(f, &mut values, &mut conditions),
            "days CROSS JOIN answer_counts",
        )
    } else {
        (String::new(), table.source(f))
    };
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    if per_day {
        let columns = format!(
            "{}, {}, NULL, question_id, question_version, scale, direction, NULL, NULL,
                n1, n2, n3, n4, n5, n6, n7, suppressed",
            shown(site, "site"),
            shown(touchpoint, "touchpoint"),
        );
        if let Some(months) = Months::within(f) {
            return by_whole_months(c, f, table, &columns, &months);
        }
        // The table's rows as they are, added up in Rust: no GROUP BY at all.
        let sql = format!("{days} SELECT {columns} FROM {from} {filter}");
        return read_summed(c, &sql, values);
    }
    let sql = format!(
        "{days} SELECT {}, {}, {}, question_id, question_version, scale, direction, {}, {}, {}
         FROM {from} {filter}
         GROUP BY {} {page}",
        shown(site, "site"),
        shown(touchpoint, "touchpoint"),
        shown(device, "device_id"),
        shown(has_date, "local_date"),
        shown(has_hour, "local_hour"),
        table.sums(),
        key.join(", "),
    );
    read_groups(c, &sql, values, false)
}

/// The `days` CTE over which one place's `answer_counts` rows are looked up day by day (as
/// each day's rows are sorted by place), with its condition added to `conditions`.
pub(super) fn place_days(
    f: &AnswerFilter,
    values: &mut Vec<Value>,
    conditions: &mut Vec<String>,
) -> String {
    let stored = ("local_date", "answer_counts");
    let first = period_end(&f.from, "min", stored, values);
    let last = period_end(&f.to, "max", stored, values);
    conditions.push("local_date = days.day".to_owned());
    format!(
        "WITH RECURSIVE days(day) AS (SELECT {first} UNION ALL
            SELECT date(day, '+1 day') FROM days WHERE day < {last})"
    )
}

/// One end of a period as SQL: the given date or month as a parameter appended to
/// `values`, or else the first or last stored (`end` is `min` or `max`) in `(column, table)`.
pub(super) fn period_end(
    given: &Option<String>,
    end: &str,
    (column, table): (&str, &str),
    values: &mut Vec<Value>,
) -> String {
    match given {
        Some(v) => {
            values.push(Value::Text(v.clone()));
            format!("?{}", values.len())
        }
        None => format!("(SELECT {end}({column}) FROM {table})"),
    }
}
