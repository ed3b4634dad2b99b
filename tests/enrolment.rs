//! Enrolment and remote survey configs, end to end: the real `ces-collector` command line
//! and routes (on 127.0.0.1:0) and the real `ces-kiosk enroll`; then an enrolled touch
//! terminal (headless Slint, real store and uploader) switching to a new survey config when
//! idle, keeping an invalid one out, and reporting what it runs in its heartbeat.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use ces_kiosk::config::Config;
use ces_kiosk::credential::EnrolmentCode;
use ces_kiosk::sync::SyncThread;
use common::collector::TestCollector;
use common::collector::storage_section;
use common::fleet::{
    SURVEY, add_code, enroll, enrolled_front_desk, heartbeat, set_config, terminal_file,
};
use common::*;

const KIOSK: &str = env!("CARGO_BIN_EXE_ces-kiosk");
const COLLECTOR: &str = env!("CARGO_BIN_EXE_ces-collector");

/// A collector config file for the command line, on the test collector's database.
fn collector_cli_config(dir: &Path, collector: &TestCollector) -> PathBuf {
    let path = dir.join("collector.toml");
    let text = format!(
        "listen = \"127.0.0.1:0\"\n{}",
        storage_section(&collector.database)
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_good_code_enrols_once_and_used_expired_or_unknown_codes_are_refused() {
    let collector = TestCollector::start();
    let dir = tempfile::tempdir().unwrap();
    let cli = collector_cli_config(dir.path(), &collector);
    let cli = cli.to_str().unwrap();

    let add = run(
        COLLECTOR,
        &[
            "--config",
            cli,
            "device",
            "add",
            "--site",
            "hotel-rotterdam",
            "--touchpoint",
            "check-in",
            "--id",
            "front-desk-2",
        ],
    );
    assert!(add.status.success(), "{add:?}");
    let code = text(&add.stdout).trim().to_owned();
    assert!(EnrolmentCode::parse(&code).is_ok(), "{code}");
    assert!(
        text(&add.stderr).contains("no survey config yet"),
        "{add:?}"
    );

    let terminal = terminal_file(dir.path(), "");
    let early = enroll(&collector.url, &code, &terminal);
    assert_eq!(early.status.code(), Some(1), "{early:?}");
    assert!(
        text(&early.stderr).contains("has no survey config yet"),
        "{early:?}"
    );
    assert!(!dir.path().join("state/enrolment.toml").exists());

    let survey = dir.path().join("survey.toml");
    std::fs::write(&survey, SURVEY).unwrap();
    let set = run(
        COLLECTOR,
        &[
            "--config",
            cli,
            "config",
            "set",
            "--device",
            "front-desk-2",
            survey.to_str().unwrap(),
        ],
    );
    assert!(set.status.success(), "{set:?}");
    assert_eq!(text(&set.stdout).trim(), "1");

    // The code still works after the refusal above, once.
    let good = enroll(&collector.url, &code, &terminal);
    assert!(good.status.success(), "{good:?}");
    let said = text(&good.stdout);
    assert!(
        said.contains("enrolled as device front-desk-2 at site hotel-rotterdam"),
        "{said}"
    );
    let state = dir.path().join("state");
    let credential = state.join("credential");
    let mode = std::fs::metadata(&credential).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "readable only by the service");
    let config = Config::load(&terminal).expect("the enrolled terminal's config loads");
    assert_eq!(config.device.id, "front-desk-2");
    assert_eq!(config.device.site, "hotel-rotterdam");
    assert_eq!(config.config_version, Some(1));
    assert_eq!(config.survey.question_id, "check-in-ease");
    let upstream = config
        .upstream
        .as_ref()
        .expect("an enrolled terminal syncs");
    assert_eq!(upstream.url.as_str(), collector.url);
    let identity = collector
        .on({
            let storage = collector.storage.clone();
            let hash = upstream.credential.hash();
            async move { storage.device_by_credential(&hash).await }
        })
        .unwrap()
        .expect("the saved credential is the device's");
    assert_eq!(identity.id, "front-desk-2");
    let check = run(KIOSK, &["check-config", terminal.to_str().unwrap()]);
    assert!(
        text(&check.stdout).contains("enrolled; survey config version 1"),
        "{check:?}"
    );

    let again = enroll(&collector.url, &code, &terminal);
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    assert!(
        text(&again.stderr).contains("was used already"),
        "{again:?}"
    );

    let now = jiff::Timestamp::now().as_millisecond();
    let expired = add_code(&collector, "front-desk-2", now - 86_400_000);
    let late = enroll(&collector.url, &expired.expose(), &terminal);
    assert_eq!(late.status.code(), Some(1), "{late:?}");
    assert!(text(&late.stderr).contains("expired"), "{late:?}");

    let unknown = enroll(
        &collector.url,
        &EnrolmentCode::generate().expose(),
        &terminal,
    );
    assert!(
        text(&unknown.stderr).contains("unknown enrolment code"),
        "{unknown:?}"
    );
    let typo = enroll(&collector.url, "ABCDE-FGHJ", &terminal);
    assert_eq!(typo.status.code(), Some(2), "{typo:?}");
    let clear = enroll("http://collector.example.com/", &code, &terminal);
    assert_eq!(clear.status.code(), Some(2), "{clear:?}");
    assert!(text(&clear.stderr).contains("https"), "{clear:?}");

    // None of the refusals touched the enrolment.
    let after = Config::load(&terminal).unwrap();
    assert_eq!(after.upstream.unwrap().credential, upstream.credential);

    // A new code (a replaced terminal) gives a new credential; the old one stops working.
    let renew = run(
        COLLECTOR,
        &["--config", cli, "device", "enrol-code", "front-desk-2"],
    );
    assert!(renew.status.success(), "{renew:?}");
    let fresh = enroll(&collector.url, text(&renew.stdout).trim(), &terminal);
    assert!(fresh.status.success(), "{fresh:?}");
    let renewed = Config::load(&terminal)
        .unwrap()
        .upstream
        .unwrap()
        .credential;
    assert_ne!(renewed, upstream.credential);
    let old = collector.on({
        let storage = collector.storage.clone();
        let hash = upstream.credential.hash();
        async move { storage.device_by_credential(&hash).await }
    });
    assert_eq!(old.unwrap(), None);

    // Nothing secret in what the commands printed on their logs (stderr).
    let secret = renewed.expose().to_owned();
    for out in [
        &add, &early, &set, &good, &again, &late, &unknown, &renew, &fresh,
    ] {
        let err = text(&out.stderr);
        assert!(!err.contains(&secret) && !err.contains(upstream.credential.expose()));
        assert!(
            !err.contains(&code) && !err.contains(&code.replace('-', "")),
            "{err}"
        );
    }
}

fn fleet_entry(collector: &TestCollector) -> ces_kiosk::wire::DeviceStatus {
    let storage = collector.storage.clone();
    let devices = collector
        .on(async move { storage.devices(120_000).await })
        .unwrap();
    devices
        .into_iter()
        .find(|d| d.id == "front-desk-2")
        .unwrap()
}

#[test]
fn a_new_survey_config_is_switched_to_when_idle_and_an_invalid_one_is_kept_out() {
    let collector = TestCollector::start();
    let dir = tempfile::tempdir().unwrap();
    let terminal = enrolled_front_desk(&collector, dir.path());
    let config = Config::load(&terminal).unwrap();
    let upstream = config.upstream.clone().unwrap();
    let thread = SyncThread::start().unwrap();
    let sync = ces_kiosk::sync::start(&thread, &config, &upstream).unwrap();
    let (_config, ui) = kiosk_syncing(config.clone(), Some(sync.clone()), 800, 480);
    assert!(shows(&ui, "The hotel made it easy for me to check in."));

    heartbeat(&thread, &sync);
    assert_eq!(fleet_entry(&collector).config_version, Some(1));

    // A visitor is answering when the new config arrives: it waits for the idle screen.
    the(&ui, "Score 6").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    let v2 = SURVEY
        .replace("check-in-ease", "stay-ease")
        .replace("made it easy for me to check in.", "made my stay easy.");
    assert_eq!(set_config(&collector, "front-desk-2", v2), 2);
    heartbeat(&thread, &sync);
    let feed = sync.config();
    assert_eq!(feed.latest().and_then(|c| c.config_version), Some(2));
    assert_eq!(ui.adopt_config(), Some(1), "not while the thank-you shows");
    advance(Duration::from_secs(5)); // the thank-you times out: the terminal is idle
    assert_eq!(ui.adopt_config(), Some(2));
    assert!(shows(&ui, "The hotel made my stay easy."));
    the(&ui, "Score 7").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    let answers = stored(&config);
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0].question_id, "check-in-ease");
    assert_eq!(answers[1].question_id, "stay-ease");
    heartbeat(&thread, &sync);
    let fleet = fleet_entry(&collector);
    assert_eq!(
        (fleet.config_version, fleet.config_latest),
        (Some(2), Some(2))
    );

    // An invalid config (a language without its text) is refused; version 2 keeps running.
    let broken = SURVEY.replace(
        "nl = \"Het hotel maakte het mij makkelijk om in te checken.\"\n",
        "",
    );
    assert_ne!(broken, SURVEY);
    assert_eq!(set_config(&collector, "front-desk-2", broken), 3);
    heartbeat(&thread, &sync); // the reply carries version 3, which is refused
    heartbeat(&thread, &sync); // this one says so
    let fleet = fleet_entry(&collector);
    assert_eq!(
        (fleet.config_version, fleet.config_latest),
        (Some(2), Some(3))
    );
    let why = fleet.config_error.expect("the refusal is reported");
    assert!(
        why.contains("version 3 refused") && why.contains("survey.question.nl"),
        "{why}"
    );
    advance(Duration::from_secs(5));
    assert_eq!(ui.adopt_config(), Some(2));
    assert!(shows(&ui, "The hotel made my stay easy."));
    // The last good one is what the terminal starts with next time.
    assert_eq!(Config::load(&terminal).unwrap().config_version, Some(2));

    // A valid config again clears the error.
    assert_eq!(set_config(&collector, "front-desk-2", SURVEY.to_owned()), 4);
    heartbeat(&thread, &sync);
    assert_eq!(ui.adopt_config(), Some(4));
    heartbeat(&thread, &sync);
    let fleet = fleet_entry(&collector);
    assert_eq!((fleet.config_version, fleet.config_error), (Some(4), None));
}
