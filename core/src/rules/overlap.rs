//! `destination-overlap`: different digests promoted to one destination `registry/image:tag`, by
//! different manifests, or by different image names whose destinations coincide (`r` + `a/b` and
//! `r/a` + `b`). Host names are case-insensitive, so `GCR.io/x` and `gcr.io/x` are one destination.
//! (A tag given two digests by one image name of one manifest is [`super::tag`]'s `tag-conflict`.)
//!
//! This is the only implementation: the linter reports with [`check`], and the planner blocks
//! the edges of every destination tag [`Overlaps::find`] returns. Every tag site at such a
//! destination is named by a finding (a `tag-conflict` or a `destination-overlap`), so every
//! edge the plan blocks for an overlap is explained where it is declared.
//!
//! The cross check does not expand the ~1M (destination, tag) edges of a Kubernetes-scale set: it
//! first finds pairs of (manifest, image name) owners that write to a common destination
//! repository (one string per destination and image name), then compares only those owners' tag
//! indexes. Which of two conflicting places is "first" is decided by file path and position, so
//! the result does not depend on the order in which files were handed in.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::diagnostic::Diagnostic;
use crate::files::{FileId, Files};
use crate::manifest::{Image, Manifest};
use crate::source::Span;

use super::Code;
use super::tag::{TagIndex, TagSite, index_tags};

/// An image name of one manifest (index into the manifests, name).
type Owner<'m> = (usize, &'m str);

/// Owner pairs that write to a common destination repository, with those repositories (keys, see
/// [`write_repository`]).
type Pairs<'m> = BTreeMap<(Owner<'m>, Owner<'m>), BTreeSet<String>>;

/// Every destination tag given two different digests, (repository key, tag), with the owners
/// writing to that repository.
type Conflicts<'m> = BTreeMap<(String, &'m str), BTreeSet<Owner<'m>>>;

/// Reports different digests promoted to one destination tag by different owners, then names
/// every other tag site at such a destination tag that no finding names yet. `indexes` are the
/// manifests' tag indexes ([`index_tags`], which reported the `tag-conflict`s already in `out`).
pub(super) fn check(
    files: &Files,
    manifests: &[Manifest],
    indexes: &[TagIndex<'_>],
    out: &mut Vec<Diagnostic>,
) {
    let pairs = shared_repositories(manifests, indexes);
    let mut found = Vec::new();
    for ((a, b), shared) in &pairs {
        let (Some(tags_a), Some(tags_b)) = (indexes[a.0].get(a.1), indexes[b.0].get(b.1)) else { continue };
        let (small, large) = if tags_a.len() <= tags_b.len() { (tags_a, tags_b) } else { (tags_b, tags_a) };
        for (tag, site) in small {
            let Some(other) = large.get(tag) else { continue };
            if other.digest.value != site.digest.value {
                let (first, second) = match by_position(files, site, other) {
                    Ordering::Greater => (other, site),
                    _ => (site, other),
                };
                let example = shared.first().map_or("", String::as_str);
                found.push(overlap(files, example, shared.len(), first, second));
            }
        }
    }
    // Pairs are visited in input order; one site may conflict with several others, and those
    // findings differ only in their label, so they are put in label order.
    found.sort_by(|a, b| (&a.location, &a.labels).cmp(&(&b.location, &b.labels)));
    out.extend(found);
    let conflicts = conflicts(manifests, indexes, &pairs);
    if !conflicts.is_empty() {
        let unnamed = unnamed_sites(files, manifests, &conflicts, out);
        out.extend(unnamed);
    }
}

/// The destination tags that are given two different digests: what the planner blocks.
pub(crate) struct Overlaps<'m> {
    /// Repository key -> its conflicting tags.
    tags: FxHashMap<String, FxHashSet<&'m str>>,
}

impl<'m> Overlaps<'m> {
    /// Finds them in all manifests of a run (the same search as [`check`], without findings).
    pub(crate) fn find(files: &Files, manifests: &'m [Manifest]) -> Self {
        let indexes: Vec<TagIndex<'m>> =
            manifests.iter().map(|m| index_tags(files, m, &mut Vec::new())).collect();
        let pairs = shared_repositories(manifests, &indexes);
        let mut tags: FxHashMap<String, FxHashSet<&'m str>> = FxHashMap::default();
        for (repo, tag) in conflicts(manifests, &indexes, &pairs).into_keys() {
            tags.entry(repo).or_default().insert(tag);
        }
        Self { tags }
    }

    /// True when no destination tag has two digests.
    pub(crate) fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// The conflicting tags of the repository at `path` (`registry/image`, as the plan writes it).
    pub(crate) fn tags_at(&self, path: &str) -> Option<&FxHashSet<&'m str>> {
        let mut key = path.to_owned();
        lowercase_host(&mut key);
        self.tags.get(&key)
    }
}

/// Every destination tag with two digests: across owners (first sites of a tag differ; see
/// [`check`]), and within an owner (a `tag-conflict`, which conflicts in every destination of the
/// manifest).
fn conflicts<'m>(manifests: &'m [Manifest], indexes: &[TagIndex<'m>], pairs: &Pairs<'m>) -> Conflicts<'m> {
    // Repositories written by two owners or more, with all their owners.
    let mut writers: BTreeMap<&str, BTreeSet<Owner<'m>>> = BTreeMap::new();
    for ((a, b), shared) in pairs {
        for repo in shared {
            writers.entry(repo.as_str()).or_default().extend([*a, *b]);
        }
    }
    let mut out: Conflicts<'m> = BTreeMap::new();
    let mut add = |repo: &str, tag: &'m str, owner: Owner<'m>| {
        let owners = writers.get(repo).cloned().unwrap_or_else(|| BTreeSet::from([owner]));
        out.entry((repo.to_owned(), tag)).or_insert(owners);
    };
    for ((a, b), shared) in pairs {
        let (Some(tags_a), Some(tags_b)) = (indexes[a.0].get(a.1), indexes[b.0].get(b.1)) else { continue };
        for (&tag, site) in tags_a {
            if tags_b.get(tag).is_some_and(|other| other.digest.value != site.digest.value) {
                for repo in shared {
                    add(repo, tag, *a);
                }
            }
        }
    }
    let mut buffer = String::new();
    for (m, manifest) in manifests.iter().enumerate() {
        for (&name, tags) in &indexes[m] {
            for (&tag, _) in tags.iter().filter(|(_, site)| site.mixed) {
                for dest in manifest.destinations() {
                    write_repository(&mut buffer, &dest.name.value, name);
                    add(&buffer, tag, (m, name));
                }
            }
        }
    }
    out
}

/// A `destination-overlap` finding for each tag site at a conflicting destination tag that no
/// `tag-conflict` or `destination-overlap` finding of `named` points at (or labels): the third
/// entry of a tag, say, when the first two were reported. It names the first conflicting
/// destination (by path) and the smallest other digest there, so it does not depend on order.
fn unnamed_sites<'m>(
    files: &Files,
    manifests: &'m [Manifest],
    conflicts: &Conflicts<'m>,
    named: &[Diagnostic],
) -> Vec<Diagnostic> {
    let named: FxHashSet<(&str, Span)> = named
        .iter()
        .filter(|d| matches!(d.code, Code::TagConflict | Code::DestinationOverlap))
        .flat_map(|d| std::iter::once(&d.location).chain(d.labels.iter().map(|l| &l.location)))
        .map(|at| (at.file.as_str(), at.span))
        .collect();
    let mut sites = OwnerSites::default();
    // Tag site -> (first destination, the other digest's first site there, destination count).
    let mut found: BTreeMap<(FileId, u32), (TagSite<'m>, &str, TagSite<'m>, usize)> = BTreeMap::new();
    for ((repo, tag), owners) in conflicts {
        let here: Vec<TagSite<'m>> = owners.iter().flat_map(|&o| sites.of(manifests, o, tag)).collect();
        for site in &here {
            let own = site.digest.value.as_str();
            let Some(other) = here.iter().map(|s| s.digest.value.as_str()).filter(|d| *d != own).min() else {
                continue;
            };
            let key = (site.tag.file, site.tag.span.start);
            if let Some(entry) = found.get_mut(&key) {
                entry.3 += 1; // conflicts are visited by repository, so the first one stays
                continue;
            }
            let label = here
                .iter()
                .filter(|s| s.digest.value == other)
                .min_by(|a, b| by_position(files, a, b))
                .copied()
                .expect("the other digest has a site");
            found.insert(key, (*site, repo.as_str(), label, 1));
        }
    }
    found
        .into_values()
        .filter(|(site, ..)| !named.contains(&(files.get(site.tag.file).path.as_str(), site.tag.span)))
        .map(|(site, repo, label, count)| overlap(files, repo, count, &label, &site))
        .collect()
}

/// The tag sites of owners, gathered on first use (only owners at a conflicting destination).
#[derive(Default)]
struct OwnerSites<'m> {
    /// Manifest -> image name -> its entries (an image name may be listed more than once).
    images: FxHashMap<usize, FxHashMap<&'m str, Vec<&'m Image>>>,
    /// Owner -> tag -> every site of that tag, in manifest order.
    sites: FxHashMap<Owner<'m>, FxHashMap<&'m str, Vec<TagSite<'m>>>>,
}

impl<'m> OwnerSites<'m> {
    fn of(&mut self, manifests: &'m [Manifest], owner: Owner<'m>, tag: &str) -> Vec<TagSite<'m>> {
        let images = self.images.entry(owner.0).or_insert_with(|| {
            let mut by_name: FxHashMap<&'m str, Vec<&'m Image>> = FxHashMap::default();
            for image in &manifests[owner.0].images {
                by_name.entry(image.name.value.as_str()).or_default().push(image);
            }
            by_name
        });
        let sites = self.sites.entry(owner).or_insert_with(|| {
            let mut by_tag: FxHashMap<&'m str, Vec<TagSite<'m>>> = FxHashMap::default();
            for image in images.get(owner.1).into_iter().flatten() {
                for entry in &image.dmap {
                    for tag in &entry.tags {
                        let site = TagSite { digest: &entry.digest, tag, mixed: false };
                        by_tag.entry(tag.value.as_str()).or_default().push(site);
                    }
                }
            }
            by_tag
        });
        sites.get(tag).cloned().unwrap_or_default()
    }
}

/// Owner pairs that write to a common destination repository, with those repositories.
///
/// There is one `registry/name` string per destination and image name (80,000 at Kubernetes
/// scale), nearly all unique. Rather than allocating each, they are grouped by a hash of the
/// joined text built in one reused buffer; only groups of two or more are compared for real.
fn shared_repositories<'m>(manifests: &'m [Manifest], indexes: &[TagIndex<'m>]) -> Pairs<'m> {
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
    let mut pairs: Pairs<'m> = BTreeMap::new();
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

/// Writes the key of repository `registry/name` into `buffer`: the path with its host in
/// lowercase.
fn write_repository(buffer: &mut String, registry: &str, name: &str) {
    buffer.clear();
    buffer.push_str(registry);
    buffer.push('/');
    buffer.push_str(name);
    lowercase_host(buffer);
}

/// Host names are case-insensitive, so `GCR.io/x` and `gcr.io/x` are one destination: the part
/// before the first `/` is lowercased.
fn lowercase_host(path: &mut str) {
    let end = path.find('/').unwrap_or(path.len());
    path[..end].make_ascii_lowercase();
}

/// Orders two sites by file path, then position.
fn by_position(files: &Files, a: &TagSite<'_>, b: &TagSite<'_>) -> Ordering {
    let key = |s: &TagSite<'_>| (files.get(s.tag.file).path.as_str(), s.tag.span.start);
    key(a).cmp(&key(b))
}

/// The finding at `second`, whose digest differs from `first`'s at `destination` (and at
/// `destinations - 1` more).
fn overlap(
    files: &Files,
    destination: &str,
    destinations: usize,
    first: &TagSite<'_>,
    second: &TagSite<'_>,
) -> Diagnostic {
    let more = match destinations {
        0 | 1 => String::new(),
        2 => " (and 1 more destination)".to_owned(),
        n => format!(" (and {} more destinations)", n - 1),
    };
    Diagnostic::new(
        Code::DestinationOverlap,
        files.locate(second.tag.file, second.tag.span),
        format!(
            "{destination}:{}{more} would get two different digests: {} here and {} elsewhere",
            second.tag.value, second.digest.value, first.digest.value
        ),
    )
    .with_label(
        files.locate(first.tag.file, first.tag.span),
        format!("promoted from {} here", first.digest.value),
    )
    .with_help("a destination tag holds one digest: remove one of the entries or use another tag")
}
