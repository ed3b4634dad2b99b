//! The device clock as an answer records it: wall time with its UTC offset, whether the
//! clock could be trusted at that moment, and the id of the current boot.
//!
//! A Raspberry Pi has no real-time clock: until NTP has synchronised, the wall clock can be
//! wrong by years. The kernel knows whether it is synchronised; we ask it on every reading
//! and store the answer, so the collector can judge the timestamps later.

/// The wall clock at one moment, as stored with an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    /// Milliseconds since the Unix epoch, as the device believed.
    pub unix_ms: i64,
    /// The same instant in RFC 3339 with the local UTC offset, for time-of-day analysis.
    pub local: String,
    /// Whether the kernel said the clock was synchronised (NTP or similar).
    pub trusted: bool,
    /// Milliseconds since this boot (`CLOCK_BOOTTIME`, which setting the wall clock does not
    /// move): with the boot id, how long ago the answer was given, whatever the wall clock
    /// said then.
    pub boot_ms: i64,
}

/// Reads the wall clock now. Cheap enough for the UI thread: one clock read and one syscall.
pub fn now() -> Reading {
    let zoned = jiff::ZonedDateTime::now();
    let ts = zoned.timestamp();
    Reading {
        unix_ms: ts.as_millisecond(),
        local: ts.display_with_offset(zoned.offset()).to_string(),
        trusted: kernel_clock_synchronised() && ts.as_second() >= EARLIEST_PLAUSIBLE,
        boot_ms: since_boot_ms(),
    }
}

/// Milliseconds since this boot, suspended time included (`CLOCK_BOOTTIME`).
// The casts are needed on 32-bit ARM, whose `timespec` fields may be 32 bits wide.
#[allow(clippy::unnecessary_cast)]
pub fn since_boot_ms() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; CLOCK_BOOTTIME exists on every Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    ts.tv_sec as i64 * 1000 + ts.tv_nsec as i64 / 1_000_000
}

/// 2026-01-01T00:00:00Z: a clock showing an earlier time is wrong whatever the kernel says.
const EARLIEST_PLAUSIBLE: i64 = 1_767_225_600;

/// Asks the kernel whether the system clock is synchronised (`adjtimex` does not report
/// `TIME_ERROR`, which is what it reports until NTP has set the clock).
fn kernel_clock_synchronised() -> bool {
    // SAFETY: `timex` is plain old data; with `modes == 0` adjtimex only reads the state.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    let state = unsafe { libc::adjtimex(&mut tx) };
    state >= 0 && state != libc::TIME_ERROR
}

/// The id the kernel gave this boot. With the per-device sequence number it lets the
/// collector order answers even when the wall clock was wrong.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_rfc3339_with_an_offset() {
        let r = now();
        let parsed: jiff::Timestamp = r.local.parse().expect("local time parses as RFC 3339");
        assert_eq!(parsed.as_millisecond(), r.unix_ms);
        assert!(
            r.local.ends_with('Z') || r.local[19..].contains(['+', '-']),
            "{}",
            r.local
        );
    }

    #[test]
    fn boot_id_is_stable_within_a_boot() {
        assert_eq!(boot_id(), boot_id());
        assert!(!boot_id().is_empty());
    }
}
