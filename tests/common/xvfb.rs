//! A virtual X server for tests and benchmarks that need a real window: started on a free
//! display (Xvfb picks it and tells us), stopped when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

pub struct Xvfb {
    child: Child,
    pub display: String,
    /// Kept open: Xvfb may write to its display fd again, and must not die of SIGPIPE.
    _displayfd: BufReader<ChildStdout>,
}

impl Xvfb {
    /// Starts Xvfb with one 800×480 screen and waits until it accepts clients.
    pub fn start() -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "800x480x24",
                "-nolisten",
                "tcp",
                // Stay as it is when a client disconnects (between kiosk starts).
                "-noreset",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (apt-get install xvfb)");
        let mut displayfd = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        displayfd.read_line(&mut line).unwrap();
        let display = format!(":{}", line.trim());
        Xvfb {
            child,
            display,
            _displayfd: displayfd,
        }
    }

    /// Runs xdotool against this display; true when it succeeded (found what it searched).
    pub fn xdotool(&self, args: &[&str]) -> bool {
        Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("xdotool runs (apt-get install xdotool)")
            .success()
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}
