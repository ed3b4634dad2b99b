//! The upload retry policy, as trusted agents follow it (OTLP): retry only a failed
//! connection, 429, 502, 503 and 504; honour `Retry-After`; back off exponentially with full
//! jitter and a cap; never retry a request the collector refused.
//!
//! One deliberate difference: where OTLP drops the data of any other status, a terminal must
//! never lose an answer. A refusal that speaks of the request (4xx) dead-letters its answers
//! (kept on the terminal, shown in status); a failure of the collector itself (500 and the
//! other 5xx) says nothing about the answers, so they stay queued for a much later attempt.
//! These apply to the collector's own replies only (`transport::Responder`): what a proxy or
//! a captive portal answers in its place is retried with the normal backoff.

use std::time::Duration;

/// What the uploader does after one upload attempt of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// The collector answered per answer (2xx): apply its results.
    Answered,
    /// Worth trying the same batch again later.
    Retry,
    /// The batch is too large (413): send it again in smaller batches.
    Split,
    /// The credential was refused (401) or revoked (403): keep every answer, stop sending,
    /// and tell staff; sending again only helps after re-enrolment.
    Unauthorized,
    /// The collector refused the batch as such (400, 422, …): never sent again as it is;
    /// its answers go to the dead-letter state with the reason.
    Refused,
    /// The collector failed (500, 501, 505, …): the answers are not at fault. They stay
    /// queued and the next attempt waits the longest backoff; nothing is dead-lettered.
    ServerFault,
}

/// Classifies an HTTP status of an upload response.
pub fn classify(status: u16) -> Disposition {
    match status {
        200..=299 => Disposition::Answered,
        429 | 502 | 503 | 504 => Disposition::Retry,
        413 => Disposition::Split,
        401 | 403 => Disposition::Unauthorized,
        500..=599 => Disposition::ServerFault,
        _ => Disposition::Refused,
    }
}

/// Exponential backoff with full jitter: the n-th retry waits a uniformly random time between
/// zero and `min(cap, base * 2^n)`, so that a fleet coming back online does not send in step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    /// The longest `Retry-After` the uploader accepts; longer ones are cut to this.
    pub max_retry_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
            max_retry_after: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The upper bound of the wait before retry number `attempt` (0 for the first retry).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The wait before retry number `attempt`: `unit` is a uniform random number in [0, 1)
    /// (passed in so that the policy stays deterministic to test). A `Retry-After` from the
    /// collector is a floor: the uploader never comes back sooner than it was asked to.
    pub fn delay(&self, attempt: u32, unit: f64, retry_after: Option<Duration>) -> Duration {
        let jittered = self.ceiling(attempt).mul_f64(unit.clamp(0.0, 1.0));
        match retry_after {
            Some(after) => jittered.max(after.min(self.max_retry_after)),
            None => jittered,
        }
    }
}

/// Parses a `Retry-After` header value: delay-seconds or an HTTP-date (RFC 9110), relative to
/// `now`. None for a value that is neither; a date in the past means "now" (zero).
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    static PARSER: jiff::fmt::rfc2822::DateTimeParser = jiff::fmt::rfc2822::DateTimeParser::new();
    let at = PARSER.parse_timestamp(value).ok()?;
    let millis = at.as_millisecond().saturating_sub(now.as_millisecond());
    Some(Duration::from_millis(u64::try_from(millis).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connection_level_and_overload_statuses_are_retried() {
        for s in [429, 502, 503, 504] {
            assert_eq!(classify(s), Disposition::Retry, "{s}");
        }
        for s in [200, 207] {
            assert_eq!(classify(s), Disposition::Answered, "{s}");
        }
        assert_eq!(classify(413), Disposition::Split);
        assert_eq!(classify(401), Disposition::Unauthorized);
        assert_eq!(classify(403), Disposition::Unauthorized);
        for s in [400, 404, 409, 415, 422, 301, 100] {
            assert_eq!(classify(s), Disposition::Refused, "{s} is never retried");
        }
        for s in [500, 501, 505, 599] {
            assert_eq!(
                classify(s),
                Disposition::ServerFault,
                "{s} keeps the answers"
            );
        }
    }

    #[test]
    fn backoff_grows_exponentially_up_to_the_cap() {
        let b = Backoff::default();
        let ceilings: Vec<u64> = (0..12).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(
            b.ceiling(u32::MAX),
            b.cap,
            "no overflow on a very long outage"
        );
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        let b = Backoff::default();
        assert_eq!(b.delay(3, 0.0, None), Duration::ZERO);
        assert_eq!(b.delay(3, 0.5, None), Duration::from_secs(4));
        assert!(b.delay(3, 0.999_999, None) < Duration::from_secs(8));
        assert_eq!(
            b.delay(3, 7.0, None),
            Duration::from_secs(8),
            "unit is clamped"
        );
    }

    #[test]
    fn retry_after_is_a_floor_and_capped() {
        let b = Backoff::default();
        let ten = Some(Duration::from_secs(10));
        assert_eq!(b.delay(0, 0.5, ten), Duration::from_secs(10));
        assert_eq!(
            b.delay(9, 1.0, ten),
            Duration::from_secs(300),
            "a longer jitter wins"
        );
        let day = Some(Duration::from_secs(86_400));
        assert_eq!(b.delay(0, 0.0, day), Duration::from_secs(3600));
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now: jiff::Timestamp = "2026-11-24T08:49:30Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after("Tue, 24 Nov 2026 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
