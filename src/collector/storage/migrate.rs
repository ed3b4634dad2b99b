//! `ces-collector migrate --to postgres://…`: an SQLite collector's whole state copied into
//! an empty PostgreSQL database, in one transaction, and checked: every table holds as
//! many rows as in the file, and the rollups equal a recount of the copied answers. The
//! file is opened read-only and left as it was.

use std::path::Path;

use futures_util::pin_mut;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::postgres::{PgSettings, PgStorage, pg_error, pool, schema};
use super::{Storage, StorageError, Verification, sqlite_migrations};

/// Every table of the schema, parents before the tables that refer to them, with its
/// identity column (whose sequence goes on after the copied rows), if any.
const TABLES: [(&str, Option<&str>); 20] = [
    ("devices", None),
    ("admin_tokens", None),
    ("enrolment_codes", None),
    ("survey_configs", Some("version")),
    ("answers", None),
    ("answer_counts", None),
    ("day_counts", None),
    ("site_day_counts", None),
    ("hour_counts", None),
    ("month_counts", None),
    ("reason_month_counts", None),
    ("users", Some("id")),
    ("user_sites", None),
    ("sessions", None),
    ("sites", None),
    ("live_counts", None),
    ("alert_rules", Some("id")),
    ("alerts", Some("id")),
    ("outbox", None),
    ("actions", Some("id")),
];

/// Rows read from the file at once and handed to the copy.
const CHUNK: usize = 2_000;

/// What was copied, and what checking the copy found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copied {
    /// Rows per table, in the order copied.
    pub tables: Counts,
    /// The copied rollups recounted from the copied answers.
    pub verification: Verification,
}

/// A value read from SQLite, before it is given PostgreSQL's type.
#[derive(Clone, Debug)]
enum Cell {
    Null,
    Integer(i64),
    Text(String),
}

/// Copies the collector state in the SQLite file `from` into the empty database `to`.
pub async fn sqlite_to_postgres(from: &Path, to: &PgSettings) -> Result<Copied, StorageError> {
    let source = open_source(from)?;
    let pool = pool(to)?;
    let mut client = pool.get().await.map_err(|e| {
        StorageError::Unavailable(format!("cannot connect to the PostgreSQL database: {e}"))
    })?;
    schema::migrate(&mut client).await?;
    let tx = client.transaction().await.map_err(pg_error)?;
    check_tables(&tx).await?;
    for (table, _) in TABLES {
        let n: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .map_err(pg_error)?
            .get(0);
        if n > 0 {
            return Err(StorageError::Conflict(format!(
                "the PostgreSQL database is not empty: its table {table} holds {n} rows; \
                 migrate copies into an empty database only"
            )));
        }
    }
    let mut layouts = Vec::with_capacity(TABLES.len());
    for (table, _) in TABLES {
        layouts.push(layout(&tx, table).await?);
    }
    let names = layouts.iter().map(|(names, _)| names.clone()).collect();
    let (chunks, reading) = read_source(source, names);
    let copied = copy_tables(&tx, &layouts, chunks).await;
    // The reader's own error says more than the copy's, which only saw the channel close.
    let read = reading
        .await
        .map_err(|e| StorageError::Failed(format!("reading the SQLite file stopped: {e}")))?;
    let source_counts = read?;
    let copied = copied?;
    for (table, column) in TABLES {
        if let Some(column) = column {
            tx.execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                        coalesce(max({column}), 0) + 1, false) FROM {table}"
                ),
                &[],
            )
            .await
            .map_err(pg_error)?;
        }
    }
    if copied != source_counts {
        return Err(StorageError::Failed(format!(
            "the copy does not match the file (nothing was kept): copied {copied:?}, the file \
             holds {source_counts:?}"
        )));
    }
    tx.commit().await.map_err(pg_error)?;
    drop(client);
    let verification = PgStorage::open(to).await?.verify_counts().await?;
    Ok(Copied {
        tables: copied,
        verification,
    })
}

/// The file, read-only, with its schema up to date (an older one is brought up to date by
/// starting this version's collector on it once: the copy changes nothing in the file).
fn open_source(from: &Path) -> Result<Connection, StorageError> {
    if !from.exists() {
        return Err(StorageError::NotFound(format!(
            "there is no SQLite database at {}",
            from.display()
        )));
    }
    let conn = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StorageError::Failed(format!("cannot open {}: {e}", from.display())))?;
    let pending = sqlite_migrations()
        .pending_migrations(&conn)
        .map_err(|e| StorageError::Failed(format!("{}: {e}", from.display())))?;
    if pending != 0 {
        return Err(StorageError::Failed(format!(
            "{} was written by an older ces-collector: start this one on it once (it brings \
             the file up to date), stop it, then migrate",
            from.display()
        )));
    }
    Ok(conn)
}

/// Refuses a database with a table this program does not know how to copy.
async fn check_tables(c: &impl deadpool_postgres::GenericClient) -> Result<(), StorageError> {
    let rows = c
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_name <> 'ces_schema'",
            &[],
        )
        .await
        .map_err(pg_error)?;
    for r in &rows {
        let name: String = r.get(0);
        if !TABLES.iter().any(|(t, _)| *t == name) {
            return Err(StorageError::Failed(format!(
                "the PostgreSQL database has a table {name:?} this ces-collector cannot copy"
            )));
        }
    }
    Ok(())
}

/// Rows of the table at an index of [`TABLES`].
type Chunk = (usize, Vec<Vec<Cell>>);

/// The rows copied (or read) per table.
type Counts = Vec<(String, u64)>;

/// Reads every table in one read transaction (one snapshot) on a thread of its own, and
/// sends its rows in chunks; returns the row count per table.
fn read_source(
    conn: Connection,
    columns: Vec<Vec<String>>,
) -> (
    mpsc::Receiver<Chunk>,
    tokio::task::JoinHandle<Result<Counts, StorageError>>,
) {
    let (tx, rx) = mpsc::channel::<Chunk>(4);
    let reading = tokio::task::spawn_blocking(move || {
        let snapshot = conn.unchecked_transaction()?;
        let mut counts = Vec::new();
        for (index, ((table, _), columns)) in TABLES.iter().zip(&columns).enumerate() {
            let mut stmt =
                snapshot.prepare(&format!("SELECT {} FROM {table}", columns.join(", ")))?;
            let mut rows = stmt.query([])?;
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut n = 0u64;
            while let Some(r) = rows.next()? {
                let mut row = Vec::with_capacity(columns.len());
                for (i, column) in columns.iter().enumerate() {
                    row.push(match r.get_ref(i)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(v) => Cell::Integer(v),
                        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                        other => {
                            return Err(StorageError::Failed(format!(
                                "{table}.{column}: a {:?} value, not stored by ces-collector",
                                other.data_type()
                            )));
                        }
                    });
                }
                chunk.push(row);
                n += 1;
                if chunk.len() == CHUNK
                    && tx
                        .blocking_send((index, std::mem::take(&mut chunk)))
                        .is_err()
                {
                    return Ok(counts); // the copy failed; its error is the one to tell
                }
            }
            if !chunk.is_empty() && tx.blocking_send((index, chunk)).is_err() {
                return Ok(counts);
            }
            counts.push((table.to_string(), n));
        }
        Ok(counts)
    });
    (rx, reading)
}

/// A PostgreSQL table's columns in order, and their types; the file's table is read by
/// these names (its columns may lie in another order: SQLite adds new ones at the end).
async fn layout(
    tx: &impl deadpool_postgres::GenericClient,
    table: &str,
) -> Result<(Vec<String>, Vec<Type>), StorageError> {
    let rows = tx
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1
             ORDER BY ordinal_position",
            &[&table],
        )
        .await
        .map_err(pg_error)?;
    Ok(rows
        .iter()
        .map(|r| {
            let kind = match r.get::<_, &str>(1) {
                "bigint" => Type::INT8,
                "integer" => Type::INT4,
                "smallint" => Type::INT2,
                "boolean" => Type::BOOL,
                _ => Type::TEXT,
            };
            (r.get::<_, String>(0), kind)
        })
        .unzip())
}

/// Copies the chunks into their tables with `COPY … FROM STDIN (FORMAT binary)`; returns
/// the rows copied per table.
async fn copy_tables(
    tx: &deadpool_postgres::Transaction<'_>,
    layouts: &[(Vec<String>, Vec<Type>)],
    mut chunks: mpsc::Receiver<Chunk>,
) -> Result<Counts, StorageError> {
    let mut counts = Vec::new();
    let mut next = chunks.recv().await;
    for (index, ((table, _), (names, kinds))) in TABLES.iter().zip(layouts).enumerate() {
        let sink = tx
            .copy_in(&format!(
                "COPY {table} ({}) FROM STDIN (FORMAT binary)",
                names.join(", ")
            ))
            .await
            .map_err(pg_error)?;
        let writer = BinaryCopyInWriter::new(sink, kinds);
        pin_mut!(writer);
        while let Some((at, rows)) = next.take_if(|(at, _)| *at == index) {
            debug_assert_eq!(at, index);
            for row in rows {
                let values = row
                    .into_iter()
                    .zip(kinds)
                    .zip(names)
                    .map(|((cell, kind), name)| typed(cell, kind, table, name))
                    .collect::<Result<Vec<_>, _>>()?;
                let refs: Vec<&(dyn ToSql + Sync)> = values
                    .iter()
                    .map(|v| v.as_ref() as &(dyn ToSql + Sync))
                    .collect();
                writer.as_mut().write(&refs).await.map_err(pg_error)?;
            }
            next = chunks.recv().await;
        }
        let n = writer.finish().await.map_err(pg_error)?;
        counts.push((table.to_string(), n));
    }
    Ok(counts)
}

/// A cell as the PostgreSQL column's type.
fn typed(
    cell: Cell,
    kind: &Type,
    table: &str,
    column: &str,
) -> Result<Box<dyn ToSql + Sync + Send>, StorageError> {
    let wrong = |what: &str| {
        StorageError::Failed(format!(
            "{table}.{column}: {what} does not fit PostgreSQL's {kind}"
        ))
    };
    Ok(match (cell, kind) {
        (Cell::Null, k) if *k == Type::INT8 => Box::new(None::<i64>),
        (Cell::Null, k) if *k == Type::INT4 => Box::new(None::<i32>),
        (Cell::Null, k) if *k == Type::INT2 => Box::new(None::<i16>),
        (Cell::Null, k) if *k == Type::BOOL => Box::new(None::<bool>),
        (Cell::Null, _) => Box::new(None::<String>),
        (Cell::Integer(v), k) if *k == Type::INT8 => Box::new(v),
        (Cell::Integer(v), k) if *k == Type::INT4 => {
            Box::new(i32::try_from(v).map_err(|_| wrong(&v.to_string()))?)
        }
        (Cell::Integer(v), k) if *k == Type::INT2 => {
            Box::new(i16::try_from(v).map_err(|_| wrong(&v.to_string()))?)
        }
        (Cell::Integer(v), k) if *k == Type::BOOL => Box::new(v != 0),
        (Cell::Text(t), k) if *k == Type::TEXT => {
            if t.contains('\0') {
                // Refused at the door since the first version; PostgreSQL cannot hold one.
                return Err(wrong("a text with a NUL character"));
            }
            Box::new(t)
        }
        (Cell::Integer(v), _) => return Err(wrong(&format!("the number {v}"))),
        (Cell::Text(t), _) => return Err(wrong(&format!("the text {t:?}"))),
    })
}
