//! Store tests on real SQLite files: durability settings, migrations, the sequence across
//! reopen, and answers that survive the writer being killed with SIGKILL mid-write.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use ces_kiosk::config::Device;
use ces_kiosk::store::{SYNCHRONOUS_FULL, Store};
use common::terminal::answer;

fn device() -> Device {
    Device {
        id: "t-1".into(),
        site: "lab".into(),
        touchpoint: "bench".into(),
    }
}

#[test]
fn every_connection_is_wal_with_synchronous_full() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let store = Store::open(&path, &device()).unwrap();
    assert_eq!(store.synchronous().unwrap(), SYNCHRONOUS_FULL);
    drop(store);
    // A fresh connection defaults to another level: the store must set it itself each time.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let again = Store::open(&path, &device()).unwrap();
    assert_eq!(again.synchronous().unwrap(), SYNCHRONOUS_FULL);
}

#[test]
fn migrations_validate_and_reopening_keeps_the_schema() {
    ces_kiosk::store::migrations().validate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    Store::open(&path, &device()).unwrap();
    let version = |p: &Path| -> i64 {
        rusqlite::Connection::open(p)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    let v = version(&path);
    assert!(v >= 1);
    Store::open(&path, &device()).unwrap();
    assert_eq!(version(&path), v);
}

#[test]
fn the_sequence_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut store = Store::open(&path, &device()).unwrap();
    let seqs: Vec<i64> = (0..3)
        .map(|_| store.record(&answer(5)).unwrap().seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    drop(store);
    let mut store = Store::open(&path, &device()).unwrap();
    assert_eq!(store.last_seq().unwrap(), 3);
    assert_eq!(store.record(&answer(6)).unwrap().seq, 4);
    let rows = store.answers().unwrap();
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter()
            .all(|r| r.device_id == "t-1" && !r.boot_id.is_empty())
    );
}

#[test]
fn the_same_answer_id_cannot_be_stored_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("a.db"), &device()).unwrap();
    let a = answer(4);
    store.record(&a).unwrap();
    assert!(store.record(&a).is_err());
    assert_eq!(store.answers().unwrap().len(), 1);
    assert_eq!(
        store.last_seq().unwrap(),
        1,
        "the failed insert did not use up a number"
    );
}

const CHILD_ENV: &str = "CES_STORE_CRASH_CHILD_DB";
const KILLS: usize = 200;

/// A writer process records answers and reports each id on its stdout once `record` returned;
/// it is killed with SIGKILL at random moments. Every reported id must be in the database,
/// the sequence must have no gap or repeat, and SQLite must find the file sound.
#[test]
fn confirmed_answers_survive_sigkill() {
    if let Some(db) = std::env::var_os(CHILD_ENV) {
        child_writer(Path::new(&db));
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let mut confirmed: HashSet<String> = HashSet::new();
    let mut rng = fastrand::Rng::with_seed(0x05ee_dc35);
    for _ in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "confirmed_answers_survive_sigkill",
                "--nocapture",
            ])
            .env(CHILD_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill after a random number of confirmations, a random moment into the next write.
        let wait_for = rng.usize(0..25);
        let mut seen = 0;
        while seen < wait_for {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(id) = line.strip_prefix("CONFIRMED ") {
                        confirmed.insert(id.to_owned());
                        seen += 1;
                    }
                }
                _ => break,
            }
        }
        let spin = std::time::Instant::now();
        let spin_for = std::time::Duration::from_micros(rng.u64(0..400));
        while spin.elapsed() < spin_for {
            std::hint::spin_loop();
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Confirmations already in the pipe were made before the kill.
        for line in lines.map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("CONFIRMED ") {
                confirmed.insert(id.to_owned());
            }
        }
    }

    let store = Store::open(&db, &device()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let rows = store.answers().unwrap();
    let stored: HashSet<String> = rows.iter().map(|r| r.id.clone()).collect();
    let missing: Vec<_> = confirmed.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} confirmed answers lost: {missing:?}",
        missing.len()
    );
    assert_eq!(stored.len(), rows.len(), "no answer stored twice");
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(
        seqs,
        (1..=rows.len() as i64).collect::<Vec<_>>(),
        "sequence without gaps"
    );
    assert!(
        confirmed.len() > KILLS,
        "the writers confirmed answers ({})",
        confirmed.len()
    );
    println!(
        "{} kills, {} confirmed, {} stored",
        KILLS,
        confirmed.len(),
        rows.len()
    );
}

fn child_writer(db: &Path) -> ! {
    let mut store = Store::open(db, &device()).expect("child opens the store");
    let mut out = std::io::stdout().lock();
    for i in 0.. {
        let rec = store
            .record(&answer(1 + (i % 7) as u8))
            .expect("child records");
        writeln!(out, "CONFIRMED {}", rec.id).unwrap();
        out.flush().unwrap();
    }
    unreachable!()
}

#[test]
fn answers_leave_pending_only_on_the_collectors_word() {
    use ces_kiosk::wire::{AnswerResult, AnswerStatus};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("a.db"), &device()).unwrap();
    let ids: Vec<_> = [6, 5, 4, 7]
        .iter()
        .map(|&s| store.record(&answer(s)).unwrap().id)
        .collect();
    // A low score whose follow-up is still on screen waits for its reason.
    let low = answer(1);
    assert!(low.follow_up_open);
    store.record(&low).unwrap();

    let batch = store.pending(3).unwrap();
    let got: Vec<_> = batch.iter().map(|a| (a.id, a.seq, a.score)).collect();
    assert_eq!(got, [(ids[0], 1, 6), (ids[1], 2, 5), (ids[2], 3, 4)]);
    assert_eq!(batch[0].scale, ces_kiosk::survey::Scale::Ces7);
    assert_eq!(
        store.pending(100).unwrap().len(),
        4,
        "the open follow-up is held back"
    );

    let result = |id, status, reason: Option<&str>| AnswerResult {
        id,
        status,
        reason: reason.map(str::to_owned),
    };
    store
        .apply_results(&[
            result(ids[0], AnswerStatus::Accepted, None),
            result(ids[1], AnswerStatus::Duplicate, None),
            result(
                ids[2],
                AnswerStatus::Rejected,
                Some("question version unknown"),
            ),
            result(uuid::Uuid::now_v7(), AnswerStatus::Accepted, None),
        ])
        .unwrap();
    let pending: Vec<_> = store.pending(100).unwrap().iter().map(|a| a.id).collect();
    assert_eq!(
        pending,
        [ids[3]],
        "synced and rejected answers are not sent again"
    );
    let counts = store.sync_counts().unwrap();
    assert_eq!((counts.pending, counts.rejected), (2, 1));
    assert!(counts.oldest_pending_ms.is_some());

    store
        .close_follow_up(low.id, Some("waiting"), None)
        .unwrap();
    let pending = store.pending(100).unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[1].reason.as_deref(), Some("waiting"));
    let rows = store.answers().unwrap();
    assert_eq!(rows[2].sync_state, "rejected");
}

#[test]
fn pruning_deletes_only_answers_synced_before_the_cut_off() {
    use ces_kiosk::wire::{AnswerResult, AnswerStatus};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("a.db"), &device()).unwrap();
    let ids: Vec<_> = (0..4)
        .map(|_| store.record(&answer(6)).unwrap().id)
        .collect();
    let result = |id, status| AnswerResult {
        id,
        status,
        reason: None,
    };
    store
        .apply_results(&[
            result(ids[0], AnswerStatus::Accepted),
            result(ids[1], AnswerStatus::Rejected),
        ])
        .unwrap();
    let before_sync = jiff::Timestamp::now().as_millisecond() - 60_000;
    assert_eq!(
        store.prune_synced(before_sync).unwrap(),
        0,
        "synced just now: kept"
    );
    let later = jiff::Timestamp::now().as_millisecond() + 1;
    assert_eq!(store.prune_synced(later).unwrap(), 1);
    let states: Vec<_> = store
        .answers()
        .unwrap()
        .into_iter()
        .map(|a| a.sync_state)
        .collect();
    assert_eq!(
        states,
        ["rejected", "pending", "pending"],
        "waiting and rejected answers stay"
    );
    assert_eq!(
        store.record(&answer(5)).unwrap().seq,
        5,
        "the sequence goes on after pruning"
    );
}

#[test]
fn the_sequence_never_repeats_after_the_highest_answers_are_pruned() {
    use ces_kiosk::wire::{AnswerResult, AnswerStatus};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let mut store = Store::open(&db, &device()).unwrap();
    let results: Vec<_> = (0..3)
        .map(|_| AnswerResult {
            id: store.record(&answer(6)).unwrap().id,
            status: AnswerStatus::Accepted,
            reason: None,
        })
        .collect();
    store.apply_results(&results).unwrap();
    let later = jiff::Timestamp::now().as_millisecond() + 1;
    assert_eq!(store.prune_synced(later).unwrap(), 3, "every answer pruned");
    assert!(store.answers().unwrap().is_empty());
    assert_eq!(store.last_seq().unwrap(), 3);
    drop(store);
    let mut store = Store::open(&db, &device()).unwrap();
    assert_eq!(store.record(&answer(5)).unwrap().seq, 4, "never 1 again");
}

#[test]
fn two_connections_opening_a_new_database_at_once_both_get_the_schema() {
    // The store thread and the uploader open the same file at start-up.
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let opened: Vec<Result<(), String>> = std::thread::scope(|s| {
            let both: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        Store::open(&path, &device())
                            .map(drop)
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            both.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert_eq!(opened, [Ok(()), Ok(())]);
        let mut store = Store::open(&path, &device()).unwrap();
        assert_eq!(store.record(&answer(5)).unwrap().seq, 1);
    }
}
