//! No secret in any log: the real binaries, at the most verbose log level (trace, including
//! the HTTP libraries), go through the whole fleet flow (admin token, survey config,
//! enrolment code, enrolment, a terminal syncing and reporting, the fleet read with the
//! token), and nothing they wrote to their logs contains a credential, the admin token or
//! the enrolment code.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const KIOSK: &str = env!("CARGO_BIN_EXE_ces-kiosk");
const COLLECTOR: &str = env!("CARGO_BIN_EXE_ces-collector");

fn run(bin: &str, args: &[&str]) -> Output {
    let out = Command::new(bin)
        .args(args)
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    out
}

/// Starts a long-running binary at trace level; its log lines arrive on the receiver.
fn start(bin: &str, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(bin)
        .args(args)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Log lines until one contains `marker` (kept in `log`).
fn until(rx: &mpsc::Receiver<String>, marker: &str, log: &mut Vec<String>) -> String {
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no {marker:?} in the log:\n{}", log.join("\n")));
        log.push(line.clone());
        if line.contains(marker) {
            return line;
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn no_credential_token_or_code_appears_in_any_log_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("collector.toml");
    std::fs::write(
        &cfg,
        "listen = \"127.0.0.1:0\"\n[storage]\npath = \"collector.db\"\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let survey = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/survey.toml");
    let mut logs: Vec<String> = Vec::new();

    let token = run(
        COLLECTOR,
        &["-c", cfg, "admin-token", "add", "--name", "cx"],
    );
    let set = run(
        COLLECTOR,
        &[
            "-c",
            cfg,
            "config",
            "set",
            "--site",
            "s1",
            survey.to_str().unwrap(),
        ],
    );
    let add = run(
        COLLECTOR,
        &[
            "-c",
            cfg,
            "device",
            "add",
            "--site",
            "s1",
            "--touchpoint",
            "t1",
            "--id",
            "d1",
        ],
    );
    let (token, code) = (
        text(&token.stdout).trim().to_owned(),
        text(&add.stdout).trim().to_owned(),
    );
    logs.extend([&set, &add].map(|o| text(&o.stderr)));

    let (mut collector, collector_log) = start(COLLECTOR, &["-c", cfg, "serve"]);
    let line = until(&collector_log, "address=", &mut logs);
    let address = line
        .split("address=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let url = format!("http://{address}/");

    let terminal = dir.path().join("terminal.toml");
    let absent_box = dir.path().join("box");
    std::fs::write(
        &terminal,
        format!(
            "[storage]\npath = \"state/answers.db\"\n[display]\nkind = \"none\"\n\
             [[button_box]]\npath = \"{}\"\nscores = [1, 4, 7]\n",
            absent_box.display()
        ),
    )
    .unwrap();
    let terminal = terminal.to_str().unwrap();
    let enrolled = run(
        KIOSK,
        &[
            "enroll",
            "--collector",
            &url,
            "--code",
            &code,
            "--config",
            terminal,
        ],
    );
    logs.push(text(&enrolled.stderr));
    let credential = std::fs::read_to_string(dir.path().join("state/credential")).unwrap();
    let credential = credential.trim().to_owned();
    assert!(credential.starts_with("cesd_"));

    // The terminal syncs: its first heartbeat reaches the collector with the credential.
    let (mut kiosk, kiosk_log) = start(KIOSK, &["run", "--config", terminal]);
    until(&kiosk_log, "collector reached", &mut logs);
    // The central team reads the fleet with its token.
    ces_kiosk::sync::transport::install_crypto_provider();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fleet = runtime
        .block_on(async {
            let reply = reqwest::Client::new()
                .get(format!("{url}v1/devices"))
                .bearer_auth(&token)
                .send()
                .await?;
            reply.error_for_status()?.text().await
        })
        .unwrap();
    assert!(fleet.contains("\"d1\""), "{fleet}");

    for child in [&mut kiosk, &mut collector] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // Every line, up to the end of each program's log (its reader's channel closes).
    for log in [&kiosk_log, &collector_log] {
        while let Ok(line) = log.recv_timeout(Duration::from_secs(10)) {
            logs.push(line);
        }
    }
    let all = logs.join("\n");
    assert!(all.contains("TRACE"), "the logs are at trace level");
    assert!(all.lines().count() > 50, "{all}");
    for (what, secret) in [
        ("device credential", credential.as_str()),
        ("device credential (hex)", &credential[5..]),
        ("admin token", token.as_str()),
        ("admin token (hex)", &token[5..]),
        ("enrolment code", code.as_str()),
        ("enrolment code (typed)", &code.replace('-', "")),
    ] {
        assert!(!all.contains(secret), "the {what} is in a log");
    }
}
