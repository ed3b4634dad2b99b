//! The real collector against hostile devices' text: escape sequences, NUL, C1 controls and
//! bidi overrides in every text a device sends are refused with 422; values stored by earlier
//! versions are printed escaped by the command line; CSV exports neutralise formula cells.
//! Hostile connections are in `collector_connections.rs`.

mod common;

use std::process::Command;

use ces_kiosk::collector::storage::{
    CheckedAnswer, DeviceIdentity, HeartbeatRecord, IncomingBatch,
};
use common::collector::{TestCollector, client};
use common::requests::{batch, now_answer, post};
use serde_json::json;

/// What a hostile device puts in a text: a window title, a screen clear and red text (ESC),
/// NUL, a C1 control sequence introducer, a right-to-left override, a zero-width space.
const HOSTILE: [&str; 6] = [
    "\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[31mALL OK",
    "ok\u{0}",
    "x\u{9b}31m",
    "\u{202e}KO LLA",
    "a\u{200b}b",
    "line\nbreak",
];

fn heartbeat() -> serde_json::Value {
    json!({
        "device_time": ces_kiosk::clock::now().local,
        "app_version": "0.1.0",
        "boot_id": "6c1d7f0e-3b9a-4a51-b0c4-3f8f2b3e9d11",
        "clock_trusted": true,
        "queue_depth": 0,
        "dead_letters": 0
    })
}

#[tokio::test]
async fn hidden_characters_in_any_text_a_device_sends_are_refused_with_422() {
    let c = TestCollector::start();
    let cred = c.add_device("hostile", "lab", "bench");
    for hostile in HOSTILE {
        for field in ["reason", "language", "question_id", "boot_id", "input"] {
            let mut a = now_answer(2);
            a[field] = json!(if field == "language" {
                format!("en{hostile}")
            } else {
                hostile.to_owned()
            });
            let body = serde_json::to_vec(&batch(vec![now_answer(6), a])).unwrap();
            let r = post(&c, "v1/answers", Some(&cred), body, false).await;
            assert_eq!(r.status, 422, "{field} {hostile:?}: {:?}", r.body);
            assert_eq!(r.body["invalid"][0]["index"], 1, "{field}");
            let reason = r.body["invalid"][0]["reason"].as_str().unwrap();
            assert!(reason.starts_with(field), "{field}: {reason}");
        }
        for field in ["last_error", "config_error", "app_version", "boot_id"] {
            let mut beat = heartbeat();
            beat[field] = json!(hostile);
            let body = serde_json::to_vec(&beat).unwrap();
            let r = post(&c, "v1/heartbeat", Some(&cred), body, false).await;
            assert_eq!(r.status, 422, "{field} {hostile:?}: {:?}", r.body);
            let error = r.body["error"].as_str().unwrap();
            assert!(error.starts_with(field), "{field}: {error}");
        }
    }
    // A formula is not a reason id either.
    let mut a = now_answer(2);
    a["reason"] = json!("=HYPERLINK(\"http://evil.example/\")");
    let body = serde_json::to_vec(&batch(vec![a])).unwrap();
    assert_eq!(
        post(&c, "v1/answers", Some(&cred), body, false)
            .await
            .status,
        422
    );
    assert_eq!(c.answer_count(), 0, "nothing of a refused batch is stored");
    let errors = c.sql_number(
        "SELECT count(*) FROM devices WHERE id = 'hostile'
            AND (last_error IS NOT NULL OR config_error IS NOT NULL)",
    );
    assert_eq!(errors, 0, "neither error is stored");
    // Plain text in other languages is welcome.
    let mut beat = heartbeat();
    beat["last_error"] = json!("kan geen verbinding maken: geweigerd — réessayer · 再试");
    let body = serde_json::to_vec(&beat).unwrap();
    assert_eq!(
        post(&c, "v1/heartbeat", Some(&cred), body, false)
            .await
            .status,
        200
    );
}

/// Stores what an earlier version let through: a heartbeat and an answer with hostile text.
fn store_legacy(c: &TestCollector) {
    let cred = c.add_device("legacy-1", "lab", "bench");
    drop(cred);
    let storage = c.storage.clone();
    c.on(async move {
        let device = storage
            .devices(i64::MAX)
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.id == "legacy-1")
            .unwrap();
        let mut beat: ces_kiosk::wire::Heartbeat = serde_json::from_value(heartbeat()).unwrap();
        beat.last_error = Some(HOSTILE[0].into());
        // (A NUL, HOSTILE[1], is refused at the door and PostgreSQL cannot hold one.)
        beat.config_error = Some(format!("{}{}", HOSTILE[3], HOSTILE[2]));
        storage
            .record_heartbeat(HeartbeatRecord {
                device_id: device.id.clone(),
                received_at_ms: 0,
                clock_skew_ms: 0,
                beat,
            })
            .await
            .unwrap();
        let mut wire: ces_kiosk::wire::WireAnswer = serde_json::from_value(now_answer(2)).unwrap();
        wire.reason = Some("=HYPERLINK(\"http://evil.example/\",\"details\")".into());
        let mut second: ces_kiosk::wire::WireAnswer =
            serde_json::from_value(now_answer(3)).unwrap();
        second.reason = Some(HOSTILE[0].into());
        storage
            .store_batch(IncomingBatch {
                device: DeviceIdentity {
                    id: device.id,
                    site: "+lab".into(),
                    touchpoint: device.touchpoint,
                    revoked: false,
                },
                received_at_ms: 0,
                clock_skew_ms: 0,
                answers: [wire, second]
                    .into_iter()
                    .map(|wire| CheckedAnswer {
                        wire,
                        local_date: "2026-11-24".into(),
                        local_hour: 10,
                        time_estimated: false,
                    })
                    .collect(),
            })
            .await
            .unwrap();
    });
}

fn cli(c: &TestCollector, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ces-collector"))
        .arg("--config")
        .arg(c.config_path())
        .args(args)
        .output()
        .unwrap()
}

/// Nothing a terminal would act on: no ESC, BEL, NUL, C1 control or bidi override.
fn assert_inert(what: &str, text: &str) {
    let hidden: Vec<char> = text
        .chars()
        .filter(|&c| ces_kiosk::text::is_hidden(c) && c != '\n')
        .collect();
    assert!(hidden.is_empty(), "{what} prints {hidden:?}:\n{text}");
}

#[test]
fn the_command_line_prints_stored_hostile_text_escaped() {
    let c = TestCollector::start();
    store_legacy(&c);

    let list = cli(&c, &["device", "list"]);
    assert!(list.status.success(), "{list:?}");
    let text = String::from_utf8(list.stdout).unwrap();
    assert_inert("device list", &text);
    assert!(
        text.contains("error: \\u{1b}]0;owned\\u{7}\\u{1b}[2J\\u{1b}[31mALL OK"),
        "{text}"
    );

    let json = cli(&c, &["device", "list", "--json"]);
    let text = String::from_utf8(json.stdout).unwrap();
    assert_inert("device list --json", &text);
    let devices: Vec<ces_kiosk::wire::DeviceStatus> = serde_json::from_str(&text).unwrap();
    let d = devices.iter().find(|d| d.id == "legacy-1").unwrap();
    assert_eq!(
        d.last_error.as_deref(),
        Some(HOSTILE[0]),
        "the same value, escaped"
    );

    for args in [
        &["report", "--format", "table"][..],
        &["report", "--format", "json"],
        &["export", "--format", "json"],
    ] {
        let out = cli(&c, args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert_inert(&args.join(" "), &String::from_utf8(out.stdout).unwrap());
    }
}

#[tokio::test]
async fn csv_exports_neutralise_formula_cells() {
    let c = TestCollector::start();
    store_legacy(&c);
    let admin = c.admin();
    let response = client()
        .get(format!("{}v1/export?format=csv", c.url))
        .bearer_auth(admin.expose())
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let reasons: Vec<&str> = rows.iter().map(|r| &r[column("reason")]).collect();
    assert!(
        reasons.contains(&"'=HYPERLINK(\"http://evil.example/\",\"details\")"),
        "{reasons:?}"
    );
    assert!(
        rows.iter().all(|r| &r[column("site")] == "'+lab"),
        "every text cell"
    );
    assert!(
        rows.iter().all(|r| !r[column("score")].starts_with('\'')),
        "numbers stay numbers"
    );
    // The command line's CSV file is the same.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("answers.csv");
    let out = cli(
        &c,
        &["export", "--format", "csv", "-o", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{out:?}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("\"'=HYPERLINK("), "{written}");
    // The report's CSV too.
    let out = cli(&c, &["report", "--format", "csv"]);
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(report.contains(",'+lab,"), "{report}");
}
