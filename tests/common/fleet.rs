//! An enrolled terminal for tests: a device on the test collector with the example survey
//! config, a one-time code, and the real `ces-kiosk enroll` run with it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ces_kiosk::collector::storage::{ConfigTarget, NewEnrolmentCode};
use ces_kiosk::credential::EnrolmentCode;
use ces_kiosk::sync::{SyncHandle, SyncThread};
use std::time::Duration;

use super::collector::TestCollector;

/// The example survey config.
pub const SURVEY: &str = include_str!("../../deploy/examples/survey.toml");

/// Stores `text` as the newest survey config of device `device`; returns its version.
pub fn set_config(collector: &TestCollector, device: &str, text: String) -> u64 {
    let storage = collector.storage.clone();
    let target = ConfigTarget::Device(device.into());
    collector
        .on(async move { storage.set_config(target, text, 0).await })
        .unwrap()
}

/// A code for `device` that expires at `expires_at_ms`, stored as the command line would.
pub fn add_code(collector: &TestCollector, device: &str, expires_at_ms: i64) -> EnrolmentCode {
    let code = EnrolmentCode::generate();
    let storage = collector.storage.clone();
    let new = NewEnrolmentCode {
        device_id: device.into(),
        code_hash: code.hash(),
        created_at_ms: 0,
        expires_at_ms,
    };
    collector
        .on(async move { storage.add_enrolment_code(new).await })
        .unwrap();
    code
}

/// A terminal config file as the package installs it (no device, survey or collector),
/// with `extra` TOML appended, its state in `dir/state`.
pub fn terminal_file(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("terminal.toml");
    std::fs::write(
        &path,
        format!("[storage]\npath = \"state/answers.db\"\n\n[upstream]\nupload_delay_seconds = 0\n{extra}"),
    )
    .unwrap();
    path
}

/// Runs the real `ces-kiosk enroll`.
pub fn enroll(url: &str, code: &str, terminal: &Path) -> Output {
    let terminal = terminal.to_str().unwrap();
    Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args([
            "enroll",
            "--collector",
            url,
            "--code",
            code,
            "--config",
            terminal,
        ])
        .env("RUST_LOG", "debug")
        .output()
        .unwrap()
}

/// Device `device` (site hotel-rotterdam, touchpoint check-in) with the example survey,
/// enrolled in `dir`; returns the terminal's config file.
pub fn enrolled(collector: &TestCollector, device: &str, dir: &Path) -> PathBuf {
    enrolled_with(collector, device, dir, "")
}

/// Like [`enrolled`], with `extra` TOML at the end of the terminal's config file.
pub fn enrolled_with(collector: &TestCollector, device: &str, dir: &Path, extra: &str) -> PathBuf {
    collector.add_device(device, "hotel-rotterdam", "check-in");
    set_config(collector, device, SURVEY.to_owned());
    let code = add_code(collector, device, i64::MAX);
    let terminal = terminal_file(dir, extra);
    let out = enroll(&collector.url, &code.expose(), &terminal);
    assert!(out.status.success(), "{out:?}");
    terminal
}

/// Waits until the uploader's status passes `until`.
pub fn wait_status(
    thread: &SyncThread,
    sync: &SyncHandle,
    until: impl Fn(&ces_kiosk::sync::SyncStatus) -> bool + Send + Sync + 'static,
) {
    let mut status = sync.status();
    let reached = thread.run(async move {
        tokio::time::timeout(Duration::from_secs(20), status.wait_for(|s| until(s)))
            .await
            .is_ok_and(|r| r.is_ok())
    });
    assert!(
        reached,
        "the uploader got there: {:?}",
        sync.status().borrow()
    );
}

/// Sync now, and wait until a heartbeat that began after this call was taken. A round
/// may be under way already (after a stored answer), its reply made before what the test
/// just changed on the collector: so two, the second begun after the first was taken.
pub fn heartbeat(thread: &SyncThread, sync: &SyncHandle) {
    for _ in 0..2 {
        let before = sync.status().borrow().heartbeats;
        sync.sync_now();
        wait_status(thread, sync, move |s| s.heartbeats > before);
    }
}

/// front-desk-2 at hotel-rotterdam / check-in, given the example survey config (version 1)
/// and enrolled with the real `ces-kiosk enroll`, its state in `dir`; returns its config
/// file.
pub fn enrolled_front_desk(collector: &TestCollector, dir: &Path) -> PathBuf {
    collector.add_device("front-desk-2", "hotel-rotterdam", "check-in");
    assert_eq!(set_config(collector, "front-desk-2", SURVEY.to_owned()), 1);
    let code = add_code(collector, "front-desk-2", i64::MAX);
    let terminal = terminal_file(dir, "");
    let enrolled = enroll(&collector.url, &code.expose(), &terminal);
    assert!(enrolled.status.success(), "{enrolled:?}");
    terminal
}
