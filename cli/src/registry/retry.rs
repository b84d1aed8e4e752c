//! When and how long to retry. Transient failures (connection errors, timeouts, 408, 429, 5xx)
//! are retried with exponential backoff and jitter, honouring `Retry-After` in both of its forms;
//! a total time budget bounds a request's retries so a sick registry cannot stall a run.
//! 401/403/404 are answers, not accidents, and are never retried blindly.

use std::time::{Duration, Instant, SystemTime};

/// Retry settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry (doubled each time, before jitter).
    pub base_delay: Duration,
    /// Upper bound for one delay.
    pub max_delay: Duration,
    /// Upper bound for all waiting of one request.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
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

/// The retry bookkeeping of one request.
#[derive(Debug)]
pub struct RetryState {
    started: Instant,
    attempts: u32,
}

impl Default for RetryState {
    fn default() -> Self {
        Self::new()
    }
}

impl RetryState {
    /// Starts counting now.
    pub fn new() -> Self {
        Self { started: Instant::now(), attempts: 0 }
    }

    /// Records a failed attempt; returns how long to wait before the next one, or `None` when
    /// the attempts or the time budget are used up (including when the server asks to wait
    /// longer than the budget allows).
    pub fn next_delay(&mut self, policy: &RetryPolicy, retry_after: Option<Duration>) -> Option<Duration> {
        self.attempts += 1;
        if self.attempts >= policy.max_attempts {
            return None;
        }
        let delay = retry_after.unwrap_or_else(|| backoff(policy, self.attempts - 1));
        (self.started.elapsed() + delay <= policy.budget).then_some(delay)
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time since the first attempt.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
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
    fn budget_and_attempts_bound_retries() {
        let p = RetryPolicy { max_attempts: 3, budget: Duration::from_secs(5), ..RetryPolicy::default() };
        let mut s = RetryState::new();
        assert!(s.next_delay(&p, Some(Duration::from_secs(1))).is_some());
        assert!(s.next_delay(&p, Some(Duration::from_secs(60))).is_none(), "over budget");
        let mut s = RetryState::new();
        assert!(s.next_delay(&p, None).is_some());
        assert!(s.next_delay(&p, None).is_some());
        assert!(s.next_delay(&p, None).is_none(), "out of attempts");
    }
}
