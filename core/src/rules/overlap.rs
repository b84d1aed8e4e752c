//! Tags never point at two digests: within one manifest (the same tag on two digests of one image
//! name, across repeated entries too) and across manifests (two manifests promoting different
//! digests to the same destination `registry/image:tag`).
//!
//! The cross-manifest check does not expand the ~1M (destination, tag) edges of a Kubernetes-scale
//! set: it first finds pairs of (manifest, image) owners that share a destination repository (a few
//! thousand repository strings), then compares only those owners' tag maps.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::manifest::{Manifest, Spanned};

/// Where a tag was declared for a digest.
struct TagSite<'m> {
    digest: &'m Spanned<String>,
    tag: &'m Spanned<String>,
}

/// tag -> first site, for every image name of a manifest.
type TagMap<'m> = HashMap<&'m str, TagSite<'m>>;

fn tag_maps(manifest: &Manifest) -> BTreeMap<&str, TagMap<'_>> {
    let mut maps: BTreeMap<&str, TagMap<'_>> = BTreeMap::new();
    for image in &manifest.images {
        let map = maps.entry(image.name.value.as_str()).or_default();
        for entry in &image.dmap {
            for tag in &entry.tags {
                map.entry(tag.value.as_str()).or_insert(TagSite { digest: &entry.digest, tag });
            }
        }
    }
    maps
}

/// Same tag on two digests of one image name within one manifest.
pub fn check_tag_conflicts(files: &Files, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<(&str, &str), &Spanned<String>> = HashMap::new();
    let mut first_tag: HashMap<(&str, &str), &Spanned<String>> = HashMap::new();
    for image in &manifest.images {
        for entry in &image.dmap {
            for tag in &entry.tags {
                let key = (image.name.value.as_str(), tag.value.as_str());
                match first.get(&key) {
                    None => {
                        first.insert(key, &entry.digest);
                        first_tag.insert(key, tag);
                    }
                    Some(d) if d.value != entry.digest.value => {
                        let other = first_tag[&key];
                        out.push(
                            Diagnostic::error(
                                "tag-conflict",
                                files.locate(tag.file, tag.span),
                                format!("tag {} of image {} is given to two digests: {} and {}", tag.value, image.name.value, d.value, entry.digest.value),
                            )
                            .with_label(files.locate(other.file, other.span), format!("also given to {} here", d.value))
                            .with_help("a tag points at one digest; tags never move, so give the new digest a new tag"),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
    }
}

/// Different digests promoted to the same destination `registry/image:tag` by different manifests.
pub fn check_destination_overlaps(files: &Files, manifests: &[Manifest], out: &mut Vec<Diagnostic>) {
    // destination repository -> owners (manifest index, image name)
    let mut repos: HashMap<String, BTreeSet<(usize, &str)>> = HashMap::new();
    for (m, manifest) in manifests.iter().enumerate() {
        let names: BTreeSet<&str> = manifest.images.iter().map(|i| i.name.value.as_str()).collect();
        for dest in manifest.destinations() {
            for name in &names {
                repos.entry(format!("{}/{}", dest.name.value, name)).or_default().insert((m, name));
            }
        }
    }
    // owner pair -> shared repositories
    let mut pairs: BTreeMap<((usize, &str), (usize, &str)), BTreeSet<&str>> = BTreeMap::new();
    for (repo, owners) in &repos {
        let owners: Vec<_> = owners.iter().collect();
        for (i, a) in owners.iter().enumerate() {
            for b in &owners[i + 1..] {
                if a.0 != b.0 {
                    pairs.entry((**a, **b)).or_default().insert(repo.as_str());
                }
            }
        }
    }
    if pairs.is_empty() {
        return;
    }
    let maps: Vec<_> = manifests.iter().map(tag_maps).collect();
    for ((a, b), shared) in pairs {
        let (Some(map_a), Some(map_b)) = (maps[a.0].get(a.1), maps[b.0].get(b.1)) else { continue };
        let mut conflicts: Vec<(&TagSite<'_>, &TagSite<'_>)> = map_b
            .iter()
            .filter_map(|(tag, site_b)| {
                map_a
                    .get(tag)
                    .filter(|s| s.digest.value != site_b.digest.value)
                    .map(|site_a| (site_a, site_b))
            })
            .collect();
        conflicts.sort_by_key(|(_, s)| (s.tag.file, s.tag.span));
        for (site_a, site_b) in conflicts {
            out.push(overlap_finding(files, &shared, site_a, site_b));
        }
    }
}

fn overlap_finding(
    files: &Files,
    shared: &BTreeSet<&str>,
    first: &TagSite<'_>,
    second: &TagSite<'_>,
) -> Diagnostic {
    let example = shared.iter().next().copied().unwrap_or_default();
    let more = match shared.len() {
        1 => String::new(),
        n => format!(" (and {} more destinations)", n - 1),
    };
    Diagnostic::error(
        "destination-overlap",
        files.locate(second.tag.file, second.tag.span),
        format!(
            "{example}:{}{more} is promoted from two different digests: {} here and {} in another manifest",
            second.tag.value, second.digest.value, first.digest.value
        ),
    )
    .with_label(
        files.locate(first.tag.file, first.tag.span),
        format!("promoted from {} here", first.digest.value),
    )
    .with_help("one destination tag can hold one digest: remove one of the entries or use another tag")
}
