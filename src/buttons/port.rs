//! One button box's reader thread: opens the serial port by its configured (stable) path,
//! asks the box to say hello, parses what it sends and passes new presses on. A press the
//! box sends again is recognised and answered with the verdict it already got. When the box
//! is unplugged (end of file or an error), the port is reopened with backoff.

use std::collections::VecDeque;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

use super::frame::{Dropped, Event, LedState, LedTarget, Message, Parser};
use super::pty::{Wake, wait};
use super::{Meaning, Press, Verdict};
use crate::config::ButtonBox;
use crate::survey::ButtonPress;

/// Waits between attempts to open a missing box: from the first to the last, doubling.
const REOPEN_FIRST: Duration = Duration::from_millis(250);
const REOPEN_LAST: Duration = Duration::from_secs(5);

/// How many recent presses per box are remembered to recognise resends. A box resends only
/// its unanswered presses, a handful at most.
const RECENT: usize = 64;

pub(super) struct Port {
    index: usize,
    config: ButtonBox,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// A handle for writing to the open port; `None` while the box is away.
    writer: Option<TTYPort>,
    hello: Option<Hello>,
    /// What became of the current session's recent presses; cleared when a box says hello
    /// with a new session.
    recent: VecDeque<Recent>,
    out_of_service: bool,
}

#[derive(Clone)]
struct Hello {
    box_id: String,
    session: u32,
}

struct Recent {
    seq: u32,
    /// `None` while the press is on its way to the store.
    verdict: Option<Verdict>,
}

impl Port {
    pub(super) fn new(index: usize, config: ButtonBox) -> Port {
        Port {
            index,
            config,
            state: Mutex::default(),
        }
    }

    /// The box as staff see it: connected or not, and its id once it said hello.
    pub(super) fn seen(&self) -> super::BoxSeen {
        let state = self.state();
        super::BoxSeen {
            path: self.config.path.clone(),
            connected: state.writer.is_some(),
            box_id: state.hello.as_ref().map(|h| h.box_id.clone()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The thread's body: open, read until unplugged, wait, open again; until `stop`.
    pub(super) fn run(&self, stop: &std::io::PipeReader, on_press: &dyn Fn(Press)) {
        let path = self.config.path.display().to_string();
        let mut wait_next = REOPEN_FIRST;
        let mut reported = false;
        loop {
            match serialport::new(&path, self.config.baud)
                .timeout(Duration::from_millis(100))
                .open_native()
            {
                Ok(port) => {
                    tracing::info!(port = path, "button box connected");
                    reported = false;
                    wait_next = REOPEN_FIRST;
                    if self.connected(port, stop, on_press) {
                        return;
                    }
                    tracing::warn!(port = path, "button box disconnected; waiting for it");
                }
                Err(e) if !reported => {
                    tracing::warn!(port = path, "cannot open the button box: {e}; trying again");
                    reported = true;
                }
                Err(e) => tracing::debug!(port = path, "button box still missing: {e}"),
            }
            if let Wake::Stop = wait(None, stop.as_fd(), Some(wait_next)) {
                return;
            }
            wait_next = (wait_next * 2).min(REOPEN_LAST);
        }
    }

    /// Reads an open port until the box goes away (false) or `stop` (true).
    fn connected(
        &self,
        mut port: TTYPort,
        stop: &std::io::PipeReader,
        on_press: &dyn Fn(Press),
    ) -> bool {
        {
            let mut state = self.state();
            state.writer = port.try_clone_native().ok();
            if let Some(w) = &mut state.writer {
                let _ = w.set_timeout(Duration::from_secs(1));
            }
            let leds = led_frame(!state.out_of_service);
            send(&mut state, &Message::Who);
            send(&mut state, &leds);
        }
        let mut parser = Parser::new();
        let mut noise_reported = false;
        let mut buf = [0u8; 256];
        let stopped = loop {
            match wait(Some(port.as_raw_fd()), stop.as_fd(), None) {
                Wake::Stop => break true,
                Wake::Timeout => continue,
                Wake::Data => {}
            }
            let n = match port.read(&mut buf) {
                Ok(0) => break false,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::debug!(port = %self.config.path.display(), "read failed: {e}");
                    break false;
                }
            };
            parser.feed(&buf[..n], |event| match event {
                Event::Message(m) => self.message(m, on_press),
                Event::Dropped(d) => {
                    if !noise_reported {
                        noise_reported = true;
                        tracing::warn!(
                            port = %self.config.path.display(),
                            "unreadable bytes from the button box ({d:?}); check its speed ({} baud)",
                            self.config.baud
                        );
                    } else if d != Dropped::Noise {
                        tracing::debug!(port = %self.config.path.display(), "dropped a frame: {d:?}");
                    }
                }
            });
        };
        self.state().writer = None;
        stopped
    }

    fn message(&self, message: Message, on_press: &dyn Fn(Press)) {
        let mut state = self.state();
        match message {
            Message::Hello {
                box_id,
                firmware,
                session,
            } => {
                if !state.is_current(&box_id, session) {
                    tracing::info!(
                        port = %self.config.path.display(),
                        box_id, firmware, session = %format_args!("{session:X}"), "button box said hello"
                    );
                    state.recent.clear();
                }
                state.hello = Some(Hello { box_id, session });
            }
            Message::Press { button, seq } => {
                let Some(hello) = state.hello.clone() else {
                    // Presses are numbered per session: ask who it is; the box sends it again.
                    send(&mut state, &Message::Who);
                    return;
                };
                let press = ButtonPress {
                    port: self.index,
                    box_id: hello.box_id,
                    session: hello.session,
                    seq,
                    button,
                };
                let known = state
                    .recent
                    .iter()
                    .find(|r| r.seq == seq)
                    .map(|r| r.verdict);
                match known {
                    // Still on its way to the store: its verdict will follow.
                    Some(None) => {}
                    Some(Some(verdict)) => send(&mut state, &verdict_frame(&press, verdict)),
                    None => {
                        if self.config.listen == Some(button) {
                            // Not an answer: heard at once, and not counted.
                            remember(&mut state, &press, Some(Verdict::Suppressed));
                            send(&mut state, &verdict_frame(&press, Verdict::Suppressed));
                            drop(state);
                            on_press(Press {
                                meaning: Meaning::Listen,
                                press,
                            });
                            return;
                        }
                        let Some(score) = self.config.score(button) else {
                            tracing::warn!(
                                port = %self.config.path.display(),
                                button, "the box has a button the config gives no score; refused"
                            );
                            remember(&mut state, &press, Some(Verdict::Refused));
                            send(&mut state, &verdict_frame(&press, Verdict::Refused));
                            return;
                        };
                        remember(&mut state, &press, None);
                        drop(state);
                        on_press(Press {
                            meaning: Meaning::Score(score),
                            press,
                        });
                    }
                }
            }
            other => tracing::debug!(port = %self.config.path.display(), "ignored {other}"),
        }
    }

    pub(super) fn verdict(&self, press: &ButtonPress, verdict: Verdict) {
        let mut state = self.state();
        // A box that restarted meanwhile numbers its presses afresh: this is not for it.
        if state.is_current(&press.box_id, press.session) {
            remember(&mut state, press, Some(verdict));
            send(&mut state, &verdict_frame(press, verdict));
        }
    }

    pub(super) fn set_in_service(&self, in_service: bool) {
        let mut state = self.state();
        if state.out_of_service != in_service {
            return;
        }
        state.out_of_service = !in_service;
        send(&mut state, &led_frame(in_service));
    }
}

impl State {
    /// Whether the box on the line is `box_id` in session `session`.
    fn is_current(&self, box_id: &str, session: u32) -> bool {
        (self.hello.as_ref()).is_some_and(|h| h.session == session && h.box_id == box_id)
    }
}

/// Records what became of a press of the box's current session, forgetting the oldest.
fn remember(state: &mut State, press: &ButtonPress, verdict: Option<Verdict>) {
    if let Some(r) = state.recent.iter_mut().find(|r| r.seq == press.seq) {
        r.verdict = verdict;
        return;
    }
    if state.recent.len() == RECENT {
        state.recent.pop_front();
    }
    state.recent.push_back(Recent {
        seq: press.seq,
        verdict,
    });
}

fn verdict_frame(press: &ButtonPress, verdict: Verdict) -> Message {
    let (session, seq) = (press.session, press.seq);
    match verdict {
        Verdict::Counted => Message::Ack {
            session,
            seq,
            counted: true,
        },
        Verdict::Suppressed => Message::Ack {
            session,
            seq,
            counted: false,
        },
        Verdict::Refused => Message::Nak { session, seq },
    }
}

fn led_frame(in_service: bool) -> Message {
    Message::Led {
        target: LedTarget::All,
        state: if in_service {
            LedState::On
        } else {
            LedState::Off
        },
    }
}

/// Writes a frame if the box is there; a box that went away hears the verdict again when
/// it sends the press again.
fn send(state: &mut State, message: &Message) {
    if let Some(w) = &mut state.writer {
        use std::io::Write;
        if let Err(e) = w.write_all(&message.encode()) {
            tracing::debug!("cannot write to the button box: {e}");
        }
    }
}
