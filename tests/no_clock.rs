//! A terminal without a synchronised clock, end to end: the real `ces-kiosk` binary runs with
//! its wall clock years off (libfaketime, which moves only the wall clock, as a Raspberry Pi
//! without a real-time clock boots), a pty box presses while the collector cannot be
//! reached, `status` says the clock is not synchronised, then the clock is set right and the
//! answers sync: the collector counts them on the right local day and hour.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use ces_kiosk::buttons::simulate::Heard;
use ces_kiosk::wire::ExportRow;
use common::buttons::{REPLY_WAIT, sim_box, wait_connected};
use common::collector::TestCollector;
use common::fault_proxy::{Fault, FaultProxy};
use common::fleet;

/// Debian's libfaketime (package `faketime`).
const FAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// The real terminal, killed when dropped (a failed test leaves none behind).
struct Kiosk(Child);

impl Drop for Kiosk {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real terminal with its wall clock as the file `clock` says (re-read at every reading).
fn kiosk_with_clock(terminal: &Path, clock: &Path) -> Kiosk {
    assert!(Path::new(FAKETIME).exists(), "install Debian's faketime");
    let child = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["run", "--config", terminal.to_str().unwrap()])
        .env("LD_PRELOAD", FAKETIME)
        .env("FAKETIME_TIMESTAMP_FILE", clock)
        .env("FAKETIME_NO_CACHE", "1")
        // The boot and monotonic clocks stay true, as they do when a wall clock is wrong.
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("TZ", "UTC")
        .env("RUST_LOG", "info")
        .spawn()
        .unwrap();
    Kiosk(child)
}

/// `ces-kiosk status` with the same clock.
fn status(terminal: &Path, clock: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["status", "--config", terminal.to_str().unwrap()])
        .env("LD_PRELOAD", FAKETIME)
        .env("FAKETIME_TIMESTAMP_FILE", clock)
        .env("FAKETIME_NO_CACHE", "1")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// A box terminal (no display) enrolled through `proxy`, its state in `dir`.
fn enrolled(collector: &TestCollector, proxy: &FaultProxy, dir: &Path, box_path: &Path) -> PathBuf {
    collector.add_device("front-desk-2", "hotel-rotterdam", "check-in");
    fleet::set_config(collector, "front-desk-2", fleet::SURVEY.to_owned());
    let code = fleet::add_code(collector, "front-desk-2", i64::MAX);
    let extra = format!(
        "\n[display]\nkind = \"none\"\n\n[[button_box]]\npath = \"{}\"\nscores = [1, 4, 7]\n",
        box_path.display()
    );
    let terminal = fleet::terminal_file(dir, &extra);
    let out = fleet::enroll(&proxy.url, &code.expose(), &terminal);
    assert!(out.status.success(), "{out:?}");
    terminal
}

#[test]
fn answers_on_a_clock_years_off_are_counted_on_the_right_day_once_it_is_set() {
    let collector = TestCollector::start();
    let proxy = FaultProxy::start(&collector.url);
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_box(dir.path(), "desk-box");
    let terminal = enrolled(&collector, &proxy, dir.path(), &sim.path());

    // The clock starts in March 2021 and runs; the collector cannot be reached meanwhile.
    let clock = dir.path().join("clock");
    std::fs::write(&clock, "@2021-03-01 10:00:00\n").unwrap();
    proxy.random(1, vec![Fault::Drop]);
    let kiosk = kiosk_with_clock(&terminal, &clock);
    wait_connected(&sim);
    for button in [1, 2, 3] {
        let seq = sim.press(button);
        loop {
            match sim.next(REPLY_WAIT) {
                Some(Heard::Ack { seq: s, .. }) if s == seq => break,
                Some(_) => {}
                None => panic!("press {seq} was not acknowledged"),
            }
        }
    }
    let report = status(&terminal, &clock);
    assert!(
        report.contains("2021-03-01") && report.contains("NOT synchronised"),
        "{report}"
    );
    assert!(collector.answer_ids("front-desk-2").is_empty());

    // The clock is set right (time synchronised), and the network comes back.
    std::fs::write(&clock, "+0\n").unwrap();
    let set_at = jiff::Timestamp::now();
    proxy.heal();
    let mut requests = proxy.requests();
    while collector.answer_ids("front-desk-2").len() < 3 {
        let (watched, next) = collector.on(async move {
            let next = tokio::time::timeout(Duration::from_secs(30), requests.changed()).await;
            (requests, next)
        });
        requests = watched;
        assert!(next.is_ok(), "the terminal sent a request within 30 s");
    }
    drop(kiosk);

    let admin = collector.admin();
    let url = format!("{}v1/export?format=json", collector.url);
    let body = collector.on(async move {
        let reply = common::collector::client()
            .get(url)
            .bearer_auth(admin.expose())
            .send()
            .await
            .unwrap();
        reply.text().await.unwrap()
    });
    let rows: Vec<ExportRow> = serde_json::from_str(&body).unwrap();
    assert_eq!(rows.len(), 3, "{body}");
    // Given in the seconds before the clock was set, on this machine's real day and hour.
    let before = set_at
        .checked_sub(jiff::SignedDuration::from_secs(60))
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let after = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC);
    for row in &rows {
        assert!(row.device_time.starts_with("2021-03-01"), "{row:?}");
        assert!(!row.clock_trusted && row.time_estimated, "{row:?}");
        let day_hour = (row.local_date.clone(), row.local_hour);
        let at = |z: &jiff::ZonedDateTime| (z.date().to_string(), z.hour() as u8);
        assert!(
            day_hour == at(&before) || day_hour == at(&after),
            "counted on {day_hour:?}, given between {before} and {after}"
        );
    }
}
