//! `ces-kiosk status` (and `--json`), the real binary reading the database of an enrolled
//! terminal from outside, as a technician does over SSH: before the terminal ever ran, with
//! answers waiting, after the uploader synced them to the real collector, and once the
//! collector is gone. Never a credential in its output.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ces_kiosk::config::Config;
use ces_kiosk::store::Store;
use ces_kiosk::sync::{Link, SyncHandle, SyncStatus, SyncThread};
use common::collector::TestCollector;
use serde_json::Value;

fn status(terminal: &Path, json: bool) -> String {
    let mut args = vec!["status", "--config", terminal.to_str().unwrap()];
    if json {
        args.push("--json");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(&args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn json(terminal: &Path) -> Value {
    serde_json::from_str(&status(terminal, true)).unwrap()
}

fn wait(thread: &SyncThread, sync: &SyncHandle, until: fn(&SyncStatus) -> bool) {
    let mut rx = sync.status();
    let reached = thread.run(async move {
        tokio::time::timeout(Duration::from_secs(20), rx.wait_for(until))
            .await
            .is_ok_and(|r| r.is_ok())
    });
    assert!(reached, "{:?}", sync.status().borrow());
}

#[test]
fn status_json_names_the_terminal_its_queue_and_how_the_upload_stands() {
    let collector = TestCollector::start();
    let dir = tempfile::tempdir().unwrap();
    let terminal = common::fleet::enrolled(&collector, "front-desk-2", dir.path());
    let config = Config::load(&terminal).unwrap();
    let secret = config
        .upstream
        .as_ref()
        .unwrap()
        .credential
        .expose()
        .to_owned();

    // Enrolled, never started: no database yet, and status says so.
    let s = json(&terminal);
    assert_eq!(s["device_id"], "front-desk-2");
    assert_eq!(s["site"], "hotel-rotterdam");
    assert_eq!(s["touchpoint"], "check-in");
    assert_eq!(s["app_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(s["config_version"], 1);
    assert_eq!(s["question_id"], "check-in-ease");
    assert_eq!(s["enrolled"], true);
    assert_eq!(s["collector"], collector.url.as_str());
    assert_eq!(s["link"], "unknown");
    assert!(
        s["database_error"]
            .as_str()
            .unwrap()
            .contains("does not exist yet"),
        "{s}"
    );
    assert!(s["queue_depth"].is_null());
    assert!(s["disk_free_bytes"].as_u64().unwrap() > 0);
    assert!(s["disk_total_bytes"].as_u64().unwrap() >= s["disk_free_bytes"].as_u64().unwrap());
    assert!(s["clock_trusted"].is_boolean() && s["clock"].is_string());
    assert_eq!(s["display"], "touch screen");
    for a in s["addresses"].as_array().unwrap() {
        let ip: std::net::IpAddr = a.as_str().unwrap().parse().unwrap();
        assert!(!ip.is_loopback(), "{ip}");
    }
    assert_eq!(s["button_boxes"], serde_json::json!([]));

    // Three answers waiting.
    let mut store = Store::open(&config.storage.path, &config.device).unwrap();
    for score in [5, 6, 7] {
        store.record(&common::terminal::answer(score)).unwrap();
    }
    let s = json(&terminal);
    assert!(s["database_error"].is_null(), "{s}");
    assert_eq!(
        (s["queue_depth"].as_u64(), s["answers"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(s["oldest_waiting_age_seconds"].is_u64());
    assert!(s["last_sync"].is_null());

    // Synced: nothing waits, the link is online, the last sync and heartbeat are known.
    let thread = SyncThread::start().unwrap();
    let sync = ces_kiosk::sync::start(&thread, &config, config.upstream.as_ref().unwrap()).unwrap();
    wait(&thread, &sync, |s| s.uploaded == 3 && s.heartbeats >= 1);
    let s = json(&terminal);
    assert_eq!(
        (s["queue_depth"].as_u64(), s["dead_letters"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(s["link"], "online");
    assert!(
        s["last_sync"].is_string() && s["last_heartbeat"].is_string(),
        "{s}"
    );
    assert!(s["last_error"].is_null());

    // The collector is gone: offline, with the reason; the answers stay counted.
    drop(collector);
    store.record(&common::terminal::answer(4)).unwrap();
    sync.sync_now();
    wait(&thread, &sync, |s| s.link == Link::Offline);
    let s = json(&terminal);
    assert_eq!(s["link"], "offline");
    assert_eq!(s["queue_depth"].as_u64(), Some(1));
    assert!(s["last_error"].as_str().unwrap().contains("connect"), "{s}");
    assert!(
        s["last_sync"].is_string(),
        "the last good sync is still shown"
    );

    let text = status(&terminal, false);
    for expected in [
        "front-desk-2 (site hotel-rotterdam, touchpoint check-in)",
        "survey config version 1 from the collector",
        "1 waiting",
        "offline",
        "(enrolled)",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    assert!(!text.contains(&secret) && !status(&terminal, true).contains(&secret[5..]));
}
