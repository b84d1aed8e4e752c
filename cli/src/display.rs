//! Progress on a terminal, drawn with indicatif: the executor's bar while promoting (an
//! [`Observer`]: images done of planned with ETA, bytes copied and their rate, retries, failures)
//! and a spinner with the reader's line while reading registries. Off a terminal nothing is
//! drawn (the commands pass [`cip::promote::Quiet`] or skip the spinner, and indicatif draws
//! nothing to a non-terminal either): CI logs get the summary.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Duration;

use cip::Observer;
use cip::promote::Progress;
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws the executor's progress bar on stderr.
pub(crate) struct PromoteDisplay;

/// The bar of this process's promotion (the binary runs one command, so one promotion), made at
/// the first progress report, when the number of planned images is known.
fn promote_bar(total: u64) -> &'static ProgressBar {
    static BAR: OnceLock<ProgressBar> = OnceLock::new();
    BAR.get_or_init(|| {
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} images  ETA {eta}  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()).with_style(style)
    })
}

impl Observer for PromoteDisplay {
    fn progress(&self, progress: &Progress, elapsed: Duration, last: bool) {
        let total = progress.images_total.load(Ordering::Relaxed);
        let bar = promote_bar(total);
        bar.set_length(total);
        bar.set_position(progress.images_done.load(Ordering::Relaxed));
        bar.set_message(message(progress, elapsed));
        if last {
            bar.finish();
        }
    }
}

/// Bytes copied, their rate, retries and failures (the executor does not know the bytes still
/// to copy before it reads the manifests, so the ETA counts images).
fn message(progress: &Progress, elapsed: Duration) -> String {
    let bytes = progress.bytes.load(Ordering::Relaxed);
    let rate = (bytes as f64 / elapsed.as_secs_f64().max(0.001)) as u64;
    format!(
        "{} copied  {}/s  {} retries  {} failed",
        HumanBytes(bytes),
        HumanBytes(rate),
        progress.retries.load(Ordering::Relaxed),
        progress.failures.load(Ordering::Relaxed),
    )
}

/// True when progress should be drawn (stderr is a terminal).
pub(crate) fn wanted() -> bool {
    std::io::stderr().is_terminal()
}

/// Runs `read` on a fresh runtime, showing `line()` next to a spinner on stderr (refreshed every
/// 200 ms) when it is a terminal, and clearing it at the end.
pub(crate) fn with_progress<T>(
    read: impl std::future::Future<Output = T>,
    line: impl Fn() -> String + Send + 'static,
) -> std::io::Result<T> {
    let runtime = tokio::runtime::Runtime::new()?;
    let show = wanted();
    Ok(runtime.block_on(async move {
        let ticker = show.then(|| {
            let spinner = ProgressBar::new_spinner();
            spinner.enable_steady_tick(Duration::from_millis(100));
            let shown = spinner.clone();
            let task = tokio::spawn(async move {
                loop {
                    shown.set_message(line());
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            });
            (spinner, task)
        });
        let result = read.await;
        if let Some((spinner, task)) = ticker {
            task.abort();
            let _ = task.await;
            spinner.finish_and_clear();
        }
        result
    }))
}
