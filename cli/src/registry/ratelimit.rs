//! Per-host politeness: a pacing clock (requests per second), a cap on requests in flight, and
//! the rate's policy ([`RatePolicy`]): fixed (`--registry-rate`, `--host-rate`), or adaptive
//! (AIMD): when `429 Too Many Requests` (or `503` with `Retry-After`) answers reach a tenth of
//! what a host was sent in the last second, that host's rate is cut to half of what it was
//! actually sending, and every second without a cut raises it by a tenth of the rate it was cut
//! to, up to the policy's ceiling. Only the host that asked slows down (the Go promoter pauses
//! everything for 10 s on any 429). Sporadic throttling answers (under a tenth) are retried
//! without a cut: a registry that sheds the odd request is not over a quota, and cutting on
//! each one halves the rate every second until a run crawls (a 20% fault mix holds about 4%
//! of 429s).
//!
//! Hand-written because it is a few lines on top of tokio's clock and semaphore; the
//! reservation-style clock (take a slot now, wait for it outside the lock) keeps waiters fair,
//! and the rate can change under it, which rate-limiting crates with a fixed quota do not offer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Fraction of the configured rate that requests are paced at (see [`HostLimiter::new`]).
const PACING_MARGIN: f64 = 0.98;

/// The lowest rate a cut reaches (requests per second).
const FLOOR: f64 = 1.0;

/// After a cut, further throttling answers within this time do not cut again: they answer
/// requests sent before the cut took effect.
const CUT_COOLDOWN: Duration = Duration::from_secs(1);

/// How often the rate is raised while requests succeed.
const RAISE_EVERY: Duration = Duration::from_secs(1);

/// Without a ceiling, a recovering rate above this is unlimited again.
const UNLIMITED_AGAIN: f64 = 10_000.0;

/// Admissions remembered to measure the rate actually sent (one second's worth, bounded).
const WINDOW_CAP: usize = 4096;

/// Share of the last second's requests answered with throttling that cuts an adaptive rate.
const CUT_SHARE: f64 = 0.1;

/// Fewest throttling answers within a second that cut an adaptive rate (one alone is noise).
const CUT_MIN: f64 = 2.0;

/// How a host's rate is set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum RatePolicy {
    /// Always this many requests per second (not positive or not finite: unlimited), whatever
    /// the host answers (its `Retry-After` is still honoured by the retries).
    Fixed(f64),
    /// Starts at `start` (infinite: unlimited), halved on throttling, recovering up to
    /// `ceiling` (infinite: no ceiling).
    Adaptive {
        /// The rate before any throttling.
        start: f64,
        /// The highest rate recovery reaches.
        ceiling: f64,
    },
}

impl RatePolicy {
    /// The name in reports: `fixed`, `adaptive` or `unlimited` (fixed at no limit).
    pub(crate) fn mode(self) -> &'static str {
        match self {
            RatePolicy::Fixed(rate) if !limited(rate) => "unlimited",
            RatePolicy::Fixed(_) => "fixed",
            RatePolicy::Adaptive { .. } => "adaptive",
        }
    }
}

fn limited(rate: f64) -> bool {
    rate.is_finite() && rate > 0.0
}

/// What a host's limiter did in a run (reports and `--format json`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateReport {
    /// `fixed`, `adaptive` or `unlimited`.
    pub mode: String,
    /// The rate in effect at the end (requests per second); `None`: unlimited.
    pub rate: Option<f64>,
    /// The lowest rate in effect during the run; `None`: never limited.
    pub lowest: Option<f64>,
    /// Throttling answers (`429`, or `503` with `Retry-After`).
    pub throttled: u64,
    /// How many times the rate was cut.
    pub cuts: u64,
}

#[derive(Debug)]
struct Pace {
    /// Current rate (not limited: unlimited).
    rate: f64,
    /// Lowest limited rate so far.
    lowest: Option<f64>,
    /// When the next request may be sent (reservation clock).
    next: Instant,
    /// Admission times within the last second.
    recent: VecDeque<Instant>,
    /// Times of throttling answers within the last second.
    refusals: VecDeque<Instant>,
    last_cut: Option<Instant>,
    last_raise: Instant,
    /// Additive step of the recovery (a tenth of the rate the last cut set).
    step: f64,
    throttled: u64,
    cuts: u64,
}

/// Rate and concurrency limits of one host.
#[derive(Debug)]
pub(crate) struct HostLimiter {
    policy: RatePolicy,
    pace: Mutex<Pace>,
    in_flight: Arc<Semaphore>,
}

impl HostLimiter {
    /// At most the policy's rate in any one-second window, at most `concurrency` at once.
    ///
    /// Requests are spaced `1/rate` apart with no burst: a bucket holding a second's worth
    /// would admit a full burst plus a second of refill, up to 2R-1 requests in one window. They
    /// are paced 2% under the limit because a wake-up that comes late shortens the gap to a
    /// later request, and the limit must hold for the times the registry sees.
    pub(crate) fn new(policy: RatePolicy, concurrency: usize) -> Self {
        let rate = match policy {
            RatePolicy::Fixed(rate) | RatePolicy::Adaptive { start: rate, .. } => rate,
        };
        let rate = if limited(rate) { rate } else { f64::INFINITY };
        let now = Instant::now();
        Self {
            policy,
            pace: Mutex::new(Pace {
                rate,
                lowest: limited(rate).then_some(rate),
                next: now,
                recent: VecDeque::new(),
                refusals: VecDeque::new(),
                last_cut: None,
                last_raise: now,
                step: 0.0,
                throttled: 0,
                cuts: 0,
            }),
            in_flight: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Waits for a concurrency slot and a rate slot; the slot is held until the permit drops.
    pub(crate) async fn admit(&self) -> OwnedSemaphorePermit {
        let permit = self.in_flight.clone().acquire_owned().await.expect("semaphore never closed");
        let wait = {
            let mut pace = self.pace.lock().expect("pace lock");
            let now = Instant::now();
            if pace.recent.len() >= WINDOW_CAP {
                pace.recent.pop_front();
            }
            let wait = if limited(pace.rate) {
                let at = pace.next.max(now);
                pace.next = at + Duration::from_secs_f64(1.0 / (pace.rate * PACING_MARGIN));
                at - now
            } else {
                Duration::ZERO
            };
            pace.recent.push_back(now + wait);
            wait
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        permit
    }

    /// The host asked to slow down (`429`, or `503` with `Retry-After`). When such answers reach
    /// [`CUT_SHARE`] of what was sent in the last second, an adaptive rate is cut to half of
    /// what was actually sent (or of the rate, if lower), once per [`CUT_COOLDOWN`].
    pub(crate) fn throttled(&self) {
        let mut pace = self.pace.lock().expect("pace lock");
        pace.throttled += 1;
        if !matches!(self.policy, RatePolicy::Adaptive { .. }) {
            return;
        }
        let now = Instant::now();
        let second_ago = now.checked_sub(Duration::from_secs(1)).unwrap_or(now);
        while pace.refusals.front().is_some_and(|&at| at <= second_ago) || pace.refusals.len() >= WINDOW_CAP {
            pace.refusals.pop_front();
        }
        pace.refusals.push_back(now);
        if pace.last_cut.is_some_and(|at| now.duration_since(at) < CUT_COOLDOWN) {
            return;
        }
        let sent = pace.recent.iter().filter(|&&at| at > second_ago && at <= now).count() as f64;
        if (pace.refusals.len() as f64) < (sent * CUT_SHARE).max(CUT_MIN) {
            return;
        }
        let rate = (pace.rate.min(sent.max(FLOOR)) * 0.5).max(FLOOR);
        pace.rate = rate;
        pace.lowest = Some(pace.lowest.map_or(rate, |l| l.min(rate)));
        pace.step = (rate / 10.0).max(FLOOR);
        pace.last_cut = Some(now);
        pace.last_raise = now;
        pace.cuts += 1;
        // Requests already reserved at the old pace keep their slots; new ones queue behind.
        pace.next = pace.next.max(now);
    }

    /// The host answered without asking to slow down: an adaptive rate recovers by one step
    /// per [`RAISE_EVERY`], up to its ceiling.
    pub(crate) fn succeeded(&self) {
        let RatePolicy::Adaptive { ceiling, .. } = self.policy else { return };
        let mut pace = self.pace.lock().expect("pace lock");
        if !limited(pace.rate) || pace.last_cut.is_none() {
            return;
        }
        let now = Instant::now();
        let elapsed = now.duration_since(pace.last_raise);
        if elapsed < RAISE_EVERY {
            return;
        }
        let steps = (elapsed.as_secs_f64() / RAISE_EVERY.as_secs_f64()).floor();
        let raised = pace.rate + pace.step * steps;
        pace.rate = if limited(ceiling) {
            raised.min(ceiling)
        } else if raised > UNLIMITED_AGAIN {
            f64::INFINITY
        } else {
            raised
        };
        pace.last_raise = now;
    }

    /// What this limiter did so far.
    pub(crate) fn report(&self) -> RateReport {
        let pace = self.pace.lock().expect("pace lock");
        RateReport {
            mode: self.policy.mode().to_owned(),
            rate: limited(pace.rate).then_some(round(pace.rate)),
            lowest: pace.lowest.map(round),
            throttled: pace.throttled,
            cuts: pace.cuts,
        }
    }
}

/// Rates in reports: two decimals are plenty.
fn round(rate: f64) -> f64 {
    (rate * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adaptive(start: f64, ceiling: f64) -> HostLimiter {
        HostLimiter::new(RatePolicy::Adaptive { start, ceiling }, 1000)
    }

    #[tokio::test(start_paused = true)]
    async fn paces_without_burst() {
        let limiter = HostLimiter::new(RatePolicy::Fixed(10.0), 1000);
        let start = Instant::now();
        for _ in 0..21 {
            drop(limiter.admit().await);
        }
        // The first at once, then 20 more at 10/s (paced 2% under).
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(2000) && took <= Duration::from_millis(2100), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_rate_never_waits() {
        // On a paused clock, any sleep advances tokio's time: an unlimited limiter must not move
        // it, while a limited one must (so the check can fail).
        let started = Instant::now();
        let limiter = HostLimiter::new(RatePolicy::Fixed(0.0), 1000);
        for _ in 0..1000 {
            drop(limiter.admit().await);
        }
        assert_eq!(Instant::now(), started, "no waiting at rate 0 (unlimited)");
        let limited = HostLimiter::new(RatePolicy::Fixed(10.0), 1000);
        for _ in 0..3 {
            drop(limited.admit().await);
        }
        assert!(Instant::now() - started >= Duration::from_millis(190), "10/s paces 3 requests over 0.2 s");
    }

    #[tokio::test]
    async fn concurrency_is_capped() {
        let limiter = HostLimiter::new(RatePolicy::Fixed(f64::INFINITY), 2);
        let a = limiter.admit().await;
        let _b = limiter.admit().await;
        let third = tokio::time::timeout(Duration::from_millis(50), limiter.admit()).await;
        assert!(third.is_err());
        drop(a);
        let _permit = tokio::time::timeout(Duration::from_millis(50), limiter.admit()).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_halves_what_was_sent_then_recovers_additively() {
        // Unlimited at first; 40 requests in the last second, then 429s for a tenth of them.
        let limiter = adaptive(f64::INFINITY, f64::INFINITY);
        for _ in 0..40 {
            drop(limiter.admit().await);
            tokio::time::advance(Duration::from_millis(20)).await;
        }
        for _ in 0..3 {
            limiter.throttled();
        }
        assert_eq!(limiter.report().cuts, 0, "3 of 40 is sporadic");
        limiter.throttled();
        let after = limiter.report();
        assert_eq!((after.rate, after.throttled, after.cuts), (Some(20.0), 4, 1), "half of 40 sent in 0.8 s");
        // More 429s at once answer requests sent before the cut: no second cut.
        limiter.throttled();
        assert_eq!(limiter.report().rate, Some(20.0));
        assert_eq!(limiter.report().throttled, 5);
        // Three seconds of success: +2/s per second (a tenth of 20).
        for _ in 0..3 {
            tokio::time::advance(RAISE_EVERY).await;
            limiter.succeeded();
        }
        assert_eq!(limiter.report().rate, Some(26.0));
        assert_eq!(limiter.report().lowest, Some(20.0));
    }

    #[tokio::test(start_paused = true)]
    async fn recovery_stops_at_the_ceiling_and_fixed_rates_never_move() {
        let limiter = adaptive(50.0, 50.0);
        for _ in 0..50 {
            drop(limiter.admit().await);
        }
        for _ in 0..5 {
            limiter.throttled();
        }
        let cut = limiter.report().rate.expect("limited");
        assert!(cut <= 25.0, "{cut}");
        tokio::time::advance(Duration::from_secs(60)).await;
        limiter.succeeded();
        assert_eq!(limiter.report().rate, Some(50.0), "back to the ceiling, not beyond");

        let fixed = HostLimiter::new(RatePolicy::Fixed(30.0), 10);
        fixed.throttled();
        assert_eq!(
            fixed.report(),
            RateReport { mode: "fixed".into(), rate: Some(30.0), lowest: Some(30.0), throttled: 1, cuts: 0 }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn sporadic_throttling_does_not_slow_a_host() {
        // A 20% fault mix answers about 4% of requests with 429: a minute of it leaves the rate alone.
        let limiter = adaptive(f64::INFINITY, f64::INFINITY);
        for second in 0..60 {
            for i in 0..50 {
                drop(limiter.admit().await);
                if (second * 50 + i) % 25 == 0 {
                    limiter.throttled();
                }
                tokio::time::advance(Duration::from_millis(20)).await;
            }
            limiter.succeeded();
        }
        let report = limiter.report();
        assert_eq!((report.rate, report.cuts, report.throttled), (None, 0, 120), "{report:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_paces_the_following_requests() {
        let limiter = adaptive(f64::INFINITY, f64::INFINITY);
        for _ in 0..8 {
            drop(limiter.admit().await);
        }
        limiter.throttled();
        limiter.throttled();
        // 8 sent at once: cut to 4/s.
        let started = Instant::now();
        for _ in 0..5 {
            drop(limiter.admit().await);
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(990), "5 requests at 4/s take about a second: {took:?}");
    }
}
