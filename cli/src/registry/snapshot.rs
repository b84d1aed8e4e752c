//! Snapshot reading: every repository under `REGISTRY[/PREFIX]`, recursively. With Google's
//! extension the `child` lists are followed (one request per repository); otherwise the
//! registry's `_catalog` (paginated) is filtered by the prefix and each repository is read in
//! full.

use std::collections::BTreeMap;

use cip_core::inventory::Repository;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::client::RegistryClient;
use super::host;
use super::inventory::{self, ReadOutcome, RepoNeeds};

/// Depth limit for `child` recursion (registry paths are short; this stops a malicious loop).
const MAX_DEPTH: usize = 32;

/// Reads every repository under `target` (`host` or `host/prefix`).
pub async fn read_prefix(client: &RegistryClient, target: &str) -> ReadOutcome {
    let target = target.trim_end_matches('/');
    let (host, prefix) = host::split_repository(target);
    if !prefix.is_empty() {
        match client.list_tags(target).await {
            Ok(Some(list)) if list.has_extension() => return walk_children(client, target).await,
            Ok(_) => {}
            Err(error) if error.is_registry_wide() => {
                return ReadOutcome { errors: vec![error], ..ReadOutcome::default() };
            }
            Err(_) => {}
        }
    }
    let repos = match client.catalog(host).await {
        Ok(repos) => repos,
        Err(error) => return ReadOutcome { errors: vec![error], ..ReadOutcome::default() },
    };
    let wanted: BTreeMap<String, RepoNeeds> = repos
        .into_iter()
        .filter(|r| prefix.is_empty() || r == target || r.starts_with(&format!("{target}/")))
        .map(|r| (r, RepoNeeds { everything: true, ..RepoNeeds::default() }))
        .collect();
    inventory::read(client, &wanted).await
}

/// Breadth-first over Google `child` lists; each level's repositories in parallel.
async fn walk_children(client: &RegistryClient, root: &str) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    let mut level = vec![root.to_string()];
    let needs = RepoNeeds { everything: true, ..RepoNeeds::default() };
    for _ in 0..MAX_DEPTH {
        if level.is_empty() {
            break;
        }
        client.stats().add_repositories(level.len() as u64);
        let mut reads: FuturesUnordered<_> = level
            .iter()
            .map(|path| {
                let needs = &needs;
                async move { (path.clone(), read_one(client, path, needs).await) }
            })
            .collect();
        let mut next = Vec::new();
        while let Some((path, result)) = reads.next().await {
            client.stats().repository_done();
            match result {
                Ok((repository, children, notes)) => {
                    if !repository.is_empty() {
                        outcome.inventory.repositories.insert(path.clone(), repository);
                    }
                    outcome.notes.extend(notes);
                    next.extend(children.into_iter().map(|c| format!("{path}/{c}")));
                }
                Err(error) => outcome.errors.push(error),
            }
        }
        drop(reads);
        next.sort();
        level = next;
    }
    outcome.notes.sort();
    outcome
}

type Walked = (Repository, Vec<String>, Vec<String>);

async fn read_one(
    client: &RegistryClient,
    path: &str,
    needs: &RepoNeeds,
) -> Result<Walked, super::RegistryError> {
    let Some(list) = client.list_tags(path).await? else {
        return Ok((Repository::new(), Vec::new(), Vec::new()));
    };
    let children = list.children();
    let (repository, notes) = inventory::from_listing(client, path, needs, list).await?;
    Ok((repository, children, notes))
}
