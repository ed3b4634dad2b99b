//! Reads over whole months: a place's hours of the day and its weekday × hour heatmap from
//! `hour_counts`, a whole period of the fleet, a site or a touchpoint from `month_counts`;
//! the days before and after the whole months from the daily tables.

use jiff::civil::Date;
use rusqlite::Connection;
use rusqlite::types::Value;

use super::super::read::filter_conditions;
use super::read::{Table, from_table, period_end, source, sums};
use super::rows::{read_groups, read_summed};
use crate::collector::storage::rollup::{Months, merged};
use crate::collector::storage::{
    AnswerFilter, CountQuery, GroupCounts, Grouping, StorageError, TimeSplit,
};

/// The conditions of a filter's place (site, touchpoint, device, a viewer's sites) without
/// its dates, for reading whole months; their values appended to `values`.
pub(super) fn place_conditions(f: &AnswerFilter, values: &mut Vec<Value>) -> Vec<String> {
    filter_conditions(&f.place_only(), values)
}

/// Counts per weekday and hour of the day: a place's whole months from `hour_counts`, the
/// other days per date and hour from `answer_counts` with their weekday worked out.
pub(super) fn weekday_hours(
    c: &Connection,
    q: &CountQuery,
) -> Result<Vec<GroupCounts>, StorageError> {
    if let Some(months) = Months::of_heatmap(q) {
        return by_months(c, q, &months, true);
    }
    let by_date = CountQuery {
        time: TimeSplit::DateHour,
        page: None,
        ..q.clone()
    };
    let groups = from_table(c, &by_date)?
        .into_iter()
        .map(|mut g| {
            g.weekday = g
                .date
                .take()
                .and_then(|d| d.parse::<Date>().ok())
                .map(|d| d.weekday().to_monday_one_offset().unsigned_abs());
            g
        })
        .collect();
    Ok(merged(groups))
}

/// A place's hours of the day: whole months from `hour_counts`, the other days from
/// `answer_counts`, added up.
pub(super) fn by_months(
    c: &Connection,
    q: &CountQuery,
    months: &Months,
    weekdays: bool,
) -> Result<Vec<GroupCounts>, StorageError> {
    let f = &q.filter;
    let mut values: Vec<Value> = Vec::new();
    let stored = ("month", "hour_counts");
    let first = period_end(&months.first, "min", stored, &mut values);
    let last = period_end(&months.last, "max", stored, &mut values);
    let mut conditions = vec!["hour_counts.month = months.month".to_owned()];
    conditions.extend(place_conditions(f, &mut values));
    let place = match q.group {
        Grouping::Question => "NULL, NULL",
        Grouping::Site => "site, NULL",
        _ => "site, touchpoint",
    };
    let grouped = match q.group {
        Grouping::Question => "",
        Grouping::Site => ", site",
        _ => ", site, touchpoint",
    };
    let sql = format!(
        "WITH RECURSIVE months(month) AS (SELECT {first} UNION ALL
            SELECT strftime('%Y-%m', month || '-01', '+1 month') FROM months
            WHERE month < {last})
         SELECT {place}, NULL, question_id, question_version, scale, direction, NULL,
            local_hour, {sums}{weekday}
         FROM months CROSS JOIN hour_counts WHERE {conditions}
         GROUP BY question_id, question_version, scale, direction, local_hour{weekday}{grouped}",
        sums = sums(Table::TouchpointDays),
        conditions = conditions.join(" AND "),
        weekday = if weekdays { ", weekday" } else { "" },
    );
    let mut groups = read_groups(c, &sql, values, false)?;
    for part in months.edges(q) {
        groups.extend(if weekdays {
            weekday_hours(c, &part)?
        } else {
            from_table(c, &part)?
        });
    }
    Ok(merged(groups))
}

/// A whole period of the fleet, a site or a touchpoint: its whole months from `month_counts`
/// (one row per touchpoint and month), the days before and after them from `table`, the rows
/// added up in Rust.
pub(super) fn by_whole_months(
    c: &Connection,
    f: &AnswerFilter,
    table: Table,
    columns: &str,
    months: &Months,
) -> Result<Vec<GroupCounts>, StorageError> {
    let place = f.place_only();
    let mut values: Vec<Value> = Vec::new();
    let stored = ("month", "month_counts");
    let first = period_end(&months.first, "min", stored, &mut values);
    let last = period_end(&months.last, "max", stored, &mut values);
    let mut conditions = vec![format!("month >= {first}"), format!("month <= {last}")];
    conditions.extend(place_conditions(f, &mut values));
    let mut parts = vec![format!(
        "SELECT {columns} FROM month_counts WHERE {}",
        conditions.join(" AND ")
    )];
    for (from, to) in &months.days {
        let edge = AnswerFilter {
            from: Some(from.clone()),
            to: Some(to.clone()),
            ..place.clone()
        };
        let conditions = filter_conditions(&edge, &mut values);
        parts.push(format!(
            "SELECT {columns} FROM {} WHERE {}",
            source(table, &edge),
            conditions.join(" AND ")
        ));
    }
    read_summed(c, &parts.join(" UNION ALL "), values)
}
