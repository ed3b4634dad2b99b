//! Headless tests of the touch UI with the real window code, the real flow and a real SQLite
//! file: taps, thank-you, follow-up, cooldown, language switch and idle reset, and a button
//! box beside the touchscreen.

mod common;

use std::time::Duration;

use common::*;
use i_slint_backend_testing::ElementHandle;
use slint::ComponentHandle;
use slint::platform::PointerEventButton;

const QUESTION_EN: &str = "The store made it easy for me to return my item.";
const QUESTION_NL: &str = "De winkel maakte het mij makkelijk om mijn artikel te retourneren.";

fn tap(ui: &ces_kiosk::ui::KioskUi, score: u8) {
    the(ui, &format!("Score {score}")).mock_single_click(PointerEventButton::Left);
}

#[test]
fn tapping_a_score_stores_exactly_one_row_and_shows_the_thank_you() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui) = kiosk(dir.path(), 800, 480);
    assert!(shows(&ui, QUESTION_EN));
    assert!(!shows(&ui, "Thank you!"));

    tap(&ui, 6);
    assert!(ui.wait_for_store(STORE_WAIT), "the answer was committed");
    assert!(shows(&ui, "Thank you!"));
    assert!(
        !shows(&ui, QUESTION_EN),
        "the question is gone while thanking"
    );

    let rows = stored(&config);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!((row.score, row.suppressed, row.low), (6, false, false));
    assert_eq!(
        (row.scale.as_str(), row.direction.as_str()),
        ("ces7", "higher_is_easier")
    );
    assert_eq!(
        (row.language.as_str(), row.device_id.as_str()),
        ("en", "demo-1")
    );
    assert_eq!(row.sync_state, "pending");

    advance(Duration::from_secs(4));
    assert!(
        shows(&ui, QUESTION_EN),
        "back to the question after the thank-you"
    );
}

#[test]
fn taps_within_the_cooldown_are_stored_as_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui) = kiosk(dir.path(), 800, 480);
    // A shorter thank-you than the cooldown: the question is back while the cooldown runs.
    let (config, ui) = {
        drop(ui);
        let mut c = config;
        c.kiosk.thank_you = Duration::from_secs(1);
        c.kiosk.misuse_cooldown = Duration::from_secs(5);
        kiosk_with(c, 800, 480)
    };
    tap(&ui, 7);
    assert!(ui.wait_for_store(STORE_WAIT));
    advance(Duration::from_millis(1100));
    assert!(shows(&ui, QUESTION_EN));
    for _ in 0..3 {
        tap(&ui, 7);
        assert!(ui.wait_for_store(STORE_WAIT));
        assert!(!shows(&ui, "Thank you!"), "a suppressed tap is not thanked");
    }
    advance(Duration::from_secs(4));
    tap(&ui, 5);
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Thank you!"));

    let rows = stored(&config);
    let flags: Vec<(u8, bool)> = rows.iter().map(|r| (r.score, r.suppressed)).collect();
    assert_eq!(
        flags,
        [(7, false), (7, true), (7, true), (7, true), (5, false)]
    );
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
}

#[test]
fn the_language_switch_changes_the_visible_text() {
    let dir = tempfile::tempdir().unwrap();
    let (_config, ui) = kiosk(dir.path(), 800, 480);
    assert!(shows(&ui, QUESTION_EN) && shows(&ui, "Strongly agree"));

    choose_language(&ui, "Nederlands");
    assert!(shows(&ui, QUESTION_NL), "question in Dutch");
    assert!(!shows(&ui, QUESTION_EN));
    assert!(shows(&ui, "Helemaal eens"), "built-in texts in Dutch");
    assert!(!shows(&ui, "Strongly agree"));

    tap(&ui, 6);
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Dank u wel!"));
}

#[test]
fn idle_reset_returns_to_the_default_language() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui) = kiosk(dir.path(), 800, 480);
    choose_language(&ui, "Nederlands");
    assert!(shows(&ui, QUESTION_NL));
    advance(config.kiosk.idle_reset - Duration::from_millis(100));
    assert!(shows(&ui, QUESTION_NL), "not before the idle timeout");
    advance(Duration::from_millis(200));
    assert!(
        shows(&ui, QUESTION_EN),
        "back to English for the next visitor"
    );
    assert!(shows(&ui, "Strongly agree"));
}

#[test]
fn a_low_score_asks_why_and_stores_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui) = kiosk(dir.path(), 800, 480);
    tap(&ui, 2);
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "What made it hard?"));
    let rows = stored(&config);
    assert_eq!(
        (rows.len(), rows[0].follow_up_open),
        (1, true),
        "score stored before the reason"
    );

    the(&ui, "Long wait").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Thank you!"));
    let rows = stored(&config);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].reason.as_deref(), rows[0].follow_up_open),
        (Some("waiting"), false)
    );
}

#[test]
fn the_follow_up_timeout_keeps_the_score() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui) = kiosk(dir.path(), 800, 480);
    tap(&ui, 1);
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "What made it hard?"));
    advance(config.kiosk.follow_up + Duration::from_millis(50));
    assert!(
        shows(&ui, QUESTION_EN),
        "back to the question when the visitor walked away"
    );
    assert!(
        ui.wait_for_store(STORE_WAIT),
        "the follow-up was closed in the store"
    );
    let rows = stored(&config);
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].score, rows[0].reason.as_deref()), (1, None));
    assert!(!rows[0].follow_up_open);
}

/// A touch at (x, y) of the window, wherever it lands.
fn touch_at(ui: &ces_kiosk::ui::KioskUi, x: f32, y: f32) {
    use slint::platform::WindowEvent;
    let position = slint::LogicalPosition::new(x, y);
    let button = PointerEventButton::Left;
    let window = ui.window().window();
    window.dispatch_event(WindowEvent::PointerPressed { position, button });
    window.dispatch_event(WindowEvent::PointerReleased { position, button });
}

#[test]
fn a_touch_anywhere_on_the_follow_up_gives_it_its_full_time_again() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui) = kiosk(dir.path(), 800, 480);
    tap(&ui, 2);
    assert!(ui.wait_for_store(STORE_WAIT));
    let most = config.kiosk.follow_up * 4 / 5;
    advance(most);
    // In the margin, on no control: someone is still reading the reasons.
    touch_at(&ui, 4.0, 4.0);
    advance(most);
    assert!(
        shows(&ui, "What made it hard?"),
        "still asking after more than its time, counted from the touch"
    );
    advance(config.kiosk.follow_up - most + Duration::from_millis(50));
    assert!(shows(&ui, QUESTION_EN), "its full time after the touch");
    assert!(ui.wait_for_store(STORE_WAIT));
    let rows = stored(&config);
    assert_eq!((rows[0].score, rows[0].reason.as_deref()), (2, None));
}

#[test]
fn a_tap_on_the_thank_you_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui) = kiosk(dir.path(), 800, 480);
    tap(&ui, 6);
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Thank you!"));
    the(&ui, "Done").mock_single_click(PointerEventButton::Left);
    assert!(
        shows(&ui, QUESTION_EN),
        "at once, not after the thank-you's time"
    );
    assert!(!shows(&ui, "Thank you!"));
    assert_eq!(
        stored(&config).len(),
        1,
        "the tap that ended it is no answer"
    );
}

#[test]
fn skip_ends_the_follow_up_without_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui) = kiosk(dir.path(), 800, 480);
    tap(&ui, 3);
    assert!(ui.wait_for_store(STORE_WAIT));
    the(&ui, "Skip").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Thank you!"));
    let rows = stored(&config);
    assert_eq!(
        (rows[0].reason.as_deref(), rows[0].follow_up_open),
        (None, false)
    );
}

#[test]
fn an_unwritable_database_shows_out_of_service_and_takes_no_answer() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the database folder should be: the store cannot open.
    std::fs::write(dir.path().join("blocked"), b"").unwrap();
    let mut config = ces_kiosk::demo::config(dir.path()).unwrap();
    config.storage.path = dir.path().join("blocked").join("answers.db");
    headless();
    let ui = ces_kiosk::ui::KioskUi::new(&config).unwrap();
    ui.window()
        .window()
        .set_size(slint::PhysicalSize::new(800, 480));
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Out of service"));
    assert!(
        ElementHandle::find_by_accessible_label(ui.window(), "Score 6")
            .next()
            .is_none()
    );
    assert_eq!(ui.screen(), ces_kiosk::kiosk::Screen::OutOfService);

    // The disk is fixed: the next probe brings the terminal back.
    std::fs::remove_file(dir.path().join("blocked")).unwrap();
    advance(ces_kiosk::kiosk::PROBE_INTERVAL);
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, QUESTION_EN));
}

#[test]
fn a_database_in_ram_shows_out_of_service_with_the_reason() {
    // tmpfs, as a read-only root's overlay would be: answers would be lost at a reboot.
    let ram = tempfile::tempdir_in("/dev/shm").unwrap();
    let mut config = ces_kiosk::demo::config(ram.path()).unwrap();
    assert!(config.storage.allow_volatile, "the demo allows it");
    config.storage.allow_volatile = false;
    headless();
    let ui = ces_kiosk::ui::KioskUi::new(&config).unwrap();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert_eq!(ui.screen(), ces_kiosk::kiosk::Screen::OutOfService);
    assert!(shows(&ui, "Out of service"));
    let reason = format!(
        "the database {} lies on tmpfs (RAM), mounted at /dev/shm: answers kept there are \
         lost at the next power cut",
        config.storage.path.display()
    );
    assert!(shows(&ui, &reason), "the reason is on screen: {reason}");
    assert!(!config.storage.path.exists(), "no database was made in RAM");
}

#[test]
fn a_slow_card_shows_saving_while_the_commit_runs_then_thanks() {
    let dir = tempfile::tempdir().unwrap();
    let mut card = common::card::Card::mount(dir.path(), &[]);
    let config = ces_kiosk::demo::config(&card.mount).unwrap();
    let (config, ui) = kiosk_with(config, 800, 480);
    // Each fsync now takes 2 s, as on a failing SD card.
    assert_eq!(card.command("delay 2000"), "ok");
    tap(&ui, 6);
    advance(Duration::from_millis(400));
    assert!(
        !shows(&ui, "Saving…"),
        "a commit under half a second shows nothing"
    );
    advance(Duration::from_millis(200));
    // The commit is still running on the store thread; the screen goes on drawing.
    assert!(shows(&ui, "Saving…"));
    assert!(shows(&ui, QUESTION_EN));
    assert_eq!(
        ui.screen(),
        ces_kiosk::kiosk::Screen::Question,
        "not confirmed yet"
    );
    assert!(ui.wait_for_store(STORE_WAIT), "the slow commit returned");
    assert!(shows(&ui, "Thank you!"));
    assert!(!shows(&ui, "Saving…"));
    assert_eq!(stored(&config).len(), 1);
}

#[test]
fn a_button_press_beside_the_touchscreen_asks_why_there_and_the_box_gets_its_ack() {
    use ces_kiosk::buttons::simulate::Heard;
    let dir = tempfile::tempdir().unwrap();
    let sim = buttons::sim_box(dir.path(), "desk-box");
    let config = buttons::touch_config(dir.path(), &sim);
    let (config, ui) = kiosk_with(config, 800, 480);
    buttons::wait_connected(&sim);

    let seq = sim.press(1);
    assert!(
        ui.wait_for_press(STORE_WAIT),
        "the press reached the UI thread"
    );
    assert!(ui.wait_for_store(STORE_WAIT), "and was committed");
    assert_eq!(
        buttons::verdict(&sim, seq),
        Heard::Ack { seq, counted: true }
    );
    // Score 2 is low: the follow-up appears on the touchscreen, as after a tap.
    assert!(shows(&ui, "What made it hard?"));
    the(&ui, "Long wait").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Thank you!"));

    let rows = stored(&config);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!((row.score, row.input.as_str()), (2, "button"));
    assert_eq!(row.reason.as_deref(), Some("waiting"));
}

/// The example survey config with a notice until `until`.
fn with_notice(dir: &std::path::Path, until: &str) -> ces_kiosk::config::Config {
    let example = include_str!("../deploy/examples/survey.toml");
    let text = format!(
        "{example}\n[notice]\nuntil = \"{until}\"\n\
         text.en = \"You said the queue was long: a second desk opens at noon.\"\n\
         text.nl = \"U zei dat de rij lang was: om twaalf uur opent een tweede balie.\"\n"
    );
    let survey = ces_kiosk::config::SurveyConfig::parse(&text, std::path::Path::new("s.toml"))
        .expect("a survey config with a notice");
    let demo = ces_kiosk::demo::config(dir).expect("demo config");
    demo.with_survey(survey, 2).expect("the survey fits")
}

#[test]
fn the_thank_you_shows_the_notice_in_the_visitors_language_until_its_last_day() {
    let dir = tempfile::tempdir().unwrap();
    let today = ces_kiosk::clock::now().local[..10].to_owned();
    let (_, ui) = kiosk_with(with_notice(dir.path(), &today), 800, 480);
    let (en, nl) = (
        "You said the queue was long: a second desk opens at noon.",
        "U zei dat de rij lang was: om twaalf uur opent een tweede balie.",
    );
    assert!(!shows(&ui, en), "only on the thank-you");
    tap(&ui, 6);
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Thank you!") && shows(&ui, en));
    assert!(!shows(&ui, nl));
    advance(Duration::from_secs(4));
    choose_language(&ui, "Nederlands");
    tap(&ui, 6);
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, nl) && !shows(&ui, en));

    // A notice whose last day has passed is gone.
    let dir = tempfile::tempdir().unwrap();
    let (_, ui) = kiosk_with(with_notice(dir.path(), "2000-01-01"), 800, 480);
    tap(&ui, 6);
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Thank you!") && !shows(&ui, en));
}
