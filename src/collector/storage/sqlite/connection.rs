//! The writer's connection to the collector's SQLite file (WAL, `synchronous=FULL`, a large
//! page cache, its own checkpoint limit), and what SQLite's errors mean for a caller.

use std::path::Path;

use rusqlite::{Connection, ErrorCode};

use crate::collector::storage::StorageError;

/// WAL pages after which the writer copies them into the database itself, as SQLite does
/// after 1,000 by default: the checkpoint thread does it long before, unless it fell behind.
pub(super) const WRITER_CHECKPOINT_PAGES: i64 = 10_000;
/// The writer's page cache in KiB (SQLite's default is 2,000).
const WRITER_CACHE_KIB: i64 = 32 * 1024;

/// Opens the write connection the way the terminal's store does (WAL, `synchronous=FULL`,
/// checked), with foreign keys on.
pub(super) fn open_writer(path: &Path) -> Result<Connection, StorageError> {
    let conn = crate::store::open_durable(path).map_err(|e| StorageError::Failed(e.to_string()))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(|e| StorageError::Failed(format!("cannot open {}: {e}", path.display())))?;
    // A group commit runs up to about forty statements (answers, devices, each rollup
    // table's rows in up to six sizes of statement): kept prepared, not prepared again for
    // every group.
    conn.set_prepared_statement_cache_capacity(128);
    // A group commit of a few hundred requests changes a few thousand pages: kept in memory
    // until the commit instead of spilled into the WAL halfway and written again.
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
        .map_err(|e| StorageError::Failed(format!("cannot open {}: {e}", path.display())))?;
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
        .map_err(|e| StorageError::Failed(format!("cannot open {}: {e}", path.display())))?;
    Ok(conn)
}

/// Maps an SQLite error to what the caller can do about it.
pub(super) fn sql_error(e: rusqlite::Error) -> StorageError {
    match e.sqlite_error_code() {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::DiskFull
            | ErrorCode::SystemIoFailure
            | ErrorCode::OutOfMemory
            | ErrorCode::CannotOpen,
        ) => StorageError::Unavailable(e.to_string()),
        Some(ErrorCode::ConstraintViolation) => StorageError::Conflict(e.to_string()),
        _ => StorageError::Failed(e.to_string()),
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        sql_error(e)
    }
}
