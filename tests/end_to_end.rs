//! End to end: the real `ces-kiosk run` binary, full screen in a real window under a virtual
//! X server (Xvfb), tapped with a real pointer click (xdotool); the answer lands in SQLite.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::xvfb::Xvfb;

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

#[test]
fn a_click_on_the_real_window_stores_the_answer() {
    let x = Xvfb::start();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("terminal.toml");
    std::fs::write(&config, ces_kiosk::demo::DEMO_TOML).unwrap();
    let mut kiosk = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["run", "--config"])
        .arg(&config)
        .env("DISPLAY", &x.display)
        .env("SLINT_BACKEND", "winit-software")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, log) = mpsc::channel();
    let stderr = BufReader::new(kiosk.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut kiosk = Killed(kiosk);

    // Xvfb has no window manager to make the window full screen: size it as one would,
    // waiting until the size took effect.
    let window = ["search", "--sync", "--onlyvisible", "--name", "^ces-kiosk$"];
    let resize = ["windowsize", "--sync", "%1", "800", "480"];
    assert!(
        x.xdotool(&[&window[..], &resize[..]].concat()),
        "the kiosk window appeared"
    );
    // Score 6 at 800×480 (see docs/screenshots/question-800x480.png).
    assert!(x.xdotool(&["mousemove", "618", "342", "click", "1"]));
    let stored = loop {
        let line = log
            .recv_timeout(Duration::from_secs(20))
            .expect("the kiosk logged the stored answer");
        if line.contains("answer stored") {
            break line;
        }
    };
    assert!(stored.contains("score=6"), "{stored}");

    // systemd stops the service with SIGTERM: the window closes and the process exits 0.
    // SAFETY: kill only sends a signal to the child started above.
    assert_eq!(
        unsafe { libc::kill(kiosk.0.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    loop {
        let line = log
            .recv_timeout(Duration::from_secs(20))
            .expect("the kiosk logged that it stopped");
        if line.contains("stopped") && !line.contains("uploader") {
            break;
        }
    }
    let status = kiosk.0.wait().unwrap();
    assert!(status.success(), "exits 0 on SIGTERM: {status:?}");

    let conn = rusqlite::Connection::open(dir.path().join("answers.db")).unwrap();
    let rows: Vec<(i64, i64)> = conn
        .prepare("SELECT score, suppressed FROM answers")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, [(6, 0)]);
}

#[test]
fn the_demo_syncs_a_click_to_its_own_collector() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["demo", "--data"])
        .arg(dir.path())
        .env("DISPLAY", &x.display)
        .env("SLINT_BACKEND", "winit-software")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, log) = mpsc::channel();
    for stream in [
        Box::new(demo.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(demo.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let _demo = Killed(demo);
    let wait_for = |needle: &str| loop {
        let line = log
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("the demo printed {needle:?}"));
        if line.contains(needle) {
            break line;
        }
    };
    // It tells how to read the collector: a curl line with the token and the URL.
    let curl = wait_for("/v1/export");
    let token = curl
        .split("Bearer ")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    let export = curl.split_whitespace().last().unwrap().to_owned();
    let dashboard = wait_for("The dashboard:");

    let window = ["search", "--sync", "--onlyvisible", "--name", "^ces-kiosk$"];
    let resize = ["windowsize", "--sync", "%1", "800", "480"];
    assert!(x.xdotool(&[&window[..], &resize[..]].concat()));
    assert!(x.xdotool(&["mousemove", "618", "342", "click", "1"]));
    wait_for("answer stored");
    let stored = wait_for("batch stored");
    assert!(stored.contains("accepted=1"), "{stored}");

    let csv = tokio::runtime::Runtime::new().unwrap().block_on(async {
        common::collector::client()
            .get(&export)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(
        rows[0].contains(",demo-1,demo-store,returns-desk,1,"),
        "{csv}"
    );
    assert!(rows[0].contains(",ces7,higher_is_easier,6,"), "{csv}");

    // The dashboard shows the demo terminal's answer to the login the demo printed.
    let words: Vec<String> = dashboard
        .split_whitespace()
        .map(|w| w.trim_end_matches(')').to_owned())
        .collect();
    let url = words.iter().find(|w| w.starts_with("http://")).unwrap();
    let password = words.last().unwrap();
    let page = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let session = common::requests::dashboard_session(url, "demo", password).await;
        common::collector::client()
            .get(url.as_str())
            .header("cookie", session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(page.contains("demo-store / returns-desk"), "{page}");
}
