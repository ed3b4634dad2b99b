//! The terminal as a systemd service: the real `ces-kiosk` tells the notify socket when it
//! is ready and feeds the watchdog while it runs (a touch terminal in a real window under
//! Xvfb, and a button terminal); once it is frozen the pings stop, which is what makes
//! systemd restart it.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ces_kiosk::demo::DEMO_TOML;
use common::xvfb::Xvfb;

/// systemd's side: a datagram socket the service writes `READY=1` and `WATCHDOG=1` to.
struct NotifySocket {
    socket: UnixDatagram,
    path: std::path::PathBuf,
}

impl NotifySocket {
    fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        NotifySocket { socket, path }
    }

    /// The next message within `wait`, if any.
    fn next(&self, wait: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 256];
        let n = self.socket.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).trim().to_owned())
    }
}

/// `WATCHDOG_USEC` of 0.3 s: a ping every 0.1 s.
const WATCHDOG_USEC: &str = "300000";

fn start(config: &Path, notify: &NotifySocket, display: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"));
    command
        .args(["run", "--windowed", "--config"])
        .arg(config)
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", WATCHDOG_USEC)
        // As under cage: systemd names the main process, which is not the kiosk.
        .env("WATCHDOG_PID", "1")
        .env("SLINT_BACKEND", "winit-software")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(d) = display {
        command.env("DISPLAY", d);
    }
    command.spawn().unwrap()
}

fn ready_then_pings_until_frozen(mut kiosk: Child, notify: &NotifySocket) {
    assert_eq!(
        notify.next(Duration::from_secs(30)).as_deref(),
        Some("READY=1"),
        "ready once running"
    );
    let started = Instant::now();
    for _ in 0..5 {
        let ping = notify.next(Duration::from_secs(2));
        assert_eq!(ping.as_deref(), Some("WATCHDOG=1"));
    }
    // 5 pings at a third of the watchdog time each: about 0.5 s, never the full timeout.
    assert!(started.elapsed() < Duration::from_secs(5));

    // Frozen: no more pings within the watchdog time, so systemd would restart it.
    let pid = kiosk.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    while notify.next(Duration::from_millis(50)).is_some() {} // pings already sent
    assert_eq!(notify.next(Duration::from_millis(600)), None);
    assert!(
        Command::new("kill")
            .args(["-CONT", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        notify.next(Duration::from_secs(2)).as_deref(),
        Some("WATCHDOG=1"),
        "pings again once it runs"
    );
    kiosk.kill().unwrap();
    kiosk.wait().unwrap();
}

#[test]
fn a_touch_terminal_says_ready_and_feeds_the_watchdog_from_its_window() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("terminal.toml");
    std::fs::write(&config, DEMO_TOML).unwrap();
    let notify = NotifySocket::bind(dir.path());
    let kiosk = start(&config, &notify, Some(&x.display));
    ready_then_pings_until_frozen(kiosk, &notify);
}

#[test]
fn a_button_terminal_says_ready_and_feeds_the_watchdog() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("terminal.toml");
    let absent = dir.path().join("no-box-yet");
    std::fs::write(
        &config,
        common::buttons::config_text(&[(absent, "[1, 4, 7]")], 3.0),
    )
    .unwrap();
    let notify = NotifySocket::bind(dir.path());
    let kiosk = start(&config, &notify, None);
    ready_then_pings_until_frozen(kiosk, &notify);
}
