//! Reads the inventory a promotion plan needs through any [`Store`](crate::store::Store), with as
//! few requests as the question allows: at each destination, one HEAD per wanted tag (a tag that
//! already points at its digest proves the digest is there), plus one HEAD per digest not proven
//! that way; at each source, one HEAD per digest not yet in place (with all its tags) somewhere. A no-op run therefore
//! costs one HEAD per tag at the destinations and nothing at the sources.

use std::collections::{BTreeMap, BTreeSet};

use cip_core::ManifestSet;
use cip_core::inventory::{Inventory, ManifestInfo};
use cip_core::reference::{is_valid_digest, is_valid_tag};
use futures_util::{StreamExt, stream};

use super::locate::Stores;
use crate::store::StoreError;

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

/// Reads what planning `set` needs; `keep` restricts destination registries (`--dest`).
pub async fn read(
    set: &ManifestSet,
    stores: &Stores,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Inventory, StoreError> {
    let (dests, sources) = wants(set, keep);
    let mut inventory = Inventory::default();
    // Destinations, pass 1: the wanted tags.
    let tag_queries = dests
        .iter()
        .flat_map(|(repo, digests)| digests.values().flatten().map(move |tag| (repo.clone(), tag.clone())));
    head_all(stores, tag_queries.collect(), &mut inventory).await?;
    // Destinations, pass 2: digests not proven present by one of their tags.
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
    // Sources: only digests some destination still lacks, or lacks some wanted tag of (the
    // planner checks the source for every edge not already in place).
    let complete = |inv: &Inventory, repo: &str, digest: &str| {
        let wanted = dests.get(repo).and_then(|d| d.get(digest));
        let info = inv.repository(repo).and_then(|r| r.get(digest));
        info.is_some_and(|info| wanted.is_none_or(|tags| tags.iter().all(|t| info.tags.contains(t))))
    };
    let source_queries: Vec<(String, String)> = sources
        .iter()
        .flat_map(|(repo, digests)| {
            let inventory = &inventory;
            digests
                .iter()
                .filter(move |(digest, dsts)| dsts.iter().any(|d| !complete(inventory, d, digest)))
                .map(move |(digest, _)| (repo.clone(), digest.clone()))
        })
        .collect();
    for repo in sources.keys() {
        inventory.repositories.entry(repo.clone()).or_default();
    }
    head_all(stores, source_queries, &mut inventory).await?;
    Ok(inventory)
}
