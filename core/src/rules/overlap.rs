//! Tags never point at two digests: within one manifest (the same tag on two digests of one image
//! name, across repeated entries too) and across manifests or registries (two entries promoting
//! different digests to the same destination `registry/image:tag`).
//!
//! The cross check does not expand the ~1M (destination, tag) edges of a Kubernetes-scale set: it
//! first finds pairs of (manifest, image name) owners that write to a common destination
//! repository (one string per destination and image name), then compares only those owners' tag
//! indexes. Which of two conflicting places is "first" is decided by file path and position, so
//! the result does not depend on the order in which files were handed in.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;

use rustc_hash::FxHashMap;

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::manifest::{Manifest, Spanned};

/// Where a tag was declared for a digest.
#[derive(Clone, Copy)]
pub(super) struct TagSite<'m> {
    digest: &'m Spanned<String>,
    tag: &'m Spanned<String>,
}

/// Image name -> tag -> first site, for one manifest.
pub(super) type TagIndex<'m> = FxHashMap<&'m str, FxHashMap<&'m str, TagSite<'m>>>;

/// Indexes a manifest's tags and reports a tag given to two digests of one image name.
pub(super) fn index_tags<'m>(
    files: &Files,
    manifest: &'m Manifest,
    out: &mut Vec<Diagnostic>,
) -> TagIndex<'m> {
    let mut index: TagIndex<'m> = FxHashMap::default();
    for image in &manifest.images {
        let tags = index.entry(image.name.value.as_str()).or_default();
        for entry in &image.dmap {
            for tag in &entry.tags {
                let site = TagSite { digest: &entry.digest, tag };
                match tags.get(tag.value.as_str()) {
                    None => {
                        tags.insert(tag.value.as_str(), site);
                    }
                    Some(first) if first.digest.value != entry.digest.value => {
                        out.push(tag_conflict(files, &image.name.value, first, &site));
                    }
                    Some(_) => {}
                }
            }
        }
    }
    index
}

fn tag_conflict(files: &Files, image: &str, first: &TagSite<'_>, second: &TagSite<'_>) -> Diagnostic {
    Diagnostic::error(
        "tag-conflict",
        files.locate(second.tag.file, second.tag.span),
        format!(
            "tag {} of image {image} is given to two digests: {} and {}",
            second.tag.value, first.digest.value, second.digest.value
        ),
    )
    .with_label(
        files.locate(first.tag.file, first.tag.span),
        format!("also given to {} here", first.digest.value),
    )
    .with_help("a tag points at one digest and never moves: give the new digest a new tag")
}

/// An image name of one manifest.
type Owner<'m> = (usize, &'m str);

/// Different digests promoted to the same destination `registry/image:tag` by different
/// manifests, or by different image names whose destinations coincide (`r` + `a/b` and `r/a` + `b`).
pub(super) fn check_destination_overlaps(
    files: &Files,
    manifests: &[Manifest],
    indexes: &[TagIndex<'_>],
    out: &mut Vec<Diagnostic>,
) {
    let pairs = shared_repositories(manifests, indexes);
    for ((a, b), shared) in pairs {
        let (Some(tags_a), Some(tags_b)) = (indexes[a.0].get(a.1), indexes[b.0].get(b.1)) else { continue };
        let (small, large) = if tags_a.len() <= tags_b.len() { (tags_a, tags_b) } else { (tags_b, tags_a) };
        for (tag, site) in small {
            let Some(other) = large.get(tag) else { continue };
            if other.digest.value != site.digest.value {
                let (first, second) = match by_position(files, site, other) {
                    Ordering::Greater => (other, site),
                    _ => (site, other),
                };
                out.push(overlap(files, &shared, first, second));
            }
        }
    }
}

/// Owner pairs that write to a common destination repository, with those repositories.
///
/// There is one `registry/name` string per destination and image name (80,000 at Kubernetes
/// scale), nearly all unique. Rather than allocating each, they are grouped by a hash of the
/// joined text built in one reused buffer; only groups of two or more are compared for real.
fn shared_repositories<'m>(
    manifests: &'m [Manifest],
    indexes: &[TagIndex<'m>],
) -> BTreeMap<(Owner<'m>, Owner<'m>), BTreeSet<String>> {
    let mut by_hash: FxHashMap<u64, Vec<(Owner<'m>, &'m str)>> = FxHashMap::default();
    let mut buffer = String::new();
    for (m, manifest) in manifests.iter().enumerate() {
        let mut names: Vec<&'m str> = indexes[m].keys().copied().collect();
        names.sort_unstable();
        for dest in manifest.destinations() {
            for &name in &names {
                write_repository(&mut buffer, &dest.name.value, name);
                let group = by_hash.entry(rustc_hash::FxBuildHasher.hash_one(buffer.as_str())).or_default();
                group.push(((m, name), dest.name.value.as_str()));
            }
        }
    }
    let mut pairs: BTreeMap<(Owner<'m>, Owner<'m>), BTreeSet<String>> = BTreeMap::new();
    for group in by_hash.values().filter(|g| g.len() > 1) {
        for (i, &(a, registry_a)) in group.iter().enumerate() {
            for &(b, registry_b) in &group[i + 1..] {
                let mut repo = String::new();
                write_repository(&mut repo, registry_a, a.1);
                write_repository(&mut buffer, registry_b, b.1);
                if a == b || repo != buffer {
                    continue; // a hash collision, or one owner through two equal registries
                }
                let key = if a < b { (a, b) } else { (b, a) };
                pairs.entry(key).or_default().insert(repo);
            }
        }
    }
    pairs
}

/// Writes `registry/name` into `buffer`, with the host in lowercase: host names are
/// case-insensitive, so `GCR.io/x` and `gcr.io/x` are one destination.
fn write_repository(buffer: &mut String, registry: &str, name: &str) {
    buffer.clear();
    let (host, path) = registry.split_once('/').map_or((registry, None), |(h, p)| (h, Some(p)));
    buffer.extend(host.chars().map(|c| c.to_ascii_lowercase()));
    if let Some(path) = path {
        buffer.push('/');
        buffer.push_str(path);
    }
    buffer.push('/');
    buffer.push_str(name);
}

/// Orders two sites by file path, then position.
fn by_position(files: &Files, a: &TagSite<'_>, b: &TagSite<'_>) -> Ordering {
    let key = |s: &TagSite<'_>| (files.get(s.tag.file).path.as_str(), s.tag.span.start);
    key(a).cmp(&key(b))
}

fn overlap(
    files: &Files,
    shared: &BTreeSet<String>,
    first: &TagSite<'_>,
    second: &TagSite<'_>,
) -> Diagnostic {
    let example = shared.iter().next().map_or("", String::as_str);
    let more = match shared.len() {
        1 => String::new(),
        2 => " (and 1 more destination)".to_owned(),
        n => format!(" (and {} more destinations)", n - 1),
    };
    Diagnostic::error(
        "destination-overlap",
        files.locate(second.tag.file, second.tag.span),
        format!(
            "{example}:{}{more} would get two different digests: {} here and {} elsewhere",
            second.tag.value, second.digest.value, first.digest.value
        ),
    )
    .with_label(
        files.locate(first.tag.file, first.tag.span),
        format!("promoted from {} here", first.digest.value),
    )
    .with_help("a destination tag holds one digest: remove one of the entries or use another tag")
}
