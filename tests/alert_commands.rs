//! Alerts through the real `ces-collector` binary: a collector killed (SIGKILL) after
//! deciding a notification and before sending it delivers it once after its restart; the
//! `site`, `alert-rule` and `alert` commands, and the errors they name.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::collector::{command, printed, sql_number, sql_texts, storage_section, test_database};
use common::requests::now_answer;
use common::webhook::Receiver;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_ces-collector");

/// Runs the collector's command line on `cfg`.
fn cli(cfg: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(BIN)
        .arg("-c")
        .arg(cfg)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    out
}

/// `ces-collector serve` with its log lines sent to a channel.
fn serve(cfg: &std::path::Path) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(BIN)
        .arg("-c")
        .arg(cfg)
        .arg("serve")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits for a log line containing `text` and returns it.
fn logged(log: &std::sync::mpsc::Receiver<String>, text: &str) -> String {
    loop {
        let line = log
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the collector logs {text:?}"));
        if line.contains(text) {
            return line;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collector_killed_after_deciding_delivers_each_notification_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    // The receiver's port, with nothing listening on it until after the kill.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(dir.path().join("ops.secret"), "secret-of-endpoint-a\n").unwrap();
    let cfg = dir.path().join("collector.toml");
    let database = test_database(dir.path());
    std::fs::write(
        &cfg,
        format!(
            "listen = \"127.0.0.1:0\"\n{}\
             [alerts]\nevaluate_every_seconds = 1\n\
             [[alerts.webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:{port}/hook\"\n\
             secret_file = \"ops.secret\"\n",
            storage_section(&database)
        ),
    )
    .unwrap();
    let credential = cli(
        &cfg,
        &[
            "device",
            "add",
            "--site",
            "north",
            "--touchpoint",
            "returns",
            "--id",
            "dev",
            "--credential",
        ],
    );
    let credential = String::from_utf8(credential.stdout)
        .unwrap()
        .trim()
        .to_owned();
    cli(
        &cfg,
        &[
            "alert-rule",
            "add",
            "--name",
            "floor",
            "--kind",
            "floor",
            "--clear",
            "600",
        ],
    );

    let (mut first, log) = serve(&cfg);
    let line = logged(&log, "address=");
    let address = line
        .split("address=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let body = json!({
        "device_time": ces_kiosk::clock::now().local,
        "answers": [now_answer(1), now_answer(2), now_answer(1), now_answer(3)],
    });
    let status = common::collector::client()
        .post(format!("http://{address}/v1/answers"))
        .bearer_auth(&credential)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    // Decided and queued, and the receiver not there: the send failed.
    logged(&log, "a delivery failed");
    first.kill().unwrap();
    first.wait().unwrap();

    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let receiver = Receiver::on(listener, Some("secret-of-endpoint-a"), 0);
    let (mut second, log) = serve(&cfg);
    let hit = receiver.wait_for(1).await.remove(0);
    logged(&log, "delivered");
    // Stopped: nothing can be sent after this.
    let pid = second.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    second.wait().unwrap();
    assert_eq!(receiver.hits().len(), 1);
    assert!(hit.signed && hit.event == "firing");
    let ids = sql_texts(&database, "SELECT id FROM outbox");
    let sent = sql_number(
        &database,
        "SELECT count(*) FROM outbox WHERE sent_at_ms IS NOT NULL",
    );
    let alerts = sql_number(&database, "SELECT count(*) FROM alerts");
    assert_eq!(
        ids,
        std::slice::from_ref(&hit.delivery),
        "the delivery id decided before the kill"
    );
    assert_eq!(sent, 1);
    assert_eq!(
        alerts, 1,
        "the restarted collector did not decide the alert again"
    );

    // Acknowledged from the command line, with the action taken.
    let id = hit.body["alert"]["id"].to_string();
    let ack = cli(
        &cfg,
        &[
            "alert",
            "ack",
            &id,
            "--by",
            "sam",
            "--comment",
            "seen",
            "--action",
            "opened desk 2",
        ],
    );
    assert!(String::from_utf8_lossy(&ack.stderr).contains("acknowledged by sam"));
    let listed = cli(&cfg, &["alert", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("acknowledged  north / returns  since"),
        "{listed}"
    );
    assert!(listed.contains("acknowledged by sam at"), "{listed}");
    let actions = cli(&cfg, &["action", "list", "--json"]);
    let actions: serde_json::Value = serde_json::from_slice(&actions.stdout).unwrap();
    assert_eq!(actions[0]["what"], "opened desk 2");
    assert_eq!(actions[0]["touchpoint"], "returns");
    assert_eq!(actions[0]["alert_id"].to_string(), id);
}

#[test]
fn the_command_line_sets_sites_and_rules_and_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::collector::config_file(dir.path());
    let run = |args: &[&str]| command(&cfg, args);
    let text = printed;
    let set = run(&[
        "site",
        "set",
        "north",
        "--time-zone",
        "Europe/Amsterdam",
        "--hours",
        "Mon-Fri 08:00-18:00; sat 09:00-12:30",
        "--summary",
        "daily",
    ]);
    assert!(set.status.success(), "{set:?}");
    let list = run(&["site", "list"]);
    assert!(
        text(&list).contains(
            "north                    Europe/Amsterdam         daily    mon-fri 08:00-18:00, sat 09:00-12:30"
        ),
        "{}",
        text(&list)
    );
    for (args, says) in [
        (
            &["site", "set", "north", "--time-zone", "Mars/Olympus"][..],
            "not a known time zone",
        ),
        (
            &[
                "site",
                "set",
                "north",
                "--time-zone",
                "UTC",
                "--hours",
                "mon 18:00-08:00",
            ],
            "--hours",
        ),
        (
            &[
                "alert-rule",
                "add",
                "--name",
                "f",
                "--kind",
                "floor",
                "--share",
                "150",
            ],
            "--share 150",
        ),
        (
            &[
                "alert-rule",
                "add",
                "--name",
                "s",
                "--kind",
                "silent",
                "--window",
                "5",
            ],
            "--window",
        ),
        (
            &[
                "alert-rule",
                "add",
                "--name",
                "t",
                "--kind",
                "trouble",
                "--touchpoint",
                "desk",
            ],
            "needs --site",
        ),
        (&["alert-rule", "remove", "nothing"], "no alert rule named"),
        (&["alert", "ack", "1", "--by", "sam"], "no firing alert 1"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
    }
    let add = run(&[
        "alert-rule",
        "add",
        "--name",
        "desk-floor",
        "--kind",
        "floor",
        "--site",
        "north",
    ]);
    assert!(add.status.success(), "{add:?}");
    let again = run(&[
        "alert-rule",
        "add",
        "--name",
        "desk-floor",
        "--kind",
        "trouble",
    ]);
    assert_eq!(again.status.code(), Some(2), "a name is used once");
    let rules = text(&run(&["alert-rule", "list"]));
    assert!(
        rules.contains(
            "desk-floor  [floor] site north: 50 % or more difficult within 15 min (at least 4 \
             answers) (pending 0 s, clear 900 s, repeat 14400 s)"
        ),
        "{rules}"
    );
    assert!(
        run(&["alert-rule", "remove", "desk-floor"])
            .status
            .success()
    );
    assert!(!text(&run(&["alert-rule", "list"])).contains("desk-floor"));
    // Its name is free again.
    assert!(
        run(&[
            "alert-rule",
            "add",
            "--name",
            "desk-floor",
            "--kind",
            "trouble"
        ])
        .status
        .success()
    );
    let listed = text(&run(&["alert", "list", "--json"]));
    assert!(listed.trim() == "[]", "{listed}");
}
