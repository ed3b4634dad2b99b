//! Reading the rollups for a report: the smallest table that holds what it asks for, one
//! place's rows looked up day by day (or month by month for its hours of the day), pages cut
//! by SQLite in the tables' order.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use rusqlite::types::{Value, ValueRef};
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
            // A site's or a touchpoint's days, through the index by place.
            Table::TouchpointDays
        } else if f.touchpoint.is_none() && q.group != Grouping::Touchpoint {
            Table::SiteDays
        } else {
            Table::TouchpointDays
        }
    }

    /// The table to read for filter `f`: a site's days through the index by place.
    fn source(self, f: &AnswerFilter) -> &'static str {
        match self {
            Table::TouchpointDays if f.site.is_some() => {
                "day_counts INDEXED BY day_counts_by_place"
            }
            other => other.name(),
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
    if q.time == TimeSplit::WeekdayHour {
        return weekday_hours(c, q);
    }
    match Months::of(q) {
        Some(months) => by_months(c, q, &months, false),
        None => from_table(c, q),
    }
}

/// Counts per weekday and hour of the day: a place's whole months from `hour_counts`, the
/// other days per date and hour from `answer_counts` with their weekday worked out.
fn weekday_hours(c: &Connection, q: &CountQuery) -> Result<Vec<GroupCounts>, StorageError> {
    let f = &q.filter;
    let one_place = f.site.is_some() && f.device.is_none() && q.group != Grouping::Device;
    let months = Months::within(f).filter(|m| one_place && m.first.is_some() && m.last.is_some());
    if let Some(months) = months {
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
        Months::within(f)
    }

    /// The whole months between the filter's dates (open ends reach the first or last
    /// stored), and the days before and after them; `None` without a whole month.
    fn within(f: &AnswerFilter) -> Option<Months> {
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
    weekdays: bool,
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
            local_hour, {sums}{weekday}
         FROM months CROSS JOIN hour_counts WHERE {conditions}
         GROUP BY question_id, question_version, scale, direction, local_hour{weekday}{grouped}",
        sums = Table::TouchpointDays.sums(),
        conditions = conditions.join(" AND "),
        weekday = if weekdays { ", weekday" } else { "" },
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
        groups.extend(if weekdays {
            weekday_hours(c, &part)?
        } else {
            from_table(c, &part)?
        });
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

/// A whole period of the fleet, a site or a touchpoint: its whole months from `month_counts`
/// (one row per touchpoint and month), the days before and after them from `table`, the rows
/// added up in Rust.
fn by_whole_months(
    c: &Connection,
    f: &AnswerFilter,
    table: Table,
    columns: &str,
    months: &Months,
) -> Result<Vec<GroupCounts>, StorageError> {
    let place = AnswerFilter {
        from: None,
        to: None,
        ..f.clone()
    };
    let mut values: Vec<Value> = Vec::new();
    let bound = |given: &Option<String>, end: &str, values: &mut Vec<Value>| match given {
        Some(m) => {
            values.push(Value::Text(m.clone()));
            format!("?{}", values.len())
        }
        None => format!("(SELECT {end}(month) FROM month_counts)"),
    };
    let first = bound(&months.first, "min", &mut values);
    let last = bound(&months.last, "max", &mut values);
    let mut conditions = vec![format!("month >= {first}"), format!("month <= {last}")];
    conditions.extend(filter_conditions(&place, &mut values));
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
            table.source(&edge),
            conditions.join(" AND ")
        ));
    }
    read_summed(c, &parts.join(" UNION ALL "), values)
}

/// Runs a counting query with the columns of [`read_groups`] whose rows are per day, and adds
/// the days up per group. Each row's key is looked up without allocating, so that a year of
/// a thousand places (365,000 rows) is added up in a fraction of the time a `GROUP BY`
/// sorting them takes. Groups come out in the order of [`merged`].
fn read_summed(
    c: &Connection,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<GroupCounts>, StorageError> {
    let mut stmt = c.prepare(sql)?;
    let mut found = stmt.query(params_from_iter(values))?;
    let mut index: HashMap<Box<[u8]>, usize> = HashMap::new();
    let mut groups: Vec<GroupCounts> = Vec::new();
    let mut key = Vec::with_capacity(128);
    while let Some(r) = found.next()? {
        key.clear();
        for i in [0, 1, 2, 3, 4, 5, 6, 8] {
            match r.get_ref(i)? {
                ValueRef::Text(t) => key.extend_from_slice(t),
                ValueRef::Integer(n) => key.extend_from_slice(&n.to_le_bytes()),
                _ => key.push(0xff),
            }
            key.push(0);
        }
        let at = match index.get(key.as_slice()) {
            Some(at) => *at,
            None => {
                let scale: Scale = text_column(r, 5)?;
                groups.push(GroupCounts {
                    site: r.get(0)?,
                    touchpoint: r.get(1)?,
                    device: r.get(2)?,
                    question_id: r.get(3)?,
                    question_version: r.get(4)?,
                    scale,
                    direction: text_column(r, 6)?,
                    date: None,
                    hour: r.get(8)?,
                    weekday: None,
                    counts: vec![0; usize::from(scale.max())],
                    suppressed: 0,
                });
                index.insert(key.as_slice().into(), groups.len() - 1);
                groups.len() - 1
            }
        };
        let group = &mut groups[at];
        for (i, slot) in group.counts.iter_mut().enumerate() {
            *slot += u64::try_from(r.get::<_, i64>(9 + i)?).unwrap_or(0);
        }
        group.suppressed += u64::try_from(r.get::<_, i64>(16)?).unwrap_or(0);
    }
    groups.sort_by(|a, b| order(a).cmp(&order(b)));
    Ok(groups)
}

/// The order of [`merged`]'s groups.
#[allow(clippy::type_complexity)]
fn order(
    g: &GroupCounts,
) -> (
    (&Option<String>, Option<u8>, Option<u8>),
    (&str, u32, &str),
    &str,
    (&Option<String>, &Option<String>, &Option<String>),
) {
    (
        (&g.date, g.hour, g.weekday),
        (&g.question_id, g.question_version, g.scale.as_str()),
        g.direction.as_str(),
        (&g.site, &g.touchpoint, &g.device),
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
            weekday: if r.as_ref().column_count() > 17 {
                r.get(17)?
            } else {
                None
            },
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
            (g.date.clone(), g.hour, g.weekday),
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
