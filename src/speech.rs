//! Speaking to a visitor: the speech engine run as a separate process on a thread of its
//! own, so that neither the UI thread nor the flow ever waits for it. Each utterance
//! replaces the one before (the process is ended), as a visitor moving on expects; an idle
//! speaker blocks on its queue and uses no CPU.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::config::Speech;

/// How often a speaking thread looks whether the engine has finished.
const POLL: Duration = Duration::from_millis(25);

enum Order {
    Say {
        language: String,
        lines: Vec<String>,
    },
    Hush,
}

/// Handle to the speech thread. Dropping it ends what is being said and the thread.
pub struct Speaker {
    tx: Option<mpsc::Sender<Order>>,
    thread: Option<JoinHandle<()>>,
}

impl Speaker {
    /// The speaker of a terminal's config: none without an engine, or when it is not
    /// installed (said in the log).
    pub fn for_config(config: &crate::config::Config) -> Option<Speaker> {
        let speech = config.speech.clone()?;
        if !speech.available() {
            tracing::warn!(
                program = speech.command.first().map(String::as_str),
                "the speech engine is not installed; the terminal cannot speak"
            );
            return None;
        }
        Some(Speaker::start(speech))
    }

    /// Starts the thread that runs `speech`'s engine.
    pub fn start(speech: Speech) -> Speaker {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("speech".into())
            .spawn(move || run(&speech, &rx))
            .expect("the speech thread starts");
        Speaker {
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    /// Says `lines` in `language`, in order, instead of anything still being said.
    pub fn say(&self, language: &str, lines: Vec<String>) {
        self.send(Order::Say {
            language: language.to_owned(),
            lines,
        });
    }

    /// Stops speaking.
    pub fn hush(&self) {
        self.send(Order::Hush);
    }

    fn send(&self, order: Order) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(order);
        }
    }
}

impl Drop for Speaker {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(speech: &Speech, rx: &mpsc::Receiver<Order>) {
    let mut speaking: Option<Child> = None;
    loop {
        let order = match speaking.as_mut() {
            // Idle: wait for the next order, without waking.
            None => match rx.recv() {
                Ok(order) => order,
                Err(_) => return,
            },
            Some(child) => match rx.recv_timeout(POLL) {
                Ok(order) => order,
                Err(RecvTimeoutError::Timeout) => {
                    if !matches!(child.try_wait(), Ok(None)) {
                        speaking = None;
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    stop(speaking.take());
                    return;
                }
            },
        };
        stop(speaking.take());
        if let Order::Say { language, lines } = order {
            speaking = speak(speech, &language, &lines);
        }
    }
}

/// Starts the engine on `lines`; `None` (logged) when it cannot run.
fn speak(speech: &Speech, language: &str, lines: &[String]) -> Option<Child> {
    let (program, args) = speech.command_for(language);
    let started = Command::new(&program)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match started {
        Ok(child) => child,
        Err(e) => {
            tracing::warn!(program, "cannot start the speech engine: {e}");
            return None;
        }
    };
    let mut text = lines.join("\n");
    text.push('\n');
    if let Some(mut stdin) = child.stdin.take()
        && let Err(e) = stdin.write_all(text.as_bytes())
    {
        tracing::warn!(program, "the speech engine did not take its text: {e}");
    }
    Some(child)
}

fn stop(child: Option<Child>) {
    if let Some(mut child) = child {
        let _ = child.kill();
        let _ = child.wait();
    }
}
