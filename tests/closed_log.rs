//! Both programs stop on SIGTERM even when their log goes nowhere: standard error is a pipe
//! whose reading end was closed (a crashed log collector), so every log write fails. Before,
//! the collector's signal task panicked on the failed write and the process kept running.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ces_kiosk::buttons::simulate::SimBox;
use common::buttons::{RESEND, config_text};

/// A child killed if the test fails before it is stopped.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads `child`'s standard error until a line containing `what`, then closes the pipe's
/// reading end; returns that line.
fn read_then_close(child: &mut Child, what: &str) -> String {
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = lines
        .find(|l| l.as_ref().is_ok_and(|l| l.contains(what)))
        .unwrap_or_else(|| panic!("a log line with {what:?}"))
        .unwrap();
    drop(lines);
    line
}

/// Sends SIGTERM and waits (at most 20 s) for the exit; true when it exited 0.
fn terminate(mut running: Running) -> bool {
    let mut child = running.0.take().unwrap();
    // SAFETY: kill only sends a signal to the child started by the test.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(status) => status.unwrap().success(),
        Err(_) => {
            // SAFETY: as above; the child did not stop on SIGTERM.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_collector_stops_on_sigterm_with_its_log_pipe_closed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::collector::config_file(dir.path());
    let mut collector = Command::new(env!("CARGO_BIN_EXE_ces-collector"))
        .arg("-c")
        .arg(&cfg)
        .arg("serve")
        .env("RUST_LOG", "trace")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = read_then_close(&mut collector, "address=");
    let collector = Running(Some(collector));
    let address = line
        .split("address=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    // Requests log (at trace level) into the closed pipe; it keeps answering.
    for _ in 0..5 {
        let r = common::collector::client()
            .get(format!("http://{address}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert!(
        terminate(collector),
        "exits 0 on SIGTERM with its log pipe closed"
    );
}

#[test]
fn a_button_terminal_stops_on_sigterm_with_its_log_pipe_closed() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimBox::start("log-box", Some(&dir.path().join("by-id-box")), RESEND).unwrap();
    let boxes = [(sim.path(), "[1, 2, 3, 4, 5, 6, 7]")];
    let file = dir.path().join("terminal.toml");
    std::fs::write(&file, config_text(&boxes, 0.0)).unwrap();
    let mut kiosk = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["run", "--config"])
        .arg(&file)
        .env("RUST_LOG", "trace")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    read_then_close(&mut kiosk, "INFO");
    let kiosk = Running(Some(kiosk));
    // A press is stored and acknowledged while every log line fails.
    sim.press(3);
    loop {
        match sim.next(Duration::from_secs(20)) {
            Some(ces_kiosk::buttons::simulate::Heard::Ack { .. }) => break,
            Some(_) => continue,
            None => panic!("the press was acknowledged"),
        }
    }
    assert!(
        terminate(kiosk),
        "exits 0 on SIGTERM with its log pipe closed"
    );
}
