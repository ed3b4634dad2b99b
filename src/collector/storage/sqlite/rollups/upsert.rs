//! Adding counts to a rollup table's rows, many rows per statement: a row of a new key is
//! inserted; to a row whose key is there, its counts are added.

use std::sync::OnceLock;

use rusqlite::{Connection, ToSql};

/// Rows written by one statement at most. A group's rows go in statements of 32, 16, 8, …
/// rows: a few statements per table and group instead of one per row, and at most six
/// statement texts per table kept prepared.
const ROWS_AT_ONCE: usize = 32;
/// How many statement sizes there are (32, 16, 8, 4, 2, 1 rows).
const SIZES: usize = ROWS_AT_ONCE.ilog2() as usize + 1;

/// A rollup table: its name, the columns that find a row, and the columns counted in it
/// (each a comma-separated list).
pub struct Table {
    name: &'static str,
    key: &'static str,
    counts: &'static str,
    /// Its statements' text by size (the index is the log2 of the rows), made once.
    sql: [OnceLock<String>; SIZES],
}

impl Table {
    pub const fn new(name: &'static str, key: &'static str, counts: &'static str) -> Table {
        Table {
            name,
            key,
            counts,
            sql: [const { OnceLock::new() }; SIZES],
        }
    }

    /// The parameters of one row: its key columns, then its counts.
    pub fn width(&self) -> usize {
        self.key.split(',').count() + self.counts.split(',').count()
    }

    /// Adds rows to the table: `params` holds each row's key columns, then its counts,
    /// row after row, rows in the table's key order (pages are then visited in order).
    pub fn add(&self, c: &Connection, params: &[&dyn ToSql]) -> rusqlite::Result<()> {
        let width = self.width();
        let mut rest = params;
        while rest.len() >= width {
            let rows = rest.len() / width;
            let log = rows.ilog2().min(ROWS_AT_ONCE.ilog2());
            let (these, after) = rest.split_at((1 << log) * width);
            let sql = self.sql[log as usize].get_or_init(|| self.statement(1 << log));
            c.prepare_cached(sql)?.execute(these)?;
            rest = after;
        }
        if rest.is_empty() {
            Ok(())
        } else {
            // A row cut short: the group fails whole rather than count it wrong.
            Err(rusqlite::Error::InvalidParameterCount(rest.len(), width))
        }
    }

    /// The statement that adds `rows` rows.
    fn statement(&self, rows: usize) -> String {
        let width = self.width();
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                let places: Vec<String> =
                    (1..=width).map(|i| format!("?{}", r * width + i)).collect();
                format!("({})", places.join(", "))
            })
            .collect();
        let add: Vec<String> = self
            .counts
            .split(',')
            .map(|n| format!("{0} = {0} + excluded.{0}", n.trim()))
            .collect();
        format!(
            "INSERT INTO {} ({}, {}) VALUES {} ON CONFLICT DO UPDATE SET {}",
            self.name,
            self.key,
            self.counts,
            tuples.join(", "),
            add.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static COUNTS: Table = Table::new("counts", "k", "n");

    fn database() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE counts (k INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
            .unwrap();
        c
    }

    #[test]
    fn every_row_is_added_whatever_the_number_of_rows() {
        let c = database();
        let sizes = [1usize, 2, 3, 31, 32, 33, 45, 100];
        for rows in sizes {
            let keys: Vec<i64> = (0..rows as i64).collect();
            let params: Vec<&dyn ToSql> = keys
                .iter()
                .flat_map(|k| [k as &dyn ToSql, &1i64 as &dyn ToSql])
                .collect();
            COUNTS.add(&c, &params).unwrap();
        }
        for k in 0..100i64 {
            let n: i64 = c
                .query_row("SELECT n FROM counts WHERE k = ?1", [k], |r| r.get(0))
                .unwrap();
            let added = sizes.iter().filter(|&&rows| rows as i64 > k).count() as i64;
            assert_eq!(n, added, "key {k}");
        }
    }

    #[test]
    fn a_row_cut_short_is_refused() {
        let c = database();
        let params: [&dyn ToSql; 3] = [&1i64, &1i64, &2i64];
        assert!(COUNTS.add(&c, &params).is_err());
    }
}
