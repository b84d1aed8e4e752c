//! Progress on a terminal: the executor's line while promoting (an [`Observer`]) and the reader's
//! line while reading registries. Off a terminal nothing is drawn: CI logs get the summary.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use cip::Observer;
use cip::promote::Progress;

/// Draws the executor's progress line on stderr.
pub(crate) struct PromoteDisplay;

impl Observer for PromoteDisplay {
    fn progress(&self, progress: &Progress, elapsed: Duration, last: bool) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", progress.line(elapsed));
        if last {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

/// True when progress lines should be drawn (stderr is a terminal).
pub(crate) fn wanted() -> bool {
    std::io::stderr().is_terminal()
}

/// Runs `read` on a fresh runtime, redrawing `line()` on stderr every 200 ms when it is a
/// terminal, and clearing it at the end.
pub(crate) fn with_progress<T>(
    read: impl std::future::Future<Output = T>,
    line: impl Fn() -> String + Send + 'static,
) -> std::io::Result<T> {
    let runtime = tokio::runtime::Runtime::new()?;
    let show = wanted();
    Ok(runtime.block_on(async move {
        let ticker = show.then(|| {
            tokio::spawn(async move {
                loop {
                    {
                        let mut err = std::io::stderr().lock();
                        let _ = write!(err, "\r\x1b[2K{}", line());
                        let _ = err.flush();
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        });
        let result = read.await;
        if let Some(ticker) = ticker {
            ticker.abort();
            let _ = ticker.await;
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
        result
    }))
}
