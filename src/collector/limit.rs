//! Per-device rate limiting (GCRA, from the governor crate): a device that sends faster than
//! its quota gets 429 with the `Retry-After` that would have let it through.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct DeviceLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl DeviceLimiter {
    pub fn new(per_second: u32, burst: u32) -> DeviceLimiter {
        let nonzero = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(nonzero(per_second)).allow_burst(nonzero(burst));
        DeviceLimiter {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request of `device`; `Err(wait)` when it is over its quota.
    pub fn check(&self, device: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&device.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_device_waits_and_others_do_not() {
        let l = DeviceLimiter::new(1, 3);
        for _ in 0..3 {
            assert!(l.check("a").is_ok());
        }
        let wait = l.check("a").unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(l.check("b").is_ok(), "another device has its own quota");
    }
}
