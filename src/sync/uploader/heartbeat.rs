//! The uploader's heartbeat: how the terminal is doing, sent when due after a sync round;
//! its reply may bring a newer survey config. And the record of how the upload stands that
//! `ces-kiosk status` reads.

use tokio::time::Instant;

use super::{Round, Uploader};
use crate::store::SyncRecord;
use crate::sync::batch;
use crate::sync::policy::{Disposition, classify};
use crate::sync::transport::{Attempt, Transport};
use crate::wire::{Heartbeat, HeartbeatResponse};

impl<T: Transport> Uploader<T> {
    pub(super) async fn heartbeat(&mut self) -> Round {
        let counts = match self.local.call(|s| s.sync_counts()).await {
            Ok(c) => c,
            Err(e) => return Round::StoreFailed(e.to_string()),
        };
        let clock = crate::clock::now();
        let beat = Heartbeat {
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            boot_id: crate::clock::boot_id(),
            clock_trusted: clock.trusted,
            queue_depth: counts.pending,
            oldest_unsynced_age_seconds: counts
                .oldest_pending_ms
                .map(|ms| u64::try_from((clock.unix_ms - ms) / 1000).unwrap_or(0)),
            dead_letters: counts.rejected,
            last_error: self.status.last_error.as_deref().map(reportable),
            device_time: clock.local,
            config_version: self.config.running(),
            config_error: self.config.error().as_deref().map(reportable),
        };
        let payload = batch::compress(serde_json::to_vec(&beat).expect("a heartbeat serialises"));
        match self.transport.post("v1/heartbeat", payload).await {
            Attempt::NoAnswer(error) => Round::Retry { after: None, error },
            Attempt::Answered {
                status,
                retry_after,
                body,
                from,
            } if !(200..300).contains(&status) && !from.is_collector_error(&body) => Round::Retry {
                after: retry_after,
                error: from.not_the_collector(status),
            },
            Attempt::Answered {
                status,
                retry_after,
                body,
                from,
            } => match classify(status) {
                Disposition::Answered => {
                    let reply = serde_json::from_slice::<HeartbeatResponse>(&body);
                    if reply.is_err() && !from.collector {
                        return Round::Retry {
                            after: retry_after,
                            error: from.not_the_collector(status),
                        };
                    }
                    self.last_heartbeat = Some(Instant::now());
                    self.succeeded();
                    self.status.last_heartbeat_ms = self.status.last_success_ms;
                    self.status.heartbeats += 1;
                    match reply {
                        Ok(HeartbeatResponse {
                            config: Some(config),
                            ..
                        }) => self.config.offer(config).await,
                        Ok(_) => {}
                        Err(e) => tracing::warn!("cannot read the heartbeat reply: {e}"),
                    }
                    Round::Drained
                }
                Disposition::Retry => Round::Retry {
                    after: retry_after,
                    error: batch::error_message(status, &body),
                },
                Disposition::Unauthorized => {
                    Round::Unauthorized(batch::error_message(status, &body))
                }
                Disposition::ServerFault => Round::Fault {
                    after: retry_after,
                    error: batch::error_message(status, &body),
                },
                Disposition::Split | Disposition::Refused => {
                    // A heartbeat carries no answers: nothing to keep or retry early.
                    tracing::warn!(
                        "the collector refused the heartbeat: {}",
                        batch::error_message(status, &body)
                    );
                    self.last_heartbeat = Some(Instant::now());
                    Round::Drained
                }
            },
        }
    }
}

/// Free text as the collector takes it: hidden characters written as escapes, at most 2,000
/// characters.
fn reportable(text: &str) -> String {
    crate::text::for_terminal(text).chars().take(2000).collect()
}

impl<T: Transport> Uploader<T> {
    /// How the upload stands, as the database keeps it.
    pub(super) fn record(&self) -> SyncRecord {
        SyncRecord {
            link: self.status.link.as_str().to_owned(),
            last_success_ms: self.status.last_success_ms,
            last_heartbeat_ms: self.status.last_heartbeat_ms,
            last_error: self.status.last_error.as_deref().map(reportable),
        }
    }

    /// Records how the upload stands in the terminal database when it changed, for
    /// `ces-kiosk status` (which runs in another process).
    pub(super) async fn persist(&mut self) {
        let record = self.record();
        if self.persisted.as_ref() == Some(&record) {
            return;
        }
        let saved = record.clone();
        match self.local.call(move |s| s.save_sync_record(&saved)).await {
            Ok(()) => self.persisted = Some(record),
            Err(e) => tracing::warn!("cannot record how the upload stands: {e}"),
        }
    }
}
