//! The inventory for the planning benchmark: every source repository holds every digest its
//! manifests name (with their tags), and every destination repository holds 99% of them, so 1%
//! of the (digest, destination) pairs are to be copied. Which ones are missing is a fixed hash of
//! the digest and the repository, so every run plans the same work.

use std::collections::BTreeMap;

use cip_core::inventory::{ManifestInfo, Repository};
use cip_core::{Inventory, ManifestSet};

/// Per mille of (digest, destination repository) pairs missing from the destinations.
pub const MISSING_PER_MILLE: u64 = 10;

fn missing(digest: &str, repo: &str) -> bool {
    // FNV-1a: a few lines, stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in digest.bytes().chain(repo.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h % 1000 < MISSING_PER_MILLE
}

/// Builds the inventory for `set`.
pub fn inventory(set: &ManifestSet) -> Inventory {
    let mut repositories: BTreeMap<String, Repository> = BTreeMap::new();
    for manifest in &set.manifests {
        let Some(source) = manifest.source() else { continue };
        for image in &manifest.images {
            let name = &image.name.value;
            for entry in &image.dmap {
                let info = ManifestInfo {
                    tags: entry.tags.iter().map(|t| t.value.clone()).collect(),
                    ..ManifestInfo::default()
                };
                let src = format!("{}/{name}", source.name.value);
                repositories.entry(src).or_default().insert(entry.digest.value.clone(), info.clone());
                for dest in manifest.destinations() {
                    let repo = format!("{}/{name}", dest.name.value);
                    let held = repositories.entry(repo.clone()).or_default();
                    if !missing(&entry.digest.value, &repo) {
                        let slot = held.entry(entry.digest.value.clone()).or_default();
                        slot.tags.extend(info.tags.iter().cloned());
                        slot.tags.sort();
                        slot.tags.dedup();
                    }
                }
            }
        }
    }
    Inventory { repositories }
}
