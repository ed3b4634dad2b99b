//! Logging for both binaries: to standard error (the journal under systemd), `info` unless
//! `RUST_LOG` says otherwise, colours only on a terminal. No credential is ever logged. A
//! log line that cannot be written (standard error closed, a full disk under it) is dropped:
//! logging never stops, blocks or panics the task that logs.

use std::io::IsTerminal;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// What is logged when `RUST_LOG` says nothing (or nothing valid).
const DEFAULT_FILTER: &str = "info,rusqlite_migration=warn";

/// Sets up logging once, at the start of `main`. `RUST_LOG` takes a level (`debug`) and
/// levels per module (`info,ces_kiosk::sync=debug`). Under systemd (`JOURNAL_STREAM` set)
/// the journal stamps each line itself, so the lines carry no time of their own.
pub fn init() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|given| given.parse::<Targets>().ok())
        .unwrap_or_else(|| DEFAULT_FILTER.parse().expect("the default filter parses"));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| Forgiving(std::io::stderr()))
        // Its own report of a failed write would go to standard error too, and panic there.
        .log_internal_errors(false)
        .with_ansi(std::io::stderr().is_terminal());
    let registry = tracing_subscriber::registry().with(filter);
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        registry.with(layer.without_time()).init();
    } else {
        registry.with(layer).init();
    }
}

/// Standard error, or nowhere when it cannot be written: every write "succeeds".
struct Forgiving(std::io::Stderr);

impl std::io::Write for Forgiving {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = self.0.flush();
        Ok(())
    }
}
