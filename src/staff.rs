//! The staff PIN: stored only as an Argon2id hash in the terminal's config (`[staff]
//! pin_hash`, made by `ces-kiosk staff-pin`), checked off the UI thread (a hash takes tens
//! of milliseconds on purpose), and locked for a while after repeated wrong PINs so that a
//! visitor cannot try them all: 5 wrong in a row lock it for 5 minutes, and every further
//! 5 double that, up to an hour.

use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// A PIN is 4 to 8 digits.
pub fn is_pin(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The PHC string (`$argon2id$…`) of a new random-salted hash of `pin`.
pub fn hash_pin(pin: &str) -> Result<String, String> {
    if !is_pin(pin) {
        return Err("a PIN is 4 to 8 digits".into());
    }
    Argon2::default()
        .hash_password(pin.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the PIN: {e}"))
}

/// Whether `text` is a PIN hash this terminal can check.
pub fn is_pin_hash(text: &str) -> bool {
    text.starts_with("$argon2id$") && PasswordHash::new(text).is_ok()
}

/// Whether `pin` matches `hash`. Slow by design: never call it on the UI thread.
pub fn verify(hash: &str, pin: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &h)
            .is_ok()
    })
}

/// Turns off the echo of the terminal on standard input while it lives (for typing a PIN).
pub struct EchoOff {
    saved: Option<libc::termios>,
}

impl EchoOff {
    pub fn start() -> EchoOff {
        // SAFETY: termios is plain data; tcgetattr fills it for fd 0 or fails.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
            return EchoOff { saved: None };
        }
        let saved = t;
        t.c_lflag &= !libc::ECHO;
        // SAFETY: a termios read from the same descriptor, with echo cleared.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
        EchoOff { saved: Some(saved) }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            // SAFETY: the settings read before.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, saved) };
        }
    }
}

/// Wrong PINs in a row before the PIN locks.
pub const TRIES: u32 = 5;
const FIRST_LOCK: Duration = Duration::from_secs(5 * 60);
const LONGEST_LOCK: Duration = Duration::from_secs(3600);

/// The count of wrong PINs and the lock they earned.
#[derive(Clone, Debug, Default)]
pub struct Lockout {
    wrong: u32,
    until: Option<Instant>,
}

impl Lockout {
    /// `Err(how long still)` while locked.
    pub fn check(&self, now: Instant) -> Result<(), Duration> {
        match self.until {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// A wrong PIN at `now`; the lock it starts, if any.
    pub fn wrong(&mut self, now: Instant) -> Option<Duration> {
        self.wrong += 1;
        if !self.wrong.is_multiple_of(TRIES) {
            return None;
        }
        let doublings = (self.wrong / TRIES - 1).min(4);
        let lock = (FIRST_LOCK * 2u32.pow(doublings)).min(LONGEST_LOCK);
        self.until = Some(now + lock);
        Some(lock)
    }

    /// Wrong PINs left before the next lock.
    pub fn tries_left(&self) -> u32 {
        TRIES - self.wrong % TRIES
    }

    /// The right PIN: the count starts again.
    pub fn right(&mut self) {
        *self = Lockout::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_hash_checks_the_pin_and_only_it() {
        let hash = hash_pin("2468").unwrap();
        assert!(is_pin_hash(&hash), "{hash}");
        assert!(!hash.contains("2468"));
        assert!(verify(&hash, "2468"));
        assert!(!verify(&hash, "2469") && !verify(&hash, ""));
        assert_ne!(hash_pin("2468").unwrap(), hash, "salted");
        for bad in ["123", "123456789", "12a4", ""] {
            assert!(hash_pin(bad).is_err(), "{bad}");
        }
        assert!(!is_pin_hash("2468") && !is_pin_hash("$argon2id$broken"));
        assert!(!verify("not a hash", "2468"));
    }

    #[test]
    fn five_wrong_pins_lock_for_five_minutes_then_longer() {
        let start = Instant::now();
        let mut l = Lockout::default();
        for i in 0..4 {
            assert_eq!(l.wrong(start), None);
            assert_eq!(l.tries_left(), 4 - i);
        }
        assert_eq!(l.wrong(start), Some(Duration::from_secs(300)));
        assert_eq!(
            l.check(start + Duration::from_secs(299)),
            Err(Duration::from_secs(1))
        );
        assert!(l.check(start + Duration::from_secs(300)).is_ok());
        let later = start + Duration::from_secs(300);
        for _ in 0..4 {
            assert_eq!(l.wrong(later), None);
        }
        assert_eq!(l.wrong(later), Some(Duration::from_secs(600)), "doubled");
        for _ in 0..40 {
            l.wrong(later);
        }
        assert!(
            l.check(later).unwrap_err() <= LONGEST_LOCK,
            "at most an hour"
        );
        l.right();
        assert!(l.check(later).is_ok());
        assert_eq!(l.tries_left(), TRIES);
    }
}
