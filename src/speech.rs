//! Speaking to a visitor: the speech engine run as a separate process on a thread of its
//! own, so that neither the UI thread nor the flow ever waits for it. Each utterance
//! replaces the one before (the process is ended), as a visitor moving on expects; an idle
//! speaker blocks on its queue and uses no CPU.

use std::io::Write;
use std::os::unix::process::CommandExt;
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
    // A group of its own, so that ending it also ends whatever it started (an engine
    // behind a wrapper script goes quiet too).
    let started = Command::new(&program)
        .args(&args)
        .process_group(0)
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

/// Ends the engine and everything in its process group, and reaps it.
fn stop(child: Option<Child>) {
    if let Some(mut child) = child {
        if let Ok(group) = libc::pid_t::try_from(child.id()) {
            // SAFETY: a plain signal to the group this engine leads (its pid is its group).
            unsafe { libc::killpg(group, libc::SIGKILL) };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// Whether process `pid` still runs (a zombie waiting to be reaped does not).
    fn runs(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
        })
    }

    fn eventually(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn hushing_ends_an_engine_behind_a_wrapper_and_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("engine.pid");
        let script = format!("sleep 60 & echo $! > '{}'; wait", pid_file.display());
        let speaker = Speaker::start(Speech {
            command: vec!["sh".into(), "-c".into(), script],
            ..Speech::default()
        });
        speaker.say("en", vec!["Hello".into()]);
        eventually("the engine started", || {
            std::fs::read_to_string(&pid_file).is_ok_and(|p| p.ends_with('\n'))
        });
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .to_owned();
        assert!(runs(&pid));
        speaker.hush();
        eventually("the engine's own child ended too", || !runs(&pid));
    }
}
