//! The PostgreSQL storage for large fleets, shared by several collectors. Every write that
//! two collectors could race on is decided by the database: a batch's answers go in with one
//! statement that says which were new and counts them in the rollups (`answers`); an
//! enrolment code is locked while it is used (`fleet`); an alert round holds an advisory
//! lock (`alerts`); each channel's deliveries are sent by one collector at a time
//! (`outbox`). The connection pool and errors are in `connection`, the migrations in
//! `schema`.

mod actions;
mod alerts;
mod answers;
mod connection;
mod fleet;
mod outbox;
mod people;
mod report;
mod round;
pub mod schema;
mod verify;

use std::collections::HashMap;

use async_trait::async_trait;
use deadpool_postgres::{Pool, PoolError};
use tokio::sync::mpsc;

use super::people::{Failure, LoginAccount, NewSession, NewUser, SessionUser, Setup, User};
use super::{
    ActionFilter, AlertFilter, AlertView, AnswerFilter, Attempt, ConfigTarget, CountQuery,
    DeviceIdentity, Due, Enrolment, GroupCounts, HeartbeatRecord, IncomingBatch, NewDevice,
    NewEnrolmentCode, ReasonCount, Storage, StorageError, Verification,
};
use crate::collector::action::Action;
use crate::collector::alert::hours::SiteHours;
use crate::collector::alert::rule::Rule;
use crate::wire::{AnswerResult, DeviceStatus, ExportRow, SurveyConfig};

pub use outbox::SENDER_LOCK;

pub use connection::{PgSettings, pool};
pub(crate) use connection::{describe, pg_error};

/// Runs `$work` (an expression using the transaction `$tx`) in one transaction of a pooled
/// connection, and commits it.
macro_rules! transaction {
    ($storage:expr, $tx:ident => $work:expr) => {{
        let mut client = $storage.client().await?;
        let $tx = client.transaction().await.map_err(pg_error)?;
        let result = $work.await?;
        $tx.commit().await.map_err(pg_error)?;
        Ok(result)
    }};
}

/// How often a collector that is not a channel's sender looks whether it can take over.
const SENDER_LOOK_MS: i64 = 5_000;

/// Connections for credential lookups.
const LOOKUPS: usize = 2;

/// The collector's PostgreSQL database.
pub struct PgStorage {
    /// Connections for uploads, heartbeats and every change.
    pool: Pool,
    /// Connections kept for reads (dashboard pages, reports, exports, sessions), so that
    /// a read never queues behind a herd of uploads.
    reads: Pool,
    /// Connections for the lookup of each request's credential (a terminal's or an API
    /// token): a herd's thousand lookups keep at most these busy in the database.
    lookups: Pool,
    /// Batches stored at once. Each is one statement that keeps the database's CPU busy;
    /// more at once would only queue inside the database, where reads would wait behind
    /// them. The others wait here, in order.
    ingest: tokio::sync::Semaphore,
    /// Upload turns (`Storage::upload_turn`), as many as `ingest` has permits: a batch with
    /// a turn finds a permit there once it is decoded.
    turns: std::sync::Arc<tokio::sync::Semaphore>,
    /// Per channel, the connection holding its sender lock while this collector sends its
    /// deliveries.
    senders: tokio::sync::Mutex<HashMap<String, Option<deadpool_postgres::Client>>>,
}

impl PgStorage {
    /// Connects to the database the settings name and brings its schema up to date.
    pub async fn open(settings: &PgSettings) -> Result<PgStorage, StorageError> {
        // A quarter of the connections again for reads, and as many batches at once unless
        // the config says otherwise.
        let quarter = (settings.pool_size / 4).max(2);
        let readers = PgSettings {
            pool_size: quarter,
            ..settings.clone()
        };
        let at_once = settings.batches_at_once.unwrap_or(quarter);
        let storage = PgStorage {
            pool: pool(settings)?,
            reads: pool(&readers)?,
            lookups: pool(&PgSettings {
                pool_size: LOOKUPS,
                ..settings.clone()
            })?,
            ingest: tokio::sync::Semaphore::new(at_once),
            turns: std::sync::Arc::new(tokio::sync::Semaphore::new(at_once)),
            senders: tokio::sync::Mutex::default(),
        };
        let mut client = storage.client().await?;
        schema::migrate(&mut client).await?;
        drop(client);
        Ok(storage)
    }

    /// A pooled connection for writes.
    async fn client(&self) -> Result<deadpool_postgres::Client, StorageError> {
        connection(&self.pool).await
    }

    /// A pooled connection for reads.
    async fn reader(&self) -> Result<deadpool_postgres::Client, StorageError> {
        connection(&self.reads).await
    }
}

async fn connection(pool: &Pool) -> Result<deadpool_postgres::Client, StorageError> {
    pool.get().await.map_err(|e| match e {
        PoolError::Backend(e) => pg_error(e),
        other => StorageError::Unavailable(format!("no database connection: {other}")),
    })
}

#[async_trait]
impl Storage for PgStorage {
    async fn device_by_credential(
        &self,
        hash: &str,
    ) -> Result<Option<DeviceIdentity>, StorageError> {
        fleet::device_by_credential(&connection(&self.lookups).await?, hash).await
    }

    async fn admin_token(&self, hash: &str) -> Result<Option<bool>, StorageError> {
        fleet::admin_token(&connection(&self.lookups).await?, hash).await
    }

    async fn upload_turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.turns.clone().acquire_owned().await.ok()
    }

    async fn store_batch(&self, batch: IncomingBatch) -> Result<Vec<AnswerResult>, StorageError> {
        let _turn = self
            .ingest
            .acquire()
            .await
            .map_err(|_| StorageError::Unavailable("the collector is stopping".into()))?;
        answers::store_batch(&self.client().await?, &batch).await
    }

    async fn record_heartbeat(&self, record: HeartbeatRecord) -> Result<(), StorageError> {
        fleet::record_heartbeat(&self.client().await?, &record).await
    }

    async fn add_device(&self, device: NewDevice) -> Result<(), StorageError> {
        fleet::add_device(&self.client().await?, &device).await
    }

    async fn revoke_device(&self, id: &str, at_ms: i64) -> Result<(), StorageError> {
        transaction!(self, tx => fleet::revoke_device(&tx, id, at_ms))
    }

    async fn devices(&self, skew_flag_ms: i64) -> Result<Vec<DeviceStatus>, StorageError> {
        fleet::devices(&self.reader().await?, skew_flag_ms).await
    }

    async fn add_admin_token(
        &self,
        name: &str,
        hash: &str,
        at_ms: i64,
    ) -> Result<(), StorageError> {
        fleet::add_admin_token(&self.client().await?, name, hash, at_ms).await
    }

    async fn revoke_admin_token(&self, name: &str, at_ms: i64) -> Result<(), StorageError> {
        fleet::revoke_admin_token(&self.client().await?, name, at_ms).await
    }

    async fn add_enrolment_code(&self, code: NewEnrolmentCode) -> Result<(), StorageError> {
        fleet::add_code(&self.client().await?, &code).await
    }

    async fn enrol(
        &self,
        code_hash: &str,
        credential_hash: &str,
        at_ms: i64,
    ) -> Result<Enrolment, StorageError> {
        transaction!(self, tx => fleet::enrol(&tx, code_hash, credential_hash, at_ms))
    }

    async fn set_config(
        &self,
        target: ConfigTarget,
        text: String,
        at_ms: i64,
    ) -> Result<u64, StorageError> {
        fleet::set_config(&self.client().await?, &target, &text, at_ms).await
    }

    async fn device_config(&self, device_id: &str) -> Result<Option<SurveyConfig>, StorageError> {
        fleet::device_config(&self.client().await?, device_id).await
    }

    async fn site_config(&self, site: &str) -> Result<Option<SurveyConfig>, StorageError> {
        fleet::site_config(&self.reader().await?, site).await
    }

    async fn export(
        &self,
        filter: AnswerFilter,
        rows: mpsc::Sender<ExportRow>,
    ) -> Result<(), StorageError> {
        answers::export(&self.reader().await?, &filter, &rows).await
    }

    async fn verify_counts(&self) -> Result<Verification, StorageError> {
        // One snapshot for the answers and every rollup table.
        let mut client = self.reader().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_error)?;
        let verification = verify::verify_counts(&tx).await?;
        tx.commit().await.map_err(pg_error)?;
        Ok(verification)
    }

    async fn report_counts(&self, query: CountQuery) -> Result<Vec<GroupCounts>, StorageError> {
        report::report_counts(&self.reader().await?, &query).await
    }

    async fn reason_counts(&self, filter: AnswerFilter) -> Result<Vec<ReasonCount>, StorageError> {
        report::reason_counts(&self.reader().await?, &filter).await
    }

    async fn add_user(&self, user: NewUser) -> Result<(), StorageError> {
        transaction!(self, tx => people::add_user(&tx, &user))
    }

    async fn users(&self) -> Result<Vec<User>, StorageError> {
        people::users(&self.reader().await?).await
    }

    async fn disable_user(&self, name: &str, at_ms: i64) -> Result<(), StorageError> {
        transaction!(self, tx => people::disable_user(&tx, name, at_ms))
    }

    async fn reset_user(
        &self,
        name: &str,
        setup_hash: &str,
        expires_ms: i64,
    ) -> Result<(), StorageError> {
        transaction!(self, tx => people::reset_user(&tx, name, setup_hash, expires_ms))
    }

    async fn set_password(
        &self,
        setup_hash: &str,
        password_phc: &str,
        at_ms: i64,
    ) -> Result<Setup, StorageError> {
        people::set_password(&self.client().await?, setup_hash, password_phc, at_ms).await
    }

    async fn login_account(&self, name: &str) -> Result<Option<LoginAccount>, StorageError> {
        people::login_account(&self.reader().await?, name).await
    }

    async fn login_failed(
        &self,
        user_id: i64,
        at_ms: i64,
        lock_after: u32,
        lock_ms: i64,
    ) -> Result<Failure, StorageError> {
        people::login_failed(&self.client().await?, user_id, at_ms, lock_after, lock_ms).await
    }

    async fn start_session(&self, session: NewSession) -> Result<(), StorageError> {
        transaction!(self, tx => people::start_session(&tx, &session))
    }

    async fn session(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<Option<SessionUser>, StorageError> {
        people::session(&self.reader().await?, id_hash, now_ms).await
    }

    async fn end_session(&self, id_hash: &str) -> Result<(), StorageError> {
        people::end_session(&self.client().await?, id_hash).await
    }

    async fn set_site(&self, site: SiteHours) -> Result<(), StorageError> {
        alerts::set_site(&self.client().await?, &site).await
    }

    async fn sites(&self) -> Result<Vec<SiteHours>, StorageError> {
        alerts::sites(&self.reader().await?).await
    }

    async fn add_alert_rule(&self, rule: Rule, at_ms: i64) -> Result<i64, StorageError> {
        alerts::add_rule(&self.client().await?, &rule, at_ms).await
    }

    async fn alert_rules(&self) -> Result<Vec<Rule>, StorageError> {
        alerts::rules(&self.reader().await?).await
    }

    async fn remove_alert_rule(&self, name: &str, at_ms: i64) -> Result<(), StorageError> {
        transaction!(self, tx => alerts::remove_rule(&tx, name, at_ms))
    }

    async fn alert_round(&self, now_ms: i64, channels: Vec<String>) -> Result<usize, StorageError> {
        transaction!(self, tx => round::round(&tx, now_ms, &channels))
    }

    async fn alerts(&self, filter: AlertFilter) -> Result<Vec<AlertView>, StorageError> {
        alerts::alerts(&self.reader().await?, &filter).await
    }

    async fn alert(&self, id: i64) -> Result<Option<AlertView>, StorageError> {
        alerts::alert_view(&self.reader().await?, id).await
    }

    async fn acknowledge_alert(
        &self,
        id: i64,
        by: &str,
        comment: &str,
        at_ms: i64,
    ) -> Result<AlertView, StorageError> {
        transaction!(self, tx => alerts::acknowledge(&tx, id, by, comment, at_ms))
    }

    async fn due_deliveries(
        &self,
        channel: &str,
        now_ms: i64,
        limit: usize,
    ) -> Result<Due, StorageError> {
        let mut senders = self.senders.lock().await;
        let held = senders.entry(channel.to_owned()).or_default();
        if !outbox::become_sender(held, &self.pool, channel).await? {
            // Another collector sends this channel's deliveries; look again in a while, to
            // take over if it stops.
            return Ok(Due {
                ready: Vec::new(),
                next_at_ms: Some(now_ms + SENDER_LOOK_MS),
            });
        }
        drop(senders);
        outbox::due(&self.client().await?, channel, now_ms, limit).await
    }

    async fn record_attempt(&self, id: &str, attempt: Attempt) -> Result<(), StorageError> {
        outbox::record(&self.client().await?, id, &attempt).await
    }

    async fn add_action(&self, action: Action) -> Result<i64, StorageError> {
        actions::add(&self.client().await?, &action).await
    }

    async fn action(&self, id: i64) -> Result<Option<Action>, StorageError> {
        actions::one(&self.reader().await?, id).await
    }

    async fn actions(&self, filter: ActionFilter) -> Result<Vec<Action>, StorageError> {
        actions::list(&self.reader().await?, &filter).await
    }

    async fn queue_summary(
        &self,
        site: &str,
        through: &str,
        title: &str,
        text: &str,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        transaction!(self, tx => alerts::queue_summary(&tx, site, through, title, text, at_ms))
    }
}
