//! Rate limits (GCRA, from the governor crate): per device, per client address, and for all
//! callers of a route together. Who is over the quota gets 429 with the `Retry-After` that
//! would have let the request through. A client address that keeps presenting unknown
//! credentials is turned away for a while without looking them up.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// A quota per key (a device id, a client address).
pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

/// The per-device limiter.
pub type DeviceLimiter = KeyedLimiter<String>;

fn quota(per_second: u32, burst: u32) -> Quota {
    let nonzero = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(nonzero(per_second)).allow_burst(nonzero(burst))
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    pub fn new(per_second: u32, burst: u32) -> KeyedLimiter<K> {
        KeyedLimiter {
            limiter: RateLimiter::keyed(quota(per_second, burst)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request of `key`; `Err(wait)` when it is over its quota.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets keys whose quota is full again (they would pass as if never seen).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Keys remembered now.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }
}

/// One quota for everybody together.
pub struct GlobalLimiter {
    limiter: governor::DefaultDirectRateLimiter,
    clock: DefaultClock,
}

impl GlobalLimiter {
    pub fn new(per_second: u32, burst: u32) -> GlobalLimiter {
        GlobalLimiter {
            limiter: RateLimiter::direct(quota(per_second, burst)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one request; `Err(wait)` when the quota is used up.
    pub fn check(&self) -> Result<(), Duration> {
        self.limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The key of a client address: an IPv4 address, or an IPv6 address's /64 network (one
/// subscriber usually has a whole /64, so single addresses in it would be free to take).
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(bits.into())
            }
        },
        v4 => v4,
    }
}

/// Failed credentials per client address: after a burst of unknown credentials, the address
/// is turned away (429) until its quota has room again, before any lookup.
pub struct FailedAuth {
    quota: KeyedLimiter<IpAddr>,
    blocked: Mutex<std::collections::HashMap<IpAddr, Instant>>,
}

impl FailedAuth {
    pub fn new(per_second: u32, burst: u32) -> FailedAuth {
        FailedAuth {
            quota: KeyedLimiter::new(per_second, burst),
            blocked: Mutex::default(),
        }
    }

    fn blocked(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<IpAddr, Instant>> {
        self.blocked.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err(wait)` while `ip` is turned away.
    pub fn admit(&self, ip: IpAddr) -> Result<(), Duration> {
        let key = address_key(ip);
        let mut blocked = self.blocked();
        match blocked.get(&key) {
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    blocked.remove(&key);
                    Ok(())
                } else {
                    Err(left)
                }
            }
            None => Ok(()),
        }
    }

    /// Counts an unknown credential from `ip`; over the quota, the address is turned away
    /// (`Err(wait)`).
    pub fn failed(&self, ip: IpAddr) -> Result<(), Duration> {
        let key = address_key(ip);
        self.quota.check(&key).inspect_err(|wait| {
            tracing::warn!(client = %key, "too many unknown credentials from one address; turned away for {wait:?}");
            self.blocked().insert(key, Instant::now() + *wait);
        })
    }

    /// Forgets addresses that are no longer turned away.
    pub fn forget_idle(&self) {
        let now = Instant::now();
        self.blocked().retain(|_, until| *until > now);
        self.quota.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_device_waits_and_others_do_not() {
        let l = DeviceLimiter::new(1, 3);
        for _ in 0..3 {
            assert!(l.check(&"a".to_owned()).is_ok());
        }
        let wait = l.check(&"a".to_owned()).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(
            l.check(&"b".to_owned()).is_ok(),
            "another device has its own quota"
        );
    }

    #[test]
    fn ipv6_addresses_are_limited_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_address_with_too_many_unknown_credentials_is_turned_away_alone() {
        let f = FailedAuth::new(1, 3);
        let bad: IpAddr = "192.0.2.1".parse().unwrap();
        let good: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(f.admit(bad).is_ok());
            assert!(f.failed(bad).is_ok());
        }
        assert!(f.admit(bad).is_ok(), "the burst is allowed");
        assert!(f.failed(bad).is_err(), "one more is too many");
        let wait = f.admit(bad).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert!(f.admit(good).is_ok());
    }
}
