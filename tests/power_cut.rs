//! Power cuts: the real `ces-kiosk` binary as a button terminal, its database on a card that
//! forgets every write no fsync covered (`tests/common/card.rs`), a box on a real pty pair
//! pressing; at random moments the terminal is killed and the card loses what was not
//! synced, many times. Every press the terminal acknowledged survives, and none is stored
//! twice. The same run on a card whose fsync keeps nothing (a store that confirms before its
//! data is durable) is caught.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use ces_kiosk::buttons::simulate::{Heard, SimBox};
use ces_kiosk::store::Store;
use common::buttons::{RESEND, config_text};
use common::card::Card;

/// What a run left behind.
struct Outcome {
    pressed: u32,
    acked: BTreeSet<u32>,
    /// Presses that got no answer in the end.
    unanswered: usize,
    /// Stored answers per press, or why the database could not be read.
    stored: Result<BTreeMap<u32, usize>, String>,
}

impl Outcome {
    /// Acknowledged presses that are not stored.
    fn lost(&self) -> Vec<u32> {
        match &self.stored {
            Ok(stored) => self
                .acked
                .iter()
                .filter(|s| !stored.contains_key(s))
                .copied()
                .collect(),
            Err(_) => self.acked.iter().copied().collect(),
        }
    }

    fn twice(&self) -> Vec<u32> {
        let stored = self.stored.as_ref().map(|s| s.iter()).into_iter().flatten();
        stored.filter(|(_, n)| **n > 1).map(|(s, _)| *s).collect()
    }
}

/// Takes what the terminal said so far: ACKs into `acked` (a NAK is a refusal, which the
/// box keeps until it gets an answer; none is expected from an honest card).
fn drain(sim: &SimBox, acked: &mut BTreeSet<u32>, wait: Duration) -> usize {
    let mut refused = 0;
    while let Some(heard) = sim.next(wait) {
        match heard {
            Heard::Ack { seq, .. } => {
                acked.insert(seq);
            }
            Heard::Nak { .. } => refused += 1,
            _ => {}
        }
    }
    refused
}

/// Presses while the terminal runs and is killed with a power cut `cuts` times, then lets a
/// last run answer what is left, cuts the power once more and reads what the card kept.
fn run(card_options: &[&str], cuts: usize, seed: u64) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let mut card = Card::mount(dir.path(), card_options);
    let sim = SimBox::start("card-box", Some(&dir.path().join("by-id-box")), RESEND).unwrap();
    let boxes = [(sim.path(), "[1, 2, 3, 4, 5, 6, 7]")];
    let db = card.mount.join("state/answers.db");
    let text = config_text(&boxes, 0.0).replacen(
        "path = \"answers.db\"",
        &format!("path = \"{}\"", db.display()),
        1,
    );
    assert!(text.contains(&db.display().to_string()));
    let file = dir.path().join("terminal.toml");
    std::fs::write(&file, text).unwrap();

    let mut rng = fastrand::Rng::with_seed(seed);
    let mut acked = BTreeSet::new();
    let mut pressed = 0u32;
    let mut refused = 0;
    for _ in 0..cuts {
        let mut kiosk = common::buttons::binary(&file);
        let until = Instant::now() + Duration::from_millis(rng.u64(0..300));
        while Instant::now() < until {
            sim.press(rng.u8(1..=7));
            pressed += 1;
            refused += drain(&sim, &mut acked, Duration::from_millis(rng.u64(0..20)));
        }
        kiosk.kill().unwrap();
        kiosk.wait().unwrap();
        card.power_cut();
        refused += drain(&sim, &mut acked, Duration::ZERO);
    }
    let mut kiosk = common::buttons::binary(&file);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sim.unanswered() > 0 && Instant::now() < deadline {
        refused += drain(&sim, &mut acked, Duration::from_millis(100));
    }
    kiosk.kill().unwrap();
    kiosk.wait().unwrap();
    card.power_cut();
    refused += drain(&sim, &mut acked, Duration::ZERO);
    println!(
        "{pressed} presses, {} acknowledged, {refused} refused",
        acked.len()
    );

    let kept = card.backing.join("state/answers.db");
    let stored = Store::open(
        &kept,
        &common::buttons::config(dir.path(), &boxes, 0.0).device,
    )
    .map_err(|e| e.to_string())
    .and_then(|store| {
        let check = store.integrity_check().map_err(|e| e.to_string())?;
        if check != "ok" {
            return Err(format!("integrity check: {check}"));
        }
        let mut per_press = BTreeMap::new();
        for a in store.answers().map_err(|e| e.to_string())? {
            let (_, _, seq) = a.box_press.expect("only button answers here");
            *per_press.entry(seq).or_default() += 1;
        }
        Ok(per_press)
    });
    Outcome {
        pressed,
        acked,
        unanswered: sim.unanswered(),
        stored,
    }
}

#[test]
fn every_acknowledged_press_survives_power_cuts_and_none_is_stored_twice() {
    let out = run(&[], 40, 2026);
    let stored = out.stored.as_ref().expect("the database survives");
    assert!(!out.acked.is_empty(), "presses were answered between cuts");
    assert_eq!(out.lost(), Vec::<u32>::new(), "acknowledged, then lost");
    assert_eq!(out.twice(), Vec::<u32>::new(), "stored more than once");
    assert_eq!(out.unanswered, 0, "every press was answered in the end");
    assert_eq!(stored.len() as u32, out.pressed, "each press stored once");
}

#[test]
fn a_store_that_confirms_before_its_data_is_durable_is_caught() {
    // The card's fsync returns at once and keeps nothing: each commit "returns" while its
    // data can still be lost, as with a store that answers before its commit is durable.
    let out = run(&["--lie"], 5, 7);
    assert!(!out.acked.is_empty(), "presses were acknowledged");
    assert!(
        !out.lost().is_empty(),
        "the power cuts lost acknowledged presses, and the check saw it: {:?}",
        out.stored
    );
}
