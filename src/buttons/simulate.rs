//! A button box in software, on a pty pair: it behaves as `docs/button-protocol.md` asks of
//! a box (hello on power-on and on WHO, numbered presses sent again until answered, lights
//! as told). `ces-kiosk simulate-box` drives it from the keyboard; tests drive it directly.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use super::frame::{Event, LedState, LedTarget, Message, Parser};
use super::pty::{Pty, Wake, wait};

/// How often a box sends an unanswered press again.
pub const RESEND_EVERY: Duration = Duration::from_secs(1);

/// What the terminal told the box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    Ack { seq: u32, counted: bool },
    Nak { seq: u32 },
    Led { target: LedTarget, state: LedState },
    Who,
}

/// A running software box. Dropping it unplugs it.
pub struct SimBox {
    shared: Arc<Shared>,
    heard: mpsc::Receiver<Heard>,
    heard_tx: mpsc::Sender<Heard>,
    link: Option<PathBuf>,
    plug: Option<Plug>,
}

struct Shared {
    box_id: String,
    session: u32,
    state: Mutex<BoxState>,
}

#[derive(Default)]
struct BoxState {
    writer: Option<std::fs::File>,
    next_seq: u32,
    /// Presses sent and not yet answered: seq → button.
    unanswered: BTreeMap<u32, u8>,
}

/// The pty and the threads serving it while the box is plugged in.
struct Plug {
    path: PathBuf,
    stop: Option<std::io::PipeWriter>,
    threads: Vec<JoinHandle<()>>,
}

impl SimBox {
    /// Powers on a box with a fresh session, plugged into a new pty. With `link`, a symlink
    /// there points at the pty, as udev's `/dev/serial/by-id/` names point at a USB port.
    pub fn start(
        box_id: &str,
        link: Option<&Path>,
        resend_every: Duration,
    ) -> std::io::Result<SimBox> {
        let (heard_tx, heard) = mpsc::channel();
        let mut sim = SimBox {
            shared: Arc::new(Shared {
                box_id: box_id.to_owned(),
                session: fastrand::u32(1..),
                state: Mutex::default(),
            }),
            heard,
            heard_tx,
            link: link.map(Path::to_owned),
            plug: None,
        };
        sim.plug_in(resend_every)?;
        Ok(sim)
    }

    /// The path a terminal opens: the link if there is one, else the pty itself.
    pub fn path(&self) -> PathBuf {
        match (&self.link, &self.plug) {
            (Some(link), _) => link.clone(),
            (None, Some(p)) => p.path.clone(),
            (None, None) => PathBuf::new(),
        }
    }

    pub fn session(&self) -> u32 {
        self.shared.session
    }

    /// Presses `button`; returns the press's number. It is sent again until answered.
    pub fn press(&self, button: u8) -> u32 {
        self.shared.press(button)
    }

    /// Sends bytes as they are, for tests of line noise.
    pub fn send_raw(&self, bytes: &[u8]) {
        self.shared.lock().write(bytes);
    }

    /// The next thing the terminal said, waiting up to `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<Heard> {
        self.heard.recv_timeout(timeout).ok()
    }

    /// Presses sent and not yet answered.
    pub fn unanswered(&self) -> usize {
        self.shared.lock().unanswered.len()
    }

    /// Pulls the cable: the pty closes; unanswered presses are kept for later.
    pub fn unplug(&mut self) {
        if let Some(plug) = self.plug.take() {
            self.shared.lock().writer = None;
            plug.stop();
        }
    }

    /// Plugs the box in again on a new pty (the link, if any, follows), says hello and
    /// sends its unanswered presses.
    pub fn plug_in(&mut self, resend_every: Duration) -> std::io::Result<()> {
        self.unplug();
        let pty = Pty::open()?;
        if let Some(link) = &self.link {
            let _ = std::fs::remove_file(link);
            std::os::unix::fs::symlink(pty.path(), link)?;
        }
        let (stop_rx, stop) = std::io::pipe()?;
        let mut threads = vec![];
        {
            let mut state = self.shared.lock();
            state.writer = Some(pty.master.try_clone()?);
            state.send(&self.shared.hello());
        }
        let path = pty.path().to_owned();
        let (shared, tx, stop_read) = (
            self.shared.clone(),
            self.heard_tx.clone(),
            stop_rx.try_clone()?,
        );
        threads.push(std::thread::spawn(move || {
            shared.listen(pty, &stop_read, &tx)
        }));
        let shared = self.shared.clone();
        threads.push(std::thread::spawn(move || {
            shared.resend(&stop_rx, resend_every)
        }));
        self.plug = Some(Plug {
            path,
            stop: Some(stop),
            threads,
        });
        Ok(())
    }
}

impl Drop for SimBox {
    fn drop(&mut self) {
        self.unplug();
        if let Some(link) = &self.link {
            let _ = std::fs::remove_file(link);
        }
    }
}

impl Plug {
    fn stop(mut self) {
        if let Some(mut stop) = self.stop.take() {
            let _ = stop.write_all(b"x");
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, BoxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn press(&self, button: u8) -> u32 {
        let mut state = self.lock();
        let seq = state.next_seq;
        state.next_seq = state.next_seq.wrapping_add(1);
        state.unanswered.insert(seq, button);
        state.send(&Message::Press { button, seq });
        seq
    }

    fn hello(&self) -> Message {
        Message::Hello {
            box_id: self.box_id.clone(),
            firmware: format!("sim-{}", env!("CARGO_PKG_VERSION")),
            session: self.session,
        }
    }

    /// Reads what the terminal sends until unplugged; the pty closes when this returns.
    fn listen(&self, pty: Pty, stop: &std::io::PipeReader, heard: &mpsc::Sender<Heard>) {
        let mut master = &pty.master;
        let mut parser = Parser::new();
        let mut buf = [0u8; 256];
        loop {
            match wait(Some(master.as_raw_fd()), stop.as_fd(), None) {
                Wake::Stop => return,
                Wake::Timeout => continue,
                Wake::Data => {}
            }
            let n = match master.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => n,
                // No terminal has the port open (EIO): wait for one to come.
                Err(_) => {
                    if let Wake::Stop = wait(None, stop.as_fd(), Some(Duration::from_millis(50))) {
                        return;
                    }
                    continue;
                }
            };
            parser.feed(&buf[..n], |e| {
                let Event::Message(m) = e else { return };
                let told = match m {
                    Message::Who => {
                        self.lock().send(&self.hello());
                        Heard::Who
                    }
                    Message::Ack {
                        session,
                        seq,
                        counted,
                    } if session == self.session => {
                        self.lock().unanswered.remove(&seq);
                        Heard::Ack { seq, counted }
                    }
                    Message::Nak { session, seq } if session == self.session => {
                        self.lock().unanswered.remove(&seq);
                        Heard::Nak { seq }
                    }
                    Message::Led { target, state } => Heard::Led { target, state },
                    _ => return,
                };
                let _ = heard.send(told);
            });
        }
    }

    /// Sends unanswered presses again, oldest first, every `every`.
    fn resend(&self, stop: &std::io::PipeReader, every: Duration) {
        while let Wake::Timeout = wait(None, stop.as_fd(), Some(every)) {
            let mut state = self.lock();
            let presses: Vec<(u32, u8)> = state.unanswered.iter().map(|(&s, &b)| (s, b)).collect();
            for (seq, button) in presses {
                state.send(&Message::Press { button, seq });
            }
        }
    }
}

impl BoxState {
    fn send(&mut self, m: &Message) {
        self.write(&m.encode());
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Some(w) = &mut self.writer {
            let _ = w.write_all(bytes);
        }
    }
}

/// `ces-kiosk simulate-box`: a box on a pty, its buttons the keys 1-9 of this terminal.
pub fn run_interactive(box_id: &str, link: Option<&Path>) -> anyhow::Result<()> {
    use anyhow::Context;
    let sim = SimBox::start(box_id, link, RESEND_EVERY).context("cannot open a pty pair")?;
    let pts = sim
        .plug
        .as_ref()
        .map(|p| p.path.clone())
        .unwrap_or_default();
    println!(
        "Button box {box_id:?} (session {:X}) is plugged in at {}.",
        sim.session(),
        pts.display()
    );
    if let Some(link) = link {
        println!("It is linked from {}.", link.display());
    }
    println!("Give the terminal this in its config, then start it:");
    println!(
        "  [[button_box]]\n  path = \"{}\"\n  scores = [1, 2, 3, 4, 5]",
        sim.path().display()
    );
    println!("Keys 1-9 press a button; q quits.");
    let raw = KeyMode::single_keys();
    let shared = sim.shared.clone();
    let link = link.map(Path::to_owned);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut key = [0u8; 1];
        while stdin.read(&mut key).is_ok_and(|n| n == 1) {
            match key[0] {
                b @ b'1'..=b'9' => {
                    let seq = shared.press(b - b'0');
                    println!("press {seq}: button {}", b - b'0');
                }
                b'q' | b'Q' | 4 => break,
                _ => {}
            }
        }
        drop(raw);
        // Unplugged: the link goes, as udev removes a by-id link.
        if let Some(link) = link {
            let _ = std::fs::remove_file(link);
        }
        std::process::exit(0);
    });
    while let Some(heard) = sim.next(Duration::MAX) {
        print_heard(&heard, &sim.shared);
    }
    Ok(())
}

fn print_heard(heard: &Heard, shared: &Shared) {
    let waiting = shared.lock().unanswered.len();
    match heard {
        Heard::Ack { seq, counted: true } => {
            println!("press {seq}: stored, counted (confirmation light)")
        }
        Heard::Ack {
            seq,
            counted: false,
        } => println!("press {seq}: stored as suppressed (misuse filter)"),
        Heard::Nak { seq } => {
            println!("press {seq}: refused, not stored (terminal out of service)")
        }
        Heard::Led { target, state } => println!("lights: {target:?} {state:?}"),
        Heard::Who => println!("the terminal asked who we are; hello sent"),
    }
    if waiting > 0 {
        println!("  {waiting} press(es) not answered yet; sent again every second");
    }
}

/// Reads single key presses without echo while it lives, when stdin is a terminal.
struct KeyMode(Option<libc::termios>);

impl KeyMode {
    fn single_keys() -> KeyMode {
        // SAFETY: termios is plain data, filled by tcgetattr before use; fd 0 is stdin.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::isatty(0) != 1 || libc::tcgetattr(0, &mut t) != 0 {
                return KeyMode(None);
            }
            let saved = t;
            t.c_lflag &= !(libc::ICANON | libc::ECHO);
            libc::tcsetattr(0, libc::TCSANOW, &t);
            KeyMode(Some(saved))
        }
    }
}

impl Drop for KeyMode {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            // SAFETY: restores the settings read at start.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, t) };
        }
    }
}
