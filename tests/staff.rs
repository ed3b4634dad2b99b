//! The staff screen on the touch UI (headless Slint, real store, uploader, collector and a
//! software button box on a real pty): the hidden gesture, the PIN (hashed in the config,
//! checked off the UI thread) and its lockout, the facts, and the actions.

mod common;

use std::time::Duration;

use ces_kiosk::buttons::simulate::Heard;
use ces_kiosk::config::{Config, Upstream};
use ces_kiosk::store::Store;
use ces_kiosk::sync::SyncThread;
use ces_kiosk::ui::{KioskUi, StaffStage};
use common::collector::TestCollector;
use common::*;

/// Long and unlikely to appear by chance in a log (ids, ports, hashes).
const PIN: &str = "73915284";

/// Everything this test binary logs, at debug level, to be searched for the PIN.
static LOG: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(|| LogWriter)
        .try_init();
}

fn with_pin(mut config: Config) -> Config {
    capture_logs();
    config.staff_pin_hash = Some(ces_kiosk::staff::hash_pin(PIN).unwrap());
    config
}

fn corner_taps(ui: &KioskUi, n: usize) {
    for _ in 0..n {
        the(ui, "Staff corner").invoke_accessible_default_action();
    }
}

/// Types `pin` and OK, and waits for the PIN check off the UI thread.
fn type_pin(ui: &KioskUi, pin: &str) {
    for d in pin.chars() {
        the(ui, &format!("PIN key {d}")).invoke_accessible_default_action();
    }
    the(ui, "PIN key OK").invoke_accessible_default_action();
}

/// The lock message, a moment into the five minutes.
fn locked_shown(ui: &KioskUi) -> bool {
    ["5:00", "4:59"]
        .iter()
        .any(|t| shows(ui, &format!("Too many wrong PINs: locked for {t}")))
}

#[test]
fn the_hidden_gesture_opens_the_pin_pad_and_wrong_pins_lock_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = with_pin(ces_kiosk::demo::config(dir.path()).unwrap());
    let (_config, ui) = kiosk_with(config, 800, 480);

    corner_taps(&ui, 4);
    assert_eq!(
        ui.staff_stage(),
        StaffStage::Closed,
        "four taps are not enough"
    );
    corner_taps(&ui, 1);
    assert_eq!(ui.staff_stage(), StaffStage::Pin);
    assert!(shows(&ui, "Staff PIN"));

    for left in [4, 3, 2, 1] {
        type_pin(&ui, "1357");
        assert!(ui.wait_for_staff(STORE_WAIT), "the PIN was checked");
        assert!(shows(&ui, &format!("Wrong PIN, {left} tries left")));
    }
    type_pin(&ui, "0000");
    assert!(ui.wait_for_staff(STORE_WAIT));
    assert!(locked_shown(&ui));
    // Locked: even the right PIN is not checked now.
    type_pin(&ui, PIN);
    assert!(!ui.wait_for_staff(Duration::from_millis(300)));
    assert_eq!(ui.staff_stage(), StaffStage::Pin);
    assert!(locked_shown(&ui));

    the(&ui, "Close").invoke_accessible_default_action();
    assert_eq!(ui.staff_stage(), StaffStage::Closed);
    // Closing and opening again does not lift the lock.
    corner_taps(&ui, 5);
    type_pin(&ui, PIN);
    assert!(!ui.wait_for_staff(Duration::from_millis(300)));
    assert_eq!(ui.staff_stage(), StaffStage::Pin);

    let log = String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned();
    assert!(log.contains("wrong staff PINs: locked"), "{log}");
    assert!(!log.contains(PIN));
}

#[test]
fn the_right_pin_shows_the_facts_and_the_actions_work() {
    let collector = TestCollector::start();
    let credential = collector.add_device("demo-1", "demo-store", "returns-desk");
    let dir = tempfile::tempdir().unwrap();
    let sim = buttons::sim_box(dir.path(), "desk-box");
    let mut config = with_pin(buttons::touch_config(dir.path(), &sim));
    let upstream = Upstream::new(reqwest::Url::parse(&collector.url).unwrap(), credential);
    config.upstream = Some(upstream.clone());
    let thread = SyncThread::start().unwrap();
    let sync = ces_kiosk::sync::start(&thread, &config, &upstream).unwrap();
    let (config, ui) = kiosk_syncing(config, Some(sync.clone()), 800, 480);
    buttons::wait_connected(&sim);

    corner_taps(&ui, 5);
    type_pin(&ui, PIN);
    assert!(ui.wait_for_staff(STORE_WAIT));
    assert_eq!(ui.staff_stage(), StaffStage::Panel);
    assert!(ui.wait_for_staff(STORE_WAIT), "the facts were gathered");
    for fact in [
        "demo-1",
        "demo-store / returns-desk",
        "returns-ease (from the config file)",
    ] {
        assert!(shows(&ui, fact), "{fact}");
    }
    // The clock as the kernel tells it (tests/no_clock.rs runs a terminal whose clock is off).
    let clock = match ces_kiosk::clock::now().trusted {
        true => "synchronised",
        false => "NOT synchronised",
    };
    assert!(shows(&ui, clock), "{clock}");
    assert!(shows(
        &ui,
        &format!("ces-kiosk {}", env!("CARGO_PKG_VERSION"))
    ));

    // Sync now: a heartbeat goes out at once.
    let before = sync.status().borrow().heartbeats;
    the(&ui, "Sync now").invoke_accessible_default_action();
    let mut status = sync.status();
    let synced = thread.run(async move {
        tokio::time::timeout(
            Duration::from_secs(20),
            status.wait_for(|s| s.heartbeats > before),
        )
        .await
        .is_ok()
    });
    assert!(synced, "sync now reached the collector");

    // An answer the collector refused earlier is sent again from the staff screen.
    let mut store = Store::open(&config.storage.path, &config.device).unwrap();
    let refused = store.record(&common::terminal::answer(5)).unwrap().id;
    store
        .apply_results(&[ces_kiosk::wire::AnswerResult {
            id: refused,
            status: ces_kiosk::wire::AnswerStatus::Rejected,
            reason: Some("refused by the collector (HTTP 400): malformed JSON".into()),
        }])
        .unwrap();
    let before = sync.status().borrow().uploaded;
    the(&ui, "Send refused again").invoke_accessible_default_action();
    assert!(
        ui.wait_for_staff(STORE_WAIT),
        "queued again off the UI thread"
    );
    assert!(shows(
        &ui,
        "1 refused answer is queued again and being sent."
    ));
    let mut status = sync.status();
    let sent = thread.run(async move {
        tokio::time::timeout(
            Duration::from_secs(20),
            status.wait_for(|s| s.uploaded > before && s.dead_letters == 0),
        )
        .await
        .is_ok()
    });
    assert!(sent, "{:?}", sync.status().borrow());
    assert_eq!(collector.answer_ids("demo-1"), [refused.to_string()]);

    // Testing the buttons: a press is shown and answered, and not stored.
    the(&ui, "Test the buttons").invoke_accessible_default_action();
    let seq = sim.press(2);
    assert!(ui.wait_for_press(STORE_WAIT));
    assert_eq!(buttons::verdict(&sim, seq), Heard::Nak { seq });
    assert!(shows(
        &ui,
        "Box desk-box button 2 (score 4): works. Not stored."
    ));
    assert_eq!(stored(&config).len(), 1, "only the answer sent again");
    // The box said hello (it pressed), so the next look at the facts names it.
    advance(Duration::from_secs(5));
    assert!(
        ui.wait_for_staff(STORE_WAIT),
        "the facts were gathered again"
    );
    let seen = format!("desk-box connected ({})", sim.path().display());
    assert!(shows(&ui, &seen), "{seen}");
    the(&ui, "Stop testing buttons").invoke_accessible_default_action();

    the(&ui, "Restart the app").invoke_accessible_default_action();
    assert!(ui.restart_requested());
    the(&ui, "Close").invoke_accessible_default_action();
    assert_eq!(ui.staff_stage(), StaffStage::Closed);

    // Closed: presses are answers again.
    let seq = sim.press(3);
    assert!(ui.wait_for_press(STORE_WAIT));
    assert!(ui.wait_for_store(STORE_WAIT));
    assert_eq!(
        buttons::verdict(&sim, seq),
        Heard::Ack { seq, counted: true }
    );
    assert_eq!(stored(&config).len(), 2);

    // The log tells what happened, and never the PIN or its hash.
    let log = String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned();
    assert!(log.contains("staff PIN accepted"), "{log}");
    let hash = config.staff_pin_hash.as_deref().unwrap();
    assert!(!log.contains(PIN) && !log.contains(hash));
    assert!(!log.contains(&config.upstream.unwrap().credential.expose()[5..]));
}

#[test]
fn the_staff_corner_covers_no_control_of_the_visitors() {
    for (w, h) in [(800, 480), (600, 1024), (1920, 1080)] {
        let dir = tempfile::tempdir().unwrap();
        let (_config, ui) = kiosk(dir.path(), w, h);
        let corner = the(&ui, "Staff corner");
        let rect = |e: &i_slint_backend_testing::ElementHandle| {
            let (p, s) = (e.absolute_position(), e.size());
            (p.x, p.y, p.x + s.width, p.y + s.height)
        };
        let c = rect(&corner);
        assert!(c.2 > c.0 && c.3 > c.1, "the corner has a size");
        // The languages sit in the row, or behind one chip where they do not fit.
        let language = if shows(&ui, "English") {
            "English"
        } else {
            "Language: English"
        };
        for label in [
            "High contrast",
            "Larger text",
            language,
            "Score 1",
            "Score 7",
        ] {
            let b = rect(&the(&ui, label));
            let apart = b.0 >= c.2 || b.2 <= c.0 || b.1 >= c.3 || b.3 <= c.1;
            assert!(apart, "{label} {b:?} overlaps the corner {c:?} at {w}x{h}");
        }
    }
}

#[test]
fn enrolling_again_on_the_staff_screen_takes_a_typed_code_and_restarts() {
    let collector = TestCollector::start();
    let old = collector.add_device("demo-1", "demo-store", "returns-desk");
    common::fleet::set_config(&collector, "demo-1", common::fleet::SURVEY.to_owned());
    let code = common::fleet::add_code(&collector, "demo-1", i64::MAX);
    let dir = tempfile::tempdir().unwrap();
    let mut config = with_pin(ces_kiosk::demo::config(dir.path()).unwrap());
    config.upstream = Some(Upstream::new(
        reqwest::Url::parse(&collector.url).unwrap(),
        old.clone(),
    ));
    let (config, ui) = kiosk_with(config, 800, 480);
    corner_taps(&ui, 5);
    type_pin(&ui, PIN);
    assert!(ui.wait_for_staff(STORE_WAIT));
    assert_eq!(ui.staff_stage(), StaffStage::Panel);

    let field = || {
        let mut fields = find(&ui, "Enrolment code");
        assert_eq!(fields.len(), 1, "one code field");
        fields.remove(0)
    };
    field().set_accessible_value("ABCDE");
    the(&ui, "Enrol again").invoke_accessible_default_action();
    assert!(shows(
        &ui,
        &ces_kiosk::credential::MalformedCode.to_string()
    ));

    field().set_accessible_value(code.expose().to_lowercase());
    the(&ui, "Enrol again").invoke_accessible_default_action();
    while ui.wait_for_staff(STORE_WAIT) && !shows(&ui, "Enrolled as demo-1. Restarting…") {}
    assert!(shows(&ui, "Enrolled as demo-1. Restarting…"));
    assert!(ui.restart_requested());
    let state = config.state_dir();
    assert!(state.join("enrolment.toml").exists());
    let new = std::fs::read_to_string(state.join("credential")).unwrap();
    assert_ne!(new.trim(), old.expose(), "a new credential");
}
