//! `ces-collector verify`: every rollup table recounted from the stored answers.

use rusqlite::Connection;

use crate::collector::storage::rollup::fine_key;
use crate::collector::storage::{CountDifference, StorageError, Verification};

/// The columns that key an `answer_counts` row.
const COUNT_KEY: &str = "local_date, site, touchpoint, device_id, question_id, question_version,
    scale, direction, local_hour, score, suppressed, reason";

/// Recounts the answers as each rollup table counts them, and lists the rows that differ.
pub fn verify_counts(c: &Connection) -> Result<Verification, StorageError> {
    let answers: i64 = c.query_row("SELECT count(*) FROM answers", [], |r| r.get(0))?;
    let mut rows = 0i64;
    for table in [
        "answer_counts",
        "day_counts",
        "site_day_counts",
        "month_counts",
        "hour_counts",
        "reason_month_counts",
    ] {
        let n: i64 = c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        rows += n;
    }
    let mut differences = fine_differences(c)?;
    let question = [
        ("question_id", "question_id"),
        ("question_version", "question_version"),
        ("scale", "scale"),
        ("direction", "direction"),
    ];
    let tables: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "day_counts",
            [
                ("local_date", "local_date"),
                ("site", "site"),
                ("touchpoint", "touchpoint"),
            ]
            .into_iter()
            .chain(question)
            .collect(),
        ),
        (
            "site_day_counts",
            [("local_date", "local_date"), ("site", "site")]
                .into_iter()
                .chain(question)
                .collect(),
        ),
        (
            "month_counts",
            [
                ("month", "substr(local_date, 1, 7)"),
                ("site", "site"),
                ("touchpoint", "touchpoint"),
            ]
            .into_iter()
            .chain(question)
            .collect(),
        ),
        (
            "hour_counts",
            [
                ("month", "substr(local_date, 1, 7)"),
                ("site", "site"),
                ("touchpoint", "touchpoint"),
            ]
            .into_iter()
            .chain(question)
            .chain([
                ("weekday", "CAST(strftime('%u', local_date) AS INTEGER)"),
                ("local_hour", "local_hour"),
            ])
            .collect(),
        ),
    ];
    for (table, key) in &tables {
        if differences.len() >= 1000 {
            break;
        }
        differences.extend(column_differences(c, table, key)?);
    }
    if differences.len() < 1000 {
        differences.extend(reason_differences(c)?);
    }
    differences.truncate(1000);
    Ok(Verification {
        answers: u64::try_from(answers).unwrap_or(0),
        rollup_rows: u64::try_from(rows).unwrap_or(0),
        differences,
    })
}

/// `answer_counts` rows that differ from a recount of the answers.
fn fine_differences(c: &Connection) -> Result<Vec<CountDifference>, StorageError> {
    let same = COUNT_KEY
        .split(',')
        .map(|k| format!("r.{0} IS c.{0}", k.trim()))
        .collect::<Vec<_>>()
        .join(" AND ");
    let key = |side: &str| {
        COUNT_KEY
            .split(',')
            .map(|k| format!("{side}.{}", k.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut stmt = c.prepare(&format!(
        "WITH recount AS (
            SELECT local_date, site, touchpoint, device_id, question_id, question_version,
                scale, direction, local_hour, score, suppressed, coalesce(reason, '') AS reason,
                count(*) AS n
            FROM answers GROUP BY {COUNT_KEY_BY}
         )
         SELECT {r}, r.n, {c}, c.n
         FROM recount r FULL OUTER JOIN answer_counts c ON {same}
         WHERE r.n IS NOT c.n
         LIMIT 1000",
        COUNT_KEY_BY = COUNT_KEY.replace("reason", "coalesce(reason, '')"),
        r = key("r"),
        c = key("c"),
    ))?;
    let mut found = stmt.query([])?;
    let mut differences = Vec::new();
    while let Some(row) = found.next()? {
        // The key from whichever side has the row.
        let base = if row.get::<_, Option<String>>(0)?.is_some() {
            0
        } else {
            13
        };
        let parts = (0..12)
            .map(|i| column_text(row, base + i))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let key = fine_key(&parts);
        differences.push(CountDifference {
            key,
            stored: count(row, 25)?,
            counted: count(row, 12)?,
        });
    }
    Ok(differences)
}

/// `reason_month_counts` rows that differ from a recount of the answers.
fn reason_differences(c: &Connection) -> Result<Vec<CountDifference>, StorageError> {
    const KEY: [&str; 8] = [
        "site",
        "touchpoint",
        "month",
        "question_id",
        "question_version",
        "scale",
        "direction",
        "reason",
    ];
    let same = KEY
        .iter()
        .map(|k| format!("r.{k} IS t.{k}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let side = |s: &str| {
        KEY.iter()
            .map(|k| format!("{s}.{k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut stmt = c.prepare(&format!(
        "WITH recount AS (
            SELECT site, touchpoint, substr(local_date, 1, 7) AS month, question_id,
                question_version, scale, direction, reason, count(*) AS n
            FROM answers WHERE coalesce(reason, '') != '' AND NOT suppressed
            GROUP BY site, touchpoint, substr(local_date, 1, 7), question_id,
                question_version, scale, direction, reason
         )
         SELECT {r}, r.n, {t}, t.n
         FROM recount r FULL OUTER JOIN reason_month_counts t ON {same}
         WHERE r.n IS NOT t.n
         LIMIT 1000",
        r = side("r"),
        t = side("t"),
    ))?;
    let width = KEY.len() + 1;
    let mut found = stmt.query([])?;
    let mut differences = Vec::new();
    while let Some(row) = found.next()? {
        let key = found_key(row, width, KEY.len())?;
        differences.push(CountDifference {
            key: format!("reason_month_counts {}", key.join(" ")),
            stored: count(row, width + KEY.len())?,
            counted: count(row, KEY.len())?,
        });
    }
    Ok(differences)
}

/// Rows of a table with score columns, keyed by `key` (each column with the expression
/// that gives it from an answer), that differ from a recount of the answers: one difference
/// per score column (or the suppressed one) that is off.
fn column_differences(
    c: &Connection,
    table: &str,
    key: &[(&str, &str)],
) -> Result<Vec<CountDifference>, StorageError> {
    let key_columns: Vec<&str> = key.iter().map(|(column, _)| *column).collect();
    let keys = key_columns.join(", ");
    let key_values = key
        .iter()
        .map(|(column, expression)| format!("{expression} AS {column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let same = key_columns
        .iter()
        .map(|k| format!("r.{k} IS t.{k}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let columns = ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "suppressed"];
    let recount = (1..=7)
        .map(|s| format!("sum(score = {s} AND NOT suppressed) AS n{s}"))
        .chain(["sum(suppressed) AS suppressed".to_owned()])
        .collect::<Vec<_>>()
        .join(", ");
    let side = |s: &str| {
        key_columns
            .iter()
            .map(|k| format!("{s}.{k}"))
            .chain(columns.iter().map(|n| format!("{s}.{n}")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let differs = columns
        .iter()
        .map(|n| format!("r.{n} IS NOT t.{n}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let mut stmt = c.prepare(&format!(
        "WITH recount AS (SELECT {key_values}, {recount} FROM answers GROUP BY {keys})
         SELECT {r}, {t}
         FROM recount r FULL OUTER JOIN {table} t ON {same}
         WHERE {differs}
         LIMIT 1000",
        r = side("r"),
        t = side("t"),
    ))?;
    let width = key_columns.len() + columns.len();
    let mut found = stmt.query([])?;
    let mut differences = Vec::new();
    while let Some(row) = found.next()? {
        let key = found_key(row, width, key_columns.len())?;
        for (i, column) in columns.iter().enumerate() {
            let counted = count(row, key_columns.len() + i)?;
            let stored = count(row, width + key_columns.len() + i)?;
            if counted != stored {
                differences.push(CountDifference {
                    key: format!("{table} {} {column}", key.join(" ")),
                    stored,
                    counted,
                });
            }
        }
    }
    Ok(differences)
}

/// The key of a difference row (recount columns, then the table's, each side `width`
/// wide): from whichever side has the row.
fn found_key(row: &rusqlite::Row, width: usize, key_len: usize) -> rusqlite::Result<Vec<String>> {
    let base = if row.get::<_, Option<String>>(0)?.is_some() {
        0
    } else {
        width
    };
    (0..key_len).map(|i| column_text(row, base + i)).collect()
}

fn column_text(row: &rusqlite::Row, i: usize) -> rusqlite::Result<String> {
    Ok(match row.get_ref(i)? {
        rusqlite::types::ValueRef::Integer(v) => v.to_string(),
        rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        _ => String::new(),
    })
}

fn count(row: &rusqlite::Row, i: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(row.get::<_, Option<i64>>(i)?.unwrap_or(0)).unwrap_or(0))
}
