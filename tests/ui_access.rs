//! Headless tests of what makes the touch UI usable by everyone, with the real window code:
//! every visitor control is a labelled button (found through the testing backend), and the
//! look (high contrast, larger text) is one touch away and back to normal for the next visitor.

mod common;

use std::time::Duration;

use common::*;
use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use slint::ComponentHandle;

type Rect = (f32, f32, f32, f32);

fn rect(e: &ElementHandle) -> Rect {
    let (p, s) = (e.absolute_position(), e.size());
    (p.x, p.y, p.x + s.width, p.y + s.height)
}

fn within(inner: Rect, outer: Rect) -> bool {
    inner.0 >= outer.0 - 0.5
        && inner.1 >= outer.1 - 0.5
        && inner.2 <= outer.2 + 0.5
        && inner.3 <= outer.3 + 0.5
}

/// Every place that takes a touch on the current screen lies within a button that has a
/// label, but for a catch-all under the whole screen (a touch anywhere); returns the labels.
fn labelled_controls(ui: &ces_kiosk::ui::KioskUi, screen: &str) -> Vec<String> {
    let window = ui.window();
    let buttons = ElementQuery::from_root(window)
        .match_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all();
    let mut labels = vec![];
    for b in &buttons {
        let label = b.accessible_label().unwrap_or_default();
        assert!(
            !label.trim().is_empty(),
            "{screen}: a button without a label"
        );
        labels.push(label.to_string());
    }
    let areas = ElementQuery::from_root(window)
        .match_descendants()
        .match_type_name("TouchArea")
        .find_all();
    assert!(!areas.is_empty(), "{screen}: touch areas are found");
    let size = window
        .window()
        .size()
        .to_logical(window.window().scale_factor());
    let whole: Rect = (0.0, 0.0, size.width, size.height);
    for a in areas {
        let r = rect(&a);
        let no_role = matches!(a.accessible_role(), None | Some(AccessibleRole::None));
        if no_role && within(whole, r) {
            continue;
        }
        assert!(
            buttons.iter().any(|b| within(r, rect(b))),
            "{screen}: a touch area at {r:?} is in no labelled button"
        );
    }
    labels
}

#[test]
fn every_visitor_control_on_every_screen_is_a_labelled_button() {
    for size in [(800, 480), (600, 1024), (1920, 1080)] {
        let dir = tempfile::tempdir().unwrap();
        let (_config, ui) = kiosk(dir.path(), size.0, size.1);
        let question = labelled_controls(&ui, "question");
        for label in [
            "Listen",
            "High contrast",
            "Larger text",
            "Score 1",
            "Score 7",
        ] {
            assert!(question.iter().any(|l| l == label), "{label} at {size:?}");
        }
        the(&ui, "Score 2").invoke_accessible_default_action();
        assert!(ui.wait_for_store(STORE_WAIT));
        let follow_up = labelled_controls(&ui, "follow-up");
        for label in ["Long wait", "Return rules", "Skip"] {
            assert!(follow_up.iter().any(|l| l == label), "{label} at {size:?}");
        }
        the(&ui, "Skip").invoke_accessible_default_action();
        assert!(ui.wait_for_store(STORE_WAIT));
        assert_eq!(labelled_controls(&ui, "thank-you"), ["Done"]);
    }
}

#[test]
fn high_contrast_and_larger_text_are_switches_that_the_next_visitor_finds_off() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui) = kiosk(dir.path(), 800, 480);
    let checked = |label: &str| {
        let e = the(&ui, label);
        assert_eq!(e.accessible_checkable(), Some(true), "{label} is a switch");
        e.accessible_checked()
    };
    assert_eq!(checked("High contrast"), Some(false));
    the(&ui, "High contrast").invoke_accessible_default_action();
    the(&ui, "Larger text").invoke_accessible_default_action();
    assert_eq!(checked("High contrast"), Some(true));
    assert_eq!(checked("Larger text"), Some(true));
    the(&ui, "Larger text").invoke_accessible_default_action();
    assert_eq!(
        checked("Larger text"),
        Some(false),
        "a second touch switches it off"
    );

    the(&ui, "Score 6").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    the(&ui, "Done").invoke_accessible_default_action();
    assert_eq!(
        checked("High contrast"),
        Some(false),
        "off for the next visitor"
    );

    // Left on by someone who walked away: off once the terminal is idle again.
    advance(config.kiosk.misuse_cooldown);
    the(&ui, "High contrast").invoke_accessible_default_action();
    advance(config.kiosk.idle_reset + Duration::from_millis(50));
    assert_eq!(checked("High contrast"), Some(false));
    assert_eq!(stored(&config).len(), 1);
}
