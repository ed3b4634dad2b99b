//! Speech on a button terminal: a box's listen button turns it on, and what is said names
//! the buttons; a press then counts at once, and the reasons and the thank-you are read out
//! too. The real terminal loop, store and speech thread, a box on a real pty pair, and a
//! recording stand-in for the engine.

mod common;

use std::path::Path;

use ces_kiosk::button_terminal::{ButtonTerminal, Input};
use ces_kiosk::buttons::simulate::{Heard, SimBox};
use ces_kiosk::config::{Config, Speech};
use ces_kiosk::display::{DisplayError, Panel, View};
use ces_kiosk::store::Store;
use common::buttons::{RESEND, config_text, verdict, wait_connected};
use common::speech::{recording_engine, utterance, wait_said};

/// The demo survey on a button terminal with a small display: buttons 1 to 3 score 1, 4
/// and 7, button 4 turns speech on; the engine is the recording stand-in.
fn terminal(dir: &Path, sim: &SimBox) -> Config {
    let text = config_text(&[(sim.path(), "[1, 4, 7]\nlisten_button = 4")], 0.0).replace(
        "[display]\nkind = \"none\"\n",
        &format!(
            "[display]\nkind = \"png\"\nlayout = \"colour-320x240\"\npath = \"{}\"\n",
            dir.join("display.png").display()
        ),
    );
    let mut config = Config::parse(&text, &dir.join("terminal.toml"), dir).expect("valid");
    let (command, _) = recording_engine(dir);
    config.speech = Some(Speech {
        command,
        ..Default::default()
    });
    config
}

/// Presses `button` and waits for the box to hear whether it was counted.
fn press(sim: &SimBox, button: u8, counted: bool) {
    let seq = sim.press(button);
    assert_eq!(verdict(sim, seq), Heard::Ack { seq, counted });
}

/// Waits until the engine was given `lines` in English, as the last thing said.
fn said_last(log: &Path, lines: &[&str]) {
    wait_said(log, &utterance("en", lines));
}

/// A panel that draws nothing: what is said is under test here.
struct Blank;

impl Panel for Blank {
    fn show(&mut self, _: &View) -> Result<(), DisplayError> {
        Ok(())
    }
}

#[test]
fn the_listen_button_reads_the_screens_aloud_naming_the_buttons() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimBox::start("talking-box", Some(&dir.path().join("by-id-box")), RESEND).unwrap();
    let config = terminal(dir.path(), &sim);
    let log = dir.path().join("spoken.log");
    let terminal = ButtonTerminal::new(&config, Some(Box::new(Blank)), None).unwrap();
    let stop = terminal.sender();
    let thread = std::thread::spawn(move || terminal.run());
    wait_connected(&sim);

    // Heard, never an answer.
    press(&sim, 4, false);
    said_last(
        &log,
        &[
            &config.survey.question["en"],
            "1 means Strongly disagree. 7 means Strongly agree.",
            "Button 1: 1. Strongly disagree.",
            "Button 2: 4.",
            "Button 3: 7. Strongly agree.",
        ],
    );

    // A press counts at once; the follow-up's reasons are read against their buttons.
    press(&sim, 1, true);
    said_last(
        &log,
        &[
            "What made it hard?",
            "Button 1: Long wait.",
            "Button 2: Staff could not help.",
            "Button 3: Return rules.",
            "Press its button, or wait to skip.",
        ],
    );
    press(&sim, 2, true);
    said_last(&log, &["Thank you!", "Your answer has been saved."]);
    let _ = stop.send(Input::Stop);
    thread.join().unwrap();

    let store = Store::open(&config.storage.path, &config.device).unwrap();
    let answers = store.answers().unwrap();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(
        (answers[0].score, answers[0].reason.as_deref()),
        (1, Some("staff"))
    );
}
