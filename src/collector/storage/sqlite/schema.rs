//! The collector's SQLite schema as append-only migrations: a collector may be upgraded
//! from any earlier version.

use rusqlite_migration::{M, Migrations};

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up(V4),
        M::up(V5),
        M::up(V6),
        M::up(V7),
        M::up(V8),
    ])
}

const V1: &str = "
CREATE TABLE devices (
    id                    TEXT PRIMARY KEY NOT NULL,
    site                  TEXT NOT NULL,
    touchpoint            TEXT NOT NULL,
    credential_sha256     TEXT NOT NULL UNIQUE,  -- the credential itself is never stored
    created_at_ms         INTEGER NOT NULL,
    revoked_at_ms         INTEGER,
    answers               INTEGER NOT NULL DEFAULT 0,
    -- the fleet view: updated by every request of the device
    last_seen_ms          INTEGER,
    last_upload_ms        INTEGER,
    clock_skew_ms         INTEGER,
    -- from the last heartbeat
    app_version           TEXT,
    boot_id               TEXT,
    clock_trusted         INTEGER,
    queue_depth           INTEGER,
    oldest_unsynced_age_s INTEGER,
    dead_letters          INTEGER,
    last_error            TEXT
) STRICT;

CREATE TABLE answers (
    id               TEXT PRIMARY KEY NOT NULL,   -- UUID made by the terminal: stored once
    device_id        TEXT NOT NULL REFERENCES devices (id),
    site             TEXT NOT NULL,
    touchpoint       TEXT NOT NULL,
    seq              INTEGER NOT NULL,
    boot_id          TEXT NOT NULL,
    question_id      TEXT NOT NULL,
    question_version INTEGER NOT NULL,
    language         TEXT NOT NULL,
    scale            TEXT NOT NULL,
    direction        TEXT NOT NULL,
    score            INTEGER NOT NULL,
    low              INTEGER NOT NULL CHECK (low IN (0, 1)),
    reason           TEXT,
    suppressed       INTEGER NOT NULL CHECK (suppressed IN (0, 1)),
    input            TEXT NOT NULL,
    device_time      TEXT NOT NULL,               -- RFC 3339 with the device's UTC offset
    device_time_ms   INTEGER NOT NULL,
    clock_trusted    INTEGER NOT NULL CHECK (clock_trusted IN (0, 1)),
    received_at_ms   INTEGER NOT NULL,
    clock_skew_ms    INTEGER NOT NULL,            -- device clock minus collector clock
    local_date       TEXT NOT NULL,               -- the day and hour reports use
    local_hour       INTEGER NOT NULL,
    time_estimated   INTEGER NOT NULL CHECK (time_estimated IN (0, 1))
) STRICT;

CREATE INDEX answers_by_day ON answers (local_date, site, touchpoint);
CREATE INDEX answers_by_receipt ON answers (received_at_ms);

CREATE TABLE admin_tokens (
    name          TEXT PRIMARY KEY NOT NULL,
    token_sha256  TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER
) STRICT;
";

/// Enrolment codes, versioned survey configs, and what devices report of their config.
const V2: &str = "
CREATE TABLE enrolment_codes (
    code_sha256   TEXT PRIMARY KEY NOT NULL,         -- the code itself is never stored
    device_id     TEXT NOT NULL REFERENCES devices (id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER
) STRICT;

CREATE TABLE survey_configs (
    version       INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: versions only grow
    device_id     TEXT REFERENCES devices (id),
    site          TEXT,
    text          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    CHECK ((device_id IS NULL) <> (site IS NULL))
) STRICT;

CREATE INDEX survey_configs_by_device ON survey_configs (device_id, version);
CREATE INDEX survey_configs_by_site ON survey_configs (site, version);

ALTER TABLE devices ADD COLUMN config_version INTEGER;
ALTER TABLE devices ADD COLUMN config_error TEXT;
";

/// Rollups: stored answers counted per device, question, scale, local day and hour, score,
/// suppressed or not, and follow-up reason (`''` for none). Kept in the transaction that
/// stores the answers (`insert_batch`); every report reads them instead of the answers.
/// Back-filled here from the answers of earlier versions.
const V3: &str = "
CREATE TABLE answer_counts (
    local_date       TEXT NOT NULL,
    site             TEXT NOT NULL,
    touchpoint       TEXT NOT NULL,
    device_id        TEXT NOT NULL,
    question_id      TEXT NOT NULL,
    question_version INTEGER NOT NULL,
    scale            TEXT NOT NULL,
    direction        TEXT NOT NULL,
    local_hour       INTEGER NOT NULL,
    score            INTEGER NOT NULL,
    suppressed       INTEGER NOT NULL CHECK (suppressed IN (0, 1)),
    reason           TEXT NOT NULL,
    n                INTEGER NOT NULL CHECK (n > 0),
    PRIMARY KEY (local_date, site, touchpoint, device_id, question_id, question_version, scale,
        direction, local_hour, score, suppressed, reason)
) STRICT, WITHOUT ROWID;

INSERT INTO answer_counts
SELECT local_date, site, touchpoint, device_id, question_id, question_version, scale,
    direction, local_hour, score, suppressed, coalesce(reason, ''), count(*)
FROM answers
GROUP BY local_date, site, touchpoint, device_id, question_id, question_version, scale,
    direction, local_hour, score, suppressed, coalesce(reason, '');
";

/// Rollups for reads at fleet scale: `day_counts` (per touchpoint, question and local day)
/// and `site_day_counts` (per site, question and local day) hold the counted answers per
/// score in columns `n1` … `n7`, and the suppressed taps, one row per group; reports over the
/// whole fleet read these. `hour_counts` (per month, touchpoint, question, weekday and hour)
/// answers a place's hours of the day and weekdays over whole months in a few hundred rows
/// however busy the place. Their keys start with the day and the question, the order reports
/// group in, so that SQLite adds them up as it reads them; and today's rows lie together, so
/// that keeping them writes few pages. Kept in the transaction that stores the answers, like
/// `answer_counts`; back-filled here from it.
const V4: &str = "
CREATE TABLE day_counts (
    local_date       TEXT NOT NULL,
    site             TEXT NOT NULL,
    touchpoint       TEXT NOT NULL,
    question_id      TEXT NOT NULL,
    question_version INTEGER NOT NULL,
    scale            TEXT NOT NULL,
    direction        TEXT NOT NULL,
    n1 INTEGER NOT NULL, n2 INTEGER NOT NULL, n3 INTEGER NOT NULL, n4 INTEGER NOT NULL,
    n5 INTEGER NOT NULL, n6 INTEGER NOT NULL, n7 INTEGER NOT NULL,
    suppressed       INTEGER NOT NULL,
    PRIMARY KEY (local_date, question_id, question_version, scale, direction, site, touchpoint)
) STRICT, WITHOUT ROWID;

CREATE TABLE site_day_counts (
    local_date       TEXT NOT NULL,
    site             TEXT NOT NULL,
    question_id      TEXT NOT NULL,
    question_version INTEGER NOT NULL,
    scale            TEXT NOT NULL,
    direction        TEXT NOT NULL,
    n1 INTEGER NOT NULL, n2 INTEGER NOT NULL, n3 INTEGER NOT NULL, n4 INTEGER NOT NULL,
    n5 INTEGER NOT NULL, n6 INTEGER NOT NULL, n7 INTEGER NOT NULL,
    suppressed       INTEGER NOT NULL,
    PRIMARY KEY (local_date, question_id, question_version, scale, direction, site)
) STRICT, WITHOUT ROWID;

CREATE TABLE hour_counts (
    month            TEXT NOT NULL,
    site             TEXT NOT NULL,
    touchpoint       TEXT NOT NULL,
    question_id      TEXT NOT NULL,
    question_version INTEGER NOT NULL,
    scale            TEXT NOT NULL,
    direction        TEXT NOT NULL,
    weekday          INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    local_hour       INTEGER NOT NULL,
    n1 INTEGER NOT NULL, n2 INTEGER NOT NULL, n3 INTEGER NOT NULL, n4 INTEGER NOT NULL,
    n5 INTEGER NOT NULL, n6 INTEGER NOT NULL, n7 INTEGER NOT NULL,
    suppressed       INTEGER NOT NULL,
    PRIMARY KEY (month, site, touchpoint, question_id, question_version, scale, direction,
        weekday, local_hour)
) STRICT, WITHOUT ROWID;

INSERT INTO hour_counts
SELECT substr(local_date, 1, 7), site, touchpoint, question_id, question_version, scale,
    direction, CAST(strftime('%u', local_date) AS INTEGER), local_hour,
    sum(n * (score = 1 AND NOT suppressed)), sum(n * (score = 2 AND NOT suppressed)),
    sum(n * (score = 3 AND NOT suppressed)), sum(n * (score = 4 AND NOT suppressed)),
    sum(n * (score = 5 AND NOT suppressed)), sum(n * (score = 6 AND NOT suppressed)),
    sum(n * (score = 7 AND NOT suppressed)), sum(n * suppressed)
FROM answer_counts
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9;

INSERT INTO day_counts
SELECT local_date, site, touchpoint, question_id, question_version, scale, direction,
    sum(n * (score = 1 AND NOT suppressed)), sum(n * (score = 2 AND NOT suppressed)),
    sum(n * (score = 3 AND NOT suppressed)), sum(n * (score = 4 AND NOT suppressed)),
    sum(n * (score = 5 AND NOT suppressed)), sum(n * (score = 6 AND NOT suppressed)),
    sum(n * (score = 7 AND NOT suppressed)), sum(n * suppressed)
FROM answer_counts
GROUP BY local_date, site, touchpoint, question_id, question_version, scale, direction;

INSERT INTO site_day_counts
SELECT local_date, site, question_id, question_version, scale, direction,
    sum(n1), sum(n2), sum(n3), sum(n4), sum(n5), sum(n6), sum(n7), sum(suppressed)
FROM day_counts
GROUP BY local_date, site, question_id, question_version, scale, direction;
";

/// People who use the dashboard, the sites a viewer is bound to, and their sessions. A
/// password is kept only as an Argon2id PHC string; a setup code and a session id only as
/// their SHA-256.
const V5: &str = "
CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    role              TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    password_phc      TEXT,                    -- NULL until the person sets one
    setup_sha256      TEXT UNIQUE,             -- the one-time setup code, until used
    setup_expires_ms  INTEGER,
    created_at_ms     INTEGER NOT NULL,
    disabled_at_ms    INTEGER,
    failed_logins     INTEGER NOT NULL DEFAULT 0,
    locked_until_ms   INTEGER
) STRICT;

CREATE TABLE user_sites (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site    TEXT NOT NULL,
    PRIMARY KEY (user_id, site)
) STRICT;

CREATE TABLE sessions (
    id_sha256      TEXT PRIMARY KEY NOT NULL,  -- the cookie's value itself is never stored
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf           TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_by_user ON sessions (user_id);
";

/// `month_counts` (per month, question and touchpoint, scores in columns): a report or page
/// over whole months of the fleet reads one row per touchpoint and month instead of one per
/// day. Kept with the other rollups; back-filled here from `day_counts`. And an index of
/// `day_counts` by place, so that a site's or touchpoint's days are read from it.
const V6: &str = "
CREATE TABLE month_counts (
    month            TEXT NOT NULL,                -- YYYY-MM of the local date
    question_id      TEXT NOT NULL,
    question_version INTEGER NOT NULL,
    scale            TEXT NOT NULL,
    direction        TEXT NOT NULL,
    site             TEXT NOT NULL,
    touchpoint       TEXT NOT NULL,
    n1 INTEGER NOT NULL, n2 INTEGER NOT NULL, n3 INTEGER NOT NULL, n4 INTEGER NOT NULL,
    n5 INTEGER NOT NULL, n6 INTEGER NOT NULL, n7 INTEGER NOT NULL,
    suppressed       INTEGER NOT NULL,
    PRIMARY KEY (month, question_id, question_version, scale, direction, site, touchpoint)
) STRICT, WITHOUT ROWID;

-- One site's or touchpoint's days, found without reading every place's.
CREATE INDEX day_counts_by_place ON day_counts (site, touchpoint, local_date);

INSERT INTO month_counts
SELECT substr(local_date, 1, 7), question_id, question_version, scale, direction, site,
    touchpoint, sum(n1), sum(n2), sum(n3), sum(n4), sum(n5), sum(n6), sum(n7), sum(suppressed)
FROM day_counts
GROUP BY substr(local_date, 1, 7), question_id, question_version, scale, direction, site,
    touchpoint;
";

/// The follow-up reasons of counted answers per place, month and question, so that a place's
/// reasons over whole months are read in a few rows however busy it is (the days around
/// them come from `answer_counts`). Kept with the other rollups; back-filled here from
/// `answer_counts`. Keyed by place first: a place's months lie together.
const V7: &str = "
CREATE TABLE reason_month_counts (
    site             TEXT NOT NULL,
    touchpoint       TEXT NOT NULL,
    month            TEXT NOT NULL,                -- YYYY-MM of the local date
    question_id      TEXT NOT NULL,
    question_version INTEGER NOT NULL,
    scale            TEXT NOT NULL,
    direction        TEXT NOT NULL,
    reason           TEXT NOT NULL CHECK (reason != ''),
    n                INTEGER NOT NULL CHECK (n > 0),
    PRIMARY KEY (site, touchpoint, month, question_id, question_version, scale, direction,
        reason)
) STRICT, WITHOUT ROWID;

INSERT INTO reason_month_counts
SELECT site, touchpoint, substr(local_date, 1, 7), question_id, question_version, scale,
    direction, reason, sum(n)
FROM answer_counts
WHERE reason != '' AND NOT suppressed
GROUP BY site, touchpoint, substr(local_date, 1, 7), question_id, question_version, scale,
    direction, reason;
";

/// Closing the loop: sites' time zones and opening hours; `live_counts`, the last day's
/// counted answers per minute (collector time) and touchpoint, which alert rules read;
/// the rules, their alerts (at most one open per rule and place, kept by a unique index
/// over open rows) and the outbox of notifications, written in the transaction that
/// decides them and emptied by the sender; the actions central teams record at places.
/// `devices.last_answer_ms` is when the newest answer of a device was given (collector
/// time), for the rule of a silent terminal.
const V8: &str = "
CREATE TABLE sites (
    name             TEXT PRIMARY KEY NOT NULL,
    time_zone        TEXT NOT NULL,              -- IANA name, e.g. Europe/Amsterdam
    hours            TEXT NOT NULL,              -- opening hours as `site set` prints them
    summary          TEXT NOT NULL DEFAULT 'never'
        CHECK (summary IN ('never', 'daily', 'weekly')),
    summary_through  TEXT                        -- the last local date a summary covered
) STRICT;

CREATE TABLE live_counts (
    minute      INTEGER NOT NULL,                -- Unix time in minutes
    site        TEXT NOT NULL,
    touchpoint  TEXT NOT NULL,
    counted     INTEGER NOT NULL,
    difficult   INTEGER NOT NULL,
    easy        INTEGER NOT NULL,
    PRIMARY KEY (minute, site, touchpoint)
) STRICT, WITHOUT ROWID;

CREATE TABLE alert_rules (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('floor', 'praise', 'silent', 'trouble')),
    site           TEXT,                         -- NULL: the whole fleet
    touchpoint     TEXT CHECK (touchpoint IS NULL OR site IS NOT NULL),
    share_pct      INTEGER,                      -- floor and praise
    window_min     INTEGER,
    min_answers    INTEGER,
    silent_hours   INTEGER,                      -- silent
    pending_s      INTEGER NOT NULL,
    clear_s        INTEGER NOT NULL,
    repeat_s       INTEGER NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    removed_at_ms  INTEGER                       -- removed rules keep their past alerts
) STRICT;

CREATE UNIQUE INDEX alert_rules_by_name ON alert_rules (name) WHERE removed_at_ms IS NULL;

CREATE TABLE alerts (
    id                INTEGER PRIMARY KEY,
    rule_id           INTEGER NOT NULL REFERENCES alert_rules (id),
    place             TEXT NOT NULL,             -- site/touchpoint, or the device id
    site              TEXT NOT NULL,
    touchpoint        TEXT NOT NULL,
    device_id         TEXT,
    state             TEXT NOT NULL
        CHECK (state IN ('pending', 'firing', 'acknowledged', 'resolved')),
    since_ms          INTEGER NOT NULL,          -- the condition was first seen
    fired_at_ms       INTEGER,
    clear_since_ms    INTEGER,                   -- the condition has not held since
    resolved_at_ms    INTEGER,
    notified_at_ms    INTEGER,
    acked_by          TEXT,
    acked_at_ms       INTEGER,
    ack_comment       TEXT,
    figures           TEXT NOT NULL              -- what was seen, as JSON
) STRICT;

CREATE UNIQUE INDEX alerts_open ON alerts (rule_id, place) WHERE state != 'resolved';
CREATE INDEX alerts_by_site ON alerts (site, since_ms);

CREATE TABLE outbox (
    id               TEXT PRIMARY KEY NOT NULL,  -- the delivery id receivers see
    channel          TEXT NOT NULL,              -- the webhook or e-mail the config names
    alert_id         INTEGER REFERENCES alerts (id) ON DELETE SET NULL,
    event            TEXT NOT NULL,
    body             TEXT NOT NULL,              -- the notification, as JSON
    created_at_ms    INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL,
    sent_at_ms       INTEGER,
    failed_at_ms     INTEGER,                    -- given up on
    last_error       TEXT
) STRICT;

CREATE INDEX outbox_due ON outbox (channel, next_attempt_ms)
    WHERE sent_at_ms IS NULL AND failed_at_ms IS NULL;

CREATE TABLE actions (
    id              INTEGER PRIMARY KEY,
    site            TEXT NOT NULL,
    touchpoint      TEXT,                        -- NULL: the whole site
    taken_on        TEXT NOT NULL,               -- the local date of the change
    what            TEXT NOT NULL,
    by_whom         TEXT NOT NULL,
    alert_id        INTEGER REFERENCES alerts (id),
    recorded_at_ms  INTEGER NOT NULL
) STRICT;

CREATE INDEX actions_by_place ON actions (site, touchpoint, taken_on);

ALTER TABLE devices ADD COLUMN last_answer_ms INTEGER;
UPDATE devices SET last_answer_ms = last_upload_ms;
";

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_validate() {
        super::migrations().validate().expect("migrations apply");
    }
}
