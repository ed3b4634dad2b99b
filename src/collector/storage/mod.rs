//! Where the collector keeps devices, admin tokens and answers: the [`Storage`] trait that
//! every route uses, and its embedded SQLite implementation. The PostgreSQL backend for
//! large fleets (`postgres`) is being built behind the same trait: so far its connection
//! pool and its schema with the migrator.

pub mod alerts;
pub mod filter;
pub mod migrate;
pub mod people;
pub mod postgres;
pub mod rollup;
mod sqlite;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::collector::action::Action;
use crate::collector::alert::hours::SiteHours;
use crate::collector::alert::rule::Rule;
use crate::survey::{Direction, Scale};
use crate::wire::{AnswerResult, DeviceStatus, ExportRow, Heartbeat, SurveyConfig, WireAnswer};
pub use alerts::{ActionFilter, AlertFilter, AlertView, Attempt, Delivery, Due};
pub use filter::AnswerFilter;
pub use people::{Failure, LoginAccount, NewSession, NewUser, Role, SessionUser, Setup, User};

pub use sqlite::{SqliteStorage, migrations as sqlite_migrations};

/// How long before its arrival an answer still counts for alerts (in the live counts); no
/// rule window is longer. An older one (a terminal catching up after an outage) is counted
/// in the reports only.
pub const LIVE_HORIZON_MS: i64 = 24 * 3_600_000;

/// A device as its credential identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceIdentity {
    pub id: String,
    pub site: String,
    pub touchpoint: String,
    pub revoked: bool,
}

/// A device the central team adds, with the hash of its new credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDevice {
    pub id: String,
    pub site: String,
    pub touchpoint: String,
    pub credential_hash: String,
    pub created_at_ms: i64,
}

/// An answer that passed validation, with the local day and hour it is reported under.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedAnswer {
    pub wire: WireAnswer,
    pub local_date: String,
    pub local_hour: u8,
    /// The device clock was not trusted; day and hour were corrected by the measured skew.
    pub time_estimated: bool,
}

impl CheckedAnswer {
    /// When the answer was given in collector time: its device time corrected by the skew
    /// measured when its batch arrived, never later than that arrival.
    pub fn given_at_ms(&self, received_at_ms: i64, clock_skew_ms: i64) -> i64 {
        self.wire
            .device_time_ms
            .saturating_sub(clock_skew_ms)
            .min(received_at_ms)
    }
}

/// A validated batch from one device. Site and touchpoint come from the device's
/// registration, never from the request body.
#[derive(Clone, Debug, PartialEq)]
pub struct IncomingBatch {
    pub device: DeviceIdentity,
    pub received_at_ms: i64,
    /// Device clock minus collector clock when the batch arrived.
    pub clock_skew_ms: i64,
    pub answers: Vec<CheckedAnswer>,
}

/// A heartbeat as received.
#[derive(Clone, Debug, PartialEq)]
pub struct HeartbeatRecord {
    pub device_id: String,
    pub received_at_ms: i64,
    pub clock_skew_ms: i64,
    pub beat: Heartbeat,
}

/// Which places a report's groups are: each a site, a touchpoint (within its site), a
/// device (within its touchpoint), or the whole fleet per question. Every group is also split
/// by question id and version, scale and direction: they are never mixed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Grouping {
    Site,
    #[default]
    Touchpoint,
    Device,
    Question,
}

/// How finely the counts are split in time before a report puts them into its buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeSplit {
    /// The whole period at once.
    None,
    /// Per local date.
    Date,
    /// Per local date and hour.
    DateHour,
    /// Per local hour of the day, all dates together.
    Hour,
    /// Per ISO weekday and local hour of the day, all dates together (a heatmap).
    WeekdayHour,
}

/// What score counts a report asks storage for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountQuery {
    pub filter: AnswerFilter,
    pub group: Grouping,
    pub time: TimeSplit,
    /// Only this page of groups, in the order of [`GroupKey`]; all when `None`.
    pub page: Option<CountPage>,
}

/// A page of report groups: at most `groups`, starting after `after`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountPage {
    pub after: Option<GroupKey>,
    pub groups: usize,
}

/// A report group's identity: its time, question and place, as far as the query keys by
/// them. Groups sort by time, then question (id, version, scale, direction), then place
/// (site, touchpoint, device), text byte by byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupKey {
    pub date: Option<String>,
    pub hour: Option<u8>,
    pub site: Option<String>,
    pub touchpoint: Option<String>,
    pub device: Option<String>,
    pub question_id: String,
    pub question_version: u32,
    pub scale: Scale,
    pub direction: Direction,
}

/// How many answers of each score one report group holds; the CES maths is done elsewhere.
/// Names the grouping does not key by, and times the split does not keep, are `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupCounts {
    pub site: Option<String>,
    pub touchpoint: Option<String>,
    pub device: Option<String>,
    pub question_id: String,
    pub question_version: u32,
    pub scale: Scale,
    pub direction: Direction,
    pub date: Option<String>,
    pub hour: Option<u8>,
    /// ISO weekday (1 Monday … 7 Sunday), split by weekday and hour only.
    pub weekday: Option<u8>,
    /// Counted answers per score: index 0 is score 1.
    pub counts: Vec<u64>,
    pub suppressed: u64,
}

/// How often one follow-up reason was given after a low score of one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonCount {
    pub question_id: String,
    pub question_version: u32,
    pub scale: Scale,
    pub direction: Direction,
    pub reason: String,
    pub n: u64,
}

/// A rollup row that does not match a recount of the stored answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountDifference {
    /// The row's key: local date and hour, site, touchpoint, device, question id and
    /// version, scale, score, suppressed, reason.
    pub key: String,
    /// What the rollup says.
    pub stored: u64,
    /// What counting the answers gives.
    pub counted: u64,
}

/// The outcome of recounting the answers against the rollups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub answers: u64,
    pub rollup_rows: u64,
    /// The first differences found (at most 1,000); none when everything matches.
    pub differences: Vec<CountDifference>,
}

/// Which terminals a survey config is for: one device, or every device of a site. A device
/// runs the newest config set for it or for its site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigTarget {
    Device(String),
    Site(String),
}

/// An enrolment code waiting to be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEnrolmentCode {
    pub device_id: String,
    pub code_hash: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// What became of an enrolment attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enrolment {
    /// The code was good: it is used up now and the device has the new credential.
    Enrolled {
        device: DeviceIdentity,
        config: SurveyConfig,
    },
    /// No such code.
    Unknown,
    /// The code was used before (at this time).
    Used { at_ms: i64 },
    /// The code expired (at this time) or its device was revoked after it was made.
    Expired { at_ms: i64 },
    /// The device has no survey config yet; the code is still good.
    NoConfig { device_id: String },
}

/// Why the storage could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Busy, full or failing disk, or stopping: worth retrying later (HTTP 503).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The request conflicts with what is stored (an id that exists already).
    #[error("{0}")]
    Conflict(String),
    /// Nothing stored under that name.
    #[error("{0}")]
    NotFound(String),
    /// Anything else (HTTP 500).
    #[error("database error: {0}")]
    Failed(String),
}

/// Everything the collector stores and reads. Implementations must store each answer id at
/// most once, in the database itself, and report a batch's results only once they are durable.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// The device whose credential has this SHA-256 (hex), revoked or not.
    async fn device_by_credential(
        &self,
        hash: &str,
    ) -> Result<Option<DeviceIdentity>, StorageError>;

    /// Whether an admin token with this SHA-256 exists: `Some(revoked)`, or `None`.
    async fn admin_token(&self, hash: &str) -> Result<Option<bool>, StorageError>;

    /// Waits for this collector's turn to take in another upload batch, to be held while
    /// the batch is decompressed, checked and stored: batches that would only wait for the
    /// database wait as they came, compressed, without costing CPU. `None`: no turns (SQLite's
    /// writer takes every waiting request into its next group commit).
    async fn upload_turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        None
    }

    /// Stores a batch durably and says per answer: accepted, duplicate (the same device
    /// stored it before) or rejected (the id belongs to another device's answer).
    async fn store_batch(&self, batch: IncomingBatch) -> Result<Vec<AnswerResult>, StorageError>;

    async fn record_heartbeat(&self, record: HeartbeatRecord) -> Result<(), StorageError>;

    /// Adds a device; `Conflict` when the id or credential exists.
    async fn add_device(&self, device: NewDevice) -> Result<(), StorageError>;

    /// Revokes a device's credential; `NotFound` for an unknown id.
    async fn revoke_device(&self, id: &str, at_ms: i64) -> Result<(), StorageError>;

    /// Every device with its last reported status; `skew_flag_ms` marks suspect clocks.
    async fn devices(&self, skew_flag_ms: i64) -> Result<Vec<DeviceStatus>, StorageError>;

    /// Adds an admin token under a name; `Conflict` when the name exists.
    async fn add_admin_token(&self, name: &str, hash: &str, at_ms: i64)
    -> Result<(), StorageError>;

    /// Revokes an admin token; `NotFound` for an unknown name.
    async fn revoke_admin_token(&self, name: &str, at_ms: i64) -> Result<(), StorageError>;

    /// Stores a new enrolment code for a device; `NotFound` for an unknown device.
    async fn add_enrolment_code(&self, code: NewEnrolmentCode) -> Result<(), StorageError>;

    /// Uses an enrolment code, in one transaction: marks it used and gives its device the
    /// credential with this hash (lifting a revocation: a new code was made deliberately).
    async fn enrol(
        &self,
        code_hash: &str,
        credential_hash: &str,
        at_ms: i64,
    ) -> Result<Enrolment, StorageError>;

    /// Stores a survey config for a device or a site and returns its version; `NotFound` for
    /// an unknown device. A site needs no device yet: its config waits for its terminals.
    async fn set_config(
        &self,
        target: ConfigTarget,
        text: String,
        at_ms: i64,
    ) -> Result<u64, StorageError>;

    /// The newest survey config for a device: its own or its site's.
    async fn device_config(&self, device_id: &str) -> Result<Option<SurveyConfig>, StorageError>;

    /// The newest survey config set for a whole site.
    async fn site_config(&self, site: &str) -> Result<Option<SurveyConfig>, StorageError>;

    /// Sends every matching answer to `rows`, in the order received. Stops early, without
    /// error, when the receiver is dropped.
    async fn export(
        &self,
        filter: AnswerFilter,
        rows: mpsc::Sender<ExportRow>,
    ) -> Result<(), StorageError>;

    /// Recounts the stored answers and compares them with the rollups every report reads.
    async fn verify_counts(&self) -> Result<Verification, StorageError>;

    /// Score counts per place of the grouping, question, scale and time of the split, from
    /// the rollups: never a scan of the answers.
    async fn report_counts(&self, query: CountQuery) -> Result<Vec<GroupCounts>, StorageError>;

    /// The follow-up reasons given in the filter's answers, per question, from the rollups.
    async fn reason_counts(&self, filter: AnswerFilter) -> Result<Vec<ReasonCount>, StorageError>;
    /// Adds a dashboard account waiting for its setup code; a taken name is a conflict.
    async fn add_user(&self, user: NewUser) -> Result<(), StorageError>;

    /// Every account, by name.
    async fn users(&self) -> Result<Vec<User>, StorageError>;

    /// Disables an account (its setup code too) and ends its sessions.
    async fn disable_user(&self, name: &str, at_ms: i64) -> Result<(), StorageError>;

    /// Clears an account's password, lock and disablement, ends its sessions, and gives it a
    /// new setup code.
    async fn reset_user(
        &self,
        name: &str,
        setup_hash: &str,
        expires_ms: i64,
    ) -> Result<(), StorageError>;

    /// Sets the password (an Argon2id PHC string) of the account whose setup code has this
    /// hash, and uses the code up.
    async fn set_password(
        &self,
        setup_hash: &str,
        password_phc: &str,
        at_ms: i64,
    ) -> Result<Setup, StorageError>;

    /// What a login needs of the account named `name`.
    async fn login_account(&self, name: &str) -> Result<Option<LoginAccount>, StorageError>;

    /// Counts a wrong password for the account; every `lock_after`-th in a row locks it for
    /// `lock_ms`.
    async fn login_failed(
        &self,
        user_id: i64,
        at_ms: i64,
        lock_after: u32,
        lock_ms: i64,
    ) -> Result<Failure, StorageError>;

    /// Starts a session (clearing the account's failures) and drops expired ones.
    async fn start_session(&self, session: NewSession) -> Result<(), StorageError>;

    /// The person behind an unexpired session of an enabled account.
    async fn session(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<Option<SessionUser>, StorageError>;

    /// Ends a session (logout).
    async fn end_session(&self, id_hash: &str) -> Result<(), StorageError>;

    /// Sets a site's time zone and opening hours (replacing what was set).
    async fn set_site(&self, site: SiteHours) -> Result<(), StorageError>;

    /// Every site with a time zone and opening hours set, by name.
    async fn sites(&self) -> Result<Vec<SiteHours>, StorageError>;

    /// Adds an alert rule and returns its id; a taken name is a conflict.
    async fn add_alert_rule(&self, rule: Rule, at_ms: i64) -> Result<i64, StorageError>;

    /// Every rule in force, by name.
    async fn alert_rules(&self) -> Result<Vec<Rule>, StorageError>;

    /// Removes a rule; its open alerts are resolved without notice. `NotFound` for an
    /// unknown name.
    async fn remove_alert_rule(&self, name: &str, at_ms: i64) -> Result<(), StorageError>;

    /// Evaluates every rule at `now_ms` in one transaction: alerts open, fire, repeat and
    /// resolve, and each notification goes into the outbox once per channel. Returns how
    /// many deliveries it queued.
    async fn alert_round(&self, now_ms: i64, channels: Vec<String>) -> Result<usize, StorageError>;

    /// Alerts, newest first.
    async fn alerts(&self, filter: AlertFilter) -> Result<Vec<AlertView>, StorageError>;

    /// The alert with this id.
    async fn alert(&self, id: i64) -> Result<Option<AlertView>, StorageError>;

    /// Acknowledges a firing alert; `NotFound` when there is no such alert firing.
    async fn acknowledge_alert(
        &self,
        id: i64,
        by: &str,
        comment: &str,
        at_ms: i64,
    ) -> Result<AlertView, StorageError>;

    /// The channel's deliveries due at `now_ms` (at most `limit`, oldest first).
    async fn due_deliveries(
        &self,
        channel: &str,
        now_ms: i64,
        limit: usize,
    ) -> Result<Due, StorageError>;

    /// Records what came of trying a delivery.
    async fn record_attempt(&self, id: &str, attempt: Attempt) -> Result<(), StorageError>;

    /// Records an action and returns its id; `NotFound` for an unknown alert.
    async fn add_action(&self, action: Action) -> Result<i64, StorageError>;

    /// The action with this id.
    async fn action(&self, id: i64) -> Result<Option<Action>, StorageError>;

    /// Actions, newest first.
    async fn actions(&self, filter: ActionFilter) -> Result<Vec<Action>, StorageError>;

    /// Queues a site's summary e-mail covering up to `through` (a local date), unless one
    /// covering it was queued before; says whether it queued it.
    async fn queue_summary(
        &self,
        site: &str,
        through: &str,
        title: &str,
        text: &str,
        at_ms: i64,
    ) -> Result<bool, StorageError>;
}
