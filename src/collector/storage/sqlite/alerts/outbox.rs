//! The outbox: each notification a round decides, once per channel, stored in the
//! transaction of the decision; the sender takes the due ones and records each attempt.

use rusqlite::{Connection, params};

use crate::collector::alert::decide::Event;
use crate::collector::alert::message;
use crate::collector::storage::{AlertView, Attempt, Delivery, Due, StorageError};

/// Queues a notification of `event` about `alert` for every channel; returns how many.
pub fn queue(
    c: &Connection,
    alert: &AlertView,
    event: Event,
    channels: &[String],
    now_ms: i64,
) -> Result<usize, StorageError> {
    let mut insert = c.prepare_cached(
        "INSERT INTO outbox (id, channel, alert_id, event, body, created_at_ms, next_attempt_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?;
    for channel in channels {
        let id = uuid::Uuid::now_v7().to_string();
        let body = message::body(&id, event, alert);
        insert.execute(params![id, channel, alert.id, event.as_str(), body, now_ms])?;
    }
    Ok(channels.len())
}

/// Queues a message that is no alert's (a summary) for one channel.
pub fn queue_message(
    c: &Connection,
    channel: &str,
    event: &str,
    title: &str,
    text: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    let id = uuid::Uuid::now_v7().to_string();
    let body = message::plain_body(&id, event, title, text);
    c.prepare_cached(
        "INSERT INTO outbox (id, channel, event, body, created_at_ms, next_attempt_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![id, channel, event, body, now_ms])?;
    Ok(())
}

pub fn due(c: &Connection, channel: &str, now_ms: i64, limit: usize) -> Result<Due, StorageError> {
    let mut q = c.prepare_cached(
        "SELECT id, channel, event, body, attempts, created_at_ms, next_attempt_ms FROM outbox
         WHERE channel = ?1 AND sent_at_ms IS NULL AND failed_at_ms IS NULL
         ORDER BY next_attempt_ms, created_at_ms, id LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
    let rows = q.query_map(params![channel, limit], |r| {
        Ok((
            Delivery {
                id: r.get(0)?,
                channel: r.get(1)?,
                event: r.get(2)?,
                body: r.get(3)?,
                attempts: r.get(4)?,
                created_at_ms: r.get(5)?,
            },
            r.get::<_, i64>(6)?,
        ))
    })?;
    let mut due = Due::default();
    for row in rows {
        let (delivery, at) = row?;
        if at > now_ms || due.ready.len() as i64 + 1 >= limit {
            due.next_at_ms = Some(at);
            break;
        }
        due.ready.push(delivery);
    }
    Ok(due)
}

pub fn record(c: &Connection, id: &str, attempt: &Attempt) -> Result<(), StorageError> {
    match attempt {
        Attempt::Sent { at_ms } => c.execute(
            "UPDATE outbox SET attempts = attempts + 1, sent_at_ms = ?2, last_error = NULL
             WHERE id = ?1",
            params![id, at_ms],
        )?,
        Attempt::Failed {
            at_ms,
            error,
            retry_at_ms,
        } => c.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?3,
                next_attempt_ms = coalesce(?4, next_attempt_ms),
                failed_at_ms = CASE WHEN ?4 IS NULL THEN ?2 END
             WHERE id = ?1",
            params![id, at_ms, error, retry_at_ms],
        )?,
    };
    Ok(())
}
