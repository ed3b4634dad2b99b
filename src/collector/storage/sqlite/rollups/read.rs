//! Reading the rollups for a report: the smallest table that holds what it asks for, one
//! place's rows looked up day by day (or month by month for its hours of the day), pages cut
//! by SQLite in the tables' order.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::super::read::{filter_conditions, sites_condition};
use crate::collector::storage::{
    AnswerFilter, CountQuery, GroupCounts, Grouping, StorageError, TimeSplit,
};
use crate::store::text_column;
use crate::survey::Scale;

/// The rollup table a report reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Table {
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
    fn for_query(q: &CountQuery) -> Table {
        let f = &q.filter;
        let hours = matches!(q.time, TimeSplit::DateHour | TimeSplit::Hour);
        if hours || q.group == Grouping::Device || f.device.is_some() {
            Table::Fine
        } else if f.site.is_some() {
            // A site's or a place's rows are a short range of each day's.
            Table::Fine
        } else if f.touchpoint.is_none() && q.group != Grouping::Touchpoint {
            Table::SiteDays
        } else {
            Table::TouchpointDays
        }
    }

    fn name(self) -> &'static str {
        match self {
            Table::Fine => "answer_counts",
            Table::TouchpointDays => "day_counts",
            Table::SiteDays => "site_day_counts",
        }
    }

    /// The counted answers per score 1 … 7, then the suppressed taps, summed.
    fn sums(self) -> String {
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
    match Months::of(q) {
        Some(months) => by_months(c, q, &months),
        None => from_table(c, q),
    }
}

/// The whole months of a place's hours-of-the-day report, read from `hour_counts`, and the
/// days before and after them.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Months {
    /// First and last whole month (`YYYY-MM`), or `None` for the first or last stored.
    first: Option<String>,
    last: Option<String>,
    /// The days outside them, as (from, to).
    days: Vec<(String, String)>,
}

impl Months {
    /// The split for a report of one site's or place's hours of the day spanning at least
    /// one whole month; `None` for any other report.
    fn of(q: &CountQuery) -> Option<Months> {
        let f = &q.filter;
        let one_place = f.site.is_some() && f.device.is_none() && q.group != Grouping::Device;
        if q.time != TimeSplit::Hour || !one_place || q.page.is_some() {
            return None;
        }
        let date = |d: &Option<String>| -> Option<Option<Date>> {
            match d {
                None => Some(None),
                Some(d) => d.parse().ok().map(Some),
            }
        };
        let (from, to) = (date(&f.from)?, date(&f.to)?);
        let first = match from {
            Some(d) if d.day() == 1 => Some(d),
            Some(d) => Some(d.last_of_month().tomorrow().ok()?),
            None => None,
        };
        let last = match to {
            Some(d) if d == d.last_of_month() => Some(d),
            Some(d) => Some(d.first_of_month().yesterday().ok()?),
            None => None,
        };
        if let (Some(a), Some(b)) = (first, last)
            && a > b
        {
            return None; // no whole month inside
        }
        let mut days = Vec::new();
        if let (Some(from), Some(first)) = (from, first)
            && from < first
        {
            days.push((from.to_string(), first.yesterday().ok()?.to_string()));
        }
        if let (Some(to), Some(last)) = (to, last)
            && last < to
        {
            days.push((last.tomorrow().ok()?.to_string(), to.to_string()));
        }
        let month = |d: Date| d.strftime("%Y-%m").to_string();
        Some(Months {
            first: first.map(month),
            last: last.map(month),
            days,
        })
    }
}

/// A place's hours of the day: whole months from `hour_counts`, the other days from
/// `answer_counts`, added up.
fn by_months(
    c: &Connection,
    q: &CountQuery,
    months: &Months,
) -> Result<Vec<GroupCounts>, StorageError> {
    let f = &q.filter;
    let mut values: Vec<Value> = Vec::new();
    let mut bound = |given: &Option<String>, end: &str| match given {
        Some(m) => {
            values.push(Value::Text(m.clone()));
            format!("?{}", values.len())
        }
        None => format!("(SELECT {end}(month) FROM hour_counts)"),
    };
    let (first, last) = (bound(&months.first, "min"), bound(&months.last, "max"));
    let mut conditions = vec!["hour_counts.month = months.month".to_owned()];
    for (column, value) in [("site", &f.site), ("touchpoint", &f.touchpoint)] {
        if let Some(v) = value {
            values.push(Value::Text(v.clone()));
            conditions.push(format!("{column} = ?{}", values.len()));
        }
    }
    conditions.extend(sites_condition(f, &mut values));
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
            local_hour, {sums}
         FROM months CROSS JOIN hour_counts WHERE {conditions}
         GROUP BY question_id, question_version, scale, direction, local_hour{grouped}",
        sums = Table::TouchpointDays.sums(),
        conditions = conditions.join(" AND "),
    );
    let mut groups = read_groups(c, &sql, values, false)?;
    for (from, to) in &months.days {
        let part = CountQuery {
            filter: AnswerFilter {
                from: Some(from.clone()),
                to: Some(to.clone()),
                ..f.clone()
            },
            ..q.clone()
        };
        groups.extend(from_table(c, &part)?);
    }
    Ok(merged(groups))
}

/// Score counts from the smallest table that holds what `q` asks for.
fn from_table(c: &Connection, q: &CountQuery) -> Result<Vec<GroupCounts>, StorageError> {
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
    // A whole period read from a per-day table is added up per day by SQLite, in the
    // table's order, and the days in Rust: far quicker than SQLite sorting every row.
    let per_day = q.time == TimeSplit::None && table != Table::Fine && q.page.is_none();
    // The group's key in the order groups are sorted and paged: time, question, place.
    let key: Vec<&str> = [
        (has_date || per_day, "local_date"),
        (has_hour, "local_hour"),
    ]
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
        (String::new(), table.name())
    };
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "{days} SELECT {}, {}, {}, question_id, question_version, scale, direction, {}, {}, {}
         FROM {from} {filter}
         GROUP BY {} {page}",
        shown(site, "site"),
        shown(touchpoint, "touchpoint"),
        shown(device, "device_id"),
        shown(has_date || per_day, "local_date"),
        shown(has_hour, "local_hour"),
        table.sums(),
        key.join(", "),
    );
    let groups = read_groups(c, &sql, values, per_day)?;
    Ok(if per_day { merged(groups) } else { groups })
}

/// The `days` CTE over which one place's `answer_counts` rows are looked up day by day (as
/// each day's rows are sorted by place), with its condition added to `conditions`.
pub(super) fn place_days(
    f: &AnswerFilter,
    values: &mut Vec<Value>,
    conditions: &mut Vec<String>,
) -> String {
    let mut bound = |given: &Option<String>, end: &str| match given {
        Some(d) => {
            values.push(Value::Text(d.clone()));
            format!("?{}", values.len())
        }
        None => format!("(SELECT {end}(local_date) FROM answer_counts)"),
    };
    let (first, last) = (bound(&f.from, "min"), bound(&f.to, "max"));
    conditions.push("local_date = days.day".to_owned());
    format!(
        "WITH RECURSIVE days(day) AS (SELECT {first} UNION ALL
            SELECT date(day, '+1 day') FROM days WHERE day < {last})"
    )
}

/// Runs a counting query whose columns are site, touchpoint, device, question id and
/// version, scale, direction, date, hour, the counts per score 1 … 7 and the suppressed
/// taps; `no_date` drops the date it was read per.
fn read_groups(
    c: &Connection,
    sql: &str,
    values: Vec<Value>,
    no_date: bool,
) -> Result<Vec<GroupCounts>, StorageError> {
    let mut stmt = c.prepare(sql)?;
    let mut found = stmt.query(params_from_iter(values))?;
    let mut groups = Vec::new();
    while let Some(r) = found.next()? {
        let scale: Scale = text_column(r, 5)?;
        let mut n = [0u64; 8];
        for (i, slot) in n.iter_mut().enumerate() {
            *slot = u64::try_from(r.get::<_, i64>(9 + i)?).unwrap_or(0);
        }
        groups.push(GroupCounts {
            site: r.get(0)?,
            touchpoint: r.get(1)?,
            device: r.get(2)?,
            question_id: r.get(3)?,
            question_version: r.get(4)?,
            scale,
            direction: text_column(r, 6)?,
            date: if no_date { None } else { r.get(7)? },
            hour: r.get(8)?,
            counts: n[..usize::from(scale.max())].to_vec(),
            suppressed: n[7],
        });
    }
    Ok(groups)
}

/// Adds up groups with the same time, question and place.
fn merged(groups: Vec<GroupCounts>) -> Vec<GroupCounts> {
    let mut sums: BTreeMap<_, GroupCounts> = BTreeMap::new();
    for g in groups {
        let key = (
            (g.date.clone(), g.hour),
            (g.question_id.clone(), g.question_version, g.scale.as_str()),
            g.direction.as_str(),
            (g.site.clone(), g.touchpoint.clone(), g.device.clone()),
        );
        match sums.get_mut(&key) {
            Some(sum) => {
                for (total, n) in sum.counts.iter_mut().zip(&g.counts) {
                    *total += n;
                }
                sum.suppressed += g.suppressed;
            }
            None => {
                sums.insert(key, g);
            }
        }
    }
    sums.into_values().collect()
}
