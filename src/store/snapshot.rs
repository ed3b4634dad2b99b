//! What `ces-kiosk status` and `doctor` read of the terminal database, from another process
//! while the terminal runs: a read-only connection that never creates, migrates or locks
//! anything for long. Also the uploader's record of how the upload last stood.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::{Store, StoreError, SyncCounts};

/// How the upload last stood, as the uploader recorded it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncRecord {
    /// `unknown`, `online`, `offline` or `unauthorized`.
    pub link: String,
    pub last_success_ms: Option<i64>,
    pub last_heartbeat_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// The database as `status` sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub counts: SyncCounts,
    /// Answers stored in all (counted or suppressed, synced or not, not yet pruned).
    pub answers: u64,
    /// When the collector last confirmed an answer (Unix ms).
    pub last_synced_ms: Option<i64>,
    /// `None` before the uploader first recorded anything.
    pub sync: Option<SyncRecord>,
}

impl Store {
    /// Records how the upload stands (the uploader calls this when it changed).
    pub fn save_sync_record(&mut self, r: &SyncRecord) -> Result<(), StoreError> {
        save_record(&self.conn, r)
    }
}

/// Writes the one row of how the upload stands, within whatever transaction `conn` is in.
pub(super) fn save_record(conn: &Connection, r: &SyncRecord) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO sync_status (id, link, last_success_ms, last_heartbeat_ms,
                    last_error, updated_ms)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET link = ?1, last_success_ms = ?2,
                    last_heartbeat_ms = ?3, last_error = ?4, updated_ms = ?5",
    )?
    .execute(params![
        r.link,
        r.last_success_ms,
        r.last_heartbeat_ms,
        r.last_error,
        jiff::Timestamp::now().as_millisecond()
    ])?;
    Ok(())
}

impl Snapshot {
    /// Reads the database at `path` without changing it.
    pub fn read(path: &Path) -> Result<Snapshot, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing(path.to_owned()));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        Snapshot::of(&conn).map_err(StoreError::Read)
    }

    /// SQLite's quick check of the database at `path` (read-only): "ok" when it is sound.
    pub fn quick_check(path: &Path) -> Result<String, StoreError> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(
            |source| StoreError::Open {
                path: path.to_owned(),
                source,
            },
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .and_then(|()| conn.query_row("PRAGMA quick_check", [], |r| r.get(0)))
            .map_err(StoreError::Read)
    }

    fn of(conn: &Connection) -> rusqlite::Result<Snapshot> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let counts = super::sync_state::counts(conn)?;
        let (answers, last_synced_ms): (i64, Option<i64>) = conn.query_row(
            "SELECT count(*), (SELECT max(synced_at_ms) FROM answers WHERE sync_state = 'synced')
             FROM answers",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        // A database from before the table (the terminal not restarted since an upgrade).
        let has_table: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'sync_status'",
            [],
            |r| r.get(0),
        )?;
        let sync = if has_table {
            conn.query_row(
                "SELECT link, last_success_ms, last_heartbeat_ms, last_error FROM sync_status
                 WHERE id = 1",
                [],
                |r| {
                    Ok(SyncRecord {
                        link: r.get(0)?,
                        last_success_ms: r.get(1)?,
                        last_heartbeat_ms: r.get(2)?,
                        last_error: r.get(3)?,
                    })
                },
            )
            .optional()?
        } else {
            None
        };
        Ok(Snapshot {
            counts,
            answers: u64::try_from(answers).unwrap_or(0),
            last_synced_ms,
            sync,
        })
    }
}
