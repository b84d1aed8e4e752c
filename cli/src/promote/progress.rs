//! Progress of a promotion: counters the executor bumps, and a one-line display redrawn on a
//! terminal (images done / total, bytes uploaded, throughput, failures). Off a terminal nothing
//! is drawn: CI logs get the summary table at the end instead.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    stop: AtomicBool,
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

    /// Starts redrawing the status line on stderr every 200 ms until [`Progress::finish`].
    pub fn spawn_display(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let progress = self.clone();
        let started = Instant::now();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tick.tick().await;
                let done = progress.stop.load(Ordering::Relaxed);
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K{}", progress.line(started.elapsed()));
                if done {
                    let _ = writeln!(err);
                    break;
                }
            }
        })
    }

    /// Asks the display to draw a last time and stop.
    pub fn finish(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
