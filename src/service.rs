//! Running as a systemd service (`Type=notify`): say when the terminal or the collector is
//! ready and when it stops, and keep the watchdog fed. The kiosk feeds it from its UI thread
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

fn send(state: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!("cannot notify systemd: {e}");
    }
}
