//! "Why" on a button terminal with a small display: after a low press the display lists the
//! follow-up's reasons against button numbers and a press chooses one. With the real
//! `ces-kiosk` binary killed between the low press and the reason press, and the box (on a
//! real pty pair) sending both again and again: one answer with its reason in the real
//! store, never a second score.

mod common;

use std::path::Path;
use std::sync::mpsc;

use ces_kiosk::button_terminal::{ButtonTerminal, Input};
use ces_kiosk::buttons::frame::Message;
use ces_kiosk::buttons::simulate::{Heard, SimBox};
use ces_kiosk::config::Config;
use ces_kiosk::display::{DisplayError, Panel, View};
use ces_kiosk::kiosk::Screen;
use ces_kiosk::store::Store;
use common::buttons::{REPLY_WAIT, RESEND, binary, config_text, verdict, wait_connected};

/// The demo survey on a button terminal with a PNG display, one box of seven buttons (scores
/// 1 to 7; 1 to 3 are low), no misuse cooldown and two minutes for the reason.
fn config_file(dir: &Path, sim: &SimBox) -> (Config, std::path::PathBuf) {
    let text = config_text(&[(sim.path(), "[1, 2, 3, 4, 5, 6, 7]")], 0.0)
        .replace(
            "[display]\nkind = \"none\"\n",
            &format!(
                "[display]\nkind = \"png\"\nlayout = \"colour-320x240\"\npath = \"{}\"\n",
                dir.join("display.png").display()
            ),
        )
        .replace("follow_up_seconds = 12", "follow_up_seconds = 120");
    assert!(text.contains("kind = \"png\"") && text.contains("follow_up_seconds = 120"));
    let file = dir.join("terminal.toml");
    std::fs::write(&file, &text).unwrap();
    let config = Config::parse(&text, &file, dir).expect("a valid config");
    (config, file)
}

/// A panel that hands each view it is asked to show to the test.
struct Seen(mpsc::Sender<View>);

impl Panel for Seen {
    fn show(&mut self, view: &View) -> Result<(), DisplayError> {
        let _ = self.0.send(view.clone());
        Ok(())
    }
}

fn next_screen(views: &mpsc::Receiver<View>, screen: Screen) -> View {
    loop {
        let view = views
            .recv_timeout(REPLY_WAIT)
            .unwrap_or_else(|_| panic!("the display never showed {screen:?}"));
        if view.screen == screen {
            return view;
        }
    }
}

fn counted(seq: u32) -> Heard {
    Heard::Ack { seq, counted: true }
}

/// The box sends press `seq` of `button` again, as one whose acknowledgement was lost.
fn send_again(sim: &SimBox, button: u8, seq: u32) {
    sim.send_raw(&Message::Press { button, seq }.encode());
}

#[test]
fn a_low_press_shows_the_reasons_by_button_and_a_press_chooses_one() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimBox::start("why-box", Some(&dir.path().join("by-id-box")), RESEND).unwrap();
    let (config, _) = config_file(dir.path(), &sim);
    let (tx, views) = mpsc::channel();
    let terminal = ButtonTerminal::new(&config, Some(Box::new(Seen(tx))), None).unwrap();
    let stop = terminal.sender();
    let thread = std::thread::spawn(move || terminal.run());
    wait_connected(&sim);
    next_screen(&views, Screen::Question);

    let low = sim.press(2);
    assert_eq!(verdict(&sim, low), counted(low));
    let asked = next_screen(&views, Screen::FollowUp);
    let reasons: Vec<(u8, &str)> = asked
        .reasons
        .iter()
        .map(|(b, t)| (*b, t.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (1, "Long wait"),
            (2, "Staff could not help"),
            (3, "Return rules"),
            (4, "Receipt or paperwork")
        ]
    );
    let why = sim.press(3);
    assert_eq!(verdict(&sim, why), counted(why));
    next_screen(&views, Screen::Thanks);
    let _ = stop.send(Input::Stop);
    thread.join().unwrap();

    let store = Store::open(&config.storage.path, &config.device).unwrap();
    let answers = store.answers().unwrap();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].score, 2);
    assert_eq!(answers[0].reason.as_deref(), Some("policy"));
}

#[test]
fn a_kill_between_the_low_press_and_the_reason_press_stores_one_answer_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimBox::start("why-box", Some(&dir.path().join("by-id-box")), RESEND).unwrap();
    let (config, file) = config_file(dir.path(), &sim);
    let run = |then: &dyn Fn()| {
        let mut kiosk = binary(&file);
        wait_connected(&sim);
        then();
        kiosk.kill().unwrap();
        kiosk.wait().unwrap();
    };

    // The low press is stored and acknowledged; the terminal dies before the reason.
    let low = std::cell::Cell::new(0);
    run(&|| {
        low.set(sim.press(1));
        assert_eq!(verdict(&sim, low.get()), counted(low.get()));
    });
    let low = low.get();
    // Restarted within the follow-up's time: the box sends the low press again (its
    // acknowledgement lost, say), then the reason press, then that again.
    let why = std::cell::Cell::new(0);
    run(&|| {
        send_again(&sim, 1, low);
        assert_eq!(verdict(&sim, low), counted(low));
        why.set(sim.press(2));
        assert_eq!(verdict(&sim, why.get()), counted(why.get()));
        send_again(&sim, 2, why.get());
        assert_eq!(verdict(&sim, why.get()), counted(why.get()));
    });
    let why = why.get();
    // Once more after another restart, now on the question: neither is taken for a score.
    run(&|| {
        send_again(&sim, 2, why);
        assert_eq!(verdict(&sim, why), counted(why));
        send_again(&sim, 1, low);
        assert_eq!(verdict(&sim, low), counted(low));
    });
    assert_eq!(sim.unanswered(), 0, "every press answered");

    let store = Store::open(&config.storage.path, &config.device).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let answers = store.answers().unwrap();
    assert_eq!(answers.len(), 1, "one answer, no second score: {answers:?}");
    let a = &answers[0];
    assert_eq!((a.score, a.low, a.suppressed), (1, true, false));
    assert_eq!(a.reason.as_deref(), Some("staff"));
    assert!(!a.follow_up_open);
    assert_eq!(
        a.box_press,
        Some(("why-box".to_owned(), sim.session(), low))
    );
}
