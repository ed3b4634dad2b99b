//! Logging for both binaries: to standard error (the journal under systemd), `info` unless
//! `RUST_LOG` says otherwise, colours only on a terminal. No credential is ever logged. A
//! log line that cannot be written (standard error closed, a full disk under it) is dropped:
//! logging never stops, blocks or panics the task that logs.

use std::io::IsTerminal;

/// Sets up logging once, at the start of `main`. Under systemd (`JOURNAL_STREAM` set) the
/// journal stamps each line itself, so the lines carry no time of their own.
pub fn init() {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rusqlite_migration=warn".into()),
        )
        .with_writer(|| Forgiving(std::io::stderr()))
        // Its own report of a failed write would go to standard error too, and panic there.
        .log_internal_errors(false)
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().init();
    } else {
        builder.init();
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
