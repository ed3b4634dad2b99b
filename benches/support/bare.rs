//! The floor the terminal's commits are compared with: a bare SQLite insert of a row of an
//! answer's width, in WAL mode with `synchronous=FULL`, one transaction per row.

use std::path::Path;
use std::time::Instant;

/// Milliseconds of each of `n` bare inserts into a new database at `path`.
pub fn inserts(path: &Path, n: usize) -> Vec<f64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id TEXT PRIMARY KEY, seq INTEGER, device_time TEXT, score INTEGER,
                        payload TEXT)",
    )
    .unwrap();
    let mut times = vec![];
    for i in 0..n {
        let (id, time) = (uuid::Uuid::now_v7(), ces_kiosk::clock::now());
        let t = Instant::now();
        conn.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                id.to_string(),
                i as i64,
                time.local,
                (1 + i % 7) as i64,
                "returns-ease"
            ],
        )
        .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times
}
