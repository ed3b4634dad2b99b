//! The collector's alert tasks: one evaluates every rule on a fixed interval (each round one
//! writer transaction), and one per channel (a webhook, or e-mail) empties its part of the
//! outbox, so that a failing or slow receiver never holds up the others. A delivery that
//! fails is tried again after 1, 2, 4 … seconds, at most [`RETRY_CAP_S`] apart (longer when
//! the receiver asks with `Retry-After`), and given up a day after it was queued.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::email::Mailer;
use super::settings::{AlertSettings, EMAIL_CHANNEL, Webhook};
use super::{summary, webhook};
use crate::collector::storage::{Attempt, Delivery, Storage, StorageError};

/// Why a send failed, and when the receiver asked to be tried again (`Retry-After`).
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    pub error: String,
    pub retry_after_s: Option<u64>,
}

/// Where a channel's deliveries go.
enum Channel {
    Webhook(Webhook, reqwest::Client),
    Email(Mailer),
}

impl Channel {
    async fn send(&self, d: &Delivery) -> Result<(), Failure> {
        match self {
            Channel::Webhook(hook, client) => webhook::send(client, hook, d).await,
            Channel::Email(mailer) => mailer.send(d).await,
        }
    }
}

/// The longest wait between two tries of one delivery.
pub const RETRY_CAP_S: u64 = 300;
/// A delivery not taken within this long of being queued is given up.
const GIVE_UP_MS: i64 = 24 * 3_600_000;
/// Deliveries taken from the outbox at once, per channel.
const AT_ONCE: usize = 16;
/// The longest a channel task sleeps without looking at the outbox.
const IDLE_LOOK_MS: i64 = 60_000;
/// How long one send may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// When to try a delivery again after its `attempts`-th failure, or `None` to give up.
pub fn retry_at(
    attempts: u32,
    created_at_ms: i64,
    now_ms: i64,
    retry_after_s: Option<u64>,
) -> Option<i64> {
    if now_ms - created_at_ms >= GIVE_UP_MS {
        return None;
    }
    let backoff = 1u64 << attempts.saturating_sub(1).min(16);
    let wait = backoff
        .min(RETRY_CAP_S)
        .max(retry_after_s.unwrap_or(0).min(3600));
    Some(now_ms + i64::try_from(wait).unwrap_or(3600) * 1000)
}

/// Starts the evaluation task and one delivery task per channel; they stop with `stop`.
/// A channel that cannot be set up is logged; its notifications wait in the outbox.
pub fn spawn(
    storage: Arc<dyn Storage>,
    settings: AlertSettings,
    min_answers: u64,
    stop: CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut channels = Vec::new();
    match crate::sync::transport::client(SEND_TIMEOUT) {
        Ok(client) => channels.extend(
            settings
                .webhooks
                .iter()
                .map(|h| (h.name.clone(), Channel::Webhook(h.clone(), client.clone()))),
        ),
        Err(e) => tracing::error!("alerts: no HTTP client ({e}); webhooks wait in the outbox"),
    }
    if let Some(email) = &settings.email {
        match Mailer::new(email, SEND_TIMEOUT) {
            Ok(mailer) => channels.push((EMAIL_CHANNEL.to_owned(), Channel::Email(mailer))),
            Err(e) => {
                tracing::error!("alerts: e-mail cannot be sent ({e}); it waits in the outbox")
            }
        }
    }
    let mut tasks = Vec::new();
    let mut wakes = Vec::new();
    for (name, channel) in channels {
        let wake = Arc::new(Notify::new());
        wakes.push(wake.clone());
        tasks.push(tokio::spawn(deliver(
            storage.clone(),
            name,
            channel,
            wake,
            stop.clone(),
        )));
    }
    let summaries = settings.email.is_some().then_some(min_answers);
    tasks.push(tokio::spawn(evaluate(
        storage, settings, summaries, wakes, stop,
    )));
    tasks
}

/// Evaluates the rules on the interval, and queues the sites' summaries that are due
/// (`summaries`: their minimum of answers per hour, when e-mail is set up).
async fn evaluate(
    storage: Arc<dyn Storage>,
    settings: AlertSettings,
    summaries: Option<u64>,
    wakes: Vec<Arc<Notify>>,
    stop: CancellationToken,
) {
    let channels = settings.channels();
    let mut every = tokio::time::interval(settings.evaluate_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let round = storage.alert_round(now_ms(), channels.clone()).await;
        woken(&wakes, round, "notifications", "a round");
        if let Some(min_n) = summaries {
            let due = summary::queue_due(storage.as_ref(), min_n, jiff::Timestamp::now()).await;
            woken(&wakes, due, "site summaries", "the site summaries");
        }
    }
}

/// Logs what was queued (or why nothing was) and wakes the channels when something was.
fn woken(wakes: &[Arc<Notify>], queued: Result<usize, StorageError>, what: &str, step: &str) {
    match queued {
        Ok(0) => {}
        Ok(queued) => {
            tracing::info!(queued, "alerts: {what} queued");
            for wake in wakes {
                wake.notify_one();
            }
        }
        Err(e) => tracing::warn!("alerts: {step} failed: {e}"),
    }
}

async fn deliver(
    storage: Arc<dyn Storage>,
    channel: String,
    to: Channel,
    wake: Arc<Notify>,
    stop: CancellationToken,
) {
    loop {
        let wait_ms = match storage.due_deliveries(&channel, now_ms(), AT_ONCE).await {
            Ok(due) if !due.ready.is_empty() => {
                for d in due.ready {
                    let sent = tokio::select! {
                        () = stop.cancelled() => return,
                        sent = to.send(&d) => sent,
                    };
                    let at_ms = now_ms();
                    let attempt = match sent {
                        Ok(()) => {
                            tracing::info!(channel, delivery = d.id, "alerts: delivered");
                            Attempt::Sent { at_ms }
                        }
                        Err(f) => {
                            let retry =
                                retry_at(d.attempts + 1, d.created_at_ms, at_ms, f.retry_after_s);
                            tracing::warn!(
                                channel,
                                delivery = d.id,
                                given_up = retry.is_none(),
                                "alerts: a delivery failed: {}",
                                f.error
                            );
                            Attempt::Failed {
                                at_ms,
                                error: f.error,
                                retry_at_ms: retry,
                            }
                        }
                    };
                    if let Err(e) = storage.record_attempt(&d.id, attempt).await {
                        tracing::warn!(channel, "alerts: cannot record a delivery: {e}");
                    }
                }
                0
            }
            Ok(due) => due
                .next_at_ms
                .map_or(IDLE_LOOK_MS, |at| (at - now_ms()).clamp(0, IDLE_LOOK_MS)),
            Err(e) => {
                tracing::warn!(channel, "alerts: cannot read the outbox: {e}");
                5_000
            }
        };
        if wait_ms == 0 {
            continue;
        }
        let wait = Duration::from_millis(wait_ms.unsigned_abs());
        tokio::select! {
            () = stop.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_the_cap_and_stop_after_a_day() {
        let waits: Vec<i64> = (1..=12)
            .map(|n| retry_at(n, 0, 1000, None).unwrap() - 1000)
            .collect();
        assert_eq!(
            waits,
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300].map(|s| s * 1000)
        );
        assert_eq!(retry_at(1, 0, 1000, Some(30)), Some(31_000));
        assert_eq!(retry_at(1, 0, GIVE_UP_MS, None), None);
    }
}
