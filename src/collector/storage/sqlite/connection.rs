//! The connections to the collector's SQLite file: the writer's (WAL, `synchronous=FULL`, a
//! large page cache, its own checkpoint limit) and pools of read-only ones; and what SQLite's
//! errors mean for a caller.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use tokio::sync::Semaphore;

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

/// How long a read waits when SQLite reports the database busy (rare in WAL mode).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Read-only connections, with as many permits as connections. A read waits for its permit
/// asleep on the runtime and takes a blocking thread only when a connection is free for it:
/// a burst of a thousand reads queues in order and never fills the blocking pool with
/// threads that wait.
#[derive(Clone)]
pub(super) struct ReadPool {
    connections: r2d2::Pool<SqliteConnectionManager>,
    permits: Arc<Semaphore>,
}

impl ReadPool {
    /// A pool of up to `size` read-only connections to `path`, opened as needed.
    pub(super) fn open(path: &Path, size: u32) -> Result<ReadPool, StorageError> {
        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|c| c.busy_timeout(BUSY_TIMEOUT));
        let connections = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            .build(manager)
            .map_err(|e| {
                StorageError::Failed(format!("cannot open {} for reading: {e}", path.display()))
            })?;
        Ok(ReadPool {
            connections,
            permits: Arc::new(Semaphore::new(size as usize)),
        })
    }

    /// Runs a read on a pooled connection in a blocking thread.
    pub(super) async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StorageError> + Send + 'static,
    ) -> Result<R, StorageError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StorageError::Unavailable("the database is closing".into()))?;
        let connections = self.connections.clone();
        tokio::task::spawn_blocking(move || {
            let conn = connections
                .get()
                .map_err(|e| StorageError::Unavailable(format!("no database connection: {e}")))?;
            let read = f(&conn);
            drop((conn, permit));
            read
        })
        .await
        .map_err(|e| StorageError::Failed(format!("a database read stopped: {e}")))?
    }
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
