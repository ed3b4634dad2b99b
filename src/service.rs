//! Running as a systemd service (`Type=notify`): say when the terminal or the collector is
//! ready and when it stops, keep the watchdog fed, and stop cleanly on SIGTERM (what
//! systemd sends at every stop and update). The kiosk feeds it from its UI thread
//! (a Slint timer) or its button loop, so a frozen screen stops the pings and systemd
//! restarts the service. Outside systemd every call does nothing.
//!
//! Under cage the service's main process is cage, not the kiosk: systemd names cage in
//! `WATCHDOG_PID`, and the unit says `NotifyAccess=all` so the kiosk's own pings count. So
//! the interval is read from `WATCHDOG_USEC` alone.

use std::time::Duration;

use sd_notify::NotifyState;

/// Tells systemd the service is ready (the window is up, or the collector listens).
pub fn ready() {
    send(&[NotifyState::Ready]);
}

/// Tells systemd the service is stopping on purpose.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

/// Feeds the watchdog.
pub fn ping() {
    send(&[NotifyState::Watchdog]);
}

/// How often to feed the watchdog: a third of the unit's `WatchdogSec`, or `None` when no
/// watchdog is set (not under systemd).
pub fn watchdog_interval() -> Option<Duration> {
    std::env::var_os("NOTIFY_SOCKET")?;
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 3))
}

/// Calls `stop` on a thread of its own at the first SIGTERM or SIGINT, after telling
/// systemd the service is stopping; a second one ends the process at once (exit 1).
pub fn stop_on_signal(stop: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut stop = Some(stop);
            for signal in signals.forever() {
                match stop.take() {
                    Some(stop) => {
                        let name = if signal == SIGTERM {
                            "SIGTERM"
                        } else {
                            "SIGINT"
                        };
                        tracing::info!("{name}: stopping once the answer in flight is stored");
                        stopping();
                        stop();
                    }
                    None => {
                        tracing::warn!("stopped again: exiting at once");
                        std::process::exit(1);
                    }
                }
            }
        })?;
    Ok(())
}

fn send(state: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!("cannot notify systemd: {e}");
    }
}
