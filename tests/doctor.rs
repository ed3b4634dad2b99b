//! `ces-kiosk doctor`, the real binary on an enrolled button terminal (a box on a real pty
//! pair, the real collector on 127.0.0.1:0): all well, then one fault at a time (the box
//! unplugged, the credential revoked, the collector gone), each named with its fix and
//! exit code 1. A database in RAM (tmpfs) fails with its fix unless the config allows it.

mod common;

use std::path::Path;
use std::process::Command;

use ces_kiosk::buttons::pty::Pty;
use ces_kiosk::config::Config;
use ces_kiosk::store::Store;
use common::collector::TestCollector;

/// Doctor's exit code and its report.
fn doctor(terminal: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["doctor", "--config", terminal.to_str().unwrap()])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// The report's line for check `name`, with its fix line if any.
fn line<'a>(report: &'a str, name: &str) -> (&'a str, Option<&'a str>) {
    let mut lines = report.lines();
    while let Some(l) = lines.next() {
        let mut words = l.split_whitespace();
        let (verdict, check) = (words.next().unwrap(), words.next().unwrap_or(""));
        if check == name {
            let fix = lines.next().filter(|f| f.trim_start().starts_with("fix:"));
            return (verdict, fix);
        }
    }
    panic!("no {name} check in:\n{report}")
}

#[test]
fn doctor_passes_a_sound_terminal_and_names_each_fault_with_its_fix() {
    let collector = TestCollector::start();
    let dir = tempfile::tempdir().unwrap();
    let pty = Pty::open().unwrap();
    let extra = format!(
        "\n[display]\nkind = \"none\"\n\n[[button_box]]\npath = \"{}\"\nscores = [1, 4, 7]\n",
        pty.path().display()
    );
    let terminal = common::fleet::enrolled_with(&collector, "front-desk-2", dir.path(), &extra);
    let config = Config::load(&terminal).unwrap();

    // Never started: the database is a warning only.
    let (code, report) = doctor(&terminal);
    assert_eq!(code, 0, "{report}");
    assert_eq!(line(&report, "database").0, "WARN", "{report}");
    for check in ["config", "disk", "display", "serial", "collector"] {
        assert_eq!(line(&report, check).0, "ok", "{check}: {report}");
    }
    assert!(
        report.contains("accepts this terminal as front-desk-2"),
        "{report}"
    );
    assert!(report.contains("survey config version 1"), "{report}");

    let store = Store::open(&config.storage.path, &config.device).unwrap();
    drop(store);
    let (code, report) = doctor(&terminal);
    assert_eq!((code, line(&report, "database").0), (0, "ok"), "{report}");
    assert!(report.contains("integrity ok"), "{report}");

    // The box unplugged.
    let path = pty.path().to_owned();
    drop(pty);
    assert!(!path.exists());
    let (code, report) = doctor(&terminal);
    assert_eq!(code, 1, "{report}");
    let (verdict, fix) = line(&report, "serial");
    assert_eq!(verdict, "FAIL");
    assert!(fix.unwrap().contains("/dev/serial/by-id/"), "{report}");

    // The credential revoked.
    collector.revoke("front-desk-2");
    let (_, report) = doctor(&terminal);
    let (verdict, fix) = line(&report, "collector");
    assert_eq!(verdict, "FAIL", "{report}");
    assert!(
        report.contains("revoked") && fix.unwrap().contains("ces-kiosk enroll"),
        "{report}"
    );

    // The collector gone.
    drop(collector);
    let (code, report) = doctor(&terminal);
    assert_eq!(code, 1);
    let (verdict, fix) = line(&report, "collector");
    assert_eq!(verdict, "FAIL");
    assert!(
        report.contains("cannot reach") && fix.unwrap().contains("network"),
        "{report}"
    );
    let secret = config.upstream.unwrap().credential;
    assert!(!report.contains(&secret.expose()[5..]));
}

#[test]
fn doctor_fails_a_database_in_ram_with_the_fix_and_passes_it_when_deliberate() {
    let ram = common::buttons::in_ram();
    let sim = common::buttons::sim_box(ram.path(), "desk-box");
    let terminal = common::buttons::file_allowing_ram(ram.path(), &sim.path(), false);

    let (code, report) = doctor(&terminal);
    assert_eq!(code, 1, "{report}");
    let (verdict, fix) = line(&report, "database");
    assert_eq!(verdict, "FAIL", "{report}");
    assert!(
        report.contains("tmpfs (RAM)") && report.contains("/dev/shm"),
        "{report}"
    );
    let fix = fix.unwrap();
    assert!(
        fix.contains("/var/lib/ces-kiosk") && fix.contains("allow_volatile = true"),
        "{report}"
    );

    let terminal = common::buttons::file_allowing_ram(ram.path(), &sim.path(), true);
    let (code, report) = doctor(&terminal);
    assert_eq!(code, 0, "{report}");
    assert_ne!(line(&report, "database").0, "FAIL", "{report}");
}
