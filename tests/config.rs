//! Config refusals: each bad input is refused at start with a message naming the key and
//! the line; `ces-kiosk check-config` reports the same through its exit code.
//! A terminal's config as installed (`[upstream]`, enrolment state, the examples in `deploy/`) is
//! checked in `config_install.rs`.

use std::path::Path;
use std::process::Command;

use ces_kiosk::config::{Config, ConfigError, Display};
use ces_kiosk::demo::DEMO_TOML;
use ces_kiosk::display::Layout;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("terminal.toml"), Path::new("/data"))
}

/// The demo config with one line replaced.
fn with(from: &str, to: &str) -> String {
    assert!(DEMO_TOML.contains(from), "{from:?} is in the demo config");
    DEMO_TOML.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle present")
        + 1
}

fn refused(text: &str) -> String {
    let e = parse(text).expect_err("config must be refused");
    e.to_string()
}

#[test]
fn the_demo_config_is_accepted_with_paths_resolved() {
    let c = parse(DEMO_TOML).unwrap();
    assert_eq!(c.storage.path, Path::new("/data/answers.db"));
    assert_eq!(c.survey.languages, ["en", "nl", "de", "fr"]);
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let text = with(
        "touchpoint = \"returns-desk\"",
        "touchpoint = \"returns-desk\"\ncolour = \"red\"",
    );
    let msg = refused(&text);
    assert!(msg.contains("colour"), "{msg}");
    assert!(
        msg.contains(&format!("terminal.toml:{}:", line_of(&text, "colour"))),
        "{msg}"
    );
}

#[test]
fn missing_text_for_a_language_names_the_key() {
    let text = with(
        "nl = \"De winkel maakte het mij makkelijk om mijn artikel te retourneren.\"",
        "",
    );
    let msg = refused(&text);
    assert!(msg.contains("survey.question.nl"), "{msg}");
    assert!(
        msg.contains(&format!(":{}:", line_of(&text, "[survey.question]"))),
        "{msg}"
    );
}

#[test]
fn missing_reason_text_for_a_language_names_the_reason() {
    let text = with(
        "text = { en = \"Long wait\", nl = \"Lang wachten\", de = \"Lange Wartezeit\",",
        "text = { en = \"Long wait\", de = \"Lange Wartezeit\",",
    );
    let msg = refused(&text);
    assert!(msg.contains("survey.follow_up[0].text.nl"), "{msg}");
}

#[test]
fn a_low_score_outside_the_scale_is_refused() {
    let text = with("low_scores = [1, 2, 3]", "low_scores = [1, 2, 8]");
    let msg = refused(&text);
    assert!(
        msg.contains("survey.low_scores") && msg.contains("score 8"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(":{}:", line_of(&text, "low_scores ="))),
        "{msg}"
    );
}

#[test]
fn an_unknown_scale_is_refused_on_its_line() {
    let text = with("scale = \"ces7\"", "scale = \"ces10\"");
    let msg = refused(&text);
    assert!(msg.contains("ces10") && msg.contains("ces7"), "{msg}");
    assert!(
        msg.contains(&format!(":{}:", line_of(&text, "scale = \"ces10\""))),
        "{msg}"
    );
}

#[test]
fn a_wrong_type_shows_the_offending_line() {
    let text = with("question_version = 1", "question_version = \"one\"");
    let msg = refused(&text);
    assert!(msg.contains("question_version = \"one\""), "{msg}");
}

#[test]
fn a_language_without_screen_texts_is_refused() {
    let msg = refused(&with(
        "languages = [\"en\", \"nl\", \"de\", \"fr\"]",
        "languages = [\"en\", \"nl\", \"de\", \"fr\", \"tlh\"]",
    ));
    assert!(
        msg.contains("survey.languages") && msg.contains("\"tlh\""),
        "{msg}"
    );
}

#[test]
fn timings_outside_their_range_are_refused() {
    let msg = refused(&with(
        "misuse_cooldown_seconds = 3",
        "misuse_cooldown_seconds = 90",
    ));
    assert!(msg.contains("kiosk.misuse_cooldown_seconds"), "{msg}");
}

#[test]
fn unknown_sections_are_refused() {
    let msg = refused(&format!("{DEMO_TOML}\n[input]\nport = \"/dev/ttyUSB0\"\n"));
    assert!(msg.contains("input"), "{msg}");
}

const BOX: &str =
    "[[button_box]]\npath = \"/dev/serial/by-id/usb-box-A-if00\"\nscores = [1, 4, 7]\n";

#[test]
fn a_button_terminal_with_a_small_display_is_accepted() {
    let text = format!(
        "{DEMO_TOML}\n[display]\nkind = \"framebuffer\"\ndevice = \"/dev/fb1\"\n\
         layout = \"mono-128x64\"\n{BOX}[[button_box]]\npath = \"box-b\"\nbaud = 9600\n\
         scores = [1, 7]\n"
    );
    let c = parse(&text).unwrap();
    assert_eq!(
        c.display,
        Display::Framebuffer {
            device: "/dev/fb1".into(),
            layout: Layout::Mono128x64
        }
    );
    assert_eq!(c.button_boxes.len(), 2);
    assert_eq!(c.button_boxes[0].baud, 115_200);
    assert_eq!(c.button_boxes[0].score(2), Some(4));
    assert_eq!(c.button_boxes[0].score(4), None);
    assert_eq!(
        c.button_boxes[1].path,
        Path::new("/data/box-b"),
        "relative to the file"
    );
    // Buttons beside a touch screen need no [display] section.
    let c = parse(&format!("{DEMO_TOML}\n{BOX}")).unwrap();
    assert_eq!(c.display, Display::Touch { width_mm: None });
    // A touch panel's width, for targets of 20 mm.
    let c = parse(&format!(
        "{DEMO_TOML}\n[display]\nkind = \"touch\"\nwidth_mm = 154\n"
    ))
    .unwrap();
    assert_eq!(
        c.display,
        Display::Touch {
            width_mm: Some(154)
        }
    );
}

#[test]
fn bad_display_and_button_box_sections_are_refused_by_key() {
    let cases: [(&str, &str); 14] = [
        ("[display]\nkind = \"hologram\"\n", "display.kind"),
        (
            "[display]\nkind = \"touch\"\nwidth_mm = 7\n",
            "display.width_mm",
        ),
        (
            &format!(
                "[display]\nkind = \"png\"\npath = \"s.png\"\nlayout = \"mono-128x64\"\nwidth_mm = 30\n{BOX}"
            ),
            "display.width_mm",
        ),
        (
            &format!("[display]\nkind = \"png\"\npath = \"s.png\"\n{BOX}"),
            "display.layout",
        ),
        (
            &format!("[display]\nkind = \"png\"\npath = \"s.png\"\nlayout = \"4k\"\n{BOX}"),
            "display.layout",
        ),
        (
            &format!("[display]\nkind = \"framebuffer\"\nlayout = \"mono-128x64\"\n{BOX}"),
            "display.device",
        ),
        (
            "[display]\nkind = \"touch\"\ndevice = \"/dev/fb0\"\n",
            "display.device",
        ),
        ("[display]\nkind = \"none\"\n", "button_box"),
        (
            "[[button_box]]\npath = \"/dev/ttyACM0\"\nscores = [1, 9]\n",
            "button_box[0].scores",
        ),
        (
            "[[button_box]]\npath = \"/dev/ttyACM0\"\nscores = []\n",
            "button_box[0].scores",
        ),
        (
            "[[button_box]]\npath = \"/dev/ttyACM0\"\nscores = [1,2,3,4,5,6,7,1,2,3]\n",
            "button_box[0].scores",
        ),
        (
            "[[button_box]]\npath = \"/dev/ttyACM0\"\nbaud = 12345\nscores = [1]\n",
            "button_box[0].baud",
        ),
        (
            "[[button_box]]\npath = \"\"\nscores = [1]\n",
            "button_box[0].path",
        ),
        (
            "[[button_box]]\npath = \"a\"\nscores = [1]\n[[button_box]]\npath = \"a\"\nscores = [2]\n",
            "button_box[1].path",
        ),
    ];
    for (extra, key) in cases {
        let msg = refused(&format!("{DEMO_TOML}\n{extra}"));
        assert!(msg.contains(&format!(": {key}: ")), "{key}: {msg}");
    }
}

#[test]
fn an_unreadable_file_is_named() {
    let e = Config::load(Path::new("/nonexistent/terminal.toml")).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }));
    assert!(e.to_string().contains("/nonexistent/terminal.toml"), "{e}");
}

#[test]
fn check_config_exits_0_for_a_good_file_and_2_with_the_reason_for_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, DEMO_TOML).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["check-config".as_ref(), good.as_os_str()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("demo-1"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, with("low_scores = [1, 2, 3]", "low_scores = [0]")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["check-config".as_ref(), bad.as_os_str()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:") && err.contains("survey.low_scores"),
        "{err}"
    );
}

#[test]
fn a_staff_pin_hash_is_taken_and_anything_else_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = DEMO_TOML
        .split("\n[staff]")
        .next()
        .expect("the demo has a staff section at its end");
    let hash = ces_kiosk::staff::hash_pin("2468").unwrap();
    let good = format!("{base}\n[staff]\npin_hash = \"{hash}\"\n");
    let c = Config::parse(&good, Path::new("t.toml"), dir.path()).unwrap();
    assert_eq!(c.staff_pin_hash.as_deref(), Some(hash.as_str()));
    let none = Config::parse(base, Path::new("t.toml"), dir.path()).unwrap();
    assert_eq!(none.staff_pin_hash, None);
    let bad = format!("{base}\n[staff]\npin_hash = \"2468\"\n");
    let err = Config::parse(&bad, Path::new("t.toml"), dir.path()).unwrap_err();
    assert!(err.to_string().contains("staff.pin_hash"), "{err}");
    assert!(
        !err.to_string().contains("2468"),
        "the refusal does not repeat it: {err}"
    );
}

#[test]
fn staff_pin_prints_a_section_the_config_takes() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .arg("staff-pin")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"97531\n97531\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let section = String::from_utf8(out.stdout).unwrap();
    assert!(!section.contains("97531"));
    let dir = tempfile::tempdir().unwrap();
    let base = DEMO_TOML.split("\n[staff]").next().unwrap();
    let c = Config::parse(
        &format!("{base}\n{section}"),
        Path::new("t.toml"),
        dir.path(),
    )
    .unwrap();
    assert!(ces_kiosk::staff::verify(
        c.staff_pin_hash.as_deref().unwrap(),
        "97531"
    ));
}
