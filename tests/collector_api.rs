//! The collector's HTTP protocol, black-box against the real collector on 127.0.0.1 with a
//! real SQLite file: authentication, bad input, exactly-once storage under replays and
//! concurrency, the CES report's maths on a hand-computed data set, exports, rate limits and
//! a graceful shutdown that finishes the batch in flight.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use ces_kiosk::collector::Limits;
use ces_kiosk::credential::Credential;
use ces_kiosk::wire::{BatchResponse, ErrorBody, Report};
use common::collector::{TestCollector, client};
use serde_json::{Value, json};

/// An answer as a terminal sends it, at local time `local` (RFC 3339 with offset).
fn answer(scale: &str, score: u8, local: &str) -> Value {
    let ms = local.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    json!({
        "id": uuid::Uuid::now_v7(), "seq": 1, "boot_id": "6c1d7f0e-3b9a-4a51-b0c4-3f8f2b3e9d11",
        "device_time": local, "device_time_ms": ms, "clock_trusted": true,
        "question_id": "returns-ease", "question_version": 1, "language": "en",
        "scale": scale, "direction": "higher_is_easier", "score": score, "low": score <= 3,
        "suppressed": false, "input": "touch"
    })
}

fn now_answer(score: u8) -> Value {
    answer("ces7", score, &ces_kiosk::clock::now().local)
}

fn batch(answers: Vec<Value>) -> Value {
    json!({ "device_time": ces_kiosk::clock::now().local, "answers": answers })
}

struct Reply {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn post(
    c: &TestCollector,
    path: &str,
    credential: Option<&Credential>,
    body: Vec<u8>,
    gzip: bool,
) -> Reply {
    let mut request = client().post(format!("{}{path}", c.url)).body(body);
    if let Some(cred) = credential {
        request = request.bearer_auth(cred.expose());
    }
    if gzip {
        request = request.header("content-encoding", "gzip");
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    Reply {
        status,
        retry_after,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

async fn upload(c: &TestCollector, credential: &Credential, body: &Value) -> Reply {
    post(
        c,
        "v1/answers",
        Some(credential),
        serde_json::to_vec(body).unwrap(),
        false,
    )
    .await
}

fn statuses(reply: &Reply) -> Vec<String> {
    let r: BatchResponse = serde_json::from_value(reply.body.clone()).unwrap();
    r.results
        .iter()
        .map(|r| {
            serde_json::to_value(r.status)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn get(c: &TestCollector, path: &str, token: &Credential) -> (u16, String) {
    let r = client()
        .get(format!("{}{path}", c.url))
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

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
    let db = rusqlite::Connection::open(&c.db).unwrap();
    let (owner, score): (String, i64) = db
        .query_row(
            "SELECT device_id, score FROM answers WHERE id = ?1",
            [bs["id"].as_str().unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (owner.as_str(), score),
        ("dev-b", 2),
        "B's answer is untouched"
    );
    let (site,): (String,) = db
        .query_row(
            "SELECT site FROM answers WHERE device_id = 'dev-a'",
            [],
            |r| Ok((r.get(0)?,)),
        )
        .unwrap();
    assert_eq!(site, "store-a", "the site comes from A's registration");

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
    c.on(async move {
        use ces_kiosk::collector::storage::Storage;
        storage.revoke_admin_token(&name, 1).await
    })
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
    let db = rusqlite::Connection::open(&c.db).unwrap();
    let counted: i64 = db
        .query_row("SELECT answers FROM devices WHERE id = 'dev'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(counted, 100, "the fleet counts each answer once");
}

#[tokio::test]
async fn the_report_matches_a_hand_computed_data_set() {
    let c = TestCollector::start();
    let a = c.add_device("dev-a", "store-a", "returns");
    let b = c.add_device("dev-b", "store-b", "returns");
    let at = |day: u8, hour: u8| format!("2026-11-{day:02}T{hour:02}:15:00+01:00");
    // store-a, ces7, 20 November: 7 6 6 5 3 1, and two suppressed taps.
    let mut day1: Vec<Value> = [7, 6, 6, 5, 3, 1]
        .iter()
        .enumerate()
        .map(|(i, &s)| answer("ces7", s, &at(20, 9 + (i as u8 % 2))))
        .collect();
    for _ in 0..2 {
        let mut tap = answer("ces7", 1, &at(20, 9));
        tap["suppressed"] = json!(true);
        day1.push(tap);
    }
    // store-a, 21 November: 2 2 4 7, one of them at 00:30 local (23:30 UTC on the 20th).
    let mut day2: Vec<Value> = [2, 2, 4]
        .iter()
        .map(|&s| answer("ces7", s, &at(21, 14)))
        .collect();
    day2.push(answer("ces7", 7, "2026-11-21T00:30:00+01:00"));
    // store-b, smiley3, 20 November: 3 3 2 1 3.
    let faces: Vec<Value> = [3, 3, 2, 1, 3]
        .iter()
        .map(|&s| answer("smiley3", s, &at(20, 12)))
        .collect();
    for (cred, answers) in [(&a, day1), (&a, day2), (&b, faces)] {
        assert_eq!(upload(&c, cred, &batch(answers)).await.status, 200);
    }

    let admin = c.admin();
    let (status, text) = get(&c, "v1/report", &admin).await;
    assert_eq!(status, 200, "{text}");
    let report: Report = serde_json::from_str(&text).unwrap();
    let group = |site: &str, date: &str| {
        report
            .groups
            .iter()
            .find(|g| g.site == site && g.date == date)
            .unwrap_or_else(|| panic!("a group for {site} on {date}: {text}"))
    };
    let close = |x: Option<f64>, y: f64| (x.unwrap() - y).abs() < 1e-9;

    let g = group("store-a", "2026-11-20");
    assert_eq!((g.n, g.suppressed), (6, 2));
    assert!(close(g.mean, 28.0 / 6.0), "{:?}", g.mean);
    assert!(close(g.pct_easy, 400.0 / 6.0) && close(g.pct_difficult, 200.0 / 6.0));
    assert_eq!(g.distribution, [1, 0, 1, 0, 1, 2, 1]);
    assert_eq!(g.formula, ces_kiosk::survey::Scale::Ces7.formula());

    let g = group("store-a", "2026-11-21");
    assert_eq!(g.n, 4, "the 00:30 answer counts on its local day");
    assert!(close(g.mean, 3.75) && close(g.pct_easy, 25.0) && close(g.pct_difficult, 50.0));

    let g = group("store-b", "2026-11-20");
    assert_eq!((g.n, g.scale.as_str()), (5, "smiley3"));
    assert!(close(g.mean, 2.4) && close(g.pct_easy, 60.0) && close(g.pct_difficult, 20.0));
    assert_eq!(report.groups.len(), 3, "scales and sites are never mixed");
    assert_eq!(report.formulas.len(), 2, "one formula per scale shown");

    let (_, text) = get(
        &c,
        "v1/report?by=hour&site=store-a&from=2026-11-20&to=2026-11-20",
        &admin,
    )
    .await;
    let by_hour: Report = serde_json::from_str(&text).unwrap();
    let hours: Vec<(Option<u8>, u64)> = by_hour.groups.iter().map(|g| (g.hour, g.n)).collect();
    assert_eq!(hours, [(Some(9), 3), (Some(10), 3)]);

    let (status, csv) = get(&c, "v1/report?format=csv", &admin).await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains("2026-11-21,,store-a,returns,returns-ease,1,ces7,higher_is_easier,4,3.7500,25.0000,50.0000,0,0;2;0;1;0;0;1,"), "{csv}");
}

#[tokio::test]
async fn exports_stream_every_answer_as_csv_or_json_with_filters() {
    let c = TestCollector::start();
    let a = c.add_device("dev-a", "store-a", "returns");
    let b = c.add_device("dev-b", "store-b", "desk");
    upload(
        &c,
        &a,
        &batch(
            (0..30)
                .map(|_| answer("ces7", 6, "2026-11-20T10:00:00+01:00"))
                .collect(),
        ),
    )
    .await;
    upload(
        &c,
        &b,
        &batch(
            (0..12)
                .map(|_| answer("ces5", 2, "2026-11-22T10:00:00+01:00"))
                .collect(),
        ),
    )
    .await;
    let admin = c.admin();

    let (status, csv) = get(&c, "v1/export", &admin).await;
    assert_eq!(status, 200);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("id,device_id,site,touchpoint,seq,")
    );
    assert_eq!(lines.count(), 42);

    let (status, json) = get(&c, "v1/export?format=json&site=store-b", &admin).await;
    assert_eq!(status, 200);
    let rows: Vec<ces_kiosk::wire::ExportRow> = serde_json::from_str(&json).unwrap();
    assert_eq!(rows.len(), 12);
    assert!(
        rows.iter()
            .all(|r| r.device_id == "dev-b" && r.scale.as_str() == "ces5" && r.score == 2)
    );
    assert!(
        rows.iter()
            .all(|r| r.local_date == "2026-11-22" && !r.time_estimated)
    );

    let (_, json) = get(&c, "v1/export?format=json&from=2026-11-21", &admin).await;
    assert_eq!(serde_json::from_str::<Vec<Value>>(&json).unwrap().len(), 12);
    let (_, json) = get(&c, "v1/export?format=json&to=2026-11-19", &admin).await;
    assert_eq!(json.trim(), "[]");

    assert_eq!(get(&c, "v1/export?from=last-week", &admin).await.0, 400);
    assert_eq!(get(&c, "v1/export?by=hour", &admin).await.0, 400);
    assert_eq!(get(&c, "v1/export?colour=red", &admin).await.0, 400);
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
