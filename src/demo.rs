//! The built-in demo: a complete config for trying the terminal without writing one, and the
//! demo's own collector, started as a `ces-collector demo` process beside the terminal so
//! that the terminal's binary carries no collector of its own.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigError, Device, Upstream};
use crate::credential::{Credential, Kind};

/// The demo config, also shipped as `deploy/examples/demo.toml`.
pub const DEMO_TOML: &str = include_str!("../deploy/examples/demo.toml");

/// The demo dashboard's account name.
pub const DASHBOARD_USER: &str = "demo";

/// The program that serves the demo's collector.
pub const COLLECTOR_PROGRAM: &str = "ces-collector";

/// How long the demo's collector may take to open its database and listen.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// The demo config with its database inside `data_dir`.
pub fn config(data_dir: &Path) -> Result<Config, ConfigError> {
    Config::parse(DEMO_TOML, Path::new("<built-in demo config>"), data_dir)
}

/// What the demo's collector prints, as one JSON line on its standard output, once it
/// listens: where it is and the secrets the terminal and the person trying it need.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ready {
    /// The collector's base URL, like `http://127.0.0.1:41693/`.
    pub url: String,
    /// The demo terminal's device credential.
    pub device_credential: String,
    /// An admin token for reading the demo's export and report.
    pub admin_token: String,
    /// The dashboard password of the account [`DASHBOARD_USER`].
    pub dashboard_password: String,
}

/// The demo's collector, running as a child process. It stops when this is dropped (its
/// standard input closes), and also when the terminal dies, since the pipe closes then too.
pub struct DemoCollector {
    /// Where the demo terminal syncs to, with its credential.
    pub upstream: Upstream,
    pub ready: Ready,
    _process: Process,
}

impl DemoCollector {
    /// Starts `ces-collector demo` with its data in `data_dir`, enrolling `device`; `None`
    /// when no `ces-collector` is beside this program or on the `PATH`.
    pub fn start(data_dir: &Path, device: &Device) -> anyhow::Result<Option<DemoCollector>> {
        let Some(program) = collector_program() else {
            return Ok(None);
        };
        let mut child = Command::new(&program)
            .arg("demo")
            .arg("--data")
            .arg(data_dir)
            .args(["--device", &device.id])
            .args(["--site", &device.site])
            .args(["--touchpoint", &device.touchpoint])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        let stdout = child.stdout.take().expect("the child's stdout is piped");
        let mut process = Process {
            stdin: child.stdin.take(),
            child,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
        });
        let line = match rx.recv_timeout(READY_WITHIN) {
            Ok(read) => read.context("cannot read what the demo collector printed")?,
            Err(_) => {
                let _ = process.child.kill();
                bail!(
                    "{} did not say it was ready within {} s",
                    program.display(),
                    READY_WITHIN.as_secs()
                )
            }
        };
        if line.is_empty() {
            let status = process.child.wait();
            let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
            bail!("{} ended before it was ready ({status})", program.display());
        }
        let ready: Ready = serde_json::from_str(&line)
            .with_context(|| format!("{} printed {:?}", program.display(), line.trim()))?;
        let url = reqwest::Url::parse(&ready.url)
            .with_context(|| format!("the demo collector's URL {:?}", ready.url))?;
        let credential = Credential::parse(&ready.device_credential, Kind::Device)
            .context("the demo collector's device credential")?;
        let mut upstream = Upstream::new(url, credential);
        upstream.upload_delay = Duration::from_secs(1);
        Ok(Some(DemoCollector {
            upstream,
            ready,
            _process: process,
        }))
    }
}

/// A child process that is told to stop, and waited for, when this is dropped.
struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for Process {
    fn drop(&mut self) {
        // End of input tells it to stop; it finishes the requests in flight.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// `ces-collector` beside this program (a build's `target/release/`, or `/usr/bin` of the
/// packages), or else the first on the `PATH`.
fn collector_program() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(COLLECTOR_PROGRAM));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(COLLECTOR_PROGRAM));
    beside.into_iter().chain(on_path).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_config_is_valid() {
        let c = super::config(std::path::Path::new("demo-data")).expect("demo config validates");
        assert_eq!(c.storage.path, std::path::Path::new("demo-data/answers.db"));
        assert!(
            !c.survey.follow_up.is_empty(),
            "the demo shows the follow-up question"
        );
        assert!(c.upstream.is_none(), "the demo syncs to its own collector");
    }
}
