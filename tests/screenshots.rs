//! Screenshot tests: the real software renderer draws the screens at several display sizes
//! and the pixels are compared with the reference PNGs in `docs/screenshots/`.
//!
//! After an intended change of the look, regenerate the references with
//! `CES_UPDATE_SCREENSHOTS=1 cargo test --test screenshots` and review them before committing.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use slint::ComponentHandle;

/// A pixel differs when one channel differs by more than this.
const CHANNEL_TOLERANCE: u8 = 24;
/// At most this share of pixels may differ (anti-aliasing across renderer versions).
const MAX_DIFFERING: f64 = 0.005;

fn reference(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/screenshots")
        .join(format!("{name}.png"))
}

fn snapshot(ui: &ces_kiosk::ui::KioskUi) -> (u32, u32, Vec<u8>) {
    let shot = ui
        .window()
        .window()
        .take_snapshot()
        .expect("the software renderer draws");
    (shot.width(), shot.height(), shot.as_bytes().to_vec())
}

fn write_png(path: &Path, (w, h, rgba): &(u32, u32, Vec<u8>)) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut enc = png::Encoder::new(file, *w, *h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::High);
    enc.write_header().unwrap().write_image_data(rgba).unwrap();
}

fn read_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| {
        panic!(
            "no reference {}: {e}; create it with CES_UPDATE_SCREENSHOTS=1",
            path.display()
        )
    });
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba, "{}", path.display());
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Compares the window with its reference, or records it when asked to.
fn check(ui: &ces_kiosk::ui::KioskUi, name: &str) {
    let actual = snapshot(ui);
    let path = reference(name);
    if std::env::var_os("CES_UPDATE_SCREENSHOTS").is_some() {
        write_png(&path, &actual);
        return;
    }
    let expected = read_png(&path);
    assert_eq!(
        (actual.0, actual.1),
        (expected.0, expected.1),
        "size of {name}"
    );
    let differing = actual
        .2
        .chunks_exact(4)
        .zip(expected.2.chunks_exact(4))
        .filter(|(a, e)| {
            a.iter()
                .zip(e.iter())
                .any(|(x, y)| x.abs_diff(*y) > CHANNEL_TOLERANCE)
        })
        .count();
    let share = differing as f64 / f64::from(actual.0 * actual.1);
    if share > MAX_DIFFERING {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.actual.png"));
        write_png(&out, &actual);
        panic!(
            "{name}: {:.2}% of pixels differ from {} (actual saved to {})",
            share * 100.0,
            path.display(),
            out.display()
        );
    }
}

#[test]
fn question_screen_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk(dir.path(), 800, 480);
    check(&ui, "question-800x480");
}

#[test]
fn question_screen_in_portrait_600x1024() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk(dir.path(), 600, 1024);
    check(&ui, "question-600x1024");
}

#[test]
fn follow_up_screen_at_1024x600() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk(dir.path(), 1024, 600);
    the(&ui, "Score 2").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "What made it hard?"));
    check(&ui, "follow-up-1024x600");
}

#[test]
fn smiley_faces_at_1280x800() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ces_kiosk::demo::config(dir.path()).unwrap();
    config.survey.scale = ces_kiosk::survey::Scale::Smiley5;
    config.survey.low_scores = config.survey.scale.default_low_scores();
    let (_c, ui) = kiosk_with(config, 1280, 800);
    check(&ui, "smiley5-1280x800");
}

#[test]
fn thank_you_at_1920x1080() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk(dir.path(), 1920, 1080);
    the(&ui, "Score 7").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    check(&ui, "thanks-1920x1080");
}

#[test]
fn thank_you_with_a_notice_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ces_kiosk::demo::config(dir.path()).unwrap();
    let text = |en: &str, nl: &str| {
        [("en", en), ("nl", nl)]
            .map(|(l, t)| (l.to_owned(), t.to_owned()))
            .into()
    };
    config.survey.notice = Some(ces_kiosk::survey::Notice {
        until: "2999-12-31".into(),
        text: text(
            "You told us returns took too long. Since November a second desk opens at noon.",
            "U zei dat retourneren te lang duurde. Sinds november opent om twaalf uur een tweede balie.",
        ),
    });
    let (_c, ui) = kiosk_with(config, 800, 480);
    the(&ui, "Score 7").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    check(&ui, "thanks-notice-800x480");
}

#[test]
fn sync_indicator_offline_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk(dir.path(), 800, 480);
    let status = ces_kiosk::sync::SyncStatus {
        link: ces_kiosk::sync::Link::Offline,
        pending: 12,
        ..Default::default()
    };
    ces_kiosk::ui::show_sync(ui.window(), &status);
    check(&ui, "sync-offline-800x480");
}

#[test]
fn saving_on_a_slow_card_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let mut card = card::Card::mount(dir.path(), &[]);
    let config = ces_kiosk::demo::config(&card.mount).unwrap();
    let (_c, ui) = kiosk_with(config, 800, 480);
    assert_eq!(card.command("delay 3000"), "ok");
    the(&ui, "Score 6").mock_single_click(slint::platform::PointerEventButton::Left);
    advance(std::time::Duration::from_millis(600));
    check(&ui, "saving-800x480");
    assert!(ui.wait_for_store(STORE_WAIT), "the slow commit returned");
}

#[test]
fn staff_pin_pad_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ces_kiosk::demo::config(dir.path()).unwrap();
    config.staff_pin_hash = Some(ces_kiosk::staff::hash_pin("2468").unwrap());
    let (_c, ui) = kiosk_with(config, 800, 480);
    for _ in 0..5 {
        the(&ui, "Staff corner").invoke_accessible_default_action();
    }
    for d in ["1", "2"] {
        the(&ui, &format!("PIN key {d}")).invoke_accessible_default_action();
    }
    check(&ui, "staff-pin-800x480");
}

#[test]
fn question_in_german_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk(dir.path(), 800, 480);
    choose_language(&ui, "Deutsch");
    check(&ui, "question-german-800x480");
}

#[test]
fn follow_up_in_french_at_1024x600() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk(dir.path(), 1024, 600);
    choose_language(&ui, "Français");
    the(&ui, "Note 2").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    check(&ui, "follow-up-french-1024x600");
}

#[test]
fn six_languages_listed_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let config = six_languages(dir.path());
    let (_c, ui) = kiosk_with(config, 800, 480);
    the(&ui, "Language: English").invoke_accessible_default_action();
    check(&ui, "languages-800x480");
}

#[test]
fn eight_reasons_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let config = eight_reasons(ces_kiosk::demo::config(dir.path()).unwrap());
    let (_c, ui) = kiosk_with(config, 800, 480);
    the(&ui, "Score 3").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    check(&ui, "follow-up-eight-reasons-800x480");
}

/// The upright 7-inch panel (86 mm wide) with its width in the config: 20 mm is 140 pixels.
#[test]
fn question_upright_on_a_7_inch_panel_600x1024() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ces_kiosk::demo::config(dir.path()).unwrap();
    config.display = ces_kiosk::config::Display::Touch { width_mm: Some(86) };
    let (_c, ui) = kiosk_with(config, 600, 1024);
    check(&ui, "question-7-inch-600x1024");
}

#[test]
fn question_in_high_contrast_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk(dir.path(), 800, 480);
    the(&ui, "High contrast").invoke_accessible_default_action();
    check(&ui, "question-high-contrast-800x480");
}

#[test]
fn follow_up_in_high_contrast_with_larger_text_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk(dir.path(), 800, 480);
    the(&ui, "High contrast").invoke_accessible_default_action();
    the(&ui, "Larger text").invoke_accessible_default_action();
    the(&ui, "Score 2").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    check(&ui, "follow-up-high-contrast-large-text-800x480");
}

/// The demo terminal in a brand's accent (plum), with the logo file `logo` beside its
/// config when given, from a `[brand]` section as written.
fn branded(dir: &Path, logo: Option<&str>) -> ces_kiosk::config::Config {
    let mut brand = "[brand]\naccent = \"#7a1f5c\"\n".to_owned();
    if let Some(file) = logo {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let name = from.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::copy(&from, dir.join(&name)).unwrap();
        brand += &format!("logo = \"{name}\"\n");
    }
    let text = format!("{}\n{brand}", ces_kiosk::demo::DEMO_TOML);
    ces_kiosk::config::Config::parse(&text, Path::new("brand.toml"), dir).expect("a valid config")
}

const LOGO_PNG: &str = "tests/assets/logo.png";
const LOGO_SVG: &str = "deploy/examples/logo.svg";

#[test]
fn question_in_a_brands_accent_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk_with(branded(dir.path(), None), 800, 480);
    check(&ui, "question-brand-800x480");
}

#[test]
fn thank_you_in_a_brands_accent_at_1024x600() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk_with(branded(dir.path(), None), 1024, 600);
    the(&ui, "Score 6").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    check(&ui, "thanks-brand-1024x600");
}

#[test]
fn question_with_a_png_logo_at_800x480() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk_with(branded(dir.path(), Some(LOGO_PNG)), 800, 480);
    assert!(ui.wait_for_logo(STORE_WAIT), "the logo was decoded");
    check(&ui, "question-logo-800x480");
}

#[test]
fn thank_you_with_an_svg_logo_at_1024x600() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk_with(branded(dir.path(), Some(LOGO_SVG)), 1024, 600);
    assert!(ui.wait_for_logo(STORE_WAIT), "the logo was drawn");
    the(&ui, "Score 6").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    check(&ui, "thanks-logo-1024x600");
}

#[test]
fn question_with_a_logo_upright_at_600x1024() {
    let dir = tempfile::tempdir().unwrap();
    let (_c, ui) = kiosk_with(branded(dir.path(), Some(LOGO_SVG)), 600, 1024);
    assert!(ui.wait_for_logo(STORE_WAIT), "the logo was drawn");
    check(&ui, "question-logo-600x1024");
}
