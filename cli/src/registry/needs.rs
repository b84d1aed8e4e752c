//! What an online plan reads, and in which order. Destinations first: core's planner decides an
//! edge as present from the destination alone, so when everything is promoted the sources are
//! never read. Then, only for edges the destination does not satisfy, the sources (digests only,
//! with index children so the copy executor and the plan know what travels with an index).
//!
//! The planning itself is core's (`cip_core::plan::plan`); this module only decides what to
//! fetch. Local OCI layouts (`oci:DIR`) are not registries and are skipped here.

use std::collections::BTreeMap;

use cip_core::ManifestSet;
use cip_core::plan::{Plan, PlanOptions};

use super::client::RegistryClient;
use super::inventory::{self, ReadOutcome, RepoNeeds};

/// True for registry names that are HTTP registries (not `oci:` layouts).
pub fn is_remote(registry: &str) -> bool {
    !registry.starts_with("oci:")
}

/// Destination repositories with the tags and digests the manifests place there.
pub fn destination_needs(set: &ManifestSet) -> BTreeMap<String, RepoNeeds> {
    let mut out: BTreeMap<String, RepoNeeds> = BTreeMap::new();
    for manifest in &set.manifests {
        for registry in manifest.destinations().filter(|r| is_remote(&r.name.value)) {
            for image in &manifest.images {
                let needs = out.entry(format!("{}/{}", registry.name.value, image.name.value)).or_default();
                for entry in &image.dmap {
                    needs.digests.insert(entry.digest.value.clone());
                    needs.tags.extend(entry.tags.iter().map(|t| t.value.clone()));
                }
            }
        }
    }
    out
}

/// Source repositories and digests named by the `src` of actions or blocked edges of a plan
/// made without them (`repo@digest`), with children recorded for those digests.
pub fn source_needs_from(plan: &Plan) -> BTreeMap<String, RepoNeeds> {
    let mut out: BTreeMap<String, RepoNeeds> = BTreeMap::new();
    let missing = plan
        .blocked
        .iter()
        .filter(|b| b.reasons.iter().any(|r| r == "inventory-missing"))
        .filter_map(|b| b.src.as_deref());
    for src in missing {
        let Some((repo, digest)) = src.rsplit_once('@') else { continue };
        if !is_remote(repo) {
            continue;
        }
        let needs = out.entry(repo.to_string()).or_default();
        needs.digests.insert(digest.to_string());
        needs.children_of.insert(digest.to_string());
    }
    out
}

/// Reads what planning `set` needs: destinations, then the sources of unsatisfied edges.
pub async fn read_for_plan(client: &RegistryClient, set: &ManifestSet, options: &PlanOptions) -> ReadOutcome {
    let destinations = destination_needs(set);
    let mut outcome = inventory::read(client, &destinations).await;
    let first = cip_core::plan::plan(set, &outcome.inventory, options);
    let mut sources = source_needs_from(&first);
    // A repository that is both a source and a destination was read already, but maybe
    // without the digests or children the source side needs: read it again with both.
    for (repo, needs) in sources.iter_mut() {
        if let Some(dest) = destinations.get(repo) {
            needs.merge(dest);
        }
    }
    sources.retain(|repo, _| {
        !outcome.errors.iter().any(|e| e.is_registry_wide() && repo.starts_with(&e.registry))
    });
    if !sources.is_empty() {
        outcome.merge(inventory::read(client, &sources).await);
    }
    outcome
}
