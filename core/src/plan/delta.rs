//! Delta promotion: plan only what changed since a base manifest set (the manifests as of the
//! last promotion). A digest in a destination is planned when it is new or its tag list changed;
//! entries and tags removed since the base are reported, never deleted.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;

use super::edge::{Edges, Site, runs};

/// (destination repository, digest) -> tags (`None` for a tagless edge).
type Declared<'e> = HashMap<(&'e str, &'e str), BTreeSet<Option<&'e str>>>;

fn declared<'e>(edges: &'e Edges<'e>) -> Declared<'e> {
    let mut out: Declared<'e> = HashMap::new();
    for e in &edges.list {
        let key = (edges.repos[e.dst as usize].as_str(), edges.digests[e.digest as usize]);
        out.entry(key).or_default().insert(edges.tag_text(e));
    }
    out
}

/// Drops the edges of every (destination, digest) whose tags are the same as in the base, and
/// warns about entries and tags of the base that are gone.
pub(crate) fn apply(
    edges: &mut Edges<'_>,
    base: &ManifestSet,
    base_edges: &Edges<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let before = declared(base_edges);
    let now = declared(edges);
    report_removed(base, base_edges, &now, out);
    let mut keep = vec![false; edges.list.len()];
    for range in runs(&edges.list, |e| (e.dst, e.digest)) {
        let e = edges.list[range.start];
        let key = (edges.repos[e.dst as usize].as_str(), edges.digests[e.digest as usize]);
        let changed = before.get(&key) != now.get(&key);
        for k in &mut keep[range] {
            *k = changed;
        }
    }
    let mut keep = keep.into_iter();
    edges.list.retain(|_| keep.next().unwrap_or(false));
}

fn report_removed(base: &ManifestSet, base_edges: &Edges<'_>, now: &Declared<'_>, out: &mut Vec<Diagnostic>) {
    // base site -> destinations where it is gone (first by path is named in the message).
    let mut entries: BTreeMap<Site, BTreeSet<&str>> = BTreeMap::new();
    let mut tags: BTreeMap<Site, BTreeSet<&str>> = BTreeMap::new();
    for e in &base_edges.list {
        let dst = base_edges.repos[e.dst as usize].as_str();
        let key = (dst, base_edges.digests[e.digest as usize]);
        match now.get(&key) {
            None => {
                entries.entry(Site { tag: super::NONE, ..e.site }).or_default().insert(dst);
            }
            Some(current) if e.tag != super::NONE && !current.contains(&base_edges.tag_text(e)) => {
                tags.entry(e.site).or_default().insert(dst);
            }
            Some(_) => {}
        }
    }
    for (site, dsts) in entries {
        let digest = site.digest(base);
        out.push(
            Diagnostic::warning(
                "entry-removed",
                base.files.locate(digest.file, digest.span),
                format!(
                    "{} of image {} was removed from the manifests for {}{}; cip never deletes, so it stays there",
                    digest.value,
                    site.image(base).value,
                    dsts.first().copied().unwrap_or_default(),
                    more(dsts.len())
                ),
            )
            .with_help("to take an image out of production, delete it from the registry by hand"),
        );
    }
    for (site, dsts) in tags {
        let tag = site.tag(base).expect("tagged edge");
        out.push(
            Diagnostic::warning(
                "tag-removed",
                base.files.locate(tag.file, tag.span),
                format!(
                    "tag {} of {} was removed from the manifests for {}{}; cip never untags, so it stays there",
                    tag.value,
                    site.digest(base).value,
                    dsts.first().copied().unwrap_or_default(),
                    more(dsts.len())
                ),
            )
            .with_help("tags never move or disappear through promotion; remove it from the registry by hand if needed"),
        );
    }
}

fn more(n: usize) -> String {
    if n > 1 { format!(" (and {} more)", n - 1) } else { String::new() }
}
