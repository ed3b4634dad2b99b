//! The store's side of the upload: which answers wait, and what the collector said of them.
//! An answer leaves the pending state only on the collector's word (stored, or rejected).

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{Store, StoreError, SyncRecord, text_column};
use crate::wire::{AnswerResult, AnswerStatus, WireAnswer};

/// How the upload stands, for the sync indicator and status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// Answers not yet confirmed by the collector.
    pub pending: u64,
    /// Answers the collector rejected (dead letters, never sent again).
    pub rejected: u64,
    /// Device time of the oldest pending answer, Unix milliseconds.
    pub oldest_pending_ms: Option<i64>,
}

impl Store {
    /// Up to `limit` answers waiting for upload, oldest first. Answers whose follow-up
    /// question is still on screen wait until it is closed.
    pub fn pending(&self, limit: usize) -> Result<Vec<WireAnswer>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, seq, boot_id, device_time, device_time_ms, clock_trusted, question_id,
                question_version, language, scale, direction, score, low, reason, suppressed,
                input, boot_ms
             FROM answers WHERE sync_state = 'pending' AND follow_up_open = 0
             ORDER BY seq LIMIT ?1",
        )?;
        let now = crate::clock::since_boot_ms();
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            let text = |i: usize| r.get::<_, String>(i);
            let boot_id = text(2)?;
            // Only while the boot lasts: another boot's clock started again from zero.
            let age_ms = r
                .get::<_, Option<i64>>(16)?
                .filter(|_| boot_id == self.boot_id)
                .map(|at| (now - at).max(0));
            Ok(WireAnswer {
                id: text_column(r, 0)?,
                seq: r.get(1)?,
                boot_id,
                device_time: text(3)?,
                device_time_ms: r.get(4)?,
                clock_trusted: r.get(5)?,
                question_id: text(6)?,
                question_version: r.get(7)?,
                language: text(8)?,
                scale: text_column(r, 9)?,
                direction: text_column(r, 10)?,
                score: r.get(11)?,
                low: r.get(12)?,
                reason: r.get(13)?,
                suppressed: r.get(14)?,
                input: text(15)?,
                age_ms,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records the collector's results in one transaction: stored answers become synced,
    /// rejected ones dead letters with the reason. Ids the store does not hold are ignored.
    pub fn apply_results(&mut self, results: &[AnswerResult]) -> Result<(), StoreError> {
        self.apply_results_recording(results, None)
    }

    /// [`Store::apply_results`], and in the same transaction (one commit, one fsync) how the
    /// upload stands after it.
    pub fn apply_results_recording(
        &mut self,
        results: &[AnswerResult],
        record: Option<&SyncRecord>,
    ) -> Result<(), StoreError> {
        let now = jiff::Timestamp::now().as_millisecond();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut synced = tx.prepare_cached(
                "UPDATE answers SET sync_state = 'synced', synced_at_ms = ?2
                 WHERE id = ?1 AND sync_state = 'pending'",
            )?;
            let mut rejected = tx.prepare_cached(
                "UPDATE answers SET sync_state = 'rejected', reject_reason = ?2
                 WHERE id = ?1 AND sync_state = 'pending'",
            )?;
            for r in results {
                let id = r.id.to_string();
                match r.status {
                    AnswerStatus::Accepted | AnswerStatus::Duplicate => {
                        synced.execute(params![id, now])?;
                    }
                    AnswerStatus::Rejected => {
                        let reason = r.reason.as_deref().unwrap_or("rejected by the collector");
                        rejected.execute(params![id, reason])?;
                    }
                }
            }
        }
        if let Some(record) = record {
            super::snapshot::save_record(&tx, record)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes answers the collector confirmed before `synced_before_ms` (Unix ms). Waiting
    /// and rejected answers are never deleted. Returns how many were deleted.
    /// The sequence counter is raised to the highest number held first, in the same
    /// transaction, so that a number deleted is never handed out again.
    pub fn prune_synced(&mut self, synced_before_ms: i64) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE counters SET value = max(value, coalesce((SELECT max(seq) FROM answers), 0))
             WHERE name = 'answer_seq'",
            [],
        )?;
        let deleted = tx.execute(
            "DELETE FROM answers WHERE sync_state = 'synced' AND synced_at_ms < ?1",
            [synced_before_ms],
        )?;
        tx.commit()?;
        Ok(deleted)
    }

    /// The dead letters by why the collector refused them, most first: (reason, answers).
    pub fn dead_letters(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT coalesce(reject_reason, 'rejected by the collector'), count(*)
             FROM answers WHERE sync_state = 'rejected'
             GROUP BY 1 ORDER BY 2 DESC, 1",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Puts dead letters back in the queue, all of them or those whose reason contains
    /// `reason`, in one transaction; returns how many. Safe whatever the collector holds: it
    /// answers an answer it has as a duplicate and never stores one twice.
    pub fn requeue(&mut self, reason: Option<&str>) -> Result<u64, StoreError> {
        let n = self.conn.execute(
            "UPDATE answers SET sync_state = 'pending', reject_reason = NULL
             WHERE sync_state = 'rejected'
               AND (?1 IS NULL OR instr(coalesce(reject_reason, ''), ?1) > 0)",
            [reason],
        )?;
        Ok(n as u64)
    }

    /// How many answers wait and how many were rejected.
    pub fn sync_counts(&self) -> Result<SyncCounts, StoreError> {
        Ok(counts(&self.conn)?)
    }
}

/// The counts on any connection (the store's, or a read-only one for `status`).
pub(super) fn counts(conn: &rusqlite::Connection) -> rusqlite::Result<SyncCounts> {
    // Literal states, so that SQLite can count in the partial indexes.
    let (pending, rejected): (i64, i64) = conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM answers WHERE sync_state = 'pending'),
                    (SELECT count(*) FROM answers WHERE sync_state = 'rejected')",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let oldest_pending_ms = conn
        .prepare_cached(
            "SELECT device_time_ms FROM answers WHERE sync_state = 'pending'
             ORDER BY seq LIMIT 1",
        )?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(SyncCounts {
        pending: u64::try_from(pending).unwrap_or(0),
        rejected: u64::try_from(rejected).unwrap_or(0),
        oldest_pending_ms,
    })
}
