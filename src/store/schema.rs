//! The store's schema as a list of migrations. Migrations are only ever appended, never
//! edited: a terminal in the field may be on any earlier version.

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
CREATE TABLE answers (
    id               TEXT PRIMARY KEY NOT NULL,       -- UUID v7, unique across all devices
    seq              INTEGER NOT NULL UNIQUE,         -- per-device sequence, never reused
    boot_id          TEXT NOT NULL,
    device_id        TEXT NOT NULL,
    site             TEXT NOT NULL,
    touchpoint       TEXT NOT NULL,
    device_time      TEXT NOT NULL,                   -- RFC 3339 with the local UTC offset
    device_time_ms   INTEGER NOT NULL,                -- the same instant, Unix milliseconds
    clock_trusted    INTEGER NOT NULL CHECK (clock_trusted IN (0, 1)),
    question_id      TEXT NOT NULL,
    question_version INTEGER NOT NULL,
    language         TEXT NOT NULL,
    scale            TEXT NOT NULL,
    direction        TEXT NOT NULL,
    score            INTEGER NOT NULL,
    low              INTEGER NOT NULL CHECK (low IN (0, 1)),
    reason           TEXT,
    follow_up_open   INTEGER NOT NULL CHECK (follow_up_open IN (0, 1)),
    suppressed       INTEGER NOT NULL CHECK (suppressed IN (0, 1)),
    input            TEXT NOT NULL,
    sync_state       TEXT NOT NULL DEFAULT 'pending'
                     CHECK (sync_state IN ('pending', 'synced', 'rejected')),
    recorded_at_ms   INTEGER NOT NULL
) STRICT;

-- The uploader reads pending answers in sequence order.
CREATE INDEX answers_pending ON answers (seq) WHERE sync_state = 'pending';

-- Counters that must survive restarts and pruning (the answer sequence).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('answer_seq', 0);

-- One row rewritten by the health probe: proves the disk takes a durable write again.
CREATE TABLE probe (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    at_ms INTEGER NOT NULL
) STRICT;
";

/// Sync bookkeeping: when the collector confirmed an answer, or why it rejected it.
const V2: &str = "
ALTER TABLE answers ADD COLUMN synced_at_ms INTEGER;
ALTER TABLE answers ADD COLUMN reject_reason TEXT;
";

/// Indexes for the status counts (dead letters) and for pruning synced answers.
const V3: &str = "
CREATE INDEX answers_rejected ON answers (seq) WHERE sync_state = 'rejected';
CREATE INDEX answers_synced ON answers (synced_at_ms) WHERE sync_state = 'synced';
";

/// Button-box presses: which box, box session and box press number an answer came from. A
/// press the box sends again (its acknowledgement was lost) finds its answer here and is
/// not stored twice, across restarts too.
const V4: &str = "
ALTER TABLE answers ADD COLUMN box_id TEXT;
ALTER TABLE answers ADD COLUMN box_session INTEGER;
ALTER TABLE answers ADD COLUMN box_seq INTEGER;
ALTER TABLE answers ADD COLUMN box_button INTEGER;
CREATE UNIQUE INDEX answers_box_press ON answers (box_id, box_session, box_seq)
    WHERE box_id IS NOT NULL;
";

/// How the upload last stood, kept by the uploader for `ces-kiosk status` (one row).
const V5: &str = "
CREATE TABLE sync_status (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    link              TEXT NOT NULL,
    last_success_ms   INTEGER,
    last_heartbeat_ms INTEGER,
    last_error        TEXT,
    updated_ms        INTEGER NOT NULL
) STRICT;
";

/// When an answer was given by the boot's own clock (`CLOCK_BOOTTIME`, milliseconds): while
/// the same boot lasts, how long ago it was, even if the wall clock was wrong then.
const V6: &str = "
ALTER TABLE answers ADD COLUMN boot_ms INTEGER;
";

/// Marking an answer synced no longer writes an index page for pruning: pruning runs a few
/// times a day and reads the table (a month of answers) instead. One page less per answer.
const V7: &str = "
DROP INDEX answers_synced;
";

/// The button press that chose an answer's follow-up reason, on a terminal whose reasons
/// are chosen with the box's buttons: a press sent again finds it here and is taken neither
/// for a second reason nor for a score, across restarts too.
const V8: &str = "
ALTER TABLE answers ADD COLUMN reason_box_id TEXT;
ALTER TABLE answers ADD COLUMN reason_box_session INTEGER;
ALTER TABLE answers ADD COLUMN reason_box_seq INTEGER;
CREATE UNIQUE INDEX answers_reason_press
    ON answers (reason_box_id, reason_box_session, reason_box_seq)
    WHERE reason_box_id IS NOT NULL;
";

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_validate() {
        super::migrations()
            .validate()
            .expect("migrations apply cleanly to an empty database");
    }
}
