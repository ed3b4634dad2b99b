//! An answer's follow-up in the store: closed with the reason chosen (and the button press
//! that chose it, on a terminal without a touch screen), the one a restart left open, and
//! whether a button press was stored before, as a score or as a reason.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Closed, OpenFollowUp, Store, StoreError, text_column};
use crate::survey::ButtonPress;

/// A button press stored before.
pub(super) enum Earlier {
    /// As an answer's score.
    Score {
        id: uuid::Uuid,
        seq: i64,
        suppressed: bool,
        follow_up_open: bool,
    },
    /// As the press that chose an answer's follow-up reason.
    Reason { id: uuid::Uuid, seq: i64 },
}

/// Whether `press` was stored before, and as what (both by unique indexes).
pub(super) fn earlier_press(
    conn: &Connection,
    p: &ButtonPress,
) -> Result<Option<Earlier>, StoreError> {
    let key = params![p.box_id, p.session, p.seq];
    let score = conn
        .prepare_cached(
            "SELECT id, seq, suppressed, follow_up_open FROM answers
             WHERE box_id = ?1 AND box_session = ?2 AND box_seq = ?3",
        )?
        .query_row(key, |r| {
            Ok(Earlier::Score {
                id: text_column(r, 0)?,
                seq: r.get(1)?,
                suppressed: r.get(2)?,
                follow_up_open: r.get(3)?,
            })
        })
        .optional()?;
    if score.is_some() {
        return Ok(score);
    }
    Ok(conn
        .prepare_cached(
            "SELECT id, seq FROM answers
             WHERE reason_box_id = ?1 AND reason_box_session = ?2 AND reason_box_seq = ?3",
        )?
        .query_row(key, |r| {
            Ok(Earlier::Reason {
                id: text_column(r, 0)?,
                seq: r.get(1)?,
            })
        })
        .optional()?)
}

impl Store {
    /// Ends the follow-up of an answer, with the reason the visitor chose or none, in one
    /// transaction. A button `press` that chose it is stored beside the reason; a press
    /// stored before (as a score or as a reason) changes nothing, and neither does a
    /// follow-up closed before.
    pub fn close_follow_up(
        &mut self,
        id: uuid::Uuid,
        reason: Option<&str>,
        press: Option<&ButtonPress>,
    ) -> Result<Closed, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(p) = press {
            match earlier_press(&tx, p)? {
                Some(Earlier::Score { suppressed, .. }) => {
                    return Ok(Closed::ScorePress { suppressed });
                }
                Some(Earlier::Reason { .. }) => return Ok(Closed::ReasonPress),
                None => {}
            }
        }
        let (box_id, session, seq) = (
            press.map(|p| &p.box_id),
            press.map(|p| p.session),
            press.map(|p| p.seq),
        );
        let changed = tx
            .prepare_cached(
                "UPDATE answers SET reason = ?2, follow_up_open = 0,
                    reason_box_id = ?3, reason_box_session = ?4, reason_box_seq = ?5
                 WHERE id = ?1 AND follow_up_open = 1",
            )?
            .execute(params![id.to_string(), reason, box_id, session, seq])?;
        if changed == 0 && press.is_some() {
            // Too late for a reason, but the press is kept, so that the box sending it
            // again is not taken for a score.
            tx.prepare_cached(
                "UPDATE answers SET reason_box_id = ?2, reason_box_session = ?3,
                    reason_box_seq = ?4
                 WHERE id = ?1 AND reason_box_id IS NULL",
            )?
            .execute(params![id.to_string(), box_id, session, seq])?;
        }
        tx.commit()?;
        Ok(if changed == 1 {
            Closed::Now
        } else {
            Closed::Before
        })
    }

    /// After a restart: the last answer's follow-up if it is still open, with its age by
    /// the boot's clock, so that a visitor still choosing a reason can go on. Every older
    /// follow-up left open (by a power cut, say) is closed; their scores stay.
    pub fn open_follow_up(&mut self) -> Result<Option<OpenFollowUp>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last = tx
            .query_row(
                "SELECT id, language, boot_id, boot_ms FROM answers
                 WHERE follow_up_open = 1 ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        text_column::<uuid::Uuid>(r, 0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, language, boot_id, boot_ms)) = last else {
            return Ok(None);
        };
        let closed = tx.execute(
            "UPDATE answers SET follow_up_open = 0 WHERE follow_up_open = 1 AND id != ?1",
            [id.to_string()],
        )?;
        tx.commit()?;
        if closed > 0 {
            tracing::info!(answers = closed, "closed follow-ups left open by a restart");
        }
        let age = boot_ms.filter(|_| boot_id == self.boot_id).map(|then| {
            let ms = crate::clock::since_boot_ms().saturating_sub(then).max(0);
            Duration::from_millis(ms as u64)
        });
        Ok(Some(OpenFollowUp { id, language, age }))
    }
}
