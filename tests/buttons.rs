//! Button boxes end to end inside one process: software boxes on real pty pairs, the real
//! serial reader, screen flow, store thread and SQLite file. A press is stored once and
//! acknowledged after its commit; noise, resends, unplugging and two boxes are handled. A
//! terminal whose database lies in RAM refuses every press unless its config allows it.

mod common;

use ces_kiosk::buttons::frame::Message;
use ces_kiosk::buttons::simulate::Heard;
use common::buttons::{RESEND, config, sim_box, start, verdict, wait_connected};
use common::stored;

const FIVE: &str = "[1, 3, 4, 5, 7]";

/// The ACK of a counted press.
fn counted(seq: u32) -> Heard {
    Heard::Ack { seq, counted: true }
}

/// Whether the terminal stored press `seq`. A press that reaches the flow before the flow has
/// seen the previous press's commit is stored as suppressed (as a second tap before a commit
/// is), even without a cooldown; presses in a row in these tests may be either.
fn stored_ack(heard: Heard, seq: u32) -> bool {
    matches!(heard, Heard::Ack { seq: s, .. } if s == seq)
}

#[test]
fn a_press_is_stored_once_then_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_box(dir.path(), "box-a");
    let config = config(dir.path(), &[(sim.path(), FIVE)], 3.0);
    let _terminal = start(&config);
    wait_connected(&sim);

    let seq = sim.press(2);
    assert_eq!(verdict(&sim, seq), counted(seq));
    // The ACK came after the commit: the answer is already on disk.
    let answers = stored(&config);
    assert_eq!(answers.len(), 1);
    let a = &answers[0];
    assert_eq!(
        (a.score, a.input.as_str(), a.suppressed),
        (3, "button", false)
    );
    assert_eq!(a.box_press, Some(("box-a".to_owned(), sim.session(), seq)));

    // A second press within the misuse cooldown is stored as suppressed, and said so.
    let seq = sim.press(5);
    assert_eq!(
        verdict(&sim, seq),
        Heard::Ack {
            seq,
            counted: false
        }
    );
    let answers = stored(&config);
    assert_eq!(answers.len(), 2);
    assert!(answers[1].suppressed);
    assert_eq!(sim.unanswered(), 0);
}

#[test]
fn noise_on_the_line_gives_no_answer_and_the_box_goes_on_working() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_box(dir.path(), "box-n");
    let config = config(dir.path(), &[(sim.path(), FIVE)], 0.0);
    let _terminal = start(&config);
    wait_connected(&sim);

    let mut rng = fastrand::Rng::with_seed(4);
    let good = Message::Press {
        button: 1,
        seq: 999,
    }
    .encode();
    for _ in 0..200 {
        let mut junk: Vec<u8> = (0..rng.usize(1..60)).map(|_| rng.u8(..)).collect();
        // Near misses: a real press frame with one byte changed.
        let mut bent = good.clone();
        let at = rng.usize(1..bent.len() - 1);
        bent[at] = bent[at].wrapping_add(rng.u8(1..));
        junk.extend(bent);
        sim.send_raw(&junk);
    }
    // A frame over the length limit, and a button the box config has no score for.
    sim.send_raw(&[b'$'; 500]);
    sim.send_raw(b"\n");
    sim.send_raw(
        &Message::Press {
            button: 9,
            seq: 5000,
        }
        .encode(),
    );
    assert_eq!(verdict(&sim, 5000), Heard::Nak { seq: 5000 });

    let seq = sim.press(5);
    assert_eq!(verdict(&sim, seq), counted(seq));
    let answers = stored(&config);
    assert_eq!(answers.len(), 1, "only the real press is an answer");
    assert_eq!(answers[0].score, 7);
}

#[test]
fn a_press_sent_again_is_one_answer_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_box(dir.path(), "box-r");
    let config = config(dir.path(), &[(sim.path(), FIVE)], 0.0);
    let frame = Message::Press { button: 4, seq: 41 }.encode();
    {
        let _terminal = start(&config);
        wait_connected(&sim);
        // Sent twice at once (the box did not wait), and once more after its ACK was lost.
        sim.send_raw(&frame);
        sim.send_raw(&frame);
        assert_eq!(verdict(&sim, 41), counted(41));
        sim.send_raw(&frame);
        assert_eq!(verdict(&sim, 41), counted(41));
    }
    // A new terminal process on the same database hears it again: the database knows it.
    let _terminal = start(&config);
    wait_connected(&sim);
    sim.send_raw(&frame);
    assert_eq!(verdict(&sim, 41), counted(41));

    let answers = stored(&config);
    assert_eq!(answers.len(), 1, "{answers:#?}");
    assert_eq!(answers[0].score, 5);
}

#[test]
fn an_unplugged_box_is_read_again_when_plugged_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = sim_box(dir.path(), "box-u");
    let config = config(dir.path(), &[(sim.path(), FIVE)], 0.0);
    let _terminal = start(&config);
    wait_connected(&sim);
    let first = sim.press(1);
    assert_eq!(verdict(&sim, first), counted(first));

    sim.unplug();
    // Pressed while the cable is out: the box keeps it and sends it once plugged back.
    let second = sim.press(3);
    sim.plug_in(RESEND).unwrap();
    wait_connected(&sim);
    assert!(stored_ack(verdict(&sim, second), second));
    let third = sim.press(5);
    assert!(stored_ack(verdict(&sim, third), third));

    let scores: Vec<u8> = stored(&config).iter().map(|a| a.score).collect();
    assert_eq!(scores, [1, 4, 7]);
}

#[test]
fn two_boxes_feed_one_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let left = sim_box(dir.path(), "desk-left");
    let right = sim_box(dir.path(), "desk-right");
    let config = config(
        dir.path(),
        &[(left.path(), "[1, 4, 7]"), (right.path(), "[7, 4, 1]")],
        0.0,
    );
    let _terminal = start(&config);
    wait_connected(&left);
    wait_connected(&right);

    let mut expected = vec![];
    for i in 0..10u8 {
        let (sim, scores) = if i % 2 == 0 {
            (&left, [1, 4, 7])
        } else {
            (&right, [7, 4, 1])
        };
        let button = i % 3 + 1;
        let seq = sim.press(button);
        assert!(stored_ack(verdict(sim, seq), seq));
        expected.push((sim.session(), seq, scores[usize::from(button - 1)]));
    }
    let answers = stored(&config);
    let got: Vec<(u32, u32, u8)> = answers
        .iter()
        .map(|a| {
            let (_, session, seq) = a.box_press.clone().unwrap();
            (session, seq, a.score)
        })
        .collect();
    assert_eq!(got, expected);
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|a| a.box_press.clone().unwrap().0)
        .collect();
    assert_eq!(ids.len(), 2);
}

#[test]
fn simulate_box_presses_on_keys_and_prints_the_acknowledgements() {
    use std::io::{BufRead, Write};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("sim-link");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["simulate-box", "--id", "cli-box", "--link"])
        .arg(&link)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    let wait_for = |needle: &str| loop {
        let line = lines
            .recv_timeout(common::buttons::REPLY_WAIT)
            .unwrap_or_else(|_| panic!("simulate-box never printed {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    };
    wait_for("Keys 1-9 press a button");

    let config = config(dir.path(), &[(link.clone(), "[1, 4, 7]")], 3.0);
    let _terminal = start(&config);
    wait_for("the terminal asked who we are");
    let mut keys = child.stdin.take().unwrap();
    keys.write_all(b"3").unwrap();
    keys.flush().unwrap();
    assert_eq!(wait_for("press 0:"), "press 0: button 3");
    assert_eq!(
        wait_for("press 0:"),
        "press 0: stored, counted (confirmation light)"
    );
    keys.write_all(b"1").unwrap();
    keys.flush().unwrap();
    wait_for("press 1: button 1");
    assert_eq!(
        wait_for("press 1:"),
        "press 1: stored as suppressed (misuse filter)"
    );
    keys.write_all(b"q").unwrap();
    keys.flush().unwrap();
    assert!(child.wait().unwrap().success());
    assert!(link.symlink_metadata().is_err(), "quitting unplugs the box");
    let scores: Vec<u8> = stored(&config).iter().map(|a| a.score).collect();
    assert_eq!(scores, [7, 1]);
}

#[test]
fn a_terminal_with_its_database_in_ram_refuses_presses_until_allowed() {
    let ram = common::buttons::in_ram();
    let sim = sim_box(ram.path(), "desk-box");
    for allow in [false, true] {
        let file = common::buttons::file_allowing_ram(ram.path(), &sim.path(), allow);
        let config = ces_kiosk::config::Config::load(&file).unwrap();
        let _terminal = start(&config);
        wait_connected(&sim);
        let seq = sim.press(2);
        match verdict(&sim, seq) {
            Heard::Nak { .. } if !allow => {
                assert!(!config.storage.path.exists(), "no database made in RAM")
            }
            Heard::Ack { .. } if allow => assert_eq!(stored(&config).len(), 1),
            v => panic!("database in RAM allowed: {allow}; the box heard {v:?}"),
        }
    }
}

#[test]
fn presses_queued_behind_slow_commits_are_answered_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut card = common::card::Card::mount(dir.path(), &[]);
    let sim = sim_box(dir.path(), "desk-box");
    let config = config(&card.mount, &[(sim.path(), FIVE)], 0.0);
    let _terminal = start(&config);
    wait_connected(&sim);
    // Each commit now takes 300 ms; five presses arrive within the first.
    assert_eq!(card.command("delay 300"), "ok");
    let presses: Vec<u32> = (1..=5).map(|b| sim.press(b)).collect();
    let mut answered = vec![];
    while answered.len() < presses.len() {
        match sim.next(common::buttons::REPLY_WAIT) {
            Some(Heard::Ack { seq, .. }) => answered.push(seq),
            Some(Heard::Nak { seq }) => panic!("press {seq} refused"),
            Some(_) => {}
            None => panic!("answered so far: {answered:?}"),
        }
    }
    assert_eq!(answered, presses, "answered in the order pressed");
    assert_eq!(stored(&config).len(), 5);
}
