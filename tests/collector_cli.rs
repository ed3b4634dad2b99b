//! The real `ces-collector` binary: config check, devices and admin tokens from the command
//! line, `serve` answering a terminal and stopping on SIGTERM, exports and reports, and no
//! credential in its database or its log.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ces_kiosk::collector::database::Database;
use common::collector::{sql_texts, storage_section, test_database};

const BIN: &str = env!("CARGO_BIN_EXE_ces-collector");

/// A config whose SQLite file lies in a folder that does not exist yet (`data/`), or a new
/// PostgreSQL database.
fn config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("collector.toml");
    let storage = match test_database(dir) {
        Database::Sqlite(_) => "[storage]\npath = \"data/collector.db\"\n".to_owned(),
        postgres => storage_section(&postgres),
    };
    std::fs::write(&path, format!("listen = \"127.0.0.1:0\"\n{storage}")).unwrap();
    path
}

/// Everything the database holds, as text: its files, or every row of PostgreSQL's tables.
fn stored_text(dir: &Path, cfg: &Path) -> String {
    match ces_kiosk::collector::settings::Settings::load(cfg)
        .unwrap()
        .database
    {
        Database::Sqlite(_) => std::fs::read_dir(dir.join("data"))
            .unwrap()
            .map(|file| {
                String::from_utf8_lossy(&std::fs::read(file.unwrap().path()).unwrap()).into_owned()
            })
            .collect(),
        postgres => sql_texts(
            &postgres,
            "SELECT string_agg(format('%s', t), ' ') FROM (
                SELECT d::text AS t FROM devices d UNION ALL SELECT a::text FROM admin_tokens a
                UNION ALL SELECT c::text FROM enrolment_codes c
                UNION ALL SELECT x::text FROM answers x) rows",
        )
        .concat(),
    }
}

fn cli(config: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn check_config_names_the_bad_key_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = config(dir.path());
    let o = cli(&good, &["check-config"]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("ok"));
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "listen = \"127.0.0.1:0\"\n[storage]\npath = \"x\"\n[limits]\ndevice_burst = 0\n",
    )
    .unwrap();
    let o = cli(&bad, &["check-config"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("limits.device_burst"),
        "{o:?}"
    );
    let o = cli(&dir.path().join("missing.toml"), &["serve"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_device_added_on_the_command_line_uploads_to_serve_and_shows_in_report_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let add = cli(
        &cfg,
        &[
            "device",
            "add",
            "--site",
            "hotel-rotterdam",
            "--touchpoint",
            "check-in",
            "--credential",
        ],
    );
    assert!(add.status.success(), "{add:?}");
    let credential = stdout(&add).trim().to_owned();
    assert!(
        credential.starts_with("cesd_") && credential.lines().count() == 1,
        "{credential}"
    );
    let note = String::from_utf8_lossy(&add.stderr);
    let id = note
        .lines()
        .find_map(|l| l.strip_prefix("device "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the device id is named")
        .to_owned();
    assert!(id.starts_with("check-in-"), "{note}");
    let again = cli(
        &cfg,
        &[
            "device",
            "add",
            "--site",
            "x",
            "--touchpoint",
            "y",
            "--id",
            &id,
        ],
    );
    assert_eq!(again.status.code(), Some(2), "an id is added once");
    let bad = cli(
        &cfg,
        &["device", "add", "--site", "a site", "--touchpoint", "y"],
    );
    assert_eq!(bad.status.code(), Some(2));
    let token = stdout(&cli(&cfg, &["admin-token", "add", "--name", "cx-team"]))
        .trim()
        .to_owned();
    assert!(token.starts_with("cesa_"));

    let mut server = Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (log_tx, log) = std::sync::mpsc::channel();
    let stderr = BufReader::new(server.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = log_tx.send(line);
        }
    });
    let mut logged = Vec::new();
    let address = loop {
        let line = log
            .recv_timeout(Duration::from_secs(20))
            .expect("serve logs its address");
        logged.push(line.clone());
        if let Some(rest) = line.split("address=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = format!("http://{address}/");
    let local = ces_kiosk::clock::now().local;
    let ms = local.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let answers: Vec<serde_json::Value> = [6, 2, 7]
        .iter()
        .map(|&score| {
            serde_json::json!({
                "id": uuid::Uuid::now_v7(), "seq": 1, "boot_id": "b", "device_time": local,
                "device_time_ms": ms, "clock_trusted": true, "question_id": "check-in-ease",
                "question_version": 2, "language": "nl", "scale": "ces7",
                "direction": "higher_is_easier", "score": score, "low": score <= 3,
                "suppressed": false, "input": "touch"
            })
        })
        .collect();
    let body = serde_json::json!({"device_time": local, "answers": answers});
    let send = |cred: String| {
        let (url, body) = (url.clone(), body.clone());
        runtime.block_on(async move {
            common::collector::client()
                .post(format!("{url}v1/answers"))
                .bearer_auth(cred)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    assert_eq!(send(credential.clone()), 200);

    let report = cli(&cfg, &["report"]);
    assert!(report.status.success(), "{report:?}");
    let text = stdout(&report);
    assert!(
        text.contains("hotel-rotterdam") && text.contains("check-in-ease v2"),
        "{text}"
    );
    assert!(
        text.contains("5.00") && text.contains("66.7") && text.contains("33.3"),
        "{text}"
    );
    assert!(
        text.contains("% easy = share of scores 5-7"),
        "the formula is printed: {text}"
    );

    let export = cli(&cfg, &["export", "--format", "csv"]);
    assert_eq!(stdout(&export).lines().count(), 4, "{export:?}");
    let out = dir.path().join("answers.json");
    let export = cli(
        &cfg,
        &[
            "export",
            "--format",
            "json",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert!(export.status.success());
    let rows: Vec<ces_kiosk::wire::ExportRow> =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r.device_id == id && r.site == "hotel-rotterdam")
    );
    assert_eq!(
        cli(&cfg, &["report", "--from", "someday"]).status.code(),
        Some(2)
    );

    let list = stdout(&cli(&cfg, &["device", "list"]));
    assert!(list.contains(&id) && list.contains("ok"), "{list}");

    let revoke = cli(&cfg, &["device", "revoke", &id]);
    assert!(revoke.status.success());
    assert_eq!(
        send(credential.clone()),
        403,
        "revocation applies to the running server at once"
    );
    assert_eq!(
        cli(&cfg, &["device", "revoke", "nobody"]).status.code(),
        Some(2)
    );

    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let status = server.wait().unwrap();
    assert!(status.success(), "SIGTERM stops it cleanly: {status:?}");
    // Everything it wrote, up to the end of its standard error (the reader's channel closes).
    while let Ok(line) = log.recv_timeout(Duration::from_secs(10)) {
        logged.push(line);
    }
    let log_text = logged.join("\n");
    assert!(log_text.contains("collector stopped"), "{log_text}");

    // The secrets are nowhere but with their owners.
    assert!(!log_text.contains(&credential[5..]) && !log_text.contains(&token[5..]));
    let stored = stored_text(dir.path(), &cfg);
    assert!(stored.contains("hotel-rotterdam"), "the database was read");
    assert!(!stored.contains(&credential[5..]) && !stored.contains(&token[5..]));
}
