//! The only code that touches the terminal's SQLite database: opening it durably (WAL with
//! `synchronous=FULL`, checked on every connection), recording answers with their
//! per-device sequence number, and reading them back.

mod follow_up;
mod medium;
mod schema;
mod snapshot;
mod sync_state;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior, params};

use crate::config::Device;
use crate::survey::Answer;

pub use crate::recording::{Closed, OpenFollowUp, Recorded, Request};
use follow_up::{Earlier, earlier_press};
pub use medium::{Volatile, volatile};
pub use schema::migrations;
pub use snapshot::{Snapshot, SyncRecord};
pub use sync_state::SyncCounts;
pub use writer::{Reply, StoreWriter};

/// The last sequence number handed out: the highest held (the `seq` index's last entry), or
/// the counter, which pruning raises to the highest it deletes; 0 before the first answer.
const LAST_SEQ: &str = "SELECT max(coalesce((SELECT max(seq) FROM answers), 0),
    coalesce((SELECT value FROM counters WHERE name = 'answer_seq'), 0))";

/// An open, durable answer store.
pub struct Store {
    conn: Connection,
    device: Device,
    boot_id: String,
}

/// An answer as stored, for status screens and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAnswer {
    pub id: String,
    pub seq: i64,
    pub boot_id: String,
    pub device_id: String,
    pub device_time: String,
    pub clock_trusted: bool,
    pub question_id: String,
    pub question_version: u32,
    pub language: String,
    pub scale: String,
    pub direction: String,
    pub score: u8,
    pub low: bool,
    pub reason: Option<String>,
    pub follow_up_open: bool,
    pub suppressed: bool,
    pub sync_state: String,
    /// `touch` or `button`.
    pub input: String,
    /// For a button press: the box, its session and its press number.
    pub box_press: Option<(String, u32, u32)>,
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the database {path} would not switch to {wanted} (it reports {found})")]
    Pragma {
        path: PathBuf,
        wanted: &'static str,
        found: String,
    },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error("the disk holding the database is full: {0}")]
    DiskFull(rusqlite::Error),
    #[error("the database write failed (check the disk): {0}")]
    Write(rusqlite::Error),
    #[error("the answer store thread has stopped")]
    Stopped,
    #[error("the database {0} does not exist yet (the terminal creates it when it first starts)")]
    Missing(PathBuf),
    #[error("cannot read the database: {0}")]
    Read(rusqlite::Error),
    #[error(
        "the database {path} lies on {}, mounted at {}: answers kept there are lost at the next power cut",
        .on.what, .on.mount.display()
    )]
    Volatile { path: PathBuf, on: Volatile },
}

impl StoreError {
    /// Whether this is another connection opening the same new file at the same moment.
    fn is_start_up_race(&self) -> bool {
        match self {
            StoreError::Open { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            // The loser of the race finds a table the winner just created.
            StoreError::Migrate(rusqlite_migration::Error::RusqliteError { err, .. }) => matches!(
                err.sqlite_error_code(),
                Some(
                    rusqlite::ErrorCode::DatabaseBusy
                        | rusqlite::ErrorCode::DatabaseLocked
                        | rusqlite::ErrorCode::Unknown
                )
            ),
            _ => false,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            StoreError::DiskFull(e)
        } else {
            StoreError::Write(e)
        }
    }
}

/// Reads a text column into a serde type with a string form (UUID, scale, direction).
pub fn text_column<T: serde::de::DeserializeOwned>(
    r: &rusqlite::Row,
    column: usize,
) -> rusqlite::Result<T> {
    let text: String = r.get(column)?;
    serde_json::from_value(serde_json::Value::String(text)).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into())
    })
}

/// The value `PRAGMA synchronous` reports for FULL.
pub const SYNCHRONOUS_FULL: i64 = 2;

/// Opens an SQLite file for durable writes, creating it and its folder if needed: a busy
/// timeout, WAL with `synchronous=FULL`, and a check that SQLite says so. Every connection
/// that writes answers, the terminal's and the collector's, is opened here.
pub fn open_durable(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
            path: dir.to_owned(),
            source,
        })?;
    }
    let open_err = |source| StoreError::Open {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(open_err)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Pragma {
            path: path.to_owned(),
            wanted: "journal_mode=WAL",
            found: mode,
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(open_err)?;
    let sync: i64 = conn
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .map_err(open_err)?;
    if sync != SYNCHRONOUS_FULL {
        return Err(StoreError::Pragma {
            path: path.to_owned(),
            wanted: "synchronous=FULL",
            found: sync.to_string(),
        });
    }
    Ok(conn)
}

impl Store {
    /// Opens (creating if needed) the database at `path`, makes it durable and migrates it.
    ///
    /// The store thread and the uploader open the same file at start-up. On a new file both
    /// switch it to WAL and create the schema at once; SQLite then refuses one of them
    /// ("database is locked", or a table that exists), which tries again shortly after.
    pub fn open(path: &Path, device: &Device) -> Result<Store, StoreError> {
        const ATTEMPTS: u32 = 50;
        let mut attempt = 1;
        loop {
            match Store::try_open(path, device) {
                Err(e) if attempt < ATTEMPTS && e.is_start_up_race() => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                result => return result,
            }
        }
    }

    fn try_open(path: &Path, device: &Device) -> Result<Store, StoreError> {
        let mut conn = open_durable(path)?;
        migrations().to_latest(&mut conn)?;
        Ok(Store {
            conn,
            device: device.clone(),
            boot_id: crate::clock::boot_id(),
        })
    }

    /// The connection's `PRAGMA synchronous` as SQLite reports it now.
    pub fn synchronous(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))?)
    }

    /// Stores one answer in its own transaction. When this returns `Ok`, the answer is on
    /// disk and may be confirmed to the visitor.
    /// A button press that was stored before (as a score, or as the press that chose a
    /// reason) is not stored again: the result says `resent`.
    pub fn record(&mut self, a: &Answer) -> Result<Recorded, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let press = a.input.button_press();
        if let Some(p) = press {
            let resent = |id, seq, suppressed, follow_up_open| Recorded {
                id,
                seq,
                resent: true,
                suppressed,
                follow_up_open,
            };
            match earlier_press(&tx, p)? {
                Some(Earlier::Score {
                    id,
                    seq,
                    suppressed,
                    follow_up_open,
                }) => return Ok(resent(id, seq, suppressed, follow_up_open)),
                Some(Earlier::Reason { id, seq }) => return Ok(resent(id, seq, false, false)),
                None => {}
            }
        }
        // The next after the last handed out: no gaps, no repeats, and no page written
        // for it per answer.
        let last: i64 = tx.prepare_cached(LAST_SEQ)?.query_row([], |r| r.get(0))?;
        let seq = last + 1;
        tx.prepare_cached(
            "INSERT INTO answers (id, seq, boot_id, device_id, site, touchpoint, device_time,
                device_time_ms, clock_trusted, question_id, question_version, language, scale,
                direction, score, low, reason, follow_up_open, suppressed, input, recorded_at_ms,
                box_id, box_session, box_seq, box_button, boot_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, NULL,
                ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
        )?
        .execute(params![
            a.id.to_string(),
            seq,
            self.boot_id,
            self.device.id,
            self.device.site,
            self.device.touchpoint,
            a.time.local,
            a.time.unix_ms,
            a.time.trusted,
            a.question_id,
            a.question_version,
            a.language,
            a.scale.as_str(),
            a.scale.direction().as_str(),
            a.score,
            a.low,
            a.follow_up_open,
            a.suppressed,
            a.input.as_str(),
            jiff::Timestamp::now().as_millisecond(),
            press.map(|p| &p.box_id),
            press.map(|p| p.session),
            press.map(|p| p.seq),
            press.map(|p| p.button),
            a.time.boot_ms,
        ])?;
        tx.commit()?;
        Ok(Recorded {
            id: a.id,
            seq,
            resent: false,
            suppressed: a.suppressed,
            follow_up_open: false,
        })
    }

    /// A small durable write that proves the disk works again after a failure.
    pub fn probe(&mut self) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO probe (id, at_ms) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms",
            [jiff::Timestamp::now().as_millisecond()],
        )?;
        Ok(())
    }

    /// Every stored answer in sequence order.
    pub fn answers(&self) -> Result<Vec<StoredAnswer>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, seq, boot_id, device_id, device_time, clock_trusted, question_id,
                question_version, language, scale, direction, score, low, reason,
                follow_up_open, suppressed, sync_state, input, box_id, box_session, box_seq
             FROM answers ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredAnswer {
                id: r.get(0)?,
                seq: r.get(1)?,
                boot_id: r.get(2)?,
                device_id: r.get(3)?,
                device_time: r.get(4)?,
                clock_trusted: r.get(5)?,
                question_id: r.get(6)?,
                question_version: r.get(7)?,
                language: r.get(8)?,
                scale: r.get(9)?,
                direction: r.get(10)?,
                score: r.get(11)?,
                low: r.get(12)?,
                reason: r.get(13)?,
                follow_up_open: r.get(14)?,
                suppressed: r.get(15)?,
                sync_state: r.get(16)?,
                input: r.get(17)?,
                box_press: match r.get::<_, Option<String>>(18)? {
                    Some(id) => Some((id, r.get(19)?, r.get(20)?)),
                    None => None,
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The last sequence number handed out (0 before the first answer).
    pub fn last_seq(&self) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(LAST_SEQ, [], |r| r.get(0))?)
    }

    /// Runs SQLite's own consistency check; "ok" when the file is sound.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}
