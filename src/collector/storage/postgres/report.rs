//! Reading the rollups for a report on PostgreSQL: the smallest table that holds what it
//! asks for ([`RollupTable`]), grouped by the database, pages cut in the order of the
//! groups' keys (text byte by byte, as on SQLite); a whole period's whole months from the
//! monthly rollup; a place's hours of the day and weekday × hour heatmap from `hour_counts`
//! for whole months and the per-hour rows for the days around them; the follow-up reasons.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::connection::{named, unsigned};
use super::pg_error;
use crate::collector::storage::filter::{Given, ranked};
use crate::collector::storage::rollup::{Bound, Layout, Months, RollupTable, merged};
use crate::collector::storage::{
    AnswerFilter, CountQuery, GroupCounts, Grouping, ReasonCount, StorageError, TimeSplit,
};
use crate::survey::Scale;

/// A statement's parameters as they are added, each given its `$n`.
#[derive(Default)]
struct Params(Vec<Box<dyn ToSql + Sync + Send>>);

impl Params {
    fn push(&mut self, value: impl ToSql + Sync + Send + 'static) -> String {
        self.0.push(Box::new(value));
        format!("${}", self.0.len())
    }

    /// The conditions of a filter, its values added.
    fn filter(&mut self, f: &AnswerFilter) -> Vec<String> {
        f.conditions(|v| self.push(v))
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// The counted answers per score 1 … 7, then the suppressed taps, summed.
fn sums(table: RollupTable) -> String {
    match table {
        RollupTable::Fine => (1..=7)
            .map(|s| format!("coalesce(sum(n) FILTER (WHERE score = {s} AND NOT suppressed), 0)"))
            .chain(["coalesce(sum(n) FILTER (WHERE suppressed), 0)".to_owned()])
            .map(|sum| format!("{sum}::bigint"))
            .collect::<Vec<_>>()
            .join(", "),
        _ => ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "suppressed"]
            .iter()
            .map(|n| format!("sum({n})::bigint"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// A key column as it sorts: text byte by byte, whatever the database's collation.
fn sorted(column: &str) -> String {
    match column {
        "local_hour" | "question_version" => column.to_owned(),
        text => format!("{text} COLLATE \"C\""),
    }
}

fn filtered(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    }
}

/// Score counts for a report: one row per group, from the rollups.
pub async fn report_counts(
    c: &impl GenericClient,
    q: &CountQuery,
) -> Result<Vec<GroupCounts>, StorageError> {
    if q.time == TimeSplit::WeekdayHour {
        return weekday_hours(c, q).await;
    }
    match Months::of(q) {
        Some(months) => by_months(c, q, &months, false).await,
        None => from_table(c, q).await,
    }
}

/// Score counts from the smallest table that holds what `q` asks for.
async fn from_table(
    c: &impl GenericClient,
    q: &CountQuery,
) -> Result<Vec<GroupCounts>, StorageError> {
    let table = RollupTable::for_query(q);
    let layout = Layout::of(q);
    let per_day = q.time == TimeSplit::None && table != RollupTable::Fine && q.page.is_none();
    if let Some(months) = Months::within(&q.filter).filter(|_| per_day) {
        return by_whole_months(c, q, table, &layout, &months).await;
    }
    let shown = Layout::shown;
    let key: Vec<String> = layout.key.iter().map(|k| sorted(k)).collect();
    let key = key.join(", ");
    let mut params = Params::default();
    let mut conditions = params.filter(&q.filter);
    let order = match &q.page {
        Some(page) => {
            if let Some(after) = layout.after(q) {
                let marks: Vec<String> = after
                    .into_iter()
                    .map(|b| match b {
                        Bound::Text(t) => params.push(t),
                        Bound::Hour(h) => params.push(h),
                        Bound::Version(v) => params.push(v),
                    })
                    .collect();
                conditions.push(format!("({key}) > ({})", marks.join(", ")));
            }
            let limit = params.push(i64::try_from(page.groups).unwrap_or(i64::MAX));
            format!("ORDER BY {key} LIMIT {limit}")
        }
        None => String::new(),
    };
    let sql = format!(
        "SELECT {}, {}, {}, question_id, question_version, scale, direction, {}, {}, {}
         FROM {} {} GROUP BY {} {order}",
        shown(layout.site, "site"),
        shown(layout.touchpoint, "touchpoint"),
        shown(layout.device, "device_id"),
        shown(layout.date, "local_date"),
        if layout.hour {
            "local_hour"
        } else {
            "NULL::smallint"
        },
        sums(table),
        table.name(),
        filtered(&conditions),
        layout.key.join(", "),
    );
    let groups = read_groups(c, &sql, &params).await?;
    // A page comes in the database's order; a whole report is put in the same order here.
    Ok(if q.page.is_some() {
        groups
    } else {
        merged(groups)
    })
}

/// A whole period of the fleet, a site or a touchpoint: its whole months from `month_counts`
/// (a row per touchpoint and month), the days before and after them from `table`.
async fn by_whole_months(
    c: &impl GenericClient,
    q: &CountQuery,
    table: RollupTable,
    layout: &Layout,
    months: &Months,
) -> Result<Vec<GroupCounts>, StorageError> {
    let place = q.filter.place_only();
    let mut params = Params::default();
    let columns = format!(
        "{}, {}, question_id, question_version, scale, direction, n1, n2, n3, n4, n5, n6, n7,
            suppressed",
        if layout.site {
            "site"
        } else {
            "NULL::text AS site"
        },
        if layout.touchpoint {
            "touchpoint"
        } else {
            "NULL::text AS touchpoint"
        },
    );
    let mut conditions = params.filter(&place);
    conditions.extend(month_bounds(&mut params, months));
    let mut parts = vec![format!(
        "SELECT {columns} FROM month_counts {}",
        filtered(&conditions)
    )];
    for (from, to) in &months.days {
        let edge = AnswerFilter {
            from: Some(from.clone()),
            to: Some(to.clone()),
            ..place.clone()
        };
        let conditions = params.filter(&edge);
        parts.push(format!(
            "SELECT {columns} FROM {} {}",
            table.name(),
            filtered(&conditions)
        ));
    }
    let sql = format!(
        "SELECT site, touchpoint, NULL::text, question_id, question_version, scale, direction,
            NULL::text, NULL::smallint, {}
         FROM ({}) AS parts
         GROUP BY site, touchpoint, question_id, question_version, scale, direction",
        sums(RollupTable::TouchpointDays),
        parts.join(" UNION ALL "),
    );
    Ok(merged(read_groups(c, &sql, &params).await?))
}

/// Counts per weekday and hour of the day: a place's whole months from `hour_counts`, the
/// other days from the per-hour rows.
async fn weekday_hours(
    c: &impl GenericClient,
    q: &CountQuery,
) -> Result<Vec<GroupCounts>, StorageError> {
    match Months::of_heatmap(q) {
        Some(months) => by_months(c, q, &months, true).await,
        None => weekday_hours_by_date(c, q).await,
    }
}

/// A place's hours of the day (and, with `weekdays`, its weekdays): whole months from
/// `hour_counts`, the days before and after them from the per-hour rows, added up.
async fn by_months(
    c: &impl GenericClient,
    q: &CountQuery,
    months: &Months,
    weekdays: bool,
) -> Result<Vec<GroupCounts>, StorageError> {
    let f = &q.filter;
    let mut params = Params::default();
    let mut conditions = params.filter(&f.place_only());
    match (&months.first, &months.last) {
        // Each month looked up by (month, site), as the key is ordered, not the whole range.
        (Some(first), Some(last)) => conditions.push(format!(
            "month = ANY(ARRAY(SELECT to_char(m, 'YYYY-MM') FROM generate_series(
                to_date({}, 'YYYY-MM'), to_date({}, 'YYYY-MM'), interval '1 month') AS m))",
            params.push(first.clone()),
            params.push(last.clone()),
        )),
        _ => conditions.extend(month_bounds(&mut params, months)),
    }
    let (place, grouped) = match q.group {
        Grouping::Question => ("NULL::text, NULL::text", ""),
        Grouping::Site => ("site, NULL::text", ", site"),
        _ => ("site, touchpoint", ", site, touchpoint"),
    };
    let weekday = if weekdays { ", weekday" } else { "" };
    let sql = format!(
        "SELECT {place}, NULL::text, question_id, question_version, scale, direction, NULL::text,
            local_hour, {}{weekday}
         FROM hour_counts {}
         GROUP BY question_id, question_version, scale, direction, local_hour{weekday}{grouped}",
        sums(RollupTable::TouchpointDays),
        filtered(&conditions),
    );
    let mut groups = read_groups(c, &sql, &params).await?;
    for part in months.edges(q) {
        groups.extend(if weekdays {
            weekday_hours_by_date(c, &part).await?
        } else {
            from_table(c, &part).await?
        });
    }
    Ok(merged(groups))
}

/// `month` from the first whole month to the last, as far as either is known.
fn month_bounds(params: &mut Params, months: &Months) -> Vec<String> {
    let first = (months.first.clone()).map(|m| format!("month >= {}", params.push(m)));
    let last = (months.last.clone()).map(|m| format!("month <= {}", params.push(m)));
    first.into_iter().chain(last).collect()
}

/// Counts per weekday and hour of the day, from the per-hour rows.
async fn weekday_hours_by_date(
    c: &impl GenericClient,
    q: &CountQuery,
) -> Result<Vec<GroupCounts>, StorageError> {
    let layout = Layout::of(&CountQuery {
        time: TimeSplit::Hour,
        ..q.clone()
    });
    let shown = Layout::shown;
    let mut params = Params::default();
    let conditions = params.filter(&q.filter);
    let sql = format!(
        "SELECT {}, {}, {}, question_id, question_version, scale, direction, NULL, local_hour,
            {}, extract(isodow FROM local_date::date)::smallint AS weekday
         FROM answer_counts {} GROUP BY {}, weekday",
        shown(layout.site, "site"),
        shown(layout.touchpoint, "touchpoint"),
        shown(layout.device, "device_id"),
        sums(RollupTable::Fine),
        filtered(&conditions),
        layout.key.join(", "),
    );
    Ok(merged(read_groups(c, &sql, &params).await?))
}

/// Runs a counting query whose columns are site, touchpoint, device, question id and
/// version, scale, direction, date, hour, the counts per score 1 … 7, the suppressed taps
/// and, for a heatmap, the weekday.
async fn read_groups(
    c: &impl GenericClient,
    sql: &str,
    params: &Params,
) -> Result<Vec<GroupCounts>, StorageError> {
    let rows = c.query(sql, &params.refs()).await.map_err(pg_error)?;
    rows.iter().map(group).collect()
}

fn group(r: &Row) -> Result<GroupCounts, StorageError> {
    let scale: Scale = named(r, 5)?;
    let counts = (0..usize::from(scale.max()))
        .map(|i| unsigned(r.get(9 + i)))
        .collect();
    let small = |i: usize| {
        r.get::<_, Option<i16>>(i)
            .map(|n| u8::try_from(n).unwrap_or(0))
    };
    Ok(GroupCounts {
        site: r.get(0),
        touchpoint: r.get(1),
        device: r.get(2),
        question_id: r.get(3),
        question_version: u32::try_from(r.get::<_, i32>(4)).unwrap_or(0),
        scale,
        direction: named(r, 6)?,
        date: r.get(7),
        hour: small(8),
        weekday: if r.len() > 17 { small(17) } else { None },
        counts,
        suppressed: unsigned(r.get(16)),
    })
}

/// Counted (not suppressed) answers per question and reason, most given first.
pub async fn reason_counts(
    c: &impl GenericClient,
    f: &AnswerFilter,
) -> Result<Vec<ReasonCount>, StorageError> {
    let mut params = Params::default();
    let mut conditions = params.filter(f);
    conditions.extend(["reason <> ''".to_owned(), "NOT suppressed".to_owned()]);
    let sql = format!(
        "SELECT question_id, question_version, scale, direction, reason, sum(n)::bigint
         FROM answer_counts {}
         GROUP BY question_id, question_version, scale, direction, reason",
        filtered(&conditions)
    );
    let rows = c.query(&sql, &params.refs()).await.map_err(pg_error)?;
    let mut given = Given::new();
    for r in &rows {
        let key = (
            r.get(0),
            u32::try_from(r.get::<_, i32>(1)).unwrap_or(0),
            named(r, 2)?,
            named(r, 3)?,
            r.get(4),
        );
        *given.entry(key).or_default() += unsigned(r.get(5));
    }
    Ok(ranked(given))
}
