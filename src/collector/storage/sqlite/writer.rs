//! The collector's one SQLite writer: a thread that owns the write connection and commits
//! the work of many concurrent requests in one transaction (group commit), so that 200
//! terminals uploading at once share fsyncs instead of queueing for one each.
//!
//! Each request's work runs in its own savepoint: one failing request does not fail the
//! others. The answers the kept requests stored are counted in the rollups once for the whole
//! group, before the commit. Replies go out only after the commit returned (`synchronous=FULL`). After a failed
//! commit the connection is replaced: an fsync error is never retried on the same connection.
//! A second thread copies committed pages from the WAL into the database (checkpoints), so
//! that the writer does not stop for that; the writer checkpoints itself only when the WAL
//! has grown past [`super::connection::WRITER_CHECKPOINT_PAGES`].

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::rollups::{self, Tally};
use super::{open_writer, sql_error};
use crate::collector::storage::StorageError;

/// The most requests one transaction takes.
const MAX_GROUP: usize = 256;

/// Work for the writer thread.
trait Job: Send {
    /// Runs the work; the answers it stores are counted in `tally`.
    fn run(&mut self, conn: &Connection, tally: &mut Tally) -> Result<(), StorageError>;
    /// Reports the outcome: the job's own result, or the group's commit failure.
    fn finish(self: Box<Self>, committed: Result<(), StorageError>);
}

struct Task<F, R> {
    work: Option<F>,
    result: Option<Result<R, StorageError>>,
    reply: oneshot::Sender<Result<R, StorageError>>,
}

impl<F, R> Job for Task<F, R>
where
    F: FnOnce(&Connection, &mut Tally) -> Result<R, StorageError> + Send,
    R: Send,
{
    fn run(&mut self, conn: &Connection, tally: &mut Tally) -> Result<(), StorageError> {
        let work = self.work.take().expect("a job runs once");
        let result = work(conn, tally);
        let outcome = match &result {
            Ok(_) => Ok(()),
            Err(e) => Err(StorageError::Failed(e.to_string())),
        };
        self.result = Some(result);
        outcome
    }

    fn finish(self: Box<Self>, committed: Result<(), StorageError>) {
        let result = match (self.result, committed) {
            // The job's own failure is its answer, whatever the group did.
            (Some(Err(e)), _) => Err(e),
            (_, Err(e)) => Err(e),
            (Some(Ok(r)), Ok(())) => Ok(r),
            (None, Ok(())) => Err(StorageError::Failed("the job did not run".into())),
        };
        let _ = self.reply.send(result);
    }
}

/// Handle to the writer thread; dropping it lets the thread finish its queue and stop.
pub struct Writer {
    tx: Option<mpsc::Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    pub fn spawn(path: PathBuf, conn: Connection) -> Writer {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>();
        let thread = std::thread::Builder::new()
            .name("collector-writer".into())
            .spawn(move || run(path, conn, rx))
            .expect("the writer thread starts");
        Writer {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Runs `work` in the next group transaction and returns its result once committed.
    pub async fn write<F, R>(&self, work: F) -> Result<R, StorageError>
    where
        F: FnOnce(&Connection) -> Result<R, StorageError> + Send + 'static,
        R: Send + 'static,
    {
        self.write_counted(move |conn, _| work(conn)).await
    }

    /// Like [`Writer::write`], for work that stores answers: what it adds to its tally is
    /// counted in the rollups in the same transaction, unless the work fails.
    pub async fn write_counted<F, R>(&self, work: F) -> Result<R, StorageError>
    where
        F: FnOnce(&Connection, &mut Tally) -> Result<R, StorageError> + Send + 'static,
        R: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Task {
            work: Some(work),
            result: None,
            reply,
        });
        let stopped = || StorageError::Unavailable("the database writer has stopped".into());
        if self.tx.as_ref().is_none_or(|tx| tx.send(job).is_err()) {
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Copies committed WAL pages into the database on its own connection, so that the writer
/// does not stop for it: woken after commits, one passive checkpoint at a time.
fn checkpointer(path: PathBuf, wake: mpsc::Receiver<()>) {
    let conn = match crate::store::open_durable(&path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cannot open the database for checkpoints: {e}");
            return;
        }
    };
    while wake.recv().is_ok() {
        let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        // Busy: the writer is checkpointing itself (a WAL grown past its own limit).
        if let Err(e) = done.map_err(sql_error)
            && !matches!(e, StorageError::Unavailable(_))
        {
            tracing::warn!("a checkpoint failed: {e}");
        }
    }
}

fn run(path: PathBuf, conn: Connection, rx: mpsc::Receiver<Box<dyn Job>>) {
    // One wake-up waiting at most: commits during a checkpoint ask for one more, not many.
    let (nudge, wake) = mpsc::sync_channel(1);
    let checkpoints = path.clone();
    let checkpointing = std::thread::Builder::new()
        .name("collector-checkpoint".into())
        .spawn(move || checkpointer(checkpoints, wake));
    if let Err(e) = &checkpointing {
        tracing::error!("no checkpoint thread ({e}): the writer checkpoints itself");
    }
    let mut conn = Some(conn);
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            conn = match open_writer(&path) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::error!("cannot reopen the database: {e}");
                    None
                }
            };
        }
        let committed = match &conn {
            Some(c) => commit_group(c, &mut jobs),
            None => Err(StorageError::Unavailable(
                "the database cannot be opened".into(),
            )),
        };
        if committed.is_ok() {
            let _ = nudge.try_send(());
        }
        if let Err(e) = &committed {
            tracing::error!(requests = jobs.len(), "a database commit failed: {e}");
            // Never retry an fsync on the same connection: the next group opens a new one.
            conn = None;
        }
        for job in jobs {
            job.finish(match &committed {
                Ok(()) => Ok(()),
                Err(e) => Err(StorageError::Unavailable(e.to_string())),
            });
        }
    }
    drop(nudge);
    if let Ok(thread) = checkpointing {
        let _ = thread.join();
    }
}

/// Runs every job in its own savepoint of one transaction, counts the answers of those that
/// succeeded in the rollups, and commits.
fn commit_group(conn: &Connection, jobs: &mut [Box<dyn Job>]) -> Result<(), StorageError> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(sql_error)?;
    let mut group = Tally::default();
    for job in jobs.iter_mut() {
        let mut tally = Tally::default();
        let savepoint = statement(conn, "SAVEPOINT job");
        let ran = savepoint
            .map_err(sql_error)
            .and_then(|()| job.run(conn, &mut tally));
        let end = if ran.is_ok() {
            statement(conn, "RELEASE job")
        } else {
            conn.execute_batch("ROLLBACK TO job; RELEASE job")
        };
        if let Err(e) = end {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(sql_error(e));
        }
        if ran.is_ok() {
            group.merge(tally);
        }
    }
    let counted = rollups::count_group(conn, &group);
    if let Err(e) = counted.and_then(|()| conn.execute_batch("COMMIT")) {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(sql_error(e));
    }
    Ok(())
}

/// Runs one statement without parameters, kept prepared: a group runs two per request.
fn statement(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}
