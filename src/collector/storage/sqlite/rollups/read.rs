//! Reading the rollups for a report: the smallest table that holds what it asks for, one
//! place's rows looked up day by day (or month by month: `months`), pages cut by SQLite in
//! the tables' order; the rows read are turned into groups by `rows`.

use rusqlite::Connection;
use rusqlite::types::Value;

use super::super::read::filter_conditions;
use super::months::{by_months, by_whole_months, weekday_hours};
use super::rows::{read_groups, read_summed};
use crate::collector::storage::rollup::Months;
use crate::collector::storage::rollup::{Bound, Layout};
use crate::collector::storage::{AnswerFilter, CountQuery, GroupCounts, StorageError, TimeSplit};

pub(super) use crate::collector::storage::rollup::RollupTable as Table;

/// The table to read for filter `f`: a site's days through the index by place.
pub(super) fn source(table: Table, f: &AnswerFilter) -> &'static str {
    match table {
        Table::TouchpointDays if f.site.is_some() => "day_counts INDEXED BY day_counts_by_place",
        other => other.name(),
    }
}

/// The counted answers per score 1 … 7, then the suppressed taps, summed.
pub(super) fn sums(table: Table) -> String {
    match table {
        Table::Fine => (1..=7)
            .map(|s| format!("sum(n * (score = {s} AND NOT suppressed))"))
            .chain(["sum(n * suppressed)".to_owned()])
            .collect::<Vec<_>>()
            .join(", "),
        _ => "sum(n1), sum(n2), sum(n3), sum(n4), sum(n5), sum(n6), sum(n7), sum(suppressed)"
            .to_owned(),
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
    let layout = Layout::of(q);
    let (site, touchpoint, device) = (layout.site, layout.touchpoint, layout.device);
    let (has_date, has_hour) = (layout.date, layout.hour);
    let shown = Layout::shown;
    // A whole period read from a per-day table is added up in Rust from the table's rows:
    // far quicker than SQLite grouping them.
    let per_day = q.time == TimeSplit::None && table != Table::Fine && q.page.is_none();
    let key = &layout.key;

    let f = &q.filter;
    let mut values: Vec<Value> = Vec::new();
    let mut conditions = filter_conditions(f, &mut values);
    let mut page = String::new();
    if let Some(p) = &q.page {
        if let Some(after) = layout.after(q) {
            let bound: Vec<Value> = after
                .into_iter()
                .map(|b| match b {
                    Bound::Text(t) => Value::Text(t),
                    Bound::Hour(h) => Value::Integer(i64::from(h)),
                    Bound::Version(v) => Value::Integer(i64::from(v)),
                })
                .collect();
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
        (String::new(), source(table, f))
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
        sums(table),
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
