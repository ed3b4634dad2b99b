//! The embedded default storage: one SQLite file in WAL mode with `synchronous=FULL`. Writes
//! go through one writer thread with group commit (`writer`); reads use small pools of
//! read-only connections (`connection`, queries in `read`), so exports never hold up uploads,
//! with the credential lookups of every request in a pool of their own.

mod actions;
mod alerts;
mod answers;
mod connection;
mod fleet;
mod people;
mod read;
mod rollups;
mod schema;
mod writer;

use std::path::Path;

use async_trait::async_trait;
use rusqlite::{Connection, params};
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

pub use schema::migrations;

use connection::{ReadPool, open_writer, sql_error};

/// Read-only connections for pages, reports and exports.
const READERS: u32 = 8;
/// Read-only connections for credential lookups.
const LOOKUPS: u32 = 2;

/// The collector's SQLite database.
pub struct SqliteStorage {
    writer: writer::Writer,
    /// Every read but the credential lookups.
    readers: ReadPool,
    /// The lookup of each request's credential (a terminal's or an API token), kept apart:
    /// a herd's thousand uploads never queue ahead of a page's reads, nor a page ahead of them.
    lookups: ReadPool,
    /// Whether stored answers are counted in the rollups: always, but for measuring what
    /// counting costs ([`SqliteStorage::open_without_rollups`]).
    rollups: bool,
}

impl SqliteStorage {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStorage, StorageError> {
        let mut conn = open_writer(path)?;
        migrations().to_latest(&mut conn).map_err(|e| {
            StorageError::Failed(format!(
                "cannot bring the schema of {} up to date: {e}",
                path.display()
            ))
        })?;
        let readers = ReadPool::open(path, READERS)?;
        let lookups = ReadPool::open(path, LOOKUPS)?;
        Ok(SqliteStorage {
            writer: writer::Writer::spawn(path.to_owned(), conn),
            readers,
            lookups,
            rollups: true,
        })
    }

    /// Opens the database like [`SqliteStorage::open`] but stores answers without counting
    /// them in the rollups, so that a benchmark can measure what the rollups cost. Reports
    /// of answers stored this way are empty and `verify` finds them missing: the collector
    /// never opens a database this way.
    pub fn open_without_rollups(path: &Path) -> Result<SqliteStorage, StorageError> {
        Ok(SqliteStorage {
            rollups: false,
            ..SqliteStorage::open(path)?
        })
    }

    /// Runs a read on a pooled connection in a blocking thread.
    async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StorageError> + Send + 'static,
    ) -> Result<R, StorageError> {
        self.readers.run(f).await
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn device_by_credential(
        &self,
        hash: &str,
    ) -> Result<Option<DeviceIdentity>, StorageError> {
        let hash = hash.to_owned();
        self.lookups
            .run(move |c| read::device_by_credential(c, &hash))
            .await
    }

    async fn admin_token(&self, hash: &str) -> Result<Option<bool>, StorageError> {
        let hash = hash.to_owned();
        self.lookups.run(move |c| read::admin_token(c, &hash)).await
    }

    async fn store_batch(&self, batch: IncomingBatch) -> Result<Vec<AnswerResult>, StorageError> {
        let rollups = self.rollups;
        self.writer
            .write_counted(move |c, tally| {
                let tally = rollups.then_some(tally);
                answers::insert_batch(c, &batch, tally).map_err(sql_error)
            })
            .await
    }

    async fn record_heartbeat(&self, record: HeartbeatRecord) -> Result<(), StorageError> {
        self.writer
            .write(move |c| {
                let b = &record.beat;
                c.prepare_cached(
                    "UPDATE devices SET last_seen_ms = ?2, clock_skew_ms = ?3, app_version = ?4,
                        boot_id = ?5, clock_trusted = ?6, queue_depth = ?7,
                        oldest_unsynced_age_s = ?8, dead_letters = ?9, last_error = ?10,
                        config_version = ?11, config_error = ?12
                     WHERE id = ?1",
                )?
                .execute(params![
                    record.device_id,
                    record.received_at_ms,
                    record.clock_skew_ms,
                    b.app_version,
                    b.boot_id,
                    b.clock_trusted,
                    i64::try_from(b.queue_depth).unwrap_or(i64::MAX),
                    b.oldest_unsynced_age_seconds
                        .map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
                    i64::try_from(b.dead_letters).unwrap_or(i64::MAX),
                    b.last_error,
                    b.config_version
                        .map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
                    b.config_error,
                ])?;
                Ok(())
            })
            .await
    }

    async fn add_device(&self, d: NewDevice) -> Result<(), StorageError> {
        self.writer
            .write(move |c| {
                let added = c.execute(
                    "INSERT INTO devices (id, site, touchpoint, credential_sha256, created_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    params![
                        d.id,
                        d.site,
                        d.touchpoint,
                        d.credential_hash,
                        d.created_at_ms
                    ],
                )?;
                if added == 0 {
                    return Err(StorageError::Conflict(format!(
                        "a device with the id {:?} exists already",
                        d.id
                    )));
                }
                Ok(())
            })
            .await
    }

    async fn revoke_device(&self, id: &str, at_ms: i64) -> Result<(), StorageError> {
        let id = id.to_owned();
        self.writer
            .write(move |c| {
                let n = c.execute(
                    "UPDATE devices SET revoked_at_ms = coalesce(revoked_at_ms, ?2) WHERE id = ?1",
                    params![id, at_ms],
                )?;
                if n == 0 {
                    return Err(StorageError::NotFound(format!(
                        "no device with the id {id:?}"
                    )));
                }
                fleet::expire_codes(c, &id, at_ms)
            })
            .await
    }

    async fn devices(&self, skew_flag_ms: i64) -> Result<Vec<DeviceStatus>, StorageError> {
        self.read(move |c| read::devices(c, skew_flag_ms)).await
    }

    async fn add_admin_token(
        &self,
        name: &str,
        hash: &str,
        at_ms: i64,
    ) -> Result<(), StorageError> {
        let (name, hash) = (name.to_owned(), hash.to_owned());
        self.writer
            .write(move |c| {
                let added = c.execute(
                    "INSERT INTO admin_tokens (name, token_sha256, created_at_ms)
                     VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![name, hash, at_ms],
                )?;
                if added == 0 {
                    return Err(StorageError::Conflict(format!(
                        "an admin token named {name:?} exists already"
                    )));
                }
                Ok(())
            })
            .await
    }

    async fn revoke_admin_token(&self, name: &str, at_ms: i64) -> Result<(), StorageError> {
        let name = name.to_owned();
        self.writer
            .write(move |c| {
                let n = c.execute(
                    "UPDATE admin_tokens SET revoked_at_ms = coalesce(revoked_at_ms, ?2)
                     WHERE name = ?1",
                    params![name, at_ms],
                )?;
                if n == 0 {
                    return Err(StorageError::NotFound(format!(
                        "no admin token named {name:?}"
                    )));
                }
                Ok(())
            })
            .await
    }

    async fn add_enrolment_code(&self, code: NewEnrolmentCode) -> Result<(), StorageError> {
        self.writer.write(move |c| fleet::add_code(c, &code)).await
    }

    async fn enrol(
        &self,
        code_hash: &str,
        credential_hash: &str,
        at_ms: i64,
    ) -> Result<Enrolment, StorageError> {
        let (code, credential) = (code_hash.to_owned(), credential_hash.to_owned());
        self.writer
            .write(move |c| fleet::enrol(c, &code, &credential, at_ms))
            .await
    }

    async fn set_config(
        &self,
        target: ConfigTarget,
        text: String,
        at_ms: i64,
    ) -> Result<u64, StorageError> {
        self.writer
            .write(move |c| fleet::set_config(c, &target, &text, at_ms))
            .await
    }

    async fn device_config(&self, device_id: &str) -> Result<Option<SurveyConfig>, StorageError> {
        let id = device_id.to_owned();
        self.read(move |c| fleet::device_config(c, &id)).await
    }

    async fn site_config(&self, site: &str) -> Result<Option<SurveyConfig>, StorageError> {
        let site = site.to_owned();
        self.read(move |c| fleet::site_config(c, &site)).await
    }

    async fn export(
        &self,
        filter: AnswerFilter,
        rows: mpsc::Sender<ExportRow>,
    ) -> Result<(), StorageError> {
        self.read(move |c| read::export(c, &filter, &rows)).await
    }

    async fn verify_counts(&self) -> Result<Verification, StorageError> {
        self.read(rollups::verify_counts).await
    }

    async fn report_counts(&self, query: CountQuery) -> Result<Vec<GroupCounts>, StorageError> {
        self.read(move |c| rollups::report_counts(c, &query)).await
    }

    async fn reason_counts(&self, filter: AnswerFilter) -> Result<Vec<ReasonCount>, StorageError> {
        self.read(move |c| rollups::reason_counts(c, &filter)).await
    }

    async fn add_user(&self, user: NewUser) -> Result<(), StorageError> {
        self.writer.write(move |c| people::add_user(c, &user)).await
    }

    async fn users(&self) -> Result<Vec<User>, StorageError> {
        self.read(people::users).await
    }

    async fn disable_user(&self, name: &str, at_ms: i64) -> Result<(), StorageError> {
        let name = name.to_owned();
        self.writer
            .write(move |c| people::disable_user(c, &name, at_ms))
            .await
    }

    async fn reset_user(
        &self,
        name: &str,
        setup_hash: &str,
        expires_ms: i64,
    ) -> Result<(), StorageError> {
        let (name, hash) = (name.to_owned(), setup_hash.to_owned());
        self.writer
            .write(move |c| people::reset_user(c, &name, &hash, expires_ms))
            .await
    }

    async fn set_password(
        &self,
        setup_hash: &str,
        password_phc: &str,
        at_ms: i64,
    ) -> Result<Setup, StorageError> {
        let (hash, phc) = (setup_hash.to_owned(), password_phc.to_owned());
        self.writer
            .write(move |c| people::set_password(c, &hash, &phc, at_ms))
            .await
    }

    async fn login_account(&self, name: &str) -> Result<Option<LoginAccount>, StorageError> {
        let name = name.to_owned();
        self.read(move |c| people::login_account(c, &name)).await
    }

    async fn login_failed(
        &self,
        user_id: i64,
        at_ms: i64,
        lock_after: u32,
        lock_ms: i64,
    ) -> Result<Failure, StorageError> {
        self.writer
            .write(move |c| people::login_failed(c, user_id, at_ms, lock_after, lock_ms))
            .await
    }

    async fn start_session(&self, session: NewSession) -> Result<(), StorageError> {
        self.writer
            .write(move |c| people::start_session(c, &session))
            .await
    }

    async fn session(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<Option<SessionUser>, StorageError> {
        let hash = id_hash.to_owned();
        self.read(move |c| people::session(c, &hash, now_ms)).await
    }

    async fn end_session(&self, id_hash: &str) -> Result<(), StorageError> {
        let hash = id_hash.to_owned();
        self.writer
            .write(move |c| people::end_session(c, &hash))
            .await
    }

    async fn set_site(&self, site: SiteHours) -> Result<(), StorageError> {
        self.writer.write(move |c| alerts::set_site(c, &site)).await
    }

    async fn sites(&self) -> Result<Vec<SiteHours>, StorageError> {
        self.read(alerts::sites).await
    }

    async fn add_alert_rule(&self, rule: Rule, at_ms: i64) -> Result<i64, StorageError> {
        self.writer
            .write(move |c| alerts::add_rule(c, &rule, at_ms))
            .await
    }

    async fn alert_rules(&self) -> Result<Vec<Rule>, StorageError> {
        self.read(alerts::rules).await
    }

    async fn remove_alert_rule(&self, name: &str, at_ms: i64) -> Result<(), StorageError> {
        let name = name.to_owned();
        self.writer
            .write(move |c| alerts::remove_rule(c, &name, at_ms))
            .await
    }

    async fn alert_round(&self, now_ms: i64, channels: Vec<String>) -> Result<usize, StorageError> {
        self.writer
            .write(move |c| alerts::round(c, now_ms, &channels))
            .await
    }

    async fn alerts(&self, filter: AlertFilter) -> Result<Vec<AlertView>, StorageError> {
        self.read(move |c| alerts::alerts(c, &filter)).await
    }

    async fn alert(&self, id: i64) -> Result<Option<AlertView>, StorageError> {
        self.read(move |c| alerts::alert_view(c, id)).await
    }

    async fn acknowledge_alert(
        &self,
        id: i64,
        by: &str,
        comment: &str,
        at_ms: i64,
    ) -> Result<AlertView, StorageError> {
        let (by, comment) = (by.to_owned(), comment.to_owned());
        self.writer
            .write(move |c| alerts::acknowledge(c, id, &by, &comment, at_ms))
            .await
    }

    async fn due_deliveries(
        &self,
        channel: &str,
        now_ms: i64,
        limit: usize,
    ) -> Result<Due, StorageError> {
        let channel = channel.to_owned();
        self.read(move |c| alerts::outbox::due(c, &channel, now_ms, limit))
            .await
    }

    async fn record_attempt(&self, id: &str, attempt: Attempt) -> Result<(), StorageError> {
        let id = id.to_owned();
        self.writer
            .write(move |c| alerts::outbox::record(c, &id, &attempt))
            .await
    }

    async fn add_action(&self, action: Action) -> Result<i64, StorageError> {
        self.writer.write(move |c| actions::add(c, &action)).await
    }

    async fn action(&self, id: i64) -> Result<Option<Action>, StorageError> {
        self.read(move |c| actions::one(c, id)).await
    }

    async fn actions(&self, filter: ActionFilter) -> Result<Vec<Action>, StorageError> {
        self.read(move |c| actions::list(c, &filter)).await
    }

    async fn queue_summary(
        &self,
        site: &str,
        through: &str,
        title: &str,
        text: &str,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        let (site, through) = (site.to_owned(), through.to_owned());
        let (title, text) = (title.to_owned(), text.to_owned());
        self.writer
            .write(move |c| alerts::queue_summary(c, &site, &through, &title, &text, at_ms))
            .await
    }
}
