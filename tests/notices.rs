//! "You said, we did" end to end: a notice set with the real `ces-collector notice` command
//! for one touchpoint reaches its enrolled touch terminal (headless Slint, real store and
//! uploader) with its survey config after the next heartbeat, shows under the thank-you in
//! both languages, and goes when cleared; an over-long notice is refused when set; and a
//! notice is checked like the rest of a survey config.

mod common;

use std::time::Duration;

use common::collector::{TestCollector, command, printed};
use common::fleet::heartbeat;
use common::*;

const EN: &str = "You said the queue was long: a second desk opens at noon.";
const NL: &str = "U zei dat de rij lang was: om twaalf uur opent een tweede balie.";

#[test]
fn a_notice_set_centrally_shows_on_the_thank_you_after_the_next_heartbeat() {
    let collector = TestCollector::start();
    let dir = tempfile::tempdir().unwrap();
    let (_config, thread, sync, ui) = front_desk_kiosk(&collector, dir.path());

    let cfg = collector.config_path();
    let today = ces_kiosk::clock::now().local[..10].to_owned();
    let (en, nl) = (format!("en={EN}"), format!("nl={NL}"));
    let place = ["--site", "hotel-rotterdam", "--touchpoint", "check-in"];
    let long = format!("en={}", "x".repeat(161));
    let refused = command(
        &cfg,
        &[
            &["notice", "set"][..],
            &place,
            &["--until", &today, "--text", &long, "--text", &nl],
        ]
        .concat(),
    );
    assert_eq!(refused.status.code(), Some(2), "{}", printed(&refused));
    assert!(
        printed(&refused).contains("at most 160 characters"),
        "{}",
        printed(&refused)
    );
    let set = command(
        &cfg,
        &[
            &["notice", "set"][..],
            &place,
            &["--until", &today, "--text", &en, "--text", &nl],
        ]
        .concat(),
    );
    assert!(set.status.success(), "{}", printed(&set));
    assert!(
        printed(&set).contains("survey config version 2"),
        "{}",
        printed(&set)
    );

    heartbeat(&thread, &sync);
    assert_eq!(ui.adopt_config(), Some(2));
    the(&ui, "Score 6").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Thank you!") && shows(&ui, EN));
    advance(Duration::from_secs(5));
    choose_language(&ui, "Nederlands");
    the(&ui, "Score 6").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, NL) && !shows(&ui, EN));
    advance(Duration::from_secs(5));

    let cleared = command(&cfg, &[&["notice", "clear"][..], &place].concat());
    assert!(cleared.status.success(), "{}", printed(&cleared));
    heartbeat(&thread, &sync);
    assert_eq!(ui.adopt_config(), Some(3));
    the(&ui, "Score 6").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert!(shows(&ui, "Thank you!") && !shows(&ui, EN));

    // A whole site needs a config of its own to carry a notice.
    let site = command(
        &cfg,
        &[
            "notice",
            "set",
            "--site",
            "hotel-rotterdam",
            "--until",
            &today,
            "--text",
            &en,
        ],
    );
    assert_eq!(site.status.code(), Some(2));
    assert!(
        printed(&site).contains("has no survey config of its own"),
        "{}",
        printed(&site)
    );
}

#[test]
fn a_notice_is_checked_like_the_rest_of_a_survey_config() {
    let example = include_str!("../deploy/examples/survey.toml");
    let parse = |notice: &str| {
        ces_kiosk::config::SurveyConfig::parse(
            &format!("{example}\n{notice}"),
            std::path::Path::new("s.toml"),
        )
    };
    let good = parse(
        "[notice]\nuntil = \"2026-12-31\"\ntext.en = \"A second desk at noon.\"\n\
         text.nl = \"Een tweede balie om twaalf uur.\"\n",
    )
    .unwrap();
    let notice = good.survey.notice.as_ref().unwrap();
    assert_eq!(notice.until, "2026-12-31");
    assert_eq!(
        good.survey.notice_text("nl", "2026-12-31"),
        Some("Een tweede balie om twaalf uur.")
    );
    assert_eq!(
        good.survey.notice_text("en", "2027-01-01"),
        None,
        "over after its last day"
    );
    let long = "x".repeat(161);
    for (notice, says) in [
        (
            format!("[notice]\nuntil = \"2026-12-31\"\ntext.en = \"{long}\"\ntext.nl = \"kort\"\n"),
            "notice.text.en: a notice is at most 160 characters; this one has 161",
        ),
        (
            "[notice]\nuntil = \"2026-12-31\"\ntext.en = \"Only English.\"\n".to_owned(),
            "notice.text.nl: missing text for language \"nl\"",
        ),
        (
            "[notice]\nuntil = \"soon\"\ntext.en = \"a\"\ntext.nl = \"b\"\n".to_owned(),
            "notice.until: \"soon\" is not a date",
        ),
        (
            "[notice]\nuntil = \"2026-12-31\"\ntext.en = \"a\"\ntext.nl = \"b\"\ntext.de = \"c\"\n"
                .to_owned(),
            "language \"de\" is not listed",
        ),
    ] {
        let e = parse(&notice).unwrap_err().to_string();
        assert!(e.contains(says), "{notice}: {e}");
    }
}
