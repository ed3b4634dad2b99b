//! The uploader: a tokio task, never on the UI thread, that sends waiting answers to the
//! collector in batches, marks them synced only on the collector's word, waits and retries
//! by the policy, reports the terminal's health in heartbeats, prunes synced answers after
//! their retention, and publishes how the upload stands. `heartbeat`: the heartbeat and the
//! record of how the upload stands.

mod heartbeat;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::{Device, Upstream};
use crate::store::{StoreError, SyncCounts, SyncRecord};
use crate::sync::batch;
use crate::sync::local::Local;
use crate::sync::policy::{Backoff, Disposition, classify};
use crate::sync::status::{Link, SyncStatus};
use crate::sync::survey_config::{self, ConfigFeed, ConfigUpdates};
use crate::sync::transport::{Attempt, Transport};
use crate::wire::AnswerResult;

/// How the uploader batches and paces itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub batch_max_answers: usize,
    /// The most JSON one batch carries before compression.
    pub batch_max_bytes: usize,
    /// How long after a new answer the upload starts.
    pub upload_delay: Duration,
    /// How often a heartbeat goes out (and the queue is looked at) when nothing else happens.
    pub heartbeat: Duration,
    /// How long synced answers stay on the terminal.
    pub keep_synced: Duration,
    pub backoff: Backoff,
}

impl Settings {
    /// The batch byte cap: well under what a collector accepts by default (`docs/protocol.md`).
    pub const BATCH_MAX_BYTES: usize = 512 * 1024;

    pub fn from_upstream(up: &Upstream) -> Settings {
        Settings {
            batch_max_answers: up.batch_max_answers,
            batch_max_bytes: Settings::BATCH_MAX_BYTES,
            upload_delay: up.upload_delay,
            heartbeat: up.heartbeat,
            keep_synced: up.keep_synced,
            backoff: Backoff::default(),
        }
    }
}

/// How often synced answers past their retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// What the rest of the terminal can ask of the uploader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// An answer was stored or its follow-up closed: upload soon (unless backing off).
    Nudge,
    /// Try now, whatever the backoff (staff pressed "sync now").
    SyncNow,
}

/// A handle to a running uploader: send it commands, watch its status.
#[derive(Clone)]
pub struct SyncHandle {
    commands: mpsc::Sender<Command>,
    status: watch::Receiver<SyncStatus>,
    config: ConfigFeed,
}

impl SyncHandle {
    /// Asks for an upload soon. Never blocks; callable from any thread.
    pub fn nudge(&self) {
        // A full channel already holds a command that will wake the uploader.
        let _ = self.commands.try_send(Command::Nudge);
    }

    /// Asks for an upload now, ignoring the backoff.
    pub fn sync_now(&self) {
        let _ = self.commands.try_send(Command::SyncNow);
    }

    /// The uploader's status, updated after every change.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Survey configs from the collector, for the screen to switch to when idle.
    pub fn config(&self) -> ConfigFeed {
        self.config.clone()
    }
}

/// The uploader task's state. Build with [`Uploader::new`], run with [`Uploader::run`].
pub struct Uploader<T> {
    transport: T,
    local: Local,
    settings: Settings,
    commands: mpsc::Receiver<Command>,
    status_tx: watch::Sender<SyncStatus>,
    status: SyncStatus,
    rng: fastrand::Rng,
    /// When the next round runs.
    next: Instant,
    /// No round before this (backoff, `Retry-After`), except on [`Command::SyncNow`].
    hold_until: Option<Instant>,
    /// Failed attempts in a row: the backoff's exponent.
    attempt: u32,
    /// The batch size now; halved when the collector says a batch is too large.
    limit: usize,
    last_heartbeat: Option<Instant>,
    last_prune: Option<Instant>,
    config: ConfigUpdates,
    /// What was last recorded in the database of how the upload stands.
    persisted: Option<crate::store::SyncRecord>,
}

/// How a round ended.
#[derive(Debug)]
enum Round {
    /// Nothing left to send.
    Drained,
    /// Worth retrying after the backoff (no answer, 429, 502, 503, 504).
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// The collector failed (500, …): try again after the longest backoff.
    Fault {
        after: Option<Duration>,
        error: String,
    },
    /// The credential was refused.
    Unauthorized(String),
    /// The local database failed; the connection was dropped.
    StoreFailed(String),
}

impl<T: Transport> Uploader<T> {
    /// An uploader for the terminal database at `db`, sending through `transport`.
    pub fn new(
        transport: T,
        db: PathBuf,
        device: Device,
        settings: Settings,
    ) -> (Uploader<T>, SyncHandle) {
        let (commands_tx, commands) = mpsc::channel(8);
        let (status_tx, status_rx) = watch::channel(SyncStatus::default());
        let limit = settings.batch_max_answers.max(1);
        let (config, config_feed) = survey_config::channel();
        let uploader = Uploader {
            transport,
            local: Local::new(db, device),
            settings,
            commands,
            status_tx,
            status: SyncStatus::default(),
            rng: fastrand::Rng::new(),
            next: Instant::now(),
            hold_until: None,
            attempt: 0,
            limit,
            last_heartbeat: None,
            last_prune: None,
            config,
            persisted: None,
        };
        let handle = SyncHandle {
            commands: commands_tx,
            status: status_rx,
            config: config_feed,
        };
        (uploader, handle)
    }

    /// Takes survey configs from heartbeat replies for `config`'s terminal, if it is enrolled.
    pub fn accept_configs_for(&mut self, config: &crate::config::Config) {
        self.config.accept_for(config);
    }

    /// Runs until `shutdown` is cancelled. A request in flight is abandoned: its answers stay
    /// waiting and are sent again next time (the collector stores each id once).
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut commands_open = true;
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                command = self.commands.recv(), if commands_open => match command {
                    Some(Command::Nudge) => {
                        self.refresh().await;
                        let soon = Instant::now() + self.settings.upload_delay;
                        let allowed = self.hold_until.map_or(soon, |h| h.max(soon));
                        self.next = self.next.min(allowed);
                    }
                    Some(Command::SyncNow) => {
                        // Staff asked: count the queue again (answers sent again may have
                        // joined it), report, and hear of a new survey config now too.
                        self.refresh().await;
                        self.last_heartbeat = None;
                        self.hold_until = None;
                        self.attempt = 0;
                        self.next = Instant::now();
                    }
                    None => commands_open = false,
                },
                () = tokio::time::sleep_until(self.next) => {
                    let round = tokio::select! {
                        biased;
                        () = shutdown.cancelled() => break,
                        round = self.round() => round,
                    };
                    self.after(round);
                    // Recorded before it is published: whoever saw the status change can
                    // read it in the database (`ces-kiosk status`).
                    self.persist().await;
                    self.refresh().await;
                }
            }
        }
        tracing::debug!("uploader stopped");
    }

    /// Sends batches until none is left or one fails, then a heartbeat when due.
    async fn round(&mut self) -> Round {
        loop {
            let limit = self.limit;
            let waiting = match self.local.call(move |s| s.pending(limit)).await {
                Ok(w) => w,
                Err(e) => return Round::StoreFailed(e.to_string()),
            };
            if waiting.is_empty() {
                break;
            }
            let device_time = crate::clock::now().local;
            let batch = batch::encode(&waiting, self.settings.batch_max_bytes, &device_time);
            let attempt = self.transport.post("v1/answers", batch.payload).await;
            // `None`: the collector wants smaller batches; nothing of this one was stored.
            let verdict = match self.verdict(&batch.ids, attempt) {
                Ok(verdict) => verdict.unwrap_or_default(),
                Err(end) => return end,
            };
            if let Err(e) = self.write(verdict).await {
                return Round::StoreFailed(e.to_string());
            }
        }
        self.maintain().await
    }

    /// Writes a verdict to the store and counts it.
    async fn write(&mut self, verdict: Vec<AnswerResult>) -> Result<(), StoreError> {
        if verdict.is_empty() {
            return Ok(());
        }
        // How the upload stands after it (as `succeeded_at` will make it), written in the
        // same commit as the verdict: one fsync per upload, not two.
        let at = jiff::Timestamp::now().as_millisecond();
        let record = SyncRecord {
            link: Link::Online.as_str().to_owned(),
            last_success_ms: Some(at),
            last_error: None,
            ..self.record()
        };
        let saved = record.clone();
        let verdict = self
            .local
            .call(move |s| {
                s.apply_results_recording(&verdict, Some(&saved))
                    .map(|()| verdict)
            })
            .await?;
        self.persisted = Some(record);
        self.written(&verdict, at);
        Ok(())
    }

    /// What to write after one upload: the per-answer verdict, `None` to send smaller
    /// batches, or how the round ends.
    fn verdict(
        &mut self,
        ids: &[uuid::Uuid],
        attempt: Attempt,
    ) -> Result<Option<Vec<AnswerResult>>, Round> {
        let (status, retry_after, body, from) = match attempt {
            Attempt::NoAnswer(error) => return Err(Round::Retry { after: None, error }),
            Attempt::Answered {
                status,
                retry_after,
                body,
                from,
            } => (status, retry_after, body, from),
        };
        let error = || batch::error_message(status, &body);
        let disposition = classify(status);
        if disposition != Disposition::Answered && !from.is_collector_error(&body) {
            // A reverse proxy's page, a captive portal: nothing is said of the answers. They
            // stay waiting and go again after the normal backoff. Smaller batches are safe
            // to try when it was a proxy's body limit.
            if status == 413 && ids.len() > 1 {
                self.limit = (ids.len() / 2).max(1);
                tracing::info!(
                    batch = self.limit,
                    "the way to the collector wants smaller batches"
                );
                return Ok(None);
            }
            return Err(Round::Retry {
                after: retry_after,
                error: from.not_the_collector(status),
            });
        }
        match disposition {
            // Per-answer results naming this batch's answers can only be the collector's;
            // an HTML page with 200 (a captive portal) is not.
            Disposition::Answered => match batch::results(ids, &body) {
                Ok(results) if !results.is_empty() => Ok(Some(results)),
                _ if !from.collector => Err(Round::Retry {
                    after: retry_after,
                    error: from.not_the_collector(status),
                }),
                Ok(_) => Err(Round::Fault {
                    after: None,
                    error: "the collector's reply named none of the answers sent".into(),
                }),
                Err(error) => Err(Round::Fault { after: None, error }),
            },
            Disposition::Retry => Err(Round::Retry {
                after: retry_after,
                error: error(),
            }),
            Disposition::ServerFault => Err(Round::Fault {
                after: retry_after,
                error: error(),
            }),
            Disposition::Unauthorized => Err(Round::Unauthorized(error())),
            Disposition::Split if ids.len() > 1 => {
                self.limit = (ids.len() / 2).max(1);
                tracing::info!(batch = self.limit, "the collector wants smaller batches");
                Ok(None)
            }
            Disposition::Split | Disposition::Refused => {
                let dead = batch::refusal(ids, status, &body);
                tracing::warn!(
                    answers = dead.len(),
                    "answers refused by the collector are kept as dead letters: {}",
                    error()
                );
                Ok(Some(dead))
            }
        }
    }

    /// Counts a verdict the store has written, and shows the progress.
    fn written(&mut self, verdict: &[AnswerResult], at_ms: i64) {
        let stored = verdict.iter().filter(|r| r.status.is_stored()).count() as u64;
        let rejected = verdict.len() as u64 - stored;
        self.status.uploaded += stored;
        self.status.pending = self.status.pending.saturating_sub(stored + rejected);
        self.status.dead_letters += rejected;
        self.succeeded_at(at_ms);
        self.publish();
    }

    /// After a drained queue: the heartbeat when due, and pruning when due.
    async fn maintain(&mut self) -> Round {
        let now = Instant::now();
        let due = |last: Option<Instant>, every| last.is_none_or(|t| now - t >= every);
        if due(self.last_prune, PRUNE_EVERY) {
            let keep = i64::try_from(self.settings.keep_synced.as_millis()).unwrap_or(i64::MAX);
            let before = jiff::Timestamp::now().as_millisecond().saturating_sub(keep);
            match self.local.call(move |s| s.prune_synced(before)).await {
                Ok(n) => {
                    self.last_prune = Some(now);
                    if n > 0 {
                        tracing::info!(answers = n, "deleted synced answers past their retention");
                    }
                }
                Err(e) => return Round::StoreFailed(e.to_string()),
            }
        }
        if due(self.last_heartbeat, self.settings.heartbeat) {
            return self.heartbeat().await;
        }
        Round::Drained
    }

    pub(super) fn succeeded(&mut self) {
        self.succeeded_at(jiff::Timestamp::now().as_millisecond());
    }

    fn succeeded_at(&mut self, at_ms: i64) {
        if self.status.link != Link::Online {
            tracing::info!("collector reached; uploading");
        }
        self.status.link = Link::Online;
        self.status.last_error = None;
        self.status.last_success_ms = Some(at_ms);
        self.attempt = 0;
    }

    /// Schedules the next round after `round`.
    fn after(&mut self, round: Round) {
        let now = Instant::now();
        let backoff = &self.settings.backoff;
        let (wait, link, error) = match round {
            Round::Drained => {
                self.hold_until = None;
                self.attempt = 0;
                self.next = now + self.settings.heartbeat;
                return;
            }
            Round::Retry { after, error } => {
                let wait = backoff.delay(self.attempt, self.rng.f64(), after);
                self.attempt = self.attempt.saturating_add(1);
                (wait, Link::Offline, error)
            }
            Round::Fault { after, error } => {
                let after = after.unwrap_or_default().min(backoff.max_retry_after);
                (backoff.cap.max(after), Link::Offline, error)
            }
            Round::Unauthorized(error) => (backoff.max_retry_after, Link::Unauthorized, error),
            Round::StoreFailed(error) => {
                let wait = backoff.delay(self.attempt, self.rng.f64(), None);
                self.attempt = self.attempt.saturating_add(1);
                (
                    wait,
                    self.status.link,
                    format!("terminal database: {error}"),
                )
            }
        };
        if self.status.link != link || self.status.last_error.as_ref() != Some(&error) {
            tracing::warn!(retry_in = ?wait, "upload failed: {error}");
        }
        self.status.link = link;
        self.status.last_error = Some(error);
        self.hold_until = Some(now + wait);
        self.next = now + wait;
    }

    /// Reads the queue's counts and publishes the status if it changed.
    async fn refresh(&mut self) {
        match self.local.call(|s| s.sync_counts()).await {
            Ok(SyncCounts {
                pending,
                rejected,
                oldest_pending_ms,
            }) => {
                self.status.pending = pending;
                self.status.dead_letters = rejected;
                self.status.oldest_pending_ms = oldest_pending_ms;
            }
            Err(e) => tracing::warn!("cannot count waiting answers: {e}"),
        }
        self.publish();
    }

    /// Publishes the status if it changed.
    fn publish(&self) {
        let status = &self.status;
        self.status_tx.send_if_modified(|s| {
            let changed = s != status;
            if changed {
                s.clone_from(status);
            }
            changed
        });
    }
}
