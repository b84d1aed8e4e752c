//! When and how long to retry. Transient failures (connection errors, timeouts, 408, 429, 5xx)
//! are retried with exponential backoff and jitter, honouring `Retry-After` in both of its forms;
//! a time budget per host, shared by every request of the run (see [`may_retry`]), bounds them
//! so a sick registry cannot stall a run while one that restarts does not fail it.
//! 401/403/404 are answers, not accidents, and are never retried blindly.

use std::time::{Duration, SystemTime};

/// Retry settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included, for a host that never answered in this run.
    pub max_attempts: u32,
    /// Delay before the first retry (doubled each time, before jitter).
    pub base_delay: Duration,
    /// Upper bound for one delay.
    pub max_delay: Duration,
    /// How long a host that answered before may stay unreachable before its requests fail.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            // Short enough that a registry back from a restart is noticed within seconds.
            max_delay: Duration::from_secs(5),
            budget: Duration::from_secs(90),
        }
    }
}

/// True for the HTTP statuses worth retrying.
pub fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status) && status != 501
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The backoff for retry number `retry` (0-based): exponential, capped, with "equal jitter"
/// (half fixed, half random) so concurrent clients spread out but never retry instantly.
pub fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let exp = policy.base_delay.saturating_mul(1u32 << retry.min(16));
    let capped = exp.min(policy.max_delay);
    let half = capped / 2;
    let jitter_ms = rand::random_range(0..=half.as_millis().max(1) as u64);
    half + Duration::from_millis(jitter_ms)
}

/// Whether one more attempt fits. During an outage of a host that answered earlier in the run
/// (no answer from it since this request first failed, and the failures are refused or lost
/// connections or 429/5xx answers) the request keeps trying until the outage (`outage`: time
/// since the host's first failure after its last answer) plus the next `delay` exceeds the
/// budget, whatever the attempt count: a registry that restarts delays requests instead of
/// failing them. Otherwise (a host never reached, a failure only this request meets while the
/// host answers others, a timeout) `max_attempts` bounds the request, so a wrong registry name or
/// one bad object fails in seconds.
pub(crate) fn may_retry(
    policy: &RetryPolicy,
    outage_mode: bool,
    attempts: u32,
    outage: Duration,
    delay: Duration,
) -> bool {
    if outage_mode { outage + delay <= policy.budget } else { attempts < policy.max_attempts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 501] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn retry_after_both_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for retry in 0..10 {
            let d = backoff(&p, retry);
            let full = p.base_delay.saturating_mul(1 << retry).min(p.max_delay);
            assert!(d >= full / 2 && d <= full + Duration::from_millis(1), "{retry}: {d:?}");
        }
    }

    #[test]
    fn budget_bounds_a_known_host_and_attempts_a_new_one() {
        let p = RetryPolicy { max_attempts: 3, budget: Duration::from_secs(90), ..RetryPolicy::default() };
        let second = Duration::from_secs(1);
        // An outage of a host that answered before: attempts do not matter, the shared clock does.
        assert!(may_retry(&p, true, 40, Duration::from_secs(80), second));
        assert!(!may_retry(&p, true, 2, Duration::from_secs(89) + second, second), "over budget");
        // A host never reached: the attempt count bounds it.
        assert!(may_retry(&p, false, 2, Duration::ZERO, second));
        assert!(!may_retry(&p, false, 3, Duration::ZERO, second), "out of attempts");
    }
}
