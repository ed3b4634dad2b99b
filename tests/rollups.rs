//! The collector's rollups (answers counted per device, question, scale, local day and hour,
//! score, suppressed and reason), which every report reads: they equal a recount of the
//! answers after random concurrent uploads with duplicates, replays, answers claimed by two
//! devices, refused batches and a batch rolled back in the database; a database of the
//! previous version is back-filled; `ces-collector verify` finds a count that is off.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::process::Command;

use ces_kiosk::collector::storage::{
    AnswerFilter, CheckedAnswer, CountQuery, DeviceIdentity, Grouping, IncomingBatch,
    SqliteStorage, Storage, TimeSplit, sqlite_migrations,
};
use ces_kiosk::wire::WireAnswer;
use common::collector::{TestCollector, storage_section};
use common::requests::{answer, batch, upload};
use serde_json::{Value, json};

/// Expected counted answers per (local date, score), and suppressed taps per local date.
#[derive(Default, Debug, PartialEq, Eq)]
struct Expected {
    counted: BTreeMap<(String, u8), u64>,
    suppressed: BTreeMap<String, u64>,
}

impl Expected {
    fn add(&mut self, a: &Value) {
        let date = a["device_time"].as_str().unwrap()[..10].to_owned();
        if a["suppressed"].as_bool().unwrap() {
            *self.suppressed.entry(date).or_default() += 1;
        } else {
            let score = a["score"].as_u64().unwrap() as u8;
            *self.counted.entry((date, score)).or_default() += 1;
        }
    }

    /// What the report of `storage` says, in the same shape.
    async fn of(storage: &dyn Storage) -> Expected {
        let mut e = Expected::default();
        let query = CountQuery {
            filter: AnswerFilter::default(),
            group: Grouping::Touchpoint,
            time: TimeSplit::Date,
            page: None,
        };
        for g in storage.report_counts(query).await.unwrap() {
            let date = g.date.clone().unwrap();
            for (i, n) in g.counts.iter().enumerate() {
                if *n > 0 {
                    *e.counted.entry((date.clone(), i as u8 + 1)).or_default() += n;
                }
            }
            if g.suppressed > 0 {
                *e.suppressed.entry(date).or_default() += g.suppressed;
            }
        }
        e
    }
}

/// A random answer on one of a few days and hours, scales, question versions and reasons.
fn random_answer(rng: &mut fastrand::Rng) -> Value {
    let (scale, max) = [("ces7", 7), ("ces5", 5), ("smiley3", 3)][rng.usize(..3)];
    let local = format!(
        "2026-11-{:02}T{:02}:{:02}:00+01:00",
        20 + rng.u8(0..4),
        rng.u8(8..20),
        rng.u8(0..60)
    );
    let mut a = answer(scale, rng.u8(1..=max), &local);
    a["question_version"] = json!(rng.u8(1..=2));
    a["suppressed"] = json!(rng.u8(0..10) == 0);
    if rng.bool() {
        a["reason"] = json!(["queue", "staff", "policy"][rng.usize(..3)]);
    }
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollups_equal_a_recount_whatever_the_uploads() {
    let c = TestCollector::start();
    let devices: Vec<_> = (0..6)
        .map(|i| {
            let site = ["hotel-a", "hotel-b"][i % 2];
            (
                format!("desk-{i}"),
                c.add_device(&format!("desk-{i}"), site, "check-in"),
            )
        })
        .collect();
    // The first device stores one answer before the others start; they later send answers
    // with its id, which the collector rejects.
    let held = random_answer(&mut fastrand::Rng::with_seed(1));
    let first = upload(&c, &devices[0].1, &batch(vec![held.clone()])).await;
    assert_eq!(first.status, 200);
    let first_id = held["id"].clone();
    let uploads: Vec<_> = devices
        .into_iter()
        .map(|(_, cred)| cred)
        .enumerate()
        .collect();
    // Each device uploads concurrently: new batches, replays of earlier ones (duplicates),
    // an answer another device holds (rejected), and invalid batches (refused whole).
    let mut tasks = Vec::new();
    for (n, credential) in uploads {
        let url = format!("{}v1/answers", c.url);
        let first_id = first_id.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(100 + n as u64);
            let mut sent: Vec<Value> = Vec::new();
            let mut stored = Vec::new();
            // Duplicates, rejected answers, refused batches.
            let mut seen = [0usize; 3];
            for round in 0..25 {
                let body = match rng.u8(0..10) {
                    _ if n > 0 && round == 3 => {
                        let mut claimed = random_answer(&mut rng);
                        claimed["id"] = first_id.clone();
                        batch(vec![random_answer(&mut rng), claimed])
                    }
                    0 if !sent.is_empty() => sent[rng.usize(..sent.len())].clone(),
                    1 => {
                        let mut bad = random_answer(&mut rng);
                        bad["score"] = json!(9);
                        batch(vec![random_answer(&mut rng), bad])
                    }
                    _ => batch(
                        (0..rng.usize(1..40))
                            .map(|_| random_answer(&mut rng))
                            .collect(),
                    ),
                };
                let reply = common::collector::client()
                    .post(&url)
                    .bearer_auth(credential.expose())
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = reply.status().as_u16();
                let reply: Value = reply.json().await.unwrap();
                if status == 200 {
                    let results = reply["results"].as_array().unwrap().clone();
                    for (a, r) in body["answers"].as_array().unwrap().iter().zip(results) {
                        match r["status"].as_str().unwrap() {
                            "accepted" => stored.push(a.clone()),
                            "duplicate" => seen[0] += 1,
                            _ => seen[1] += 1,
                        }
                    }
                    sent.push(body);
                } else {
                    assert_eq!(status, 422, "{reply}");
                    seen[2] += 1;
                }
            }
            (stored, seen)
        }));
    }
    let mut expected = Expected::default();
    expected.add(&held);
    let mut ids = HashSet::from([held["id"].to_string()]);
    let mut seen = [0usize; 3];
    for t in tasks {
        let (stored, counts) = t.await.unwrap();
        for a in stored {
            assert!(ids.insert(a["id"].to_string()), "accepted once");
            expected.add(&a);
        }
        for (all, n) in seen.iter_mut().zip(counts) {
            *all += n;
        }
    }
    let [duplicates, rejected, refused] = seen;
    assert!(
        duplicates > 0 && rejected > 0 && refused > 0,
        "every path was taken: {seen:?}"
    );
    assert_eq!(c.answer_count() as usize, ids.len());

    // Batches whose work fails in the database (their device is unknown to it) add nothing
    // either, while the batches committed in the same transaction beside them are counted.
    let storage = c.storage.clone();
    let mixed: Vec<(Value, bool)> = (0..24)
        .map(|i| {
            let score = 1 + (i % 7) as u8;
            (
                answer("ces7", score, "2026-11-21T10:00:00+01:00"),
                i % 2 == 0,
            )
        })
        .collect();
    let sent = mixed.clone();
    let outcomes = c.on(async move {
        let stores = sent.into_iter().enumerate().map(|(i, (a, known))| {
            let storage = storage.clone();
            let wire: WireAnswer = serde_json::from_value(a).unwrap();
            let id = if known {
                "desk-0".into()
            } else {
                format!("nobody-{i}")
            };
            async move {
                storage
                    .store_batch(IncomingBatch {
                        device: DeviceIdentity {
                            id,
                            site: "hotel-a".into(),
                            touchpoint: "check-in".into(),
                            revoked: false,
                        },
                        received_at_ms: 0,
                        clock_skew_ms: 0,
                        answers: vec![CheckedAnswer {
                            wire,
                            local_date: "2026-11-21".into(),
                            local_hour: 10,
                            time_estimated: false,
                        }],
                    })
                    .await
            }
        });
        futures_util::future::join_all(stores).await
    });
    for ((a, known), outcome) in mixed.iter().zip(outcomes) {
        assert_eq!(outcome.is_ok(), *known, "{outcome:?}");
        if *known {
            assert!(ids.insert(a["id"].to_string()));
            expected.add(a);
        }
    }

    let storage = c.storage.clone();
    let verification = c.on(async move { storage.verify_counts().await }).unwrap();
    assert_eq!(verification.differences, [], "rollups equal a recount");
    assert_eq!(verification.answers as usize, ids.len());
    let storage = c.storage.clone();
    let reported = c.on(async move { Expected::of(storage.as_ref()).await });
    assert_eq!(reported, expected, "the report reads the rollups");
    println!(
        "{} answers in {} rollup rows; {duplicates} duplicates, {rejected} rejected, {refused} \
         batches refused",
        verification.answers, verification.rollup_rows
    );
}

#[tokio::test]
async fn a_database_of_the_previous_version_is_back_filled() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("collector.db");
    // The schema as the previous version left it, with answers stored as it stored them.
    let mut conn = rusqlite::Connection::open(&db).unwrap();
    sqlite_migrations().to_version(&mut conn, 2).unwrap();
    conn.execute(
        "INSERT INTO devices (id, site, touchpoint, credential_sha256, created_at_ms)
         VALUES ('old-1', 'hotel', 'desk', 'x', 0)",
        [],
    )
    .unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut expected = Expected::default();
    for i in 0..500 {
        let a = random_answer(&mut rng);
        expected.add(&a);
        conn.execute(
            "INSERT INTO answers (id, device_id, site, touchpoint, seq, boot_id, question_id,
                question_version, language, scale, direction, score, low, reason, suppressed,
                input, device_time, device_time_ms, clock_trusted, received_at_ms, clock_skew_ms,
                local_date, local_hour, time_estimated)
             VALUES (?1, 'old-1', 'hotel', 'desk', ?2, 'b', 'q', ?3, 'en', ?4,
                'higher_is_easier', ?5, 0, ?6, ?7, 'touch', ?8, 0, 1, 0, 0, ?9, ?10, 0)",
            rusqlite::params![
                a["id"].as_str().unwrap(),
                i + 1,
                a["question_version"].as_i64().unwrap(),
                a["scale"].as_str().unwrap(),
                a["score"].as_i64().unwrap(),
                a["reason"].as_str(),
                a["suppressed"].as_bool().unwrap(),
                a["device_time"].as_str().unwrap(),
                &a["device_time"].as_str().unwrap()[..10],
                a["device_time"].as_str().unwrap()[11..13]
                    .parse::<u8>()
                    .unwrap(),
            ],
        )
        .unwrap();
    }
    drop(conn);

    let storage = SqliteStorage::open(&db).unwrap();
    let verification = storage.verify_counts().await.unwrap();
    assert_eq!(verification.differences, []);
    assert_eq!(verification.answers, 500);
    assert!(verification.rollup_rows > 0);
    assert_eq!(Expected::of(&storage).await, expected);
}

#[tokio::test]
async fn verify_finds_a_count_that_is_off() {
    let c = TestCollector::start();
    let credential = c.add_device("desk-1", "hotel", "check-in");
    let body = batch(vec![
        answer("ces7", 2, "2026-11-21T10:00:00+01:00"),
        answer("ces7", 2, "2026-11-21T10:30:00+01:00"),
        answer("ces7", 6, "2026-11-21T11:00:00+01:00"),
    ]);
    assert_eq!(upload(&c, &credential, &body).await.status, 200);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("collector.toml");
    std::fs::write(
        &config,
        format!("listen = \"127.0.0.1:0\"\n{}", storage_section(&c.database)),
    )
    .unwrap();
    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_ces-collector"))
            .arg("--config")
            .arg(&config)
            .arg("verify")
            .output()
            .unwrap()
    };
    let ok = verify();
    assert!(ok.status.success(), "{ok:?}");
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(
        said.contains("count the 3 stored answers exactly (7 rollup rows)"),
        "{said}"
    );

    c.sql_execute(
        "UPDATE answer_counts SET n = n + 1 WHERE score = 2;
         UPDATE day_counts SET n2 = n2 + 1;
         UPDATE month_counts SET n2 = n2 + 1;
         UPDATE hour_counts SET n2 = n2 + 1 WHERE local_hour = 10;",
    );
    let off = verify();
    assert_eq!(off.status.code(), Some(1), "{off:?}");
    let said = String::from_utf8_lossy(&off.stdout);
    assert!(
        said.contains(
            "2026-11-21 10h site hotel touchpoint check-in device desk-1 question returns-ease \
             v1 ces7 score 2: the rollup says 3, the answers count 2"
        ),
        "{said}"
    );
    assert!(
        said.contains(
            "day_counts 2026-11-21 hotel check-in returns-ease 1 ces7 higher_is_easier n2: \
             the rollup says 3, the answers count 2"
        ),
        "{said}"
    );
    assert!(
        said.contains(
            "hour_counts 2026-11 hotel check-in returns-ease 1 ces7 higher_is_easier 6 10 n2: \
             the rollup says 3, the answers count 2"
        ),
        "{said}"
    );
    assert!(
        said.contains(
            "month_counts 2026-11 hotel check-in returns-ease 1 ces7 higher_is_easier n2: \
             the rollup says 3, the answers count 2"
        ),
        "{said}"
    );
    assert!(
        String::from_utf8_lossy(&off.stderr).contains("4 rollup rows do not match"),
        "{off:?}"
    );
    // The report reads the rollups, not the answers: it shows the count as the rollup has it.
    let report = Command::new(env!("CARGO_BIN_EXE_ces-collector"))
        .arg("--config")
        .arg(&config)
        .args(["report", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(
        report["groups"][0]["distribution"],
        json!([0, 3, 0, 0, 0, 1, 0])
    );
}
