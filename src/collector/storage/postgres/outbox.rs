//! The outbox on PostgreSQL: each notification a round decides, once per channel, stored in
//! the round's transaction. Several collectors share one outbox, so each channel has one
//! sender at a time: the collector holding the channel's lock ([`become_sender`]). If it
//! dies between sending and recording a delivery, the next sender sends it again under the
//! same delivery id, which receivers drop repeats by.

use deadpool_postgres::GenericClient;

use super::pg_error;
use crate::collector::alert::decide::Event;
use crate::collector::alert::message;
use crate::collector::storage::{AlertView, Attempt, Delivery, Due, StorageError};

/// Queues a notification of `event` about `alert` for every channel; returns how many.
pub async fn queue(
    c: &impl GenericClient,
    alert: &AlertView,
    event: Event,
    channels: &[String],
    now_ms: i64,
) -> Result<usize, StorageError> {
    for channel in channels {
        let id = uuid::Uuid::now_v7().to_string();
        let body = message::body(&id, event, alert);
        c.execute(
            "INSERT INTO outbox (id, channel, alert_id, event, body, created_at_ms,
                next_attempt_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
            &[&id, channel, &alert.id, &event.as_str(), &body, &now_ms],
        )
        .await
        .map_err(pg_error)?;
    }
    Ok(channels.len())
}

/// Queues a message that is no alert's (a summary) for one channel.
pub async fn queue_message(
    c: &impl GenericClient,
    channel: &str,
    event: &str,
    title: &str,
    text: &str,
    now_ms: i64,
) -> Result<(), StorageError> {
    let id = uuid::Uuid::now_v7().to_string();
    let body = message::plain_body(&id, event, title, text);
    c.execute(
        "INSERT INTO outbox (id, channel, event, body, created_at_ms, next_attempt_ms)
         VALUES ($1, $2, $3, $4, $5, $5)",
        &[&id, &channel, &event, &body, &now_ms],
    )
    .await
    .map_err(pg_error)?;
    Ok(())
}

/// The channel's deliveries due at `now_ms` (at most `limit`, oldest first), and when the
/// next one after them is. Called only while this collector is the channel's sender.
pub async fn due(
    c: &impl GenericClient,
    channel: &str,
    now_ms: i64,
    limit: usize,
) -> Result<Due, StorageError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
    let rows = c
        .query(
            "SELECT id, channel, event, body, attempts, created_at_ms, next_attempt_ms
             FROM outbox
             WHERE channel = $1 AND sent_at_ms IS NULL AND failed_at_ms IS NULL
             ORDER BY next_attempt_ms, created_at_ms, id COLLATE \"C\" LIMIT $2",
            &[&channel, &limit],
        )
        .await
        .map_err(pg_error)?;
    let mut due = Due::default();
    for r in &rows {
        let at: i64 = r.get(6);
        if at > now_ms || due.ready.len() as i64 + 1 >= limit {
            due.next_at_ms = Some(at);
            break;
        }
        due.ready.push(Delivery {
            id: r.get(0),
            channel: r.get(1),
            event: r.get(2),
            body: r.get(3),
            attempts: u32::try_from(r.get::<_, i32>(4)).unwrap_or(0),
            created_at_ms: r.get(5),
        });
    }
    Ok(due)
}

/// Makes this collector the channel's only sender, or finds that it is: a session lock
/// held on a connection of its own for as long as the collector runs. When the collector
/// stops or dies, its connection closes, the lock goes with it, and another collector's
/// sender takes the channel over. `false`: another collector sends for it now.
pub async fn become_sender(
    held: &mut Option<deadpool_postgres::Client>,
    pool: &deadpool_postgres::Pool,
    channel: &str,
) -> Result<bool, StorageError> {
    if held.as_ref().is_some_and(|c| c.is_closed()) {
        *held = None;
    }
    if held.is_some() {
        return Ok(true);
    }
    let client = pool
        .get()
        .await
        .map_err(|e| StorageError::Unavailable(format!("no database connection: {e}")))?;
    let locked: bool = client
        .query_one(
            "SELECT pg_try_advisory_lock($1, hashtext($2))",
            &[&SENDER_LOCK, &channel],
        )
        .await
        .map_err(pg_error)?
        .get(0);
    if locked {
        // Kept out of the pool: the lock lives as long as this connection.
        *held = Some(client);
    }
    Ok(locked)
}

/// The first half of a channel's sender lock ("cesO" in ASCII); the second is a hash of
/// the channel's name.
pub const SENDER_LOCK: i32 = 0x6365_734f;

pub async fn record(
    c: &impl GenericClient,
    id: &str,
    attempt: &Attempt,
) -> Result<(), StorageError> {
    match attempt {
        Attempt::Sent { at_ms } => {
            c.execute(
                "UPDATE outbox SET attempts = attempts + 1, sent_at_ms = $2, last_error = NULL
                 WHERE id = $1",
                &[&id, at_ms],
            )
            .await
        }
        Attempt::Failed {
            at_ms,
            error,
            retry_at_ms,
        } => {
            c.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $3,
                    next_attempt_ms = coalesce($4, next_attempt_ms),
                    failed_at_ms = CASE WHEN $4::bigint IS NULL THEN $2::bigint END
                 WHERE id = $1",
                &[&id, at_ms, error, retry_at_ms],
            )
            .await
        }
    }
    .map_err(pg_error)?;
    Ok(())
}
