//! Reads the inventory a promotion plan needs, with as few requests as the question allows.
//!
//! [`read_for_promotion`] (what `cip promote` uses): HTTP registries through the registry reader
//! ([`crate::registry::inventory`]: one `tags/list` per repository where the host offers Google's
//! extension, else one HEAD per wanted tag and per digest not proven by a tag; pull tokens fetched
//! in batches), `oci:` layouts through their stores. Destinations first; then, at each source,
//! only digests not yet in place (with all their tags) somewhere, with the children of indexes.
//! A no-op run therefore never reaches a source.
//!
//! [`read`] does the same through [`Store`](crate::store::Store)s only, for every registry: at each
//! destination one HEAD per wanted tag (a tag that already points at its digest proves the digest
//! is there), plus one HEAD per digest not proven that way; at each source one HEAD per digest
//! not yet in place.

use std::collections::{BTreeMap, BTreeSet};

use cip_core::ManifestSet;
use cip_core::inventory::{Inventory, ManifestInfo};
use cip_core::reference::{is_valid_digest, is_valid_tag};
use futures_util::{StreamExt, stream};

use super::execute::{RETRIES, backoff};
use super::locate::Stores;
use crate::registry::inventory::{self as registry_inventory, RepoNeeds};
use crate::registry::needs::is_remote;
use crate::registry::store::store_error;
use crate::registry::{ErrorKind as RegErrorKind, Operation as RegOperation, RegistryClient, RegistryError};
use crate::store::{Operation, StoreError};

/// HEAD requests in flight while reading.
const READ_CONCURRENCY: usize = 32;

/// digest -> wanted tags, per full repository path.
type Wants = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// Source and destination wants of a manifest set, restricted to destinations accepted by `keep`.
fn wants(
    set: &ManifestSet,
    keep: &dyn Fn(&str) -> bool,
) -> (Wants, BTreeMap<String, BTreeMap<String, Vec<String>>>) {
    let mut dests: Wants = BTreeMap::new();
    // source repo -> digest -> destination repos wanting it
    let mut sources: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for manifest in &set.manifests {
        let source = manifest.source();
        for image in &manifest.images {
            for entry in &image.dmap {
                let digest = &entry.digest.value;
                if !is_valid_digest(digest) {
                    continue;
                }
                let tags = entry.tags.iter().map(|t| &t.value).filter(|t| is_valid_tag(t));
                let tags: BTreeSet<String> = tags.cloned().collect();
                for dest in manifest.destinations().filter(|d| keep(&d.name.value)) {
                    let repo = format!("{}/{}", dest.name.value, image.name.value);
                    dests
                        .entry(repo.clone())
                        .or_default()
                        .entry(digest.clone())
                        .or_default()
                        .extend(tags.clone());
                    if let Some(src) = source {
                        let src_repo = format!("{}/{}", src.name.value, image.name.value);
                        sources.entry(src_repo).or_default().entry(digest.clone()).or_default().push(repo);
                    }
                }
            }
        }
    }
    (dests, sources)
}

/// One HEAD: (repo, reference) -> resolved (digest, media type), `None` when absent.
async fn head(
    stores: &Stores,
    repo: String,
    reference: String,
) -> Result<(String, String, Option<(String, String)>), StoreError> {
    let endpoint = stores.locate(&repo)?;
    let found = endpoint.store.head_manifest(&endpoint.repo, &reference).await?;
    Ok((repo, reference, found.map(|h| (h.digest, h.media_type))))
}

fn record(inventory: &mut Inventory, repo: &str, reference: &str, digest: String, media_type: String) {
    let entry =
        inventory.repositories.entry(repo.to_owned()).or_default().entry(digest).or_insert_with(|| {
            ManifestInfo { tags: Vec::new(), media_type: Some(media_type), children: Vec::new() }
        });
    if !reference.starts_with("sha256:") && !entry.tags.iter().any(|t| t == reference) {
        entry.tags.push(reference.to_owned());
        entry.tags.sort();
    }
}

async fn head_all(
    stores: &Stores,
    queries: Vec<(String, String)>,
    inventory: &mut Inventory,
) -> Result<(), StoreError> {
    let mut results = stream::iter(queries)
        .map(|(repo, reference)| head(stores, repo, reference))
        .buffer_unordered(READ_CONCURRENCY);
    while let Some(result) = results.next().await {
        let (repo, reference, found) = result?;
        inventory.repositories.entry(repo.clone()).or_default();
        if let Some((digest, media_type)) = found {
            record(inventory, &repo, &reference, digest, media_type);
        }
    }
    Ok(())
}

/// Source repo -> digest -> destination repos wanting it.
type Sources = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Reads the destinations of `dests` through the stores: wanted tags, then digests not proven
/// present by one of their tags.
async fn read_destinations(stores: &Stores, dests: &Wants) -> Result<Inventory, StoreError> {
    let mut inventory = Inventory::default();
    let tag_queries = dests
        .iter()
        .flat_map(|(repo, digests)| digests.values().flatten().map(move |tag| (repo.clone(), tag.clone())));
    head_all(stores, tag_queries.collect(), &mut inventory).await?;
    let present = |inv: &Inventory, repo: &str, digest: &str| {
        inv.repository(repo).is_some_and(|r| r.contains_key(digest))
    };
    let digest_queries: Vec<(String, String)> = dests
        .iter()
        .flat_map(|(repo, digests)| digests.keys().map(move |d| (repo.clone(), d.clone())))
        .filter(|(repo, digest)| !present(&inventory, repo, digest))
        .collect();
    for (repo, _) in &digest_queries {
        inventory.repositories.entry(repo.clone()).or_default();
    }
    head_all(stores, digest_queries, &mut inventory).await?;
    Ok(inventory)
}

/// Source (repo, digest) pairs worth reading: digests some destination still lacks, or lacks
/// some wanted tag of (the planner checks the source for every edge not already in place).
fn source_queries(sources: &Sources, dests: &Wants, inventory: &Inventory) -> Vec<(String, String)> {
    let complete = |repo: &str, digest: &str| {
        let wanted = dests.get(repo).and_then(|d| d.get(digest));
        let info = inventory.repository(repo).and_then(|r| r.get(digest));
        info.is_some_and(|info| wanted.is_none_or(|tags| tags.iter().all(|t| info.tags.contains(t))))
    };
    sources
        .iter()
        .flat_map(|(repo, digests)| {
            digests
                .iter()
                .filter(|(digest, dsts)| dsts.iter().any(|d| !complete(d, digest)))
                .map(move |(digest, _)| (repo.clone(), digest.clone()))
        })
        .collect()
}

/// Reads what planning `set` needs; `keep` restricts destination registries (`--dest`).
pub async fn read(
    set: &ManifestSet,
    stores: &Stores,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Inventory, StoreError> {
    let (dests, sources) = wants(set, keep);
    let mut inventory = read_destinations(stores, &dests).await?;
    let queries = source_queries(&sources, &dests, &inventory);
    for repo in sources.keys() {
        inventory.repositories.entry(repo.clone()).or_default();
    }
    head_all(stores, queries, &mut inventory).await?;
    Ok(inventory)
}

/// What the registry reader needs to know of HTTP destinations: their wanted tags and digests.
fn registry_needs(dests: &Wants) -> BTreeMap<String, RepoNeeds> {
    dests
        .iter()
        .map(|(repo, digests)| {
            let needs = RepoNeeds {
                tags: digests.values().flatten().cloned().collect(),
                digests: digests.keys().cloned().collect(),
                ..RepoNeeds::default()
            };
            (repo.clone(), needs)
        })
        .collect()
}

/// Reads `request` with the registry reader. Repositories that failed for a transient reason (a
/// body cut off, a timeout: the client replays requests, not a body lost after a `200`) are read
/// again, a few times with backoff, as the executor retries actions. Any other failure ends the
/// promotion's read (a registry-wide one first), as a failing store read does.
async fn read_registry(
    client: &RegistryClient,
    request: &BTreeMap<String, RepoNeeds>,
) -> Result<Inventory, StoreError> {
    let mut inventory = Inventory::default();
    let mut pending = request.clone();
    let mut attempt = 0;
    loop {
        let outcome = registry_inventory::read(client, &pending).await;
        inventory.repositories.extend(outcome.inventory.repositories);
        if outcome.errors.is_empty() {
            return Ok(inventory);
        }
        let failed: BTreeSet<String> = outcome
            .errors
            .iter()
            .filter_map(|e| e.repository.as_ref().map(|r| format!("{}/{r}", e.registry)))
            .collect();
        let retry = attempt < RETRIES
            && failed.len() == outcome.errors.len()
            && outcome.errors.iter().all(|e| !e.is_registry_wide() && transient(e));
        pending.retain(|repo, _| failed.contains(repo));
        if !retry || pending.len() != failed.len() {
            return Err(first_error(outcome.errors));
        }
        attempt += 1;
        tokio::time::sleep(backoff(attempt)).await;
    }
}

/// Worth reading again: what the executor retries too (see `store::ErrorKind::is_transient`).
fn transient(error: &RegistryError) -> bool {
    match &error.kind {
        RegErrorKind::Connect(_) | RegErrorKind::Timeout(_) | RegErrorKind::Interrupted(_) => true,
        RegErrorKind::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
        _ => false,
    }
}

/// The failure to report: the first registry-wide one, else the first.
fn first_error(errors: Vec<RegistryError>) -> StoreError {
    let first = errors.iter().position(RegistryError::is_registry_wide).unwrap_or(0);
    let error = errors.into_iter().nth(first).expect("at least one error");
    let operation = match error.operation {
        RegOperation::ListTags | RegOperation::Catalog => Operation::ListTags,
        RegOperation::GetManifest => Operation::GetManifest,
        _ => Operation::HeadManifest,
    };
    store_error(error, operation)
}

/// Reads what planning `set` needs: HTTP registries through `client`'s registry reader, `oci:`
/// layouts through `stores` (see the module documentation).
pub async fn read_for_promotion(
    set: &ManifestSet,
    stores: &Stores,
    client: &RegistryClient,
) -> Result<Inventory, StoreError> {
    let (dests, sources) = wants(set, &|_| true);
    let (remote, local): (Wants, Wants) = dests.clone().into_iter().partition(|(repo, _)| is_remote(repo));
    let remote_needs = registry_needs(&remote);
    let (remote_read, local) =
        tokio::join!(read_registry(client, &remote_needs), read_destinations(stores, &local));
    let mut inventory = remote_read?;
    head_unlisted(stores, &remote_needs, &mut inventory).await?;
    inventory.repositories.extend(local?.repositories);
    let queries = source_queries(&sources, &dests, &inventory);
    for repo in sources.keys() {
        inventory.repositories.entry(repo.clone()).or_default();
    }
    let (remote, local): (Vec<_>, Vec<_>) = queries.into_iter().partition(|(repo, _)| is_remote(repo));
    let mut source_needs: BTreeMap<String, RepoNeeds> = BTreeMap::new();
    for (repo, digest) in remote {
        let needs = source_needs.entry(repo).or_default();
        needs.digests.insert(digest.clone());
        needs.children_of.insert(digest);
    }
    // A repository that is also a destination is read again with both needs, since its new
    // reading replaces the first.
    for (repo, needs) in source_needs.iter_mut() {
        if let Some(dest) = remote_needs.get(repo) {
            needs.merge(dest);
        }
    }
    let (remote_read, local) = tokio::join!(read_registry(client, &source_needs), async {
        let mut read = Inventory::default();
        head_all(stores, local, &mut read).await.map(|()| read)
    });
    let mut read = remote_read?;
    head_unlisted(stores, &source_needs, &mut read).await?;
    inventory.repositories.extend(read.repositories);
    merge_local(&mut inventory, local?);
    Ok(inventory)
}

/// HEADs the needed digests of repositories the registry reader found empty. A registry
/// answers `tags/list` of a repository without tags with 404 (the distribution registry does),
/// which the reader takes for an empty repository; but its digests may be there untagged (an
/// interrupted run, a promotion without tags) and must then be tagged, not copied. Costs nothing
/// when the repositories have tags (a no-op run).
async fn head_unlisted(
    stores: &Stores,
    needs: &BTreeMap<String, RepoNeeds>,
    inventory: &mut Inventory,
) -> Result<(), StoreError> {
    let unlisted = |repo: &str| inventory.repository(repo).is_none_or(|r| r.is_empty());
    let queries: Vec<(String, String)> = needs
        .iter()
        .filter(|(repo, _)| unlisted(repo))
        .flat_map(|(repo, needs)| needs.digests.iter().map(move |d| (repo.clone(), d.clone())))
        .collect();
    head_all(stores, queries, inventory).await
}

/// Adds what the layouts' source HEADs found to the inventory (a layout that is a source and a
/// destination keeps both readings).
fn merge_local(inventory: &mut Inventory, read: Inventory) {
    for (repo, digests) in read.repositories {
        let target = inventory.repositories.entry(repo.clone()).or_default();
        for (digest, info) in digests {
            let entry =
                target.entry(digest).or_insert_with(|| ManifestInfo { tags: Vec::new(), ..info.clone() });
            for tag in info.tags {
                if !entry.tags.contains(&tag) {
                    entry.tags.push(tag);
                }
            }
            entry.tags.sort();
        }
    }
}
