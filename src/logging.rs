//! Logging for both binaries: to standard error (the journal under systemd), `info` unless
//! `RUST_LOG` says otherwise, colours only on a terminal. No credential is ever logged.

use std::io::IsTerminal;

/// Sets up logging once, at the start of `main`. Under systemd (`JOURNAL_STREAM` set) the
/// journal stamps each line itself, so the lines carry no time of their own.
pub fn init() {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rusqlite_migration=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().init();
    } else {
        builder.init();
    }
}
