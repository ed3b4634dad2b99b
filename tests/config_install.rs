//! A terminal's config as installed: an `[upstream]` section read with its credential file
//! (unsafe or broken settings refused by key), the device, collector and survey taken from
//! what enrolment left in the state folder, and every example config in `deploy/` valid as
//! installed.

use std::path::Path;

use ces_kiosk::config::{Config, ConfigError};
use ces_kiosk::credential::{Credential, Kind};
use ces_kiosk::demo::DEMO_TOML;

/// A `[device]` section, which an enrolled terminal's file may not have.
const DEMO_DEVICE: &str =
    "[device]\nid = \"front-desk-2\"\nsite = \"hotel-rotterdam\"\ntouchpoint = \"check-in\"\n";

/// The demo config with an [upstream] section, its credential file in `dir`.
fn with_upstream(dir: &Path, url: &str, extra: &str) -> Result<Config, ConfigError> {
    let text = format!(
        "{DEMO_TOML}\n[upstream]\nurl = \"{url}\"\ncredential_file = \"credential\"\n{extra}"
    );
    Config::parse(&text, Path::new("terminal.toml"), dir)
}

fn write_credential(dir: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("credential");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn an_upstream_section_is_read_with_its_credential_and_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let credential = Credential::generate(Kind::Device);
    write_credential(dir.path(), &format!("{}\n", credential.expose()), 0o600);
    let c = with_upstream(dir.path(), "https://ces.example.org/collector", "").unwrap();
    let up = c.upstream.expect("upstream");
    assert_eq!(
        up.url.as_str(),
        "https://ces.example.org/collector/",
        "a base URL ends in /"
    );
    assert_eq!(up.credential, credential);
    assert_eq!(up.batch_max_answers, 500);
    assert!(
        !format!("{up:?}").contains(credential.expose()),
        "Debug never shows the credential"
    );
    let local = with_upstream(
        dir.path(),
        "http://127.0.0.1:8080",
        "batch_max_answers = 50\n",
    )
    .unwrap()
    .upstream
    .unwrap();
    assert_eq!(local.batch_max_answers, 50);
}

#[test]
fn unsafe_or_broken_upstream_settings_are_refused_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let e = with_upstream(dir.path(), "https://ces.example.org", "").unwrap_err();
    assert!(
        e.to_string().contains("upstream.credential_file") && e.to_string().contains("cannot read"),
        "{e}"
    );
    let credential = Credential::generate(Kind::Device);
    write_credential(dir.path(), credential.expose(), 0o644);
    let e = with_upstream(dir.path(), "https://ces.example.org", "").unwrap_err();
    assert!(e.to_string().contains("chmod 600"), "{e}");
    write_credential(dir.path(), "cesd_not-a-credential", 0o600);
    let e = with_upstream(dir.path(), "https://ces.example.org", "").unwrap_err();
    assert!(e.to_string().contains("not a device credential"), "{e}");
    assert!(
        !e.to_string().contains("not-a-credential"),
        "the secret is not echoed: {e}"
    );

    write_credential(dir.path(), credential.expose(), 0o600);
    let e = with_upstream(dir.path(), "http://ces.example.org", "").unwrap_err();
    assert!(
        e.to_string().contains("upstream.url") && e.to_string().contains("https://"),
        "{e}"
    );
    let e = with_upstream(dir.path(), "https://user:pw@ces.example.org", "").unwrap_err();
    assert!(e.to_string().contains("user name or password"), "{e}");
    for (line, key) in [
        ("batch_max_answers = 5000", "upstream.batch_max_answers"),
        ("heartbeat_seconds = 1", "upstream.heartbeat_seconds"),
    ] {
        let e = with_upstream(dir.path(), "https://ces.example.org", &format!("{line}\n"));
        let e = e.unwrap_err().to_string();
        assert!(e.contains(key), "{line}: {e}");
    }
}

#[test]
fn every_example_config_in_deploy_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".toml") {
            continue;
        }
        if name.starts_with("collector") {
            ces_kiosk::collector::Settings::load(&path).unwrap_or_else(|e| panic!("{e}"));
        } else if name.starts_with("enrolled") {
            // Installed with its database (and enrolment) in a state folder of its own.
            let installed = tempfile::tempdir().unwrap();
            enrolled_state(installed.path());
            let text = std::fs::read_to_string(&path).unwrap().replace(
                "/var/lib/ces-kiosk/answers.db",
                &installed.path().join("answers.db").display().to_string(),
            );
            let copy = installed.path().join(&name);
            std::fs::write(&copy, text).unwrap();
            let c = Config::load(&copy).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(c.config_version, Some(3));
        } else if name == "survey.toml" {
            let text = std::fs::read_to_string(&path).unwrap();
            ces_kiosk::config::SurveyConfig::parse(&text, &path).unwrap_or_else(|e| panic!("{e}"));
            // Its brand as the comments show it, stored as `ces-collector config set` does:
            // the logo file inline.
            let commented = "# [brand]\n# accent = \"#0b5cad\"\n# logo = \"logo.svg\"";
            assert!(text.contains(commented));
            let branded = text.replace(commented, &commented.replace("# ", ""));
            let branded = ces_kiosk::config::with_logo_inline(&branded, &path).unwrap();
            let c = ces_kiosk::config::SurveyConfig::parse(&branded, &path)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(c.survey.logo.is_some() && c.survey.accent.is_some());
        } else {
            // Installed beside its credential file, as on a terminal.
            let installed = tempfile::tempdir().unwrap();
            let copy = installed.path().join(&name);
            std::fs::copy(&path, &copy).unwrap();
            write_credential(
                installed.path(),
                Credential::generate(Kind::Device).expose(),
                0o600,
            );
            Config::load(&copy).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        checked += 1;
    }
    assert!(
        checked >= 3,
        "found the example configs in {}",
        dir.display()
    );
}

/// An enrolled state folder, as `ces-kiosk enroll` leaves it.
fn enrolled_state(dir: &Path) {
    std::fs::write(
        dir.join("enrolment.toml"),
        "collector = \"https://ces.example.com/\"\n\
         [device]\nid = \"front-desk-2\"\nsite = \"hotel-rotterdam\"\ntouchpoint = \"check-in\"\n",
    )
    .unwrap();
    write_credential(dir, Credential::generate(Kind::Device).expose(), 0o600);
    let survey = include_str!("../deploy/examples/survey.toml");
    let stored = ces_kiosk::wire::SurveyConfig {
        version: 3,
        text: survey.to_owned(),
    };
    std::fs::write(
        dir.join("survey-config.json"),
        serde_json::to_vec(&stored).unwrap(),
    )
    .unwrap();
}

/// Why `text`, a terminal's config file beside the state folder `dir`, is refused.
fn refusal(text: &str, dir: &Path) -> String {
    let refused = Config::parse(text, Path::new("t.toml"), dir);
    refused.expect_err("the config must be refused").to_string()
}

#[test]
fn an_unenrolled_terminal_without_device_or_survey_is_told_to_enrol() {
    let dir = tempfile::tempdir().unwrap();
    let err = refusal("[storage]\npath = \"answers.db\"\n", dir.path());
    assert!(
        err.contains("[device]") && err.contains("ces-kiosk enroll"),
        "{err}"
    );
}

#[test]
fn an_enrolled_terminal_takes_device_collector_and_survey_from_its_state() {
    let dir = tempfile::tempdir().unwrap();
    enrolled_state(dir.path());
    let c = Config::parse(
        "[storage]\npath = \"answers.db\"\n[upstream]\nheartbeat_seconds = 60\n",
        Path::new("t.toml"),
        dir.path(),
    )
    .expect("enrolled config");
    assert_eq!(c.device.id, "front-desk-2");
    assert_eq!(c.config_version, Some(3));
    let up = c.upstream.unwrap();
    assert_eq!(up.url.as_str(), "https://ces.example.com/");
    assert_eq!(up.heartbeat, std::time::Duration::from_secs(60));

    // What enrolment decides cannot also be written in the file.
    let with_device = format!("{}\n[storage]\npath = \"answers.db\"\n", DEMO_DEVICE);
    let err = refusal(&with_device, dir.path());
    assert!(
        err.contains("enrolled") && err.contains("remove [device]"),
        "{err}"
    );
    let with_url =
        "[storage]\npath = \"answers.db\"\n[upstream]\nurl = \"https://other.example.com/\"\n";
    let err = refusal(with_url, dir.path());
    assert!(err.contains("remove url and credential_file"), "{err}");

    // A damaged survey config in the state folder is named.
    std::fs::write(dir.path().join("survey-config.json"), "{").unwrap();
    let err = refusal("[storage]\npath = \"answers.db\"\n", dir.path());
    assert!(err.contains("survey-config.json"), "{err}");
}
