//! Headless tests of reach: on each panel the terminal is built for, every visitor target
//! on every screen measures at least 20 mm across and down on the glass, lies on the screen
//! and overlaps no other target. Sizes come from the real window code through the testing
//! backend, and are turned into millimetres with the panel's width from `[display] width_mm`.

mod common;

use ces_kiosk::config::{Config, Display, MIN_TARGET_MM};
use common::*;
use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};

/// A panel: its name, its pixels and its visible width in millimetres.
struct Panel {
    name: &'static str,
    width: u32,
    height: u32,
    width_mm: u16,
}

/// The panels of the issue: the 7-inch Raspberry Pi display, 7-inch 1024×600 and 10.1-inch
/// 1280×800 HDMI panels, a 15.6-inch full HD monitor, and the 7-inch 1024×600 turned upright.
const PANELS: [Panel; 5] = [
    Panel {
        name: "7-inch 800×480",
        width: 800,
        height: 480,
        width_mm: 154,
    },
    Panel {
        name: "7-inch 1024×600",
        width: 1024,
        height: 600,
        width_mm: 154,
    },
    Panel {
        name: "10.1-inch 1280×800",
        width: 1280,
        height: 800,
        width_mm: 217,
    },
    Panel {
        name: "15.6-inch 1920×1080",
        width: 1920,
        height: 1080,
        width_mm: 344,
    },
    Panel {
        name: "7-inch 600×1024 upright",
        width: 600,
        height: 1024,
        width_mm: 86,
    },
];

/// Not for visitors: the staff corner is found by staff who know it.
const NOT_FOR_VISITORS: [&str; 1] = ["Staff corner"];

/// A target's place on the glass in millimetres: left, top, right, bottom.
type Mm = (f32, f32, f32, f32);

fn in_mm(e: &ElementHandle, mm_per_px: f32) -> Mm {
    let (p, s) = (e.absolute_position(), e.size());
    (
        p.x * mm_per_px,
        p.y * mm_per_px,
        (p.x + s.width) * mm_per_px,
        (p.y + s.height) * mm_per_px,
    )
}

/// Checks every visitor target on the current screen (only those labelled in `on_top`, when
/// given: the ones of a list open over the screen) and returns the smallest side of any, in
/// millimetres.
fn check_targets(
    ui: &ces_kiosk::ui::KioskUi,
    panel: &Panel,
    screen: &str,
    on_top: Option<&[&str]>,
) -> f32 {
    let mm_per_px = f32::from(panel.width_mm) / panel.width as f32;
    let glass: Mm = (
        0.0,
        0.0,
        f32::from(panel.width_mm),
        panel.height as f32 * mm_per_px,
    );
    // A component's element is found once per level of it (its use, its base): one target.
    let mut targets: Vec<(String, Mm)> = ElementQuery::from_root(ui.window())
        .match_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all()
        .into_iter()
        .map(|b| {
            let label = b.accessible_label().unwrap_or_default().to_string();
            (label, in_mm(&b, mm_per_px))
        })
        .filter(|(label, _)| !NOT_FOR_VISITORS.contains(&label.as_str()))
        .filter(|(label, _)| on_top.is_none_or(|top| top.contains(&label.as_str())))
        .collect();
    targets.dedup_by(|a, b| a == b);
    targets.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.0.total_cmp(&b.1.0)));
    targets.dedup_by(|a, b| a == b);
    assert!(!targets.is_empty(), "{}, {screen}: targets", panel.name);
    // Layout arithmetic in floats: a thousandth of a millimetre is no shortfall.
    let least = f32::from(MIN_TARGET_MM) - 0.001;
    let mut smallest = f32::MAX;
    for (label, r) in &targets {
        let (w, h) = (r.2 - r.0, r.3 - r.1);
        assert!(
            w >= least && h >= least,
            "{}, {screen}: {label:?} is {w:.1} × {h:.1} mm",
            panel.name
        );
        assert!(
            r.0 >= glass.0 - 0.01
                && r.1 >= glass.1 - 0.01
                && r.2 <= glass.2 + 0.01
                && r.3 <= glass.3 + 0.01,
            "{}, {screen}: {label:?} at {r:?} is off the screen",
            panel.name
        );
        smallest = smallest.min(w).min(h);
    }
    // Targets may lie on a catch-all (the thank-you is one), but not on one another.
    let whole = |r: &Mm| (r.2 - r.0) >= glass.2 - 0.01 && (r.3 - r.1) >= glass.3 - 0.01;
    for (i, (a, ra)) in targets.iter().enumerate() {
        for (b, rb) in &targets[i + 1..] {
            let overlap = ra.0 < rb.2 - 0.01
                && rb.0 < ra.2 - 0.01
                && ra.1 < rb.3 - 0.01
                && rb.1 < ra.3 - 0.01;
            assert!(
                !overlap || whole(ra) || whole(rb),
                "{}, {screen}: {a:?} overlaps {b:?}",
                panel.name
            );
        }
    }
    smallest
}

/// The demo survey with six languages and eight reasons (the most of each) on `panel`.
fn terminal(dir: &std::path::Path, panel: &Panel) -> Config {
    let mut config = eight_reasons(six_languages(dir));
    config.display = Display::Touch {
        width_mm: Some(panel.width_mm),
    };
    config
}

#[test]
fn every_visitor_target_is_at_least_20_mm_on_each_panel() {
    for panel in &PANELS {
        let dir = tempfile::tempdir().unwrap();
        let (_config, ui) = kiosk_with(terminal(dir.path(), panel), panel.width, panel.height);
        let mut smallest = vec![("question", check_targets(&ui, panel, "question", None))];

        the(&ui, "Larger text").invoke_accessible_default_action();
        smallest.push((
            "question, larger text",
            check_targets(&ui, panel, "question, larger text", None),
        ));
        the(&ui, "Language: English").invoke_accessible_default_action();
        let list = [
            "English",
            "Nederlands",
            "Deutsch",
            "Français",
            "es",
            "it",
            "Close",
        ];
        let on_list = check_targets(&ui, panel, "languages", Some(&list));
        smallest.push(("languages", on_list));
        the(&ui, "Close").invoke_accessible_default_action();

        the(&ui, "Score 2").invoke_accessible_default_action();
        assert!(ui.wait_for_store(STORE_WAIT));
        assert!(shows(&ui, "Could not find the desk"), "{}", panel.name);
        smallest.push(("follow-up", check_targets(&ui, panel, "follow-up", None)));
        the(&ui, "Skip").invoke_accessible_default_action();
        assert!(ui.wait_for_store(STORE_WAIT));
        smallest.push(("thank-you", check_targets(&ui, panel, "thank-you", None)));

        let shown: Vec<String> = smallest
            .iter()
            .map(|(screen, mm)| format!("{screen} {mm:.1}"))
            .collect();
        println!(
            "{}: smallest target side in mm: {}",
            panel.name,
            shown.join(", ")
        );
    }
}

#[test]
fn without_a_panel_width_the_targets_are_sized_for_the_7_inch_display() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = terminal(dir.path(), &PANELS[0]);
    config.display = Display::Touch { width_mm: None };
    let (_config, ui) = kiosk_with(config, 800, 480);
    let smallest = check_targets(&ui, &PANELS[0], "question", None);
    // The answers still fit in one row of seven.
    let y: Vec<f32> = (1..=7)
        .map(|score| the(&ui, &format!("Score {score}")).absolute_position().y)
        .collect();
    assert!(y.iter().all(|&y0| y0 == y[0]), "one row: {y:?}");
    println!("7-inch 800×480 without width_mm: smallest side {smallest:.1} mm");
}
