//! The collector's PostgreSQL schema as append-only migrations, and the migrator: every
//! collector applies what is missing when it starts, all in one transaction holding an
//! advisory lock, so that collectors starting together migrate once and none sees half a
//! schema. The tables mirror the SQLite schema (`sqlite/schema.rs`, at its V8); dates stay
//! ISO text (`YYYY-MM-DD`, months `YYYY-MM`) and times Unix milliseconds, as there.

use tokio_postgres::Client;

use crate::collector::storage::StorageError;

/// The migrations in order; version `n` is `MIGRATIONS[n - 1]`. Only ever appended to.
pub const MIGRATIONS: &[&str] = &[V1];

/// The advisory lock the migrator holds for its transaction ("ces-migrate" in ASCII).
const MIGRATION_LOCK: i64 = 0x6365_732d_6d69_6772;

/// Brings the database's schema up to date: creates it in an empty database, applies the
/// migrations it lacks, and refuses a schema newer than this program knows. Returns the
/// versions it applied.
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>, StorageError> {
    let tx = client.transaction().await.map_err(super::pg_error)?;
    // No "already exists" notices in the log of every start.
    tx.batch_execute("SET LOCAL client_min_messages TO warning")
        .await
        .map_err(super::pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(super::pg_error)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS ces_schema (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(super::pg_error)?;
    let current: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM ces_schema", &[])
        .await
        .map_err(super::pg_error)?
        .get(0);
    let known = MIGRATIONS.len() as i32;
    if current > known {
        return Err(StorageError::Failed(format!(
            "the database's schema is version {current}, newer than this ces-collector knows \
             ({known}): run the newer ces-collector, or restore a backup made for this one"
        )));
    }
    let mut applied = Vec::new();
    for (version, sql) in (1..).zip(MIGRATIONS).skip(current as usize) {
        tx.batch_execute(sql).await.map_err(|e| {
            StorageError::Failed(format!(
                "migration {version} failed: {}",
                super::describe(&e)
            ))
        })?;
        tx.execute("INSERT INTO ces_schema (version) VALUES ($1)", &[&version])
            .await
            .map_err(super::pg_error)?;
        applied.push(version);
    }
    tx.commit().await.map_err(super::pg_error)?;
    Ok(applied)
}

/// The schema of SQLite's V1 to V8 in one step.
const V1: &str = r#"
CREATE TABLE devices (
    id                    text PRIMARY KEY,
    site                  text NOT NULL,
    touchpoint            text NOT NULL,
    credential_sha256     text NOT NULL UNIQUE,    -- the credential itself is never stored
    created_at_ms         bigint NOT NULL,
    revoked_at_ms         bigint,
    answers               bigint NOT NULL DEFAULT 0,
    -- the fleet view: updated by every request of the device
    last_seen_ms          bigint,
    last_upload_ms        bigint,
    last_answer_ms        bigint,
    clock_skew_ms         bigint,
    -- from the last heartbeat
    app_version           text,
    boot_id               text,
    clock_trusted         boolean,
    queue_depth           bigint,
    oldest_unsynced_age_s bigint,
    dead_letters          bigint,
    last_error            text,
    config_version        bigint,
    config_error          text
);

CREATE TABLE answers (
    id               text PRIMARY KEY,             -- UUID made by the terminal: stored once
    device_id        text NOT NULL REFERENCES devices (id),
    site             text NOT NULL,
    touchpoint       text NOT NULL,
    seq              bigint NOT NULL,
    boot_id          text NOT NULL,
    question_id      text NOT NULL,
    question_version integer NOT NULL,
    language         text NOT NULL,
    scale            text NOT NULL,
    direction        text NOT NULL,
    score            smallint NOT NULL,
    low              boolean NOT NULL,
    reason           text,
    suppressed       boolean NOT NULL,
    input            text NOT NULL,
    device_time      text NOT NULL,                -- RFC 3339 with the device's UTC offset
    device_time_ms   bigint NOT NULL,
    clock_trusted    boolean NOT NULL,
    received_at_ms   bigint NOT NULL,
    clock_skew_ms    bigint NOT NULL,              -- device clock minus collector clock
    local_date       text NOT NULL,                -- the day and hour reports use
    local_hour       smallint NOT NULL,
    time_estimated   boolean NOT NULL
);

CREATE INDEX answers_by_day ON answers (local_date, site, touchpoint);
CREATE INDEX answers_by_receipt ON answers (received_at_ms);

CREATE TABLE admin_tokens (
    name          text PRIMARY KEY,
    token_sha256  text NOT NULL UNIQUE,
    created_at_ms bigint NOT NULL,
    revoked_at_ms bigint
);

CREATE TABLE enrolment_codes (
    code_sha256   text PRIMARY KEY,                -- the code itself is never stored
    device_id     text NOT NULL REFERENCES devices (id),
    created_at_ms bigint NOT NULL,
    expires_at_ms bigint NOT NULL,
    used_at_ms    bigint
);

-- A sequence never hands out a number twice, whichever collector asks: versions only grow.
CREATE TABLE survey_configs (
    version       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id     text REFERENCES devices (id),
    site          text,
    text          text NOT NULL,
    created_at_ms bigint NOT NULL,
    CHECK ((device_id IS NULL) <> (site IS NULL))
);

CREATE INDEX survey_configs_by_device ON survey_configs (device_id, version);
CREATE INDEX survey_configs_by_site ON survey_configs (site, version);

-- Rollups, kept in the statement that stores the answers (see sqlite/schema.rs). Their text
-- sorts byte by byte, as reports order and page their groups: their keys' indexes serve the
-- ORDER BY of a page.
CREATE TABLE answer_counts (
    local_date       text COLLATE "C" NOT NULL,
    site             text COLLATE "C" NOT NULL,
    touchpoint       text COLLATE "C" NOT NULL,
    device_id        text COLLATE "C" NOT NULL,
    question_id      text COLLATE "C" NOT NULL,
    question_version integer NOT NULL,
    scale            text COLLATE "C" NOT NULL,
    direction        text COLLATE "C" NOT NULL,
    local_hour       smallint NOT NULL,
    score            smallint NOT NULL,
    suppressed       boolean NOT NULL,
    reason           text COLLATE "C" NOT NULL,
    n                bigint NOT NULL CHECK (n > 0),
    PRIMARY KEY (local_date, site, touchpoint, device_id, question_id, question_version, scale,
        direction, local_hour, score, suppressed, reason)
);

-- One place's rows over a period (a place's page, its reasons, its hours of the day).
CREATE INDEX answer_counts_by_place ON answer_counts (site, touchpoint, local_date);

CREATE TABLE day_counts (
    local_date       text COLLATE "C" NOT NULL,
    site             text COLLATE "C" NOT NULL,
    touchpoint       text COLLATE "C" NOT NULL,
    question_id      text COLLATE "C" NOT NULL,
    question_version integer NOT NULL,
    scale            text COLLATE "C" NOT NULL,
    direction        text COLLATE "C" NOT NULL,
    n1 bigint NOT NULL, n2 bigint NOT NULL, n3 bigint NOT NULL, n4 bigint NOT NULL,
    n5 bigint NOT NULL, n6 bigint NOT NULL, n7 bigint NOT NULL,
    suppressed       bigint NOT NULL,
    PRIMARY KEY (local_date, question_id, question_version, scale, direction, site, touchpoint)
);

CREATE INDEX day_counts_by_place ON day_counts (site, touchpoint, local_date);

CREATE TABLE site_day_counts (
    local_date       text COLLATE "C" NOT NULL,
    site             text COLLATE "C" NOT NULL,
    question_id      text COLLATE "C" NOT NULL,
    question_version integer NOT NULL,
    scale            text COLLATE "C" NOT NULL,
    direction        text COLLATE "C" NOT NULL,
    n1 bigint NOT NULL, n2 bigint NOT NULL, n3 bigint NOT NULL, n4 bigint NOT NULL,
    n5 bigint NOT NULL, n6 bigint NOT NULL, n7 bigint NOT NULL,
    suppressed       bigint NOT NULL,
    PRIMARY KEY (local_date, question_id, question_version, scale, direction, site)
);

CREATE TABLE hour_counts (
    month            text COLLATE "C" NOT NULL,
    site             text COLLATE "C" NOT NULL,
    touchpoint       text COLLATE "C" NOT NULL,
    question_id      text COLLATE "C" NOT NULL,
    question_version integer NOT NULL,
    scale            text COLLATE "C" NOT NULL,
    direction        text COLLATE "C" NOT NULL,
    weekday          smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    local_hour       smallint NOT NULL,
    n1 bigint NOT NULL, n2 bigint NOT NULL, n3 bigint NOT NULL, n4 bigint NOT NULL,
    n5 bigint NOT NULL, n6 bigint NOT NULL, n7 bigint NOT NULL,
    suppressed       bigint NOT NULL,
    PRIMARY KEY (month, site, touchpoint, question_id, question_version, scale, direction,
        weekday, local_hour)
);

CREATE TABLE month_counts (
    month            text COLLATE "C" NOT NULL,                -- YYYY-MM of the local date
    question_id      text COLLATE "C" NOT NULL,
    question_version integer NOT NULL,
    scale            text COLLATE "C" NOT NULL,
    direction        text COLLATE "C" NOT NULL,
    site             text COLLATE "C" NOT NULL,
    touchpoint       text COLLATE "C" NOT NULL,
    n1 bigint NOT NULL, n2 bigint NOT NULL, n3 bigint NOT NULL, n4 bigint NOT NULL,
    n5 bigint NOT NULL, n6 bigint NOT NULL, n7 bigint NOT NULL,
    suppressed       bigint NOT NULL,
    PRIMARY KEY (month, question_id, question_version, scale, direction, site, touchpoint)
);

CREATE TABLE reason_month_counts (
    site             text COLLATE "C" NOT NULL,
    touchpoint       text COLLATE "C" NOT NULL,
    month            text COLLATE "C" NOT NULL,                -- YYYY-MM of the local date
    question_id      text COLLATE "C" NOT NULL,
    question_version integer NOT NULL,
    scale            text COLLATE "C" NOT NULL,
    direction        text COLLATE "C" NOT NULL,
    reason           text COLLATE "C" NOT NULL CHECK (reason <> ''),
    n                bigint NOT NULL CHECK (n > 0),
    PRIMARY KEY (site, touchpoint, month, question_id, question_version, scale, direction,
        reason)
);

-- People: a password only as an Argon2id PHC string, a setup code and a session id only as
-- their SHA-256.
CREATE TABLE users (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL UNIQUE,
    role              text NOT NULL CHECK (role IN ('admin', 'viewer')),
    password_phc      text,                        -- NULL until the person sets one
    setup_sha256      text UNIQUE,                 -- the one-time setup code, until used
    setup_expires_ms  bigint,
    created_at_ms     bigint NOT NULL,
    disabled_at_ms    bigint,
    failed_logins     integer NOT NULL DEFAULT 0,
    locked_until_ms   bigint
);

CREATE TABLE user_sites (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site    text NOT NULL,
    PRIMARY KEY (user_id, site)
);

CREATE TABLE sessions (
    id_sha256      text PRIMARY KEY,               -- the cookie's value itself is never stored
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf           text NOT NULL,
    created_at_ms  bigint NOT NULL,
    expires_at_ms  bigint NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);

-- Closing the loop: sites, live counts for alert rules, rules, alerts, outbox, actions.
CREATE TABLE sites (
    name             text PRIMARY KEY,
    time_zone        text NOT NULL,                -- IANA name, e.g. Europe/Amsterdam
    hours            text NOT NULL,                -- opening hours as `site set` prints them
    summary          text NOT NULL DEFAULT 'never'
        CHECK (summary IN ('never', 'daily', 'weekly')),
    summary_through  text                          -- the last local date a summary covered
);

CREATE TABLE live_counts (
    minute      bigint NOT NULL,                   -- Unix time in minutes
    site        text COLLATE "C" NOT NULL,
    touchpoint  text COLLATE "C" NOT NULL,
    counted     bigint NOT NULL,
    difficult   bigint NOT NULL,
    easy        bigint NOT NULL,
    PRIMARY KEY (minute, site, touchpoint)
);

CREATE TABLE alert_rules (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('floor', 'praise', 'silent', 'trouble')),
    site           text,                           -- NULL: the whole fleet
    touchpoint     text CHECK (touchpoint IS NULL OR site IS NOT NULL),
    share_pct      integer,                        -- floor and praise
    window_min     integer,
    min_answers    integer,
    silent_hours   integer,                        -- silent
    pending_s      integer NOT NULL,
    clear_s        integer NOT NULL,
    repeat_s       integer NOT NULL,
    created_at_ms  bigint NOT NULL,
    removed_at_ms  bigint                          -- removed rules keep their past alerts
);

CREATE UNIQUE INDEX alert_rules_by_name ON alert_rules (name) WHERE removed_at_ms IS NULL;

CREATE TABLE alerts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id           bigint NOT NULL REFERENCES alert_rules (id),
    place             text NOT NULL,               -- site/touchpoint, or the device id
    site              text NOT NULL,
    touchpoint        text NOT NULL,
    device_id         text,
    state             text NOT NULL
        CHECK (state IN ('pending', 'firing', 'acknowledged', 'resolved')),
    since_ms          bigint NOT NULL,             -- the condition was first seen
    fired_at_ms       bigint,
    clear_since_ms    bigint,                      -- the condition has not held since
    resolved_at_ms    bigint,
    notified_at_ms    bigint,
    acked_by          text,
    acked_at_ms       bigint,
    ack_comment       text,
    figures           text NOT NULL                -- what was seen, as JSON
);

CREATE UNIQUE INDEX alerts_open ON alerts (rule_id, place) WHERE state <> 'resolved';
CREATE INDEX alerts_by_site ON alerts (site, since_ms);

CREATE TABLE outbox (
    id               text PRIMARY KEY,             -- the delivery id receivers see
    channel          text NOT NULL,                -- the webhook or e-mail the config names
    alert_id         bigint REFERENCES alerts (id) ON DELETE SET NULL,
    event            text NOT NULL,
    body             text NOT NULL,                -- the notification, as JSON
    created_at_ms    bigint NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_ms  bigint NOT NULL,
    sent_at_ms       bigint,
    failed_at_ms     bigint,                       -- given up on
    last_error       text
);

CREATE INDEX outbox_due ON outbox (channel, next_attempt_ms)
    WHERE sent_at_ms IS NULL AND failed_at_ms IS NULL;

CREATE TABLE actions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site            text NOT NULL,
    touchpoint      text,                          -- NULL: the whole site
    taken_on        text NOT NULL,                 -- the local date of the change
    what            text NOT NULL,
    by_whom         text NOT NULL,
    alert_id        bigint REFERENCES alerts (id),
    recorded_at_ms  bigint NOT NULL
);

CREATE INDEX actions_by_place ON actions (site, touchpoint, taken_on);
"#;
