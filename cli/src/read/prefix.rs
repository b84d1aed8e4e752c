//! Reading every repository under a registry name or prefix (`cip snapshot REGISTRY[/PREFIX]`,
//! `cip audit`): the store's catalog (a layout's `index.json`; Google's `child` lists where
//! offered, else the registry's `_catalog` filtered by the prefix), then each repository in full.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::ReadOutcome;
use super::repository::{RepoNeeds, read};
use crate::registry::stats::Stats;
use crate::store::Stores;

/// Reads every repository under `target` (`host`, `host/prefix`, `oci:DIR`), one of the
/// registries `stores` was made for.
pub(crate) async fn read_prefix(stores: &Stores, stats: &Arc<Stats>, target: &str) -> ReadOutcome {
    let target = target.trim_end_matches('/');
    let (store, prefix) = match stores.store_of(target) {
        Ok(found) => found,
        Err(error) => return ReadOutcome { errors: vec![error], ..ReadOutcome::default() },
    };
    let repos = match store.catalog(&prefix).await {
        Ok(repos) => repos,
        Err(error) => return ReadOutcome { errors: vec![error], ..ReadOutcome::default() },
    };
    // Full paths as the inventory names them: the store's name joined with the path inside it.
    let request: BTreeMap<String, RepoNeeds> = repos
        .into_iter()
        .map(|(repo, listing)| {
            (
                format!("{}/{repo}", store.name()),
                RepoNeeds { everything: true, listing, ..RepoNeeds::default() },
            )
        })
        .collect();
    read(stores, stats, request).await
}
