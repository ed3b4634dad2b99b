//! The follow-up reasons given after low scores, counted per question: a place's whole
//! months from `reason_month_counts`, its other days from `answer_counts` looked up day by
//! day like its score counts; the fleet's or a device's from `answer_counts`.

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::super::read::filter_conditions;
use super::months::place_conditions;
use super::read::{period_end, place_days};
use crate::collector::storage::filter::{Given, ranked};
use crate::collector::storage::rollup::Months;
use crate::collector::storage::{AnswerFilter, ReasonCount, StorageError};
use crate::store::text_column;

/// Counted (not suppressed) answers per question and reason, most given first.
pub fn reason_counts(c: &Connection, f: &AnswerFilter) -> Result<Vec<ReasonCount>, StorageError> {
    let mut given = Given::new();
    let one_place = f.site.is_some() && f.device.is_none();
    match Months::within(f).filter(|_| one_place) {
        Some(months) => {
            from_months(c, f, &months, &mut given)?;
            for (from, to) in &months.days {
                let edge = AnswerFilter {
                    from: Some(from.clone()),
                    to: Some(to.clone()),
                    ..f.clone()
                };
                from_days(c, &edge, &mut given)?;
            }
        }
        None => from_days(c, f, &mut given)?,
    }
    Ok(ranked(given))
}

/// A place's reasons over its whole months.
fn from_months(
    c: &Connection,
    f: &AnswerFilter,
    months: &Months,
    given: &mut Given,
) -> Result<(), StorageError> {
    let mut values = Vec::new();
    let stored = ("month", "reason_month_counts");
    let first = period_end(&months.first, "min", stored, &mut values);
    let last = period_end(&months.last, "max", stored, &mut values);
    let mut conditions = vec![format!("month >= {first}"), format!("month <= {last}")];
    conditions.extend(place_conditions(f, &mut values));
    let sql = format!(
        "SELECT question_id, question_version, scale, direction, reason, sum(n)
         FROM reason_month_counts WHERE {}
         GROUP BY question_id, question_version, scale, direction, reason",
        conditions.join(" AND ")
    );
    add_rows(c, &sql, values, given)
}

/// Reasons from `answer_counts`: a place's day by day, else the filter's rows.
fn from_days(c: &Connection, f: &AnswerFilter, given: &mut Given) -> Result<(), StorageError> {
    let mut values = Vec::new();
    let mut conditions = filter_conditions(f, &mut values);
    conditions.extend(["reason != ''".to_owned(), "NOT suppressed".to_owned()]);
    let (days, from) = if f.site.is_some() || f.device.is_some() {
        (
            place_days(f, &mut values, &mut conditions),
            "days CROSS JOIN answer_counts",
        )
    } else {
        (String::new(), "answer_counts")
    };
    let sql = format!(
        "{days} SELECT question_id, question_version, scale, direction, reason, sum(n)
         FROM {from} WHERE {}
         GROUP BY question_id, question_version, scale, direction, reason",
        conditions.join(" AND ")
    );
    add_rows(c, &sql, values, given)
}

/// Adds the rows of `sql` (question id, version, scale, direction, reason, how many) to
/// `given`.
fn add_rows(
    c: &Connection,
    sql: &str,
    values: Vec<Value>,
    given: &mut Given,
) -> Result<(), StorageError> {
    let mut stmt = c.prepare(sql)?;
    let mut found = stmt.query(params_from_iter(values))?;
    while let Some(r) = found.next()? {
        let key = (
            r.get(0)?,
            r.get(1)?,
            text_column(r, 2)?,
            text_column(r, 3)?,
            r.get(4)?,
        );
        *given.entry(key).or_default() += u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0);
    }
    Ok(())
}
