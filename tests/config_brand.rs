//! The brand's logo in configs, with real files: a terminal's own config names a file beside
//! it; a survey config from the collector carries it inline, which `with_logo_inline` (what
//! `ces-collector config set` runs) does to a file's config; bad files are refused by key.

use std::path::Path;

use ces_kiosk::config::{Config, SurveyConfig, with_logo_inline};
use ces_kiosk::demo::DEMO_TOML;
use ces_kiosk::logo::LogoFormat;

const LOGO_PNG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/assets/logo.png");
const LOGO_SVG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/examples/logo.svg");

/// The demo's [survey] and [kiosk] alone: a survey config as the collector hands it out.
fn survey_part() -> String {
    let start = DEMO_TOML.find("[survey]").unwrap();
    let end = DEMO_TOML.find("[storage]").unwrap();
    DEMO_TOML[start..end].to_owned()
}

#[test]
fn a_terminals_own_config_takes_a_logo_file_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(LOGO_PNG, dir.path().join("acme.png")).unwrap();
    let path = dir.path().join("terminal.toml");
    std::fs::write(
        &path,
        format!("{DEMO_TOML}\n[brand]\nlogo = \"acme.png\"\n").replace(
            "answers.db",
            &dir.path().join("answers.db").display().to_string(),
        ),
    )
    .unwrap();
    let c = Config::load(&path).unwrap();
    let logo = c.survey.logo.expect("a logo");
    assert_eq!(
        (logo.format, logo.width, logo.height),
        (LogoFormat::Png, 360, 120)
    );
    assert_eq!(&logo.bytes[..], std::fs::read(LOGO_PNG).unwrap());
}

#[test]
fn config_set_puts_the_logo_inline_and_keeps_the_rest_of_the_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(LOGO_SVG, dir.path().join("logo.svg")).unwrap();
    let file = dir.path().join("survey.toml");
    let text = format!(
        "{}\n# Our mark.\n[brand]\nlogo = \"logo.svg\" # beside this file\n",
        survey_part()
    );
    std::fs::write(&file, &text).unwrap();

    // As it stands, the text cannot go to a terminal: the file is not there.
    let e = SurveyConfig::parse(&text, &file).unwrap_err().to_string();
    assert!(e.contains("brand.logo") && e.contains("inline"), "{e}");

    let inline = with_logo_inline(&text, &file).unwrap();
    assert!(inline.contains("# Our mark.") && inline.contains("# beside this file"));
    assert!(
        inline.contains("logo = \"data:image/svg+xml;base64,"),
        "{inline}"
    );
    let c = SurveyConfig::parse(&inline, Path::new("from the collector")).unwrap();
    let logo = c.survey.logo.unwrap();
    assert_eq!(
        (logo.format, logo.width, logo.height),
        (LogoFormat::Svg, 360, 120)
    );
    assert_eq!(&logo.bytes[..], std::fs::read(LOGO_SVG).unwrap());
    // Inline once is enough.
    assert_eq!(with_logo_inline(&inline, &file).unwrap(), inline);
}

#[test]
fn a_missing_too_big_or_odd_logo_is_refused_naming_the_key_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.png"), vec![0u8; 40 * 1024]).unwrap();
    std::fs::write(dir.path().join("logo.gif"), b"GIF89a").unwrap();
    let file = dir.path().join("survey.toml");
    for (logo, says) in [
        ("missing.png", "cannot read the logo"),
        ("big.png", "at most 32768 fit"),
        ("logo.gif", "neither a PNG nor"),
        (
            "data:image/png;base64,AAAA",
            "says image/png but is not a PNG",
        ),
    ] {
        let text = format!("{}\n[brand]\nlogo = \"{logo}\"\n", survey_part());
        let line = text.lines().count();
        let e = with_logo_inline(&text, &file)
            .and_then(|t| SurveyConfig::parse(&t, &file).map(|_| t))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!(":{line}: brand.logo: ")) && e.contains(says),
            "{logo}: {e}"
        );
    }
}
