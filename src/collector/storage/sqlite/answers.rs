//! Storing an upload's answers: each inserted once, the new ones tallied for the rollups,
//! and what became of each answer for the reply.

use rusqlite::{Connection, params};

use super::rollups;
use crate::collector::storage::IncomingBatch;
use crate::wire::{AnswerResult, AnswerStatus};

/// Inserts a batch's answers once each, counts the new ones in `tally` (none: not counted,
/// for measuring what counting costs), and says what became of each.
pub(super) fn insert_batch(
    c: &Connection,
    b: &IncomingBatch,
    mut tally: Option<&mut rollups::Tally>,
) -> rusqlite::Result<Vec<AnswerResult>> {
    let mut insert = c.prepare_cached(
        "INSERT INTO answers (id, device_id, site, touchpoint, seq, boot_id, question_id,
            question_version, language, scale, direction, score, low, reason, suppressed, input,
            device_time, device_time_ms, clock_trusted, received_at_ms, clock_skew_ms,
            local_date, local_hour, time_estimated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22, ?23, ?24)
         ON CONFLICT (id) DO NOTHING",
    )?;
    let mut owner = c.prepare_cached("SELECT device_id FROM answers WHERE id = ?1")?;
    let d = &b.device;
    let mut results = Vec::with_capacity(b.answers.len());
    let mut accepted = 0i64;
    // When the newest new answer was given, in collector time (for the silent-terminal rule).
    let mut newest: Option<i64> = None;
    let counted = rollups::Counted::batch(b);
    for checked in &b.answers {
        let a = &checked.wire;
        let id = a.id.to_string();
        let added = insert.execute(params![
            id,
            d.id,
            d.site,
            d.touchpoint,
            a.seq,
            a.boot_id,
            a.question_id,
            a.question_version,
            a.language,
            a.scale.as_str(),
            a.direction.as_str(),
            a.score,
            a.low,
            a.reason,
            a.suppressed,
            a.input,
            a.device_time,
            a.device_time_ms,
            a.clock_trusted,
            b.received_at_ms,
            b.clock_skew_ms,
            checked.local_date,
            checked.local_hour,
            checked.time_estimated,
        ])?;
        let (status, reason) = if added == 1 {
            accepted += 1;
            newest = newest.max(Some(checked.given_at_ms(b.received_at_ms, b.clock_skew_ms)));
            if let Some(tally) = tally.as_deref_mut() {
                tally.add(&counted, checked);
            }
            (AnswerStatus::Accepted, None)
        } else {
            let stored_for: String = owner.query_row([&id], |r| r.get(0))?;
            if stored_for == d.id {
                (AnswerStatus::Duplicate, None)
            } else {
                let why = "an answer with this id was stored for another device";
                (AnswerStatus::Rejected, Some(why.to_owned()))
            }
        };
        results.push(AnswerResult {
            id: a.id,
            status,
            reason,
        });
    }
    c.prepare_cached(
        "UPDATE devices SET answers = answers + ?2, last_seen_ms = ?3, last_upload_ms = ?3,
            clock_skew_ms = ?4, last_answer_ms = coalesce(max(last_answer_ms, ?5), ?5, last_answer_ms)
         WHERE id = ?1",
    )?
    .execute(params![
        d.id,
        accepted,
        b.received_at_ms,
        b.clock_skew_ms,
        newest
    ])?;
    Ok(results)
}
