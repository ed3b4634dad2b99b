//! USB-serial button boxes: the frame format (`frame`, pure), one reader thread per box
//! (`port`), pseudo-terminal pairs (`pty`) and the software box of `ces-kiosk simulate-box`
//! (`simulate`).
//!
//! A press travels: box → reader thread (parsed, resends recognised) → `on_press` → the
//! screen flow, like a tap → store thread (SQLite commit) → [`Buttons::store_replied`] →
//! ACK to the box, which lights its confirmation. A press the terminal cannot store is
//! answered with a NAK.

pub mod frame;
mod port;
pub mod pty;
pub mod simulate;

use std::io::Write;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::config::ButtonBox;
use crate::store::{Closed, Reply};
use crate::survey::ButtonPress;

use port::Port;

/// A press ready for the answer path: the score its button gives, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Press {
    pub meaning: Meaning,
    pub press: ButtonPress,
}

/// What a button means in the config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    Score(u8),
    /// Turn speech on.
    Listen,
}

/// What became of a press, as told to the box.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Stored and counted: the box lights its confirmation.
    Counted,
    /// Stored as suppressed by the misuse filter.
    Suppressed,
    /// Not stored (out of service).
    Refused,
}

/// A configured box as the staff screen shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoxSeen {
    pub path: std::path::PathBuf,
    /// The port is open (the box is plugged in).
    pub connected: bool,
    /// The id the box gave in its hello, once it said hello.
    pub box_id: Option<String>,
}

/// The running readers of a terminal's button boxes. Dropping it stops them.
pub struct Buttons {
    ports: Vec<Arc<Port>>,
    threads: Vec<JoinHandle<()>>,
    stop: Option<std::io::PipeWriter>,
}

impl Buttons {
    /// Starts one reader thread per box; each calls `on_press` for every new press.
    pub fn start(
        boxes: &[ButtonBox],
        on_press: impl Fn(Press) + Send + Sync + 'static,
    ) -> std::io::Result<Buttons> {
        let (stop_rx, stop) = std::io::pipe()?;
        let on_press: Arc<dyn Fn(Press) + Send + Sync> = Arc::new(on_press);
        let mut ports = vec![];
        let mut threads = vec![];
        for (index, config) in boxes.iter().enumerate() {
            let port = Arc::new(Port::new(index, config.clone()));
            let (p, stop_rx, on_press) = (port.clone(), stop_rx.try_clone()?, on_press.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("button-box-{index}"))
                    .spawn(move || p.run(&stop_rx, &*on_press))?,
            );
            ports.push(port);
        }
        Ok(Buttons {
            ports,
            threads,
            stop: Some(stop),
        })
    }

    /// Tells the box of `press` what became of it.
    pub fn verdict(&self, press: &ButtonPress, verdict: Verdict) {
        if let Some(port) = self.ports.get(press.port) {
            port.verdict(press, verdict);
        }
    }

    /// Acknowledges a stored button press (or refuses one whose write failed). Call it with
    /// every store reply, on the store thread: the box hears as soon as the commit returned.
    /// A press that chose a follow-up reason is counted once its reason is stored; one that
    /// came too late for it is stored but changes nothing (suppressed).
    pub fn store_replied(&self, reply: &Reply) {
        match reply {
            Reply::Recorded { answer, result } => {
                if let Some(press) = answer.input.button_press() {
                    let verdict = match result {
                        Ok(r) if r.suppressed => Verdict::Suppressed,
                        Ok(_) => Verdict::Counted,
                        Err(_) => Verdict::Refused,
                    };
                    self.verdict(press, verdict);
                }
            }
            Reply::FollowUpClosed {
                press: Some(press),
                result,
                ..
            } => {
                let verdict = match result {
                    Ok(
                        Closed::Now
                        | Closed::ReasonPress
                        | Closed::ScorePress { suppressed: false },
                    ) => Verdict::Counted,
                    Ok(Closed::ScorePress { suppressed: true } | Closed::Before) => {
                        Verdict::Suppressed
                    }
                    Err(_) => Verdict::Refused,
                };
                self.verdict(press, verdict);
            }
            _ => {}
        }
    }

    /// Every configured box: connected or not, and its id once it said hello.
    pub fn seen(&self) -> Vec<BoxSeen> {
        self.ports.iter().map(|p| p.seen()).collect()
    }

    /// Lights every button while the terminal takes answers; all lights off when out of
    /// service.
    pub fn set_in_service(&self, in_service: bool) {
        for port in &self.ports {
            port.set_in_service(in_service);
        }
    }
}

impl Drop for Buttons {
    /// The terminal is stopping: each box is told it is out of service (its lights go off),
    /// then the readers stop.
    fn drop(&mut self) {
        self.set_in_service(false);
        if let Some(mut stop) = self.stop.take() {
            let _ = stop.write_all(b"x");
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
