//! `ces-collector verify` on PostgreSQL: every rollup table recounted from the stored
//! answers, in one snapshot (the caller's transaction).

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::connection::unsigned;
use super::pg_error;
use crate::collector::storage::rollup::fine_key;
use crate::collector::storage::{CountDifference, StorageError, Verification};

/// Differences listed at most.
const MOST: usize = 1000;

/// The score columns of the coarser rollups.
const SCORES: [&str; 8] = ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "suppressed"];

/// Recounts the answers as each rollup table counts them, and lists the rows that differ.
pub async fn verify_counts(c: &impl GenericClient) -> Result<Verification, StorageError> {
    let answers: i64 = c
        .query_one("SELECT count(*) FROM answers", &[])
        .await
        .map_err(pg_error)?
        .get(0);
    let rows: i64 = c
        .query_one(
            "SELECT (SELECT count(*) FROM answer_counts) + (SELECT count(*) FROM day_counts)
                + (SELECT count(*) FROM site_day_counts) + (SELECT count(*) FROM month_counts)
                + (SELECT count(*) FROM hour_counts)
                + (SELECT count(*) FROM reason_month_counts)",
            &[],
        )
        .await
        .map_err(pg_error)?
        .get(0);
    let question = [
        ("question_id", "question_id"),
        ("question_version", "question_version"),
        ("scale", "scale"),
        ("direction", "direction"),
    ];
    let month = ("month", "substr(local_date, 1, 7)");
    let place = [("site", "site"), ("touchpoint", "touchpoint")];
    let weekday = ("weekday", "extract(isodow FROM local_date::date)::smallint");
    let fine: Vec<(&str, &str)> = [("local_date", "local_date")]
        .into_iter()
        .chain(place)
        .chain([("device_id", "device_id")])
        .chain(question)
        .chain([
            ("local_hour", "local_hour"),
            ("score", "score"),
            ("suppressed", "suppressed"),
            ("reason", "coalesce(reason, '')"),
        ])
        .collect();
    let reasons: Vec<(&str, &str)> = place
        .into_iter()
        .chain([month])
        .chain(question)
        .chain([("reason", "reason")])
        .collect();
    let tables: [Recount; 6] = [
        ("answer_counts", fine, Counted::Rows(None)),
        (
            "day_counts",
            [("local_date", "local_date")]
                .into_iter()
                .chain(place)
                .chain(question)
                .collect(),
            Counted::Scores,
        ),
        (
            "site_day_counts",
            [("local_date", "local_date"), ("site", "site")]
                .into_iter()
                .chain(question)
                .collect(),
            Counted::Scores,
        ),
        (
            "month_counts",
            [month].into_iter().chain(place).chain(question).collect(),
            Counted::Scores,
        ),
        (
            "hour_counts",
            [month]
                .into_iter()
                .chain(place)
                .chain(question)
                .chain([weekday, ("local_hour", "local_hour")])
                .collect(),
            Counted::Scores,
        ),
        (
            "reason_month_counts",
            reasons,
            Counted::Rows(Some("coalesce(reason, '') <> '' AND NOT suppressed")),
        ),
    ];
    let mut differences = Vec::new();
    for (table, key, counted) in &tables {
        if differences.len() >= MOST {
            break;
        }
        differences.extend(table_differences(c, table, key, *counted).await?);
    }
    differences.truncate(MOST);
    Ok(Verification {
        answers: unsigned(answers),
        rollup_rows: unsigned(rows),
        differences,
    })
}

/// A rollup table, its key (each column with the expression that gives it from an answer)
/// and what it counts.
type Recount<'a> = (&'a str, Vec<(&'a str, &'a str)>, Counted);

/// What a rollup table counts per row.
#[derive(Clone, Copy)]
enum Counted {
    /// Answers (`n`), those matching the condition when one is given.
    Rows(Option<&'static str>),
    /// Counted answers per score and suppressed taps (`n1` … `n7`, `suppressed`).
    Scores,
}

/// Rows of `table`, keyed by `key` (each column with the expression that gives it from an
/// answer), that differ from a recount of the answers: one difference per count column
/// that is off.
async fn table_differences(
    c: &impl GenericClient,
    table: &str,
    key: &[(&str, &str)],
    counted_by: Counted,
) -> Result<Vec<CountDifference>, StorageError> {
    let columns: Vec<&str> = key.iter().map(|(column, _)| *column).collect();
    let key_values = key
        .iter()
        .map(|(column, expression)| format!("{expression} AS {column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (counts, recount, condition): (Vec<&str>, String, &str) = match counted_by {
        Counted::Rows(condition) => (
            vec!["n"],
            "count(*) AS n".to_owned(),
            condition.unwrap_or("TRUE"),
        ),
        Counted::Scores => (
            SCORES.to_vec(),
            (1..=7)
                .map(|s| format!("count(*) FILTER (WHERE score = {s} AND NOT suppressed) AS n{s}"))
                .chain(["count(*) FILTER (WHERE suppressed) AS suppressed".to_owned()])
                .collect::<Vec<_>>()
                .join(", "),
            "TRUE",
        ),
    };
    let same = columns
        .iter()
        .map(|k| format!("r.{k} = t.{k}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let side = |s: &str| {
        columns
            .iter()
            .map(|k| format!("{s}.{k}::text"))
            .chain(
                counts
                    .iter()
                    .map(|n| format!("coalesce({s}.{n}, 0)::bigint")),
            )
            .collect::<Vec<_>>()
            .join(", ")
    };
    let differs = counts
        .iter()
        .map(|n| format!("r.{n} IS DISTINCT FROM t.{n}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let sql = format!(
        "WITH r AS (SELECT {key_values}, {recount} FROM answers WHERE {condition}
            GROUP BY {keys})
         SELECT r.{first} IS NOT NULL, {r}, {t}
         FROM r FULL OUTER JOIN {table} t ON {same}
         WHERE {differs}
         LIMIT {MOST}",
        keys = columns.join(", "),
        first = columns[0],
        r = side("r"),
        t = side("t"),
    );
    let rows = c.query(&sql, &[]).await.map_err(pg_error)?;
    let width = columns.len() + counts.len();
    let mut differences = Vec::new();
    for row in &rows {
        let key = found_key(row, width, columns.len());
        for (i, column) in counts.iter().enumerate() {
            let counted = unsigned(row.get(1 + columns.len() + i));
            let stored = unsigned(row.get(1 + width + columns.len() + i));
            if counted != stored {
                let key = match counted_by {
                    Counted::Rows(None) => fine_key(&key),
                    Counted::Rows(Some(_)) => format!("{table} {}", key.join(" ")),
                    Counted::Scores => format!("{table} {} {column}", key.join(" ")),
                };
                differences.push(CountDifference {
                    key,
                    stored,
                    counted,
                });
            }
        }
    }
    Ok(differences)
}

/// The key of a difference row (whether the recount has it, then the recount's columns and
/// the table's, each side `width` wide): from whichever side has the row.
fn found_key(row: &Row, width: usize, key_len: usize) -> Vec<String> {
    let base = if row.get::<_, bool>(0) { 1 } else { 1 + width };
    (0..key_len)
        .map(|i| row.get::<_, Option<String>>(base + i).unwrap_or_default())
        .collect()
}
