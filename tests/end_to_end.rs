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

/// `ces-kiosk demo` (the program at `program`) in a window under `x`, with what it prints on
/// both streams read line by line.
struct Demo {
    process: Killed,
    log: mpsc::Receiver<String>,
}

impl Demo {
    fn start(program: &std::path::Path, x: &Xvfb, data: &std::path::Path, path: &str) -> Demo {
        let mut demo = Command::new(program)
            .args(["demo", "--data"])
            .arg(data)
            .env("DISPLAY", &x.display)
            .env("SLINT_BACKEND", "winit-software")
            .env("RUST_LOG", "info")
            .env("PATH", path)
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
        Demo {
            process: Killed(demo),
            log,
        }
    }

    /// The first line from now on that holds `needle`.
    fn wait_for(&self, needle: &str) -> String {
        loop {
            let line = self
                .log
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("the demo printed {needle:?}"));
            if line.contains(needle) {
                break line;
            }
        }
    }
}

/// Clicks the easiest answer in the demo's window, sized 800×480.
fn click_easiest(x: &Xvfb) {
    let window = ["search", "--sync", "--onlyvisible", "--name", "^ces-kiosk$"];
    let resize = ["windowsize", "--sync", "%1", "800", "480"];
    assert!(x.xdotool(&[&window[..], &resize[..]].concat()));
    assert!(x.xdotool(&["mousemove", "618", "342", "click", "1"]));
}

#[test]
fn the_demo_syncs_a_click_to_its_own_collector() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_ces-kiosk"));
    let demo = Demo::start(program, &x, dir.path(), "/usr/bin:/bin");
    let wait_for = |needle: &str| demo.wait_for(needle);
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

    click_easiest(&x);
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

/// The process ids whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            // After the command's name in parentheses: the state, then the parent's id.
            let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
            after.split(' ').nth(1) == Some(pid.to_string().as_str())
        })
        .collect()
}

/// Whether the process `pid` ends within `within`, awaited on its pidfd (readable once it
/// has ended).
fn ends_within(pid: u32, within: Duration) -> bool {
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return true; // already gone
    }
    let mut poll = libc::pollfd {
        fd: fd as libc::c_int,
        events: libc::POLLIN,
        revents: 0,
    };
    let ready = unsafe { libc::poll(&mut poll, 1, within.as_millis() as libc::c_int) };
    unsafe { libc::close(fd as libc::c_int) };
    ready == 1
}

#[test]
fn the_demo_collector_stops_when_the_terminal_is_killed() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_ces-kiosk"));
    let mut demo = Demo::start(program, &x, dir.path(), "/usr/bin:/bin");
    demo.wait_for("The dashboard:");
    let kiosk = demo.process.0.id();
    let children = children_of(kiosk);
    assert_eq!(children.len(), 1, "one collector process: {children:?}");
    let collector = children[0];
    let command = std::fs::read_to_string(format!("/proc/{collector}/cmdline")).unwrap();
    assert!(command.contains("ces-collector\0demo\0"), "{command:?}");

    demo.process.0.kill().unwrap();
    demo.process.0.wait().unwrap();
    assert!(
        ends_within(collector, Duration::from_secs(20)),
        "the demo's collector outlived its terminal"
    );
}

/// The terminal's program in a folder of its own (a hard link: the same file), so that no
/// ces-collector is beside it: the folder, and the program's path in it.
fn kiosk_alone() -> (tempfile::TempDir, std::path::PathBuf) {
    let folder = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let program = folder.path().join("ces-kiosk");
    std::fs::hard_link(env!("CARGO_BIN_EXE_ces-kiosk"), &program).unwrap();
    (folder, program)
}

#[test]
fn the_demo_without_a_collector_keeps_its_answers_and_says_so() {
    let x = Xvfb::start();
    // Nothing beside it, and a PATH where no ces-collector is.
    let (_folder, program) = kiosk_alone();
    let empty = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let demo = Demo::start(&program, &x, data.path(), empty.path().to_str().unwrap());
    let said = demo.wait_for("No ces-collector");
    assert!(
        said.contains("keeps its answers on this terminal"),
        "{said}"
    );
    click_easiest(&x);
    demo.wait_for("answer stored");
    let db = rusqlite::Connection::open(data.path().join("answers.db")).unwrap();
    let stored: i64 = db
        .query_row("SELECT count(*) FROM answers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 1);
}

#[test]
fn the_demo_says_why_its_collector_did_not_start_and_keeps_its_answers() {
    let x = Xvfb::start();
    // Beside the terminal's program, a ces-collector that fails at once.
    let (folder, program) = kiosk_alone();
    let collector = folder.path().join("ces-collector");
    std::fs::write(&collector, "#!/bin/sh\necho 'error: no room' >&2\nexit 3\n").unwrap();
    std::fs::set_permissions(
        &collector,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let demo = Demo::start(&program, &x, data.path(), "/usr/bin:/bin");
    demo.wait_for("error: no room");
    let said = demo.wait_for("did not start");
    assert!(said.contains("exit status: 3"), "{said}");
    assert!(
        said.contains("keeps its answers on this terminal"),
        "{said}"
    );
    click_easiest(&x);
    demo.wait_for("answer stored");
}
