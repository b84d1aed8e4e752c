//! Delta promotion: plan only what changed since a base manifest set (the manifests as of the
//! last promotion). A digest in a destination is planned when it is new or its tag list changed;
//! entries and tags removed since the base are reported ([`crate::rules::removed`]), never deleted.

use std::collections::{BTreeSet, HashMap};

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;
use crate::rules::removed::report_removed;

use super::edge::{Edges, runs};

/// (destination repository, digest) -> tags (`None` for a tagless edge).
pub(crate) type Declared<'e> = HashMap<(&'e str, &'e str), BTreeSet<Option<&'e str>>>;

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
