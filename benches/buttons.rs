//! Button-box benchmark: the time from a press leaving a box to its ACK arriving back
//! (serial over a real pty pair, the reader thread, the screen flow, the store thread's
//! SQLite commit with `synchronous=FULL`, the ACK frame), over 1,000 presses, next to a
//! bare SQLite WAL + FULL insert on the same disk; then the CPU the real release binary
//! uses as an idle button terminal with a box plugged in and one unplugged. Run with
//! `cargo bench --bench buttons`.

#[path = "support/bare.rs"]
mod bare;
#[path = "../tests/common/buttons.rs"]
#[allow(dead_code)]
mod buttons;
#[path = "support/measure.rs"]
mod measure;

use std::time::{Duration, Instant};

use ces_kiosk::buttons::simulate::{Heard, SimBox};

const PRESSES: usize = 1000;

fn main() {
    println!("machine: {}", measure::machine());
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    println!("disk: the folder {}", dir.path().display());

    let mut bare = bare::inserts(&dir.path().join("bare.db"), PRESSES);

    // No resends during the measurement: each press is answered well within this.
    let sim = SimBox::start("bench-box", None, Duration::from_secs(30)).unwrap();
    let config = buttons::config(dir.path(), &[(sim.path(), "[1, 2, 3, 4, 5]")], 0.0);
    let _terminal = buttons::start(&config);
    buttons::wait_connected(&sim);
    let mut latency = vec![];
    let mut counted = 0;
    for i in 0..PRESSES {
        let t = Instant::now();
        let seq = sim.press(1 + (i % 5) as u8);
        let heard = buttons::verdict(&sim, seq);
        latency.push(t.elapsed().as_secs_f64() * 1000.0);
        counted += usize::from(matches!(heard, Heard::Ack { counted: true, .. }));
    }
    // Presses come back to back: one may reach the flow before the flow has seen the
    // previous commit, and is then stored as suppressed (and acknowledged as such).
    println!(
        "{counted} of {PRESSES} presses counted, {} stored as suppressed",
        PRESSES - counted
    );

    println!(
        "press -> ACK through a pty, reader, flow and store ({PRESSES}): {}",
        measure::stats(&mut latency, "ms")
    );
    println!(
        "bare SQLite WAL+FULL insert, same disk ({PRESSES}):           {}",
        measure::stats(&mut bare, "ms")
    );
    drop(_terminal);

    // The installed program, idle: one box waiting for presses, one box missing.
    let file = dir.path().join("idle.toml");
    let boxes = [
        (sim.path(), "[1, 2, 3]"),
        (dir.path().join("unplugged-box"), "[1, 2, 3]"),
    ];
    std::fs::write(&file, buttons::config_text(&boxes, 3.0)).unwrap();
    let mut kiosk = std::process::Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["run", "--config"])
        .arg(&file)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    buttons::wait_connected(&sim);
    // Past the missing box's first, quicker reopen attempts.
    std::thread::sleep(Duration::from_secs(8));
    println!(
        "button terminal, one box idle and one unplugged: {}",
        measure::idle_cpu(kiosk.id(), Duration::from_secs(30))
    );
    kiosk.kill().ok();
    kiosk.wait().ok();
}
