//! A storage card for tests and benchmarks: `tests/assets/lazyfs.py`, a FUSE pass-through
//! that forgets every write no fsync covered when told of a power cut, and can make each
//! fsync slow, as a cheap SD card is. Needs Debian's python3-fusepy and fuse, and /dev/fuse.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A mounted card; unmounted when dropped.
pub struct Card {
    child: Child,
    /// Where the files are seen (and the terminal keeps its database).
    pub mount: PathBuf,
    /// Where they really are.
    pub backing: PathBuf,
    control: BufReader<UnixStream>,
}

impl Card {
    /// Mounts a card over the folder `backing` at `mount` (both made here) with these
    /// options (`--fsync-delay-ms N`, `--lie`), and waits until it is mounted.
    pub fn mount(dir: &Path, options: &[&str]) -> Card {
        let (backing, mount) = (dir.join("card-backing"), dir.join("card"));
        std::fs::create_dir_all(&backing).unwrap();
        std::fs::create_dir_all(&mount).unwrap();
        let control = dir.join("card-control");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/assets/lazyfs.py");
        // Debian's Python, which has python3-fusepy (not a pyenv one earlier in PATH).
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .args([&backing, &mount, &control])
            .args(options)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the card");
        let mut ready = String::new();
        let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready);
        let connected = UnixStream::connect(&control);
        match connected {
            Ok(control) if ready.trim() == "ready" => Card {
                child,
                mount,
                backing,
                control: BufReader::new(control),
            },
            connected => {
                // Nothing left mounted or running behind a test that stops here.
                unmount(&mount, &mut child);
                panic!(
                    "the card did not mount (python3-fusepy, fuse and /dev/fuse are needed): \
                     said {ready:?}, control socket {:?}",
                    connected.err()
                );
            }
        }
    }

    /// Sends one control command and returns its answer.
    pub fn command(&mut self, command: &str) -> String {
        writeln!(self.control.get_mut(), "{command}").unwrap();
        let mut reply = String::new();
        self.control.read_line(&mut reply).unwrap();
        reply.trim().to_owned()
    }

    /// A power cut: every write no fsync covered is forgotten.
    pub fn power_cut(&mut self) {
        let reply = self.command("crash");
        assert!(reply.starts_with("ok"), "{reply}");
    }

    /// fsyncs, writes and bytes written through the card so far.
    pub fn stats(&mut self) -> (u64, u64, u64) {
        let reply = self.command("stats");
        let n: Vec<u64> = reply
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(n.len(), 3, "{reply}");
        (n[0], n[1], n[2])
    }
}

impl Drop for Card {
    fn drop(&mut self) {
        unmount(&self.mount, &mut self.child);
    }
}

fn unmount(mount: &Path, child: &mut Child) {
    let _ = Command::new("fusermount")
        .args(["-u", "-z"])
        .arg(mount)
        .status();
    let _ = child.kill();
    let _ = child.wait();
}
