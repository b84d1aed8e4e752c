//! Delta planning findings (`cip plan --base`): `entry-removed` (a digest entry of the base is gone
//! from a destination) and `tag-removed` (a tag of the base is gone). Warnings: cip never deletes
//! or untags, so both stay in the registry. Which edges are planned is [`crate::plan`]'s.

use std::collections::{BTreeMap, BTreeSet};

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;
use crate::plan::delta::Declared;
use crate::plan::edge::{Edges, NONE, Site};

use super::{Code, and_more};

/// Warns about every entry and tag of the base (`base`, expanded to `base_edges`) that the current
/// manifests (`now`) no longer declare in a destination.
pub(crate) fn report_removed(
    base: &ManifestSet,
    base_edges: &Edges<'_>,
    now: &Declared<'_>,
    out: &mut Vec<Diagnostic>,
) {
    // Base site -> destinations where it is gone (the first by path is named in the message).
    let mut entries: BTreeMap<Site, BTreeSet<&str>> = BTreeMap::new();
    let mut tags: BTreeMap<Site, BTreeSet<&str>> = BTreeMap::new();
    for e in &base_edges.list {
        let dst = base_edges.repos[e.dst as usize].as_str();
        let key = (dst, base_edges.digests[e.digest as usize]);
        match now.get(&key) {
            None => {
                entries.entry(Site { tag: NONE, ..e.site }).or_default().insert(dst);
            }
            Some(current) if e.tag != NONE && !current.contains(&base_edges.tag_text(e)) => {
                tags.entry(e.site).or_default().insert(dst);
            }
            Some(_) => {}
        }
    }
    for (site, dsts) in entries {
        let digest = site.digest(base);
        out.push(
            Diagnostic::new(
                Code::EntryRemoved,
                base.files.locate(digest.file, digest.span),
                format!(
                    "{} of image {} was removed from the manifests for {}{}; cip never deletes, so it stays there",
                    digest.value,
                    site.image(base).value,
                    dsts.first().copied().unwrap_or_default(),
                    and_more(dsts.len())
                ),
            )
            .with_help("to take an image out of production, delete it from the registry by hand"),
        );
    }
    for (site, dsts) in tags {
        let tag = site.tag(base).expect("tagged edge");
        out.push(
            Diagnostic::new(
                Code::TagRemoved,
                base.files.locate(tag.file, tag.span),
                format!(
                    "tag {} of {} was removed from the manifests for {}{}; cip never untags, so it stays there",
                    tag.value,
                    site.digest(base).value,
                    dsts.first().copied().unwrap_or_default(),
                    and_more(dsts.len())
                ),
            )
            .with_help("tags never move or disappear through promotion; remove it from the registry by hand if needed"),
        );
    }
}
