//! Per-host politeness: a token bucket (requests per second, default 50) and a cap on requests
//! in flight. Hand-written because it is a few lines on top of tokio's clock and semaphore,
//! and a reservation-style bucket (take now, wait your turn outside the lock) keeps waiters fair.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Fraction of the configured rate that requests are paced at (see [`HostLimiter::new`]).
const PACING_MARGIN: f64 = 0.98;

/// A token bucket. `rate` tokens per second, holding at most `burst`.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A bucket that starts full. A rate that is not positive and finite means unlimited.
    pub(crate) fn new(rate: f64, burst: f64) -> Self {
        let burst = burst.max(1.0);
        Self { rate, burst, state: Mutex::new((burst, Instant::now())) }
    }

    /// Waits until one request may be sent.
    pub(crate) async fn acquire(&self) {
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return;
        }
        let wait = {
            let mut state = self.state.lock().await;
            let now = Instant::now();
            let (tokens, last) = *state;
            let refilled = (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
            // Reserve a token even when the bucket is empty: a negative balance is this
            // caller's place in the queue.
            let left = refilled - 1.0;
            *state = (left, now);
            if left >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-left / self.rate) }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Rate and concurrency limits of one host.
#[derive(Debug)]
pub(crate) struct HostLimiter {
    bucket: TokenBucket,
    in_flight: Arc<Semaphore>,
}

impl HostLimiter {
    /// At most `rate` requests in any one-second window, at most `concurrency` at once.
    ///
    /// The bucket holds a single token: a bucket holding a second's worth would admit a full
    /// burst plus a second of refill, up to 2R-1 requests in one window. Requests are paced 2%
    /// under the limit because a wake-up that comes late shortens the gap to a later request,
    /// and the limit must hold for the times the registry sees, not the times we scheduled.
    pub(crate) fn new(rate: f64, concurrency: usize) -> Self {
        Self {
            bucket: TokenBucket::new(rate * PACING_MARGIN, 1.0),
            in_flight: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Waits for a concurrency slot and a rate token; the slot is held until the permit drops.
    pub(crate) async fn admit(&self) -> OwnedSemaphorePermit {
        let permit = self.in_flight.clone().acquire_owned().await.expect("semaphore never closed");
        self.bucket.acquire().await;
        permit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_paces_after_burst() {
        let bucket = TokenBucket::new(10.0, 10.0);
        let start = Instant::now();
        for _ in 0..30 {
            bucket.acquire().await;
        }
        // 10 from the burst, 20 more at 10/s.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(1990) && took <= Duration::from_millis(2100), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_rate_never_waits() {
        // On a paused clock, any sleep advances tokio's time: an unlimited bucket must not move
        // it, while a limited one must (so the check can fail).
        let started = Instant::now();
        let bucket = TokenBucket::new(0.0, 1.0);
        for _ in 0..1000 {
            bucket.acquire().await;
        }
        assert_eq!(Instant::now(), started, "no waiting at rate 0 (unlimited)");
        let limited = TokenBucket::new(10.0, 1.0);
        for _ in 0..3 {
            limited.acquire().await;
        }
        assert!(Instant::now() - started >= Duration::from_millis(190), "10/s paces 3 requests over 0.2 s");
    }

    #[tokio::test]
    async fn concurrency_is_capped() {
        let limiter = HostLimiter::new(f64::INFINITY, 2);
        let a = limiter.admit().await;
        let _b = limiter.admit().await;
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.admit()).await;
        assert!(third.is_err());
        drop(a);
        let _permit = tokio::time::timeout(Duration::from_millis(50), limiter.admit()).await.unwrap();
    }
}
