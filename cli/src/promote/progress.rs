//! Progress of a promotion: counters the executor bumps, and their one-line summary. The
//! library draws nothing: front ends read the counters through their
//! [`Observer`](super::Observer) (the CLI redraws the line on a terminal, Node forwards events).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::report::human_bytes;

/// Counters shown by the display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Actions finished.
    pub images_done: AtomicU64,
    /// Actions planned.
    pub images_total: AtomicU64,
    /// Blob bytes read from sources and passed on.
    pub bytes: AtomicU64,
    /// Actions failed.
    pub failures: AtomicU64,
    /// Actions run again after a transient failure.
    pub retries: AtomicU64,
}

impl Progress {
    /// One status line.
    pub fn line(&self, elapsed: Duration) -> String {
        let bytes = self.bytes.load(Ordering::Relaxed);
        let rate = bytes as f64 / elapsed.as_secs_f64().max(0.001);
        format!(
            "images {}/{}  {} uploaded  {}/s  {} retries  {} failed",
            self.images_done.load(Ordering::Relaxed),
            self.images_total.load(Ordering::Relaxed),
            human_bytes(bytes),
            human_bytes(rate as u64),
            self.retries.load(Ordering::Relaxed),
            self.failures.load(Ordering::Relaxed),
        )
    }
}
