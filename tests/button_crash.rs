//! The real `ces-kiosk` binary as a button terminal, killed with SIGKILL at random moments
//! while a box on a real pty pair keeps pressing, 100 times: every press the terminal
//! acknowledged is in the database after the restarts, and no press is stored twice.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use ces_kiosk::buttons::simulate::{Heard, SimBox};
use ces_kiosk::store::Store;
use common::buttons::{RESEND, config, config_text};

const RESTARTS: usize = 100;

/// Takes what the terminal said so far; ACKs go into `acked`.
fn drain(sim: &SimBox, acked: &mut BTreeSet<u32>, wait: Duration) {
    while let Some(heard) = sim.next(wait) {
        match heard {
            Heard::Ack { seq, .. } => {
                acked.insert(seq);
            }
            Heard::Nak { seq } => panic!("press {seq} refused: the store should never fail here"),
            _ => {}
        }
    }
}

#[test]
fn acknowledged_presses_survive_sigkill_and_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimBox::start("crash-box", Some(&dir.path().join("by-id-box")), RESEND).unwrap();
    let boxes = [(sim.path(), "[1, 2, 3, 4, 5, 6, 7]")];
    let config = config(dir.path(), &boxes, 0.0);
    // The same config as a file, for the binary.
    let file = dir.path().join("terminal.toml");
    std::fs::write(&file, config_text(&boxes, 0.0)).unwrap();

    let mut rng = fastrand::Rng::with_seed(2026);
    let mut acked = BTreeSet::new();
    let mut pressed = 0u32;
    for _ in 0..RESTARTS {
        let mut kiosk = common::buttons::binary(&file);
        // Presses arrive before, during and after the terminal's start.
        let until = Instant::now() + Duration::from_millis(rng.u64(0..60));
        while Instant::now() < until {
            sim.press(rng.u8(1..=7));
            pressed += 1;
            drain(&sim, &mut acked, Duration::from_millis(rng.u64(0..4)));
        }
        kiosk.kill().unwrap();
        kiosk.wait().unwrap();
        drain(&sim, &mut acked, Duration::ZERO);
    }

    let acked_while_killed = acked.len();
    assert!(
        acked_while_killed > 0,
        "some presses were answered between the kills"
    );
    // One last run answers what is still waiting; the box sends it again by itself.
    let mut kiosk = common::buttons::binary(&file);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.unanswered() > 0 && Instant::now() < deadline {
        drain(&sim, &mut acked, Duration::from_millis(100));
    }
    kiosk.kill().unwrap();
    kiosk.wait().unwrap();
    drain(&sim, &mut acked, Duration::ZERO);
    assert_eq!(sim.unanswered(), 0, "every press was answered in the end");

    let store = Store::open(&config.storage.path, &config.device).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let mut per_press: BTreeMap<u32, usize> = BTreeMap::new();
    for a in store.answers().unwrap() {
        let (_, session, seq) = a.box_press.expect("only button answers here");
        assert_eq!(session, sim.session());
        *per_press.entry(seq).or_default() += 1;
    }
    let twice: Vec<_> = per_press.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let lost: Vec<_> = acked
        .iter()
        .filter(|s| !per_press.contains_key(s))
        .collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    assert_eq!(
        per_press.len() as u32,
        pressed,
        "each press stored exactly once"
    );
    assert!(acked.len() as u32 == pressed);
    println!(
        "{pressed} presses over {RESTARTS} SIGKILLs ({acked_while_killed} acknowledged between \
         kills), all stored once"
    );
}
