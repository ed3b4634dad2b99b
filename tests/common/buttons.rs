//! A button terminal for tests: the real config parser, store thread, serial readers and
//! flow on a fresh database, fed by software boxes on real pty pairs.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use ces_kiosk::button_terminal::{ButtonTerminal, Input};
use ces_kiosk::buttons::simulate::{Heard, SimBox};
use ces_kiosk::config::Config;
use ces_kiosk::demo::DEMO_TOML;

/// How long a test waits for the terminal to answer a box.
pub const REPLY_WAIT: Duration = Duration::from_secs(10);

/// How often the test boxes send an unanswered press again.
pub const RESEND: Duration = Duration::from_millis(100);

/// The demo config as a button terminal without a display, with these boxes (path, scores)
/// and this misuse cooldown, its database in `dir`.
pub fn config(dir: &Path, boxes: &[(PathBuf, &str)], cooldown: f64) -> Config {
    Config::parse(
        &config_text(boxes, cooldown),
        Path::new("button-terminal.toml"),
        dir,
    )
    .expect("a valid config")
}

/// The text of [`config`], for a config file beside the database.
pub fn config_text(boxes: &[(PathBuf, &str)], cooldown: f64) -> String {
    let mut text = DEMO_TOML.replacen(
        "misuse_cooldown_seconds = 3",
        &format!("misuse_cooldown_seconds = {cooldown}"),
        1,
    );
    text.push_str("\n[display]\nkind = \"none\"\n");
    for (path, scores) in boxes {
        text.push_str(&format!(
            "\n[[button_box]]\npath = \"{}\"\nscores = {scores}\n",
            path.display()
        ));
    }
    text
}

/// The real `ces-kiosk` binary running the terminal of `config_file`, quiet.
pub fn binary(config_file: &Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_ces-kiosk"))
        .args(["run", "--config"])
        .arg(config_file)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the kiosk binary starts")
}

/// A folder on tmpfs (`/dev/shm`), as a read-only root's overlay keeps its changes in RAM;
/// removed when dropped.
pub fn in_ram() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ces-volatile-")
        .tempdir_in("/dev/shm")
        .unwrap()
}

/// A button terminal's config file in `dir` (its database there too), its one box at `sim`
/// (buttons 1-3 give 1, 4 and 7), a database in RAM allowed or not.
pub fn file_allowing_ram(dir: &Path, sim: &Path, allow: bool) -> PathBuf {
    let text = config_text(&[(sim.to_owned(), "[1, 4, 7]")], 0.0).replace(
        "allow_volatile = true",
        &format!("allow_volatile = {allow}"),
    );
    assert!(text.contains(&format!("allow_volatile = {allow}")));
    let path = dir.join("terminal.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The demo touch terminal with the box `sim` beside it (buttons 1-3 give 2, 4 and 6), its
/// database in `dir`.
pub fn touch_config(dir: &Path, sim: &SimBox) -> Config {
    let text = format!(
        "{DEMO_TOML}\n[[button_box]]\npath = \"{}\"\nscores = [2, 4, 6]\n",
        sim.path().display()
    );
    Config::parse(&text, Path::new("t.toml"), dir).expect("a valid config")
}

/// A button terminal running on its own thread until dropped.
pub struct Running {
    sender: mpsc::Sender<Input>,
    thread: Option<JoinHandle<()>>,
}

pub fn start(config: &Config) -> Running {
    let terminal = ButtonTerminal::new(config, None, None).expect("terminal starts");
    let sender = terminal.sender();
    let thread = std::thread::spawn(move || terminal.run());
    Running {
        sender,
        thread: Some(thread),
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.sender.send(Input::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A box on a fresh pty, linked from `dir/name` as udev links a USB box.
pub fn sim_box(dir: &Path, name: &str) -> SimBox {
    SimBox::start(name, Some(&dir.join(name)), RESEND).expect("a pty pair")
}

/// Waits until the terminal has the box's port open (it asks who the box is).
pub fn wait_connected(sim: &SimBox) {
    loop {
        match sim.next(REPLY_WAIT) {
            Some(Heard::Who) => return,
            Some(_) => {}
            None => panic!("the terminal did not open the box's port"),
        }
    }
}

/// Waits for the terminal's verdict on press `seq`: an ACK or a NAK.
pub fn verdict(sim: &SimBox, seq: u32) -> Heard {
    loop {
        match sim.next(REPLY_WAIT) {
            Some(h @ (Heard::Ack { seq: s, .. } | Heard::Nak { seq: s })) if s == seq => return h,
            Some(_) => {}
            None => panic!("no verdict on press {seq}"),
        }
    }
}
