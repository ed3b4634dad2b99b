//! The follow-up reasons given after low scores, counted per question from `answer_counts`:
//! a place's rows looked up day by day, like its score counts.

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::super::read::filter_conditions;
use super::read::place_days;
use crate::collector::storage::{AnswerFilter, ReasonCount, StorageError};
use crate::store::text_column;

/// Counted (not suppressed) answers per question and reason, most given first.
pub fn reason_counts(c: &Connection, f: &AnswerFilter) -> Result<Vec<ReasonCount>, StorageError> {
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
        "{days} SELECT question_id, question_version, scale, direction, reason, sum(n) AS given
         FROM {from} WHERE {}
         GROUP BY question_id, question_version, scale, direction, reason
         ORDER BY question_id, question_version, scale, direction, given DESC, reason",
        conditions.join(" AND ")
    );
    let mut stmt = c.prepare(&sql)?;
    let mut found = stmt.query(params_from_iter::<Vec<Value>>(values))?;
    let mut reasons = Vec::new();
    while let Some(r) = found.next()? {
        reasons.push(ReasonCount {
            question_id: r.get(0)?,
            question_version: r.get(1)?,
            scale: text_column(r, 2)?,
            direction: text_column(r, 3)?,
            reason: r.get(4)?,
            n: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
        });
    }
    Ok(reasons)
}
