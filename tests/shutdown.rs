//! The real `ces-kiosk` binary as a button terminal, stopped with SIGTERM (as systemd stops
//! it at every update) while a box on a real pty pair keeps pressing: it exits 0, every
//! press it acknowledged is stored once, and the box is told it is out of service.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use ces_kiosk::buttons::frame::{LedState, LedTarget};
use ces_kiosk::buttons::simulate::{Heard, SimBox};
use ces_kiosk::store::Store;
use common::buttons::{RESEND, config, config_text};

#[test]
fn sigterm_mid_stream_stores_every_acknowledged_press_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimBox::start("term-box", Some(&dir.path().join("by-id-box")), RESEND).unwrap();
    let boxes = [(sim.path(), "[1, 2, 3, 4, 5, 6, 7]")];
    let config = config(dir.path(), &boxes, 0.0);
    let file = dir.path().join("terminal.toml");
    std::fs::write(&file, config_text(&boxes, 0.0)).unwrap();
    let mut kiosk = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["run", "--config"])
        .arg(&file)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(kiosk.stderr.take().unwrap());
    let log = std::thread::spawn(move || stderr.lines().map_while(Result::ok).collect::<Vec<_>>());

    let mut acked = BTreeSet::new();
    let mut out_of_service = false;
    let mut take = |heard: Heard, acked: &mut BTreeSet<u32>| match heard {
        Heard::Ack { seq, .. } => {
            acked.insert(seq);
        }
        Heard::Nak { seq } => panic!("press {seq} refused"),
        Heard::Led {
            target: LedTarget::All,
            state: LedState::Off,
        } => out_of_service = true,
        _ => {}
    };
    // Presses stream in; once 50 are acknowledged, the terminal is told to stop while the
    // presses keep coming.
    let mut pressed = 0u32;
    while acked.len() < 50 {
        sim.press(1 + (pressed % 7) as u8);
        pressed += 1;
        if let Some(h) = sim.next(Duration::from_millis(5)) {
            take(h, &mut acked);
        }
    }
    // SAFETY: kill only sends a signal to the child started above.
    assert_eq!(
        unsafe { libc::kill(kiosk.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    for _ in 0..20 {
        sim.press(1 + (pressed % 7) as u8);
        pressed += 1;
    }
    let status = kiosk.wait().unwrap();
    while let Some(h) = sim.next(Duration::ZERO) {
        take(h, &mut acked);
    }
    assert!(status.success(), "exits 0 on SIGTERM: {status:?}");
    assert!(
        out_of_service,
        "the box heard that the terminal is out of service"
    );
    let log = log.join().unwrap();
    assert!(
        log.iter().any(|l| l.contains("SIGTERM")) && log.iter().any(|l| l.contains("stopped")),
        "{log:#?}"
    );

    let store = Store::open(&config.storage.path, &config.device).unwrap();
    let mut per_press: BTreeMap<u32, usize> = BTreeMap::new();
    for a in store.answers().unwrap() {
        *per_press.entry(a.box_press.unwrap().2).or_default() += 1;
    }
    let lost: Vec<_> = acked
        .iter()
        .filter(|s| !per_press.contains_key(s))
        .collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    assert!(
        per_press.values().all(|&n| n == 1),
        "each press stored once"
    );
    println!(
        "{pressed} presses, {} acknowledged before the terminal stopped, {} stored",
        acked.len(),
        per_press.len()
    );
}

/// Starts the real binary on `file`; its log lines arrive on the returned channel.
fn start(file: &std::path::Path) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut kiosk = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["run", "--config"])
        .arg(file)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(kiosk.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (kiosk, rx)
}

/// Waits for a log line containing `what`.
fn logged(log: &std::sync::mpsc::Receiver<String>, what: &str) -> String {
    loop {
        let line = log
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no log line with {what:?}"));
        if line.contains(what) {
            return line;
        }
    }
}

fn stop(mut kiosk: std::process::Child) {
    // SAFETY: kill only sends a signal to the child.
    assert_eq!(
        unsafe { libc::kill(kiosk.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    assert!(kiosk.wait().unwrap().success());
}

#[test]
fn a_press_sent_again_after_a_restart_is_logged_as_stored_before() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimBox::start("again-box", Some(&dir.path().join("by-id-box")), RESEND).unwrap();
    let boxes = [(sim.path(), "[1, 2, 3, 4, 5, 6, 7]")];
    let config = config(dir.path(), &boxes, 5.0);
    let file = dir.path().join("terminal.toml");
    std::fs::write(&file, config_text(&boxes, 5.0)).unwrap();

    // Two presses within the cooldown: the second is stored suppressed.
    let (kiosk, log) = start(&file);
    let first = sim.press(6);
    let second = sim.press(2);
    let mut verdicts = BTreeMap::new();
    while verdicts.len() < 2 {
        if let Some(Heard::Ack { seq, counted }) = sim.next(Duration::from_secs(10)) {
            verdicts.insert(seq, counted);
        }
    }
    assert!(verdicts[&first], "counted");
    assert!(!verdicts[&second], "suppressed");
    logged(&log, "answer stored");
    stop(kiosk);

    // After a restart the box sends the suppressed press again (its ACK was lost).
    let (kiosk, log) = start(&file);
    while !matches!(sim.next(Duration::from_secs(10)), Some(Heard::Who)) {}
    sim.send_raw(
        &ces_kiosk::buttons::frame::Message::Press {
            button: 2,
            seq: second,
        }
        .encode(),
    );
    let line = logged(&log, "stored before");
    let store = Store::open(&config.storage.path, &config.device).unwrap();
    let stored = store
        .answers()
        .unwrap()
        .into_iter()
        .find(|a| a.box_press.as_ref().unwrap().2 == second)
        .unwrap();
    assert!(
        line.contains(&format!("seq={}", stored.seq)) && line.contains("suppressed=true"),
        "the log tells the stored answer's sequence number and flags: {line}"
    );
    assert!(!line.contains("answer stored"), "{line}");
    assert_eq!(store.answers().unwrap().len(), 2, "nothing stored twice");
    stop(kiosk);
}
