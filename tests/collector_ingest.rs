//! The collector's ingest protocol, black-box against the real collector on 127.0.0.1 with a
//! real SQLite file: authentication, bad input, exactly-once storage under replays and
//! concurrency, rate limits, heartbeats, a graceful shutdown that finishes the batch in
//! flight, and checkpoints that bring committed answers into the database file beside the
//! writer.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use ces_kiosk::collector::Limits;
use ces_kiosk::credential::Credential;
use ces_kiosk::wire::ErrorBody;
use common::collector::{TestCollector, client};
use common::requests::*;
use serde_json::json;

#[tokio::test]
async fn credentials_decide_who_may_upload_and_who_may_read() {
    let c = TestCollector::start();
    let a = c.add_device("dev-a", "store-a", "returns");
    let b = c.add_device("dev-b", "store-b", "returns");
    let body = serde_json::to_vec(&batch(vec![now_answer(6)])).unwrap();

    let none = post(&c, "v1/answers", None, body.clone(), false).await;
    assert_eq!(none.status, 401);
    let stranger = Credential::generate(ces_kiosk::credential::Kind::Device);
    assert_eq!(
        post(&c, "v1/answers", Some(&stranger), body.clone(), false)
            .await
            .status,
        401
    );
    let r = client()
        .post(format!("{}v1/answers", c.url))
        .header("authorization", "Basic YTpi")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");

    // A device cannot name another device in the body …
    let mut claims_b = batch(vec![now_answer(6)]);
    claims_b["device_id"] = json!("dev-b");
    let r = upload(&c, &a, &claims_b).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    // … nor overwrite or claim an answer that device B stored.
    let bs = now_answer(2);
    assert_eq!(
        statuses(&upload(&c, &b, &batch(vec![bs.clone()])).await),
        ["accepted"]
    );
    let mut same_id = now_answer(7);
    same_id["id"] = bs["id"].clone();
    let r = upload(&c, &a, &batch(vec![same_id, now_answer(5)])).await;
    assert_eq!(statuses(&r), ["rejected", "accepted"]);
    let b_id = bs["id"].as_str().unwrap();
    assert_eq!(
        c.sql_texts(&format!(
            "SELECT device_id || ' ' || score FROM answers WHERE id = '{b_id}'"
        )),
        ["dev-b 2"],
        "B's answer is untouched"
    );
    assert_eq!(
        c.sql_texts("SELECT site FROM answers WHERE device_id = 'dev-a'"),
        ["store-a"],
        "the site comes from A's registration"
    );

    c.revoke("dev-a");
    let r = post(&c, "v1/answers", Some(&a), body.clone(), false).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(c.answer_ids("dev-a").len(), 1);

    // Reading takes an admin token; a device credential is not one.
    assert_eq!(get(&c, "v1/report", &b).await.0, 401);
    let admin = c.admin();
    assert_eq!(get(&c, "v1/devices", &admin).await.0, 200);
    let revoked = c.admin();
    let (storage, hash) = (c.storage.clone(), revoked.hash());
    let name = format!("t-{}", &hash[..8]);
    c.on(async move { storage.revoke_admin_token(&name, 1).await })
        .unwrap();
    assert_eq!(get(&c, "v1/export", &revoked).await.0, 403);
}

#[tokio::test]
async fn bad_input_gets_its_4xx_and_stores_nothing() {
    let c = TestCollector::with_limits(Limits {
        max_body_bytes: 8 * 1024,
        max_json_bytes: 16 * 1024,
        max_answers_per_batch: 5,
        device_requests_per_second: 1000,
        device_burst: 1000,
        ..Limits::default()
    });
    let cred = c.add_device("dev", "s", "t");
    let raw = |body: &str| body.as_bytes().to_vec();

    let r = post(
        &c,
        "v1/answers",
        Some(&cred),
        raw(r#"{"device_time": "2026-11-24T10:00:00Z", "answers": [{"#),
        false,
    )
    .await;
    assert_eq!(r.status, 400, "malformed JSON: {:?}", r.body);

    let big = batch((0..5).map(|_| now_answer(6)).collect());
    let mut padded = serde_json::to_vec(&big).unwrap();
    padded.resize(9 * 1024, b' ');
    assert_eq!(
        post(&c, "v1/answers", Some(&cred), padded, false)
            .await
            .status,
        413,
        "oversized body"
    );

    // A small gzip body that inflates beyond the JSON limit.
    let mut bomb = serde_json::to_vec(&batch(vec![now_answer(6)])).unwrap();
    bomb.resize(64 * 1024, b' ');
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bomb).unwrap();
    let gz = gz.finish().unwrap();
    assert!(gz.len() < 8 * 1024);
    assert_eq!(
        post(&c, "v1/answers", Some(&cred), gz, true).await.status,
        413,
        "inflated body"
    );
    assert_eq!(
        post(&c, "v1/answers", Some(&cred), raw("not gzip"), true)
            .await
            .status,
        400
    );

    let six = batch((0..6).map(|_| now_answer(6)).collect());
    let r = upload(&c, &cred, &six).await;
    assert_eq!(r.status, 413, "too many answers: {:?}", r.body);

    let r = upload(
        &c,
        &cred,
        &batch(vec![now_answer(6), now_answer(9), now_answer(5)]),
    )
    .await;
    assert_eq!(r.status, 422);
    let e: ErrorBody = serde_json::from_value(r.body).unwrap();
    assert_eq!(e.invalid.len(), 1);
    assert_eq!(e.invalid[0].index, 1);
    assert_eq!(
        e.invalid[0].reason,
        "score 9 is outside the ces7 scale (1 to 7)"
    );

    let mut unknown_scale = now_answer(3);
    unknown_scale["scale"] = json!("ces10");
    let r = upload(&c, &cred, &batch(vec![now_answer(6), unknown_scale])).await;
    assert_eq!(r.status, 422);
    let e: ErrorBody = serde_json::from_value(r.body).unwrap();
    assert!(e.invalid[0].reason.contains("ces10"), "{e:?}");

    let mut wrong_time = now_answer(6);
    wrong_time["device_time_ms"] = json!(1);
    assert_eq!(
        upload(&c, &cred, &batch(vec![wrong_time])).await.status,
        422
    );
    let bad_batch_time = json!({"device_time": "soon", "answers": [now_answer(6)]});
    assert_eq!(upload(&c, &cred, &bad_batch_time).await.status, 422);

    let r = client()
        .post(format!("{}v1/answers", c.url))
        .bearer_auth(cred.expose())
        .header("content-encoding", "br")
        .body(serde_json::to_vec(&batch(vec![now_answer(6)])).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    assert_eq!(
        c.answer_count(),
        0,
        "nothing of any refused request was stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_replayed_three_times_and_sent_twice_at_once_is_stored_once() {
    let c = TestCollector::start();
    let cred = c.add_device("dev", "s", "t");
    let first = batch((0..50).map(|i| now_answer(1 + (i % 7) as u8)).collect());
    let replies = [
        upload(&c, &cred, &first).await,
        upload(&c, &cred, &first).await,
        upload(&c, &cred, &first).await,
    ];
    assert!(statuses(&replies[0]).iter().all(|s| s == "accepted"));
    for r in &replies[1..] {
        assert!(
            statuses(r).iter().all(|s| s == "duplicate"),
            "a replay is a success"
        );
    }

    let second = batch((0..50).map(|_| now_answer(6)).collect());
    let (x, y) = tokio::join!(upload(&c, &cred, &second), upload(&c, &cred, &second));
    let (x, y) = (statuses(&x), statuses(&y));
    for (p, q) in x.iter().zip(&y) {
        let mut pair = [p.as_str(), q.as_str()];
        pair.sort();
        assert_eq!(
            pair,
            ["accepted", "duplicate"],
            "each answer stored by exactly one"
        );
    }
    let ids = c.answer_ids("dev");
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (100, 100));
    let counted = c.sql_number("SELECT answers FROM devices WHERE id = 'dev'");
    assert_eq!(counted, 100, "the fleet counts each answer once");
}

#[tokio::test]
async fn a_device_over_its_rate_gets_429_with_retry_after() {
    let c = TestCollector::with_limits(Limits {
        device_requests_per_second: 1,
        device_burst: 2,
        ..Limits::default()
    });
    let cred = c.add_device("dev", "s", "t");
    let other = c.add_device("other", "s", "t");
    let body = batch(vec![]);
    assert_eq!(upload(&c, &cred, &body).await.status, 200);
    assert_eq!(upload(&c, &cred, &body).await.status, 200);
    let r = upload(&c, &cred, &body).await;
    assert_eq!(r.status, 429);
    let secs: u64 = r.retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=2).contains(&secs), "{secs}");
    assert_eq!(
        upload(&c, &other, &body).await.status,
        200,
        "per device, not global"
    );
}

#[tokio::test]
async fn heartbeats_are_validated_and_report_the_clock_skew() {
    let c = TestCollector::start();
    let cred = c.add_device("dev", "s", "t");
    let fast = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(600);
    let beat = json!({
        "device_time": fast.to_string(), "app_version": "0.1.0", "boot_id": "b-1",
        "clock_trusted": false, "queue_depth": 12, "oldest_unsynced_age_seconds": 30,
        "dead_letters": 1, "last_error": "cannot connect"
    });
    let r = post(
        &c,
        "v1/heartbeat",
        Some(&cred),
        serde_json::to_vec(&beat).unwrap(),
        false,
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let skew = r.body["clock_skew_ms"].as_i64().unwrap();
    assert!((595_000..=600_000).contains(&skew), "{skew}");

    let mut extra = beat.clone();
    extra["device_id"] = json!("someone-else");
    let r = post(
        &c,
        "v1/heartbeat",
        Some(&cred),
        serde_json::to_vec(&extra).unwrap(),
        false,
    )
    .await;
    assert_eq!(r.status, 422);

    let admin = c.admin();
    let (_, text) = get(&c, "v1/devices", &admin).await;
    let devices: Vec<ces_kiosk::wire::DeviceStatus> = serde_json::from_str(&text).unwrap();
    let d = &devices[0];
    assert_eq!((d.queue_depth, d.dead_letters), (Some(12), Some(1)));
    assert!(d.clock_skewed, "ten minutes off is flagged");
    assert_eq!(d.clock_trusted, Some(false));
    assert_eq!(d.last_error.as_deref(), Some("cannot connect"));
}

#[tokio::test]
async fn shutdown_finishes_the_batch_in_flight() {
    let mut c = TestCollector::start();
    let cred = c.add_device("dev", "s", "t");
    let body = serde_json::to_vec(&batch(vec![now_answer(6), now_answer(2)])).unwrap();
    let address = c.address;
    let token = cred.expose().to_owned();
    // A raw connection: the headers first, with Expect: 100-continue so that the collector
    // says when its handler is reading the body.
    let mut conn = std::net::TcpStream::connect(address).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        conn,
        "POST /v1/answers HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        conn.read_exact(&mut byte).unwrap();
        seen.push(byte[0]);
    }
    assert!(
        String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 100"),
        "{seen:?}"
    );

    c.begin_shutdown();
    conn.write_all(&body).unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert_eq!(reply.matches("\"accepted\"").count(), 2, "{reply}");
    c.stopped();
    assert_eq!(c.answer_ids("dev").len(), 2);
    assert!(
        std::net::TcpStream::connect(address).is_err(),
        "no new connections after shutdown"
    );
}

/// Checkpoints run beside the writer: while the collector goes on, the answers it committed
/// reach the database file itself, not only its write-ahead log, long before the WAL is big
/// enough for the writer to copy it back itself.
#[tokio::test]
async fn committed_answers_reach_the_database_file_while_the_collector_runs() {
    let c = TestCollector::start();
    let Some(db) = c.sqlite_file().map(|f| f.to_owned()) else {
        return; // SQLite's own file and WAL: nothing of the kind on PostgreSQL
    };
    let cred = c.add_device("dev", "s", "t");
    for _ in 0..20 {
        let answers = (0..50).map(|i| now_answer(1 + (i % 7) as u8)).collect();
        assert_eq!(upload(&c, &cred, &batch(answers)).await.status, 200);
    }
    // The database file alone, copied without its WAL, read until it holds every answer.
    let copy = tempfile::tempdir().unwrap();
    let main_file = copy.path().join("main.db");
    let in_main_file = || -> Option<i64> {
        std::fs::copy(&db, &main_file).ok()?;
        let conn = rusqlite::Connection::open(&main_file).ok()?;
        conn.query_row("SELECT count(*) FROM answers", [], |r| r.get(0))
            .ok()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut found = in_main_file();
    while found != Some(1000) && std::time::Instant::now() < deadline {
        // No event tells when a checkpoint ends: the file is read again shortly.
        tokio::time::sleep(Duration::from_millis(20)).await;
        found = in_main_file();
    }
    assert_eq!(found, Some(1000), "the answers in the database file itself");
}
