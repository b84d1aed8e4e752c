//! The copy executor: turns a core [`Plan`](cip_core::Plan) into registry writes.
//!
//! - [`locate`]: full repository paths to stores (one per registry host or `oci:` layout);
//! - [`inventory`]: reads what the planner needs (HTTP registries with the registry reader, `oci:`
//!   layouts through their stores), with minimal requests;
//! - [`execute`]: copies (children before indexes, blobs before manifests, digests before tags),
//!   verifying every byte read against its digest, one blob transfer per destination and digest;
//! - [`verify`]: the streaming digest check;
//! - [`report`] and [`progress`]: what happened, for people and for machines;
//! - [`session`]: the whole run (read, plan, execute) that every front end calls.
//!
//! Nothing here decides *what* to promote: that is the core planner's job. Tag moves never reach
//! the executor (the planner blocks them) and nothing is ever deleted.

pub mod execute;
pub mod inventory;
pub mod locate;
pub mod progress;
pub mod report;
pub mod session;
pub mod verify;

use std::sync::Arc;
use std::time::Instant;

pub use execute::{Executor, Limits};
pub use locate::{Endpoint, Opener, Stores};
pub use report::Report;
pub use session::{Observer, Phase, PromoteError, PromoteOptions, PromoteOutcome, run};

use crate::store::{ErrorKind, Operation, Store, StoreError};

/// Runs `actions` and reports; draws progress on stderr when `display` is set.
pub async fn execute(actions: &[cip_core::Action], stores: &Stores, limits: Limits, display: bool) -> Report {
    let started = Instant::now();
    let progress = Arc::new(progress::Progress::default());
    let ticker = display.then(|| progress.spawn_display());
    let records = Executor::new(stores, limits, progress.clone()).run(actions).await;
    progress.finish();
    if let Some(ticker) = ticker {
        let _ = ticker.await;
    }
    Report::new(records, started.elapsed().as_millis() as u64)
}

/// The opener of a run: `oci:DIR` names open layouts, every other key is a registry host reached
/// through `client` (one [`RegistryStore`](crate::registry::store::RegistryStore) per host).
pub fn opener(client: crate::registry::RegistryClient) -> Opener {
    Box::new(move |key: &str| match crate::layout::Layout::open(key) {
        Some(layout) => Ok(Arc::new(layout) as Arc<dyn Store>),
        None => {
            Ok(Arc::new(crate::registry::store::RegistryStore::new(client.clone(), key)) as Arc<dyn Store>)
        }
    })
}

/// An opener for `oci:DIR` layouts only: HTTP registries are refused with a clear error (used
/// where no registry client is configured, e.g. in layout-only tests).
pub fn layout_opener() -> Opener {
    Box::new(|key: &str| match crate::layout::Layout::open(key) {
        Some(layout) => Ok(Arc::new(layout) as Arc<dyn Store>),
        None => {
            let kind = ErrorKind::Invalid("only `oci:DIR` layouts can be opened here".into());
            Err(StoreError::new(key, "", Operation::GetManifest, kind))
        }
    })
}
