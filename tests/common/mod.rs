//! Helpers shared by the integration tests: a headless Slint platform with the real software
//! renderer, and a kiosk on a fresh database.
#![allow(dead_code)]

pub mod browser;
pub mod buttons;
pub mod card;
pub mod collector;
pub mod dataset;
pub mod fault_proxy;
pub mod fleet;
pub mod postgres;
pub mod report;
pub mod requests;
pub mod round_robin;
pub mod smtp;
pub mod speech;
pub mod terminal;
pub mod webhook;
pub mod xvfb;

use std::path::Path;
use std::time::Duration;

use ces_kiosk::config::Config;
use ces_kiosk::store::{Store, StoredAnswer};
use ces_kiosk::ui::KioskUi;
use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use slint::ComponentHandle;

/// How long a test waits for the store thread before it calls the store stuck.
pub const STORE_WAIT: Duration = Duration::from_secs(10);

/// Installs the testing platform (mocked time, software renderer) for this test thread.
pub fn headless() {
    let _ = slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })));
}

/// A kiosk on the demo config with its database in `dir`, sized and shown, store opened.
pub fn kiosk(dir: &Path, width: u32, height: u32) -> (Config, KioskUi) {
    let config = ces_kiosk::demo::config(dir).expect("demo config");
    kiosk_with(config, width, height)
}

pub fn kiosk_with(config: Config, width: u32, height: u32) -> (Config, KioskUi) {
    kiosk_syncing(config, None, width, height)
}

/// A kiosk whose stored answers are reported to the uploader behind `sync`.
pub fn kiosk_syncing(
    config: Config,
    sync: Option<ces_kiosk::sync::SyncHandle>,
    width: u32,
    height: u32,
) -> (Config, KioskUi) {
    headless();
    let ui = KioskUi::with_sync(&config, sync).expect("window");
    ui.window()
        .window()
        .set_size(slint::PhysicalSize::new(width, height));
    ui.window().show().expect("show");
    assert!(ui.wait_for_store(STORE_WAIT), "the store opened");
    (config, ui)
}

/// front-desk-2 enrolled on `collector` (see [`fleet::enrolled_front_desk`]), its uploader
/// running and its touch screen headless at 800×480.
pub fn front_desk_kiosk(
    collector: &collector::TestCollector,
    dir: &Path,
) -> (
    Config,
    ces_kiosk::sync::SyncThread,
    ces_kiosk::sync::SyncHandle,
    KioskUi,
) {
    let terminal = fleet::enrolled_front_desk(collector, dir);
    let config = Config::load(&terminal).unwrap();
    let upstream = config.upstream.clone().unwrap();
    let thread = ces_kiosk::sync::SyncThread::start().unwrap();
    let sync = ces_kiosk::sync::start(&thread, &config, &upstream).unwrap();
    let (config, ui) = kiosk_syncing(config, Some(sync.clone()), 800, 480);
    (config, thread, sync, ui)
}

/// The demo config with two more languages than fit in a row (screen texts in English).
pub fn six_languages(dir: &std::path::Path) -> ces_kiosk::config::Config {
    let mut config = ces_kiosk::demo::config(dir).unwrap();
    for (code, question) in [
        ("es", "La tienda me facilitó devolver mi artículo."),
        (
            "it",
            "Il negozio mi ha reso facile restituire il mio articolo.",
        ),
    ] {
        config.survey.languages.push(code.into());
        config.survey.question.insert(code.into(), question.into());
    }
    config
}

/// `config` with four more follow-up reasons: eight, the most a survey may have.
pub fn eight_reasons(mut config: Config) -> Config {
    for (id, text) in [
        ("queue", "The queue"),
        ("receipt", "No receipt"),
        ("parking", "Parking"),
        ("signs", "Could not find the desk"),
    ] {
        let text = config
            .survey
            .languages
            .iter()
            .map(|l| (l.clone(), text.to_owned()))
            .collect();
        config.survey.follow_up.push(ces_kiosk::survey::Reason {
            id: id.into(),
            text,
        });
    }
    config
}

/// Elements whose accessible label is `label` (text elements are labelled by their text).
pub fn find(ui: &KioskUi, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(ui.window(), label).collect()
}

pub fn shows(ui: &KioskUi, label: &str) -> bool {
    !find(ui, label).is_empty()
}

/// The one button labelled `label`; fails the test when there is none or several.
pub fn the(ui: &KioskUi, label: &str) -> ElementHandle {
    let mut found: Vec<_> = find(ui, label)
        .into_iter()
        .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .collect();
    assert_eq!(found.len(), 1, "exactly one button labelled {label:?}");
    found.remove(0)
}

/// Switches the question to the language called `name`: its chip when the languages sit in
/// the row, else through the list behind the chip of the current one.
pub fn choose_language(ui: &KioskUi, name: &str) {
    let in_row = find(ui, name)
        .into_iter()
        .any(|e| e.accessible_role() == Some(AccessibleRole::Button));
    if !in_row {
        // The chooser is labelled "Language: <current>" in the current language.
        let chooser = i_slint_backend_testing::ElementQuery::from_root(ui.window())
            .match_descendants()
            .match_accessible_role(AccessibleRole::Button)
            .find_all()
            .into_iter()
            .find(|e| {
                let label = e.accessible_label().unwrap_or_default();
                ["Language: ", "Taal: ", "Sprache: ", "Langue\u{a0}: "]
                    .iter()
                    .any(|p| label.starts_with(p))
            })
            .expect("the languages sit in a row or behind a chooser");
        chooser.invoke_accessible_default_action();
    }
    the(ui, name).invoke_accessible_default_action();
}

/// Advances Slint's mocked clock, firing due timers.
pub fn advance(d: Duration) {
    i_slint_backend_testing::mock_elapsed_time(d);
}

/// What the database holds, read through a separate connection.
pub fn stored(config: &Config) -> Vec<StoredAnswer> {
    Store::open(&config.storage.path, &config.device)
        .expect("open the database again")
        .answers()
        .expect("read answers")
}
