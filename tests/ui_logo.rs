//! The brand's logo end to end: `ces-collector config set` (the real binary) puts the logo
//! file a survey config names inside it; the enrolled touch terminal (headless Slint, real
//! store and uploader) gets it with the next heartbeat, decodes it off the UI thread, and
//! shows it on the question and the thank-you clear of every control; a config without a
//! logo takes it away; a logo too big is refused when set.

mod common;

use std::path::Path;
use std::time::Duration;

use common::collector::{TestCollector, command, printed};
use common::fleet::{SURVEY, heartbeat};
use common::*;
use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};

type Rect = (f32, f32, f32, f32);

fn rect(e: &ElementHandle) -> Rect {
    let (p, s) = (e.absolute_position(), e.size());
    (p.x, p.y, p.x + s.width, p.y + s.height)
}

/// The logo on the current screen: on it, clear of the staff corner (the top left 64 × 64)
/// and of every button but a catch-all under the whole screen.
fn logo_clear_of_controls(ui: &ces_kiosk::ui::KioskUi, (w, h): (f32, f32)) -> Rect {
    let logos = find(ui, "Logo");
    assert!(!logos.is_empty(), "a logo is shown");
    let logo = rect(&logos[0]);
    assert!(
        logo.2 - logo.0 >= 40.0 && logo.3 - logo.1 >= 30.0,
        "{logo:?}"
    );
    assert!(logo.0 >= 0.0 && logo.1 >= 0.0 && logo.2 <= w && logo.3 <= h);
    assert!(
        logo.0 >= 64.0 || logo.1 >= 64.0,
        "clear of the staff corner: {logo:?}"
    );
    let buttons = ElementQuery::from_root(ui.window())
        .match_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all();
    for b in buttons {
        let r = rect(&b);
        let whole = r.2 - r.0 >= w - 0.5 && r.3 - r.1 >= h - 0.5;
        let overlap = logo.0 < r.2 && r.0 < logo.2 && logo.1 < r.3 && r.1 < logo.3;
        assert!(
            whole || !overlap,
            "the logo {logo:?} lies on {:?} at {r:?}",
            b.accessible_label()
        );
    }
    logo
}

/// A survey config file for the front desk in `dir`: the example, with `brand` added.
fn survey_file(dir: &Path, brand: &str) -> std::path::PathBuf {
    let path = dir.join("survey.toml");
    std::fs::write(&path, format!("{SURVEY}\n{brand}")).unwrap();
    path
}

#[test]
fn a_logo_set_centrally_shows_on_the_question_and_the_thank_you_and_goes_again() {
    let collector = TestCollector::start();
    let dir = tempfile::tempdir().unwrap();
    let (_config, thread, sync, ui) = front_desk_kiosk(&collector, dir.path());
    let cfg = collector.config_path();
    let set = |file: &Path| {
        command(
            &cfg,
            &[
                "config",
                "set",
                "--site",
                "hotel-rotterdam",
                file.to_str().unwrap(),
            ],
        )
    };

    // Too big for a survey config: refused when set, naming the key.
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("huge.png"), vec![0u8; 40 * 1024]).unwrap();
    let refused = set(&survey_file(files.path(), "[brand]\nlogo = \"huge.png\"\n"));
    assert_eq!(refused.status.code(), Some(2), "{}", printed(&refused));
    assert!(
        printed(&refused).contains("brand.logo") && printed(&refused).contains("at most 32768"),
        "{}",
        printed(&refused)
    );

    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/assets/logo.png"),
        files.path().join("acme.png"),
    )
    .unwrap();
    let done = set(&survey_file(files.path(), "[brand]\nlogo = \"acme.png\"\n"));
    assert!(done.status.success(), "{}", printed(&done));
    heartbeat(&thread, &sync);
    let version = ui.adopt_config().expect("a config");
    // Decoding runs on its own thread: the screen does not wait for it.
    assert!(!shows(&ui, "Logo"), "no logo before it is decoded");
    assert!(
        ui.wait_for_logo(Duration::from_secs(10)),
        "the logo is decoded"
    );
    let on_question = logo_clear_of_controls(&ui, (800.0, 480.0));
    let survey = ces_kiosk::config::SurveyConfig::parse(SURVEY, Path::new("survey.toml")).unwrap();
    let question = rect(&find(&ui, &survey.survey.question["en"])[0]);
    assert!(
        on_question.3 <= question.1,
        "above the question: {on_question:?}"
    );

    the(&ui, "Score 6").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Thank you!"));
    let on_thanks = logo_clear_of_controls(&ui, (800.0, 480.0));
    let thanks = rect(&find(&ui, "Thank you!")[0]);
    assert!(
        on_thanks.3 <= thanks.1,
        "above the thank-you: {on_thanks:?}"
    );
    advance(Duration::from_secs(5));

    // The next config has none: the logo goes at once.
    let plain = set(&survey_file(files.path(), ""));
    assert!(plain.status.success(), "{}", printed(&plain));
    heartbeat(&thread, &sync);
    assert_eq!(ui.adopt_config(), Some(version + 1));
    assert!(!shows(&ui, "Logo"));
}
