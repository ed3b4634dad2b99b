//! Speech with the real window code and the real speech thread: the engine is a recording
//! stand-in (a script that writes its arguments and what it was given to a log), so that
//! the test sees exactly what would be said, in which language and in what order; and one
//! test runs the real espeak-ng into a WAV file.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::speech::{recording_engine, utterance, wait_said};
use common::*;
use slint::ComponentHandle;
use slint::platform::{PointerEventButton, WindowEvent};

/// What Listen says on the demo's question in English.
fn question_in_english(config: &ces_kiosk::config::Config) -> Vec<String> {
    let en = ces_kiosk::wording::of("en");
    utterance(
        "en",
        &[
            &config.survey.question["en"],
            "1 means Strongly disagree. 7 means Strongly agree.",
            en.how_to_answer,
        ],
    )
}

fn speaking_kiosk(dir: &Path) -> (ces_kiosk::config::Config, ces_kiosk::ui::KioskUi, PathBuf) {
    let mut config = ces_kiosk::demo::config(dir).unwrap();
    let (command, log) = recording_engine(dir);
    config.speech = Some(ces_kiosk::config::Speech {
        command,
        ..Default::default()
    });
    let (config, ui) = kiosk_with(config, 800, 480);
    (config, ui, log)
}

#[test]
fn listen_reads_the_question_in_each_language_and_a_second_touch_chooses() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui, log) = speaking_kiosk(dir.path());
    let names = [
        ("en", "English"),
        ("nl", "Nederlands"),
        ("de", "Deutsch"),
        ("fr", "Français"),
    ];
    for (language, name) in names {
        let listen = ces_kiosk::wording::of(language);
        if language != "en" {
            choose_language(&ui, name);
        }
        let ends = listen
            .scale_ends
            .replace("{low_end}", listen.agree.0)
            .replace("{high_end}", listen.agree.1)
            .replace("{low}", "1")
            .replace("{high}", "7");
        let question = &config.survey.question[language];
        let button = match language {
            "en" => "Listen",
            "nl" => "Luisteren",
            "de" => "Vorlesen",
            _ => "Écouter",
        };
        the(&ui, button).invoke_accessible_default_action();
        wait_said(
            &log,
            &utterance(language, &[question, &ends, listen.how_to_answer]),
        );
    }

    // In French now: the first touch says the answer, the second chooses it.
    the(&ui, "Note 2").invoke_accessible_default_action();
    wait_said(&log, &utterance("fr", &["2"]));
    assert!(stored(&config).is_empty(), "not chosen by the first touch");
    the(&ui, "Note 2").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert_eq!(stored(&config).len(), 1);
    let fr = ces_kiosk::wording::of("fr");
    wait_said(
        &log,
        &utterance(
            "fr",
            &[
                fr.what_made_it_hard,
                "Longue attente",
                "Le personnel n’a pas pu aider",
                "Règles de retour",
                "Ticket ou papiers",
                fr.or_skip,
            ],
        ),
    );
    the(&ui, "Longue attente").invoke_accessible_default_action();
    wait_said(&log, &utterance("fr", &["Longue attente"]));
    the(&ui, "Longue attente").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    wait_said(&log, &utterance("fr", &[fr.thanks, fr.saved]));
    let rows = stored(&config);
    assert_eq!(
        (
            rows[0].language.as_str(),
            rows[0].score,
            rows[0].reason.as_deref()
        ),
        ("fr", 2, Some("waiting"))
    );

    // The next visitor starts without speech, in English.
    advance(config.kiosk.thank_you + Duration::from_millis(50));
    assert!(shows(
        &ui,
        "The store made it easy for me to return my item."
    ));
    advance(config.kiosk.misuse_cooldown);
    the(&ui, "Score 6").invoke_accessible_default_action();
    assert!(ui.wait_for_store(STORE_WAIT));
    assert_eq!(stored(&config).len(), 2, "one touch answers again");
}

#[test]
fn a_long_press_beside_the_answers_turns_speech_on() {
    let dir = tempfile::tempdir().unwrap();
    let (config, ui, log) = speaking_kiosk(dir.path());
    let window = ui.window().window();
    // On the question's text, which is no control.
    let position = slint::LogicalPosition::new(400.0, 150.0);
    let button = PointerEventButton::Left;
    window.dispatch_event(WindowEvent::PointerPressed { position, button });
    advance(Duration::from_millis(600));
    window.dispatch_event(WindowEvent::PointerReleased { position, button });
    advance(Duration::from_secs(2));

    window.dispatch_event(WindowEvent::PointerPressed { position, button });
    advance(Duration::from_millis(1600));
    window.dispatch_event(WindowEvent::PointerReleased { position, button });
    wait_said(&log, &question_in_english(&config));
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        log.matches("--- ").count(),
        1,
        "the short press said nothing:\n{log}"
    );
    assert!(stored(&config).is_empty());
}

/// The samples of a 16-bit PCM WAV file.
fn samples(wav: &[u8]) -> Vec<i16> {
    assert_eq!(&wav[..4], b"RIFF", "a RIFF file");
    assert_eq!(&wav[8..12], b"WAVE");
    let mut at = 12;
    while at + 8 <= wav.len() {
        let id = &wav[at..at + 4];
        let size = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &wav[at + 8..(at + 8 + size).min(wav.len())];
        if id == b"data" {
            return body
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
        }
        at += 8 + size + size % 2;
    }
    panic!("no data chunk");
}

#[test]
fn the_real_espeak_ng_with_the_default_command_says_german_into_a_wav_file() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("thanks.wav");
    let (program, mut args) = ces_kiosk::config::Speech::default().command_for("de");
    args.extend(["-w".to_owned(), wav.display().to_string()]);
    let mut child = std::process::Command::new(&program)
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("espeak-ng is installed (apt-get install espeak-ng)");
    use std::io::Write;
    let de = ces_kiosk::wording::of("de");
    let text = format!("{}\n{}\n", de.thanks, de.saved);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let samples = samples(&std::fs::read(&wav).unwrap());
    // espeak-ng writes 22,050 samples a second: two sentences take well over a second.
    assert!(samples.len() > 22_050, "{} samples", samples.len());
    let loud = samples.iter().filter(|s| s.unsigned_abs() > 2_000).count();
    assert!(loud > 2_000, "it holds sound: {loud} loud samples");
}

#[test]
fn a_box_button_given_to_speech_turns_it_on_and_is_never_an_answer() {
    use ces_kiosk::buttons::simulate::Heard;
    let dir = tempfile::tempdir().unwrap();
    let sim = buttons::sim_box(dir.path(), "desk-box");
    let text = format!(
        "{}\n[[button_box]]\npath = \"{}\"\nscores = [2, 4, 6]\nlisten_button = 4\n",
        ces_kiosk::demo::DEMO_TOML,
        sim.path().display()
    );
    let mut config =
        ces_kiosk::config::Config::parse(&text, Path::new("t.toml"), dir.path()).unwrap();
    assert_eq!(config.button_boxes[0].listen, Some(4));
    let (command, log) = recording_engine(dir.path());
    config.speech = Some(ces_kiosk::config::Speech {
        command,
        ..Default::default()
    });
    let (config, ui) = kiosk_with(config, 800, 480);
    buttons::wait_connected(&sim);

    let seq = sim.press(4);
    assert_eq!(
        buttons::verdict(&sim, seq),
        Heard::Ack {
            seq,
            counted: false
        },
        "heard, not counted"
    );
    assert!(ui.wait_for_press(STORE_WAIT));
    wait_said(&log, &question_in_english(&config));
    assert!(stored(&config).is_empty(), "no answer");

    // Refused in the config: the listen button must come after the scored ones.
    let clash = text.replace("listen_button = 4", "listen_button = 2");
    let e = ces_kiosk::config::Config::parse(&clash, Path::new("t.toml"), dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("button_box[0].listen_button") && e.contains("4 to 9"),
        "{e}"
    );
}

#[test]
fn an_idle_terminal_says_now_and_then_how_to_hear_it_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ces_kiosk::demo::config(dir.path()).unwrap();
    let (command, log) = recording_engine(dir.path());
    let every = Duration::from_secs(60);
    config.speech = Some(ces_kiosk::config::Speech {
        command,
        announce_every: Some(every),
    });
    let (_config, ui) = kiosk_with(config, 800, 480);
    advance(every + Duration::from_millis(50));
    let line = ces_kiosk::wording::of("en").how_to_listen;
    wait_said(&log, &utterance("en", &[line]));
    advance(every);
    wait_said(
        &log,
        &[utterance("en", &[line]), utterance("en", &[line])].concat(),
    );
    drop(ui);
}
