//! Counters shared by every request of a run: what the progress display and the benchmark show.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::ratelimit::RateReport;

/// Run-wide request counters.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    repositories_done: AtomicU64,
    repositories_total: AtomicU64,
    per_host: Mutex<BTreeMap<String, u64>>,
}

/// A copy of the counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsSnapshot {
    /// HTTP requests sent (every attempt, token requests included).
    pub requests: u64,
    /// Retries after transient failures.
    pub retries: u64,
    /// Throttling answers (`429`, or `503` with `Retry-After`); per host in the limiters'
    /// reports ([`crate::registry::RateReport`]).
    pub throttled: u64,
    /// Repositories read so far.
    pub repositories_done: u64,
    /// Repositories to read.
    pub repositories_total: u64,
    /// Requests per host.
    pub per_host: BTreeMap<String, u64>,
}

impl Stats {
    /// Counts one request to `host`.
    pub fn request(&self, host: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        *self.per_host.lock().expect("stats lock").entry(host.to_string()).or_default() += 1;
    }

    /// Counts one retry.
    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one throttling answer (each host's limiter counts its own).
    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds repositories to the total.
    pub fn add_repositories(&self, n: u64) {
        self.repositories_total.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts one repository read.
    pub fn repository_done(&self) {
        self.repositories_done.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            repositories_done: self.repositories_done.load(Ordering::Relaxed),
            repositories_total: self.repositories_total.load(Ordering::Relaxed),
            per_host: self.per_host.lock().expect("stats lock").clone(),
        }
    }
}

/// One host over a whole run (reading and promoting): requests and what its rate limiter did.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostReport {
    /// HTTP requests sent to the host (every attempt).
    pub requests: u64,
    /// Its rate: mode, rate in effect at the end, lowest, throttling answers, cuts.
    #[serde(flatten)]
    pub limiter: RateReport,
}
