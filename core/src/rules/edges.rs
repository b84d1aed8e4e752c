//! Planning findings, from the inventory: `lost` (the digest is not in the source repository),
//! `tag-move` (the destination tag points at another digest; tags never move) and
//! `inventory-missing` (a repository the plan needs is not in the inventory). The planner
//! ([`crate::plan`]) notes them while it decides each edge, in the Go promoter's order of checks;
//! they are reported here once per manifest site, located at the entry that caused them.

use std::collections::{BTreeMap, BTreeSet};

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;
use crate::plan::edge::{Edge, Edges, NONE, Site};

use super::{Code, and_more};

/// Findings noted while classifying edges, reported once per manifest site by [`Self::report`].
#[derive(Default)]
pub(crate) struct Findings<'a> {
    /// (digest site, source repository) of lost digests.
    lost: BTreeSet<(Site, &'a str)>,
    /// Tag site -> (destination repository, digest the tag points at).
    moved: BTreeMap<Site, BTreeSet<(&'a str, &'a str)>>,
    /// Image site -> repositories missing from the inventory.
    missing: BTreeMap<Site, BTreeSet<&'a str>>,
}

impl<'a> Findings<'a> {
    /// The digest of every declaration in `group` is not in the source repository `src`.
    pub(crate) fn lost(&mut self, group: &[Edge], src: &'a str) {
        self.lost.extend(group.iter().map(|g| (Site { tag: NONE, ..g.site }, src)));
    }

    /// The tag of every declaration in `group` points at `other` in destination `dst`.
    pub(crate) fn moved(&mut self, group: &[Edge], dst: &'a str, other: &'a str) {
        for g in group {
            self.moved.entry(g.site).or_default().insert((dst, other));
        }
    }

    /// Repository `repo` (an id of `edges`, `NONE` for none) needed by `group` is not in the
    /// inventory.
    pub(crate) fn missing(&mut self, group: &[Edge], edges: &'a Edges<'a>, repo: u32) {
        if repo == NONE {
            return;
        }
        for g in group {
            let image_site = Site { entry: NONE, tag: NONE, ..g.site };
            self.missing.entry(image_site).or_default().insert(edges.repos[repo as usize].as_str());
        }
    }

    /// Emits the findings, one per manifest site.
    pub(crate) fn report(self, set: &ManifestSet, out: &mut Vec<Diagnostic>) {
        for (site, src) in self.lost {
            let digest = site.digest(set);
            out.push(
                Diagnostic::new(
                    Code::Lost,
                    set.files.locate(digest.file, digest.span),
                    format!("{} is lost: the source repository {src} does not have it", digest.value),
                )
                .with_help("push the image to the staging repository again, or remove this entry; other entries are still promoted"),
            );
        }
        for (site, moves) in self.moved {
            let tag = site.tag(set).expect("tag-move edges have a tag");
            let (dst, other) = moves.first().copied().expect("one move at least");
            let more = and_more(moves.len());
            out.push(
                Diagnostic::new(
                    Code::TagMove,
                    set.files.locate(tag.file, tag.span),
                    format!(
                        "tag {} in {dst}{more} points to {other}, not {}: tags never move",
                        tag.value,
                        site.digest(set).value
                    ),
                )
                .with_help("give this digest a new tag; the tag already promoted keeps its digest"),
            );
        }
        for (site, repos) in self.missing {
            let image = site.image(set);
            let first = repos.first().copied().unwrap_or_default();
            out.push(
                Diagnostic::new(
                    Code::InventoryMissing,
                    set.files.locate(image.file, image.span),
                    format!("repository {first}{} is not in the inventory", and_more(repos.len())),
                )
                .with_help(
                    "read the repository into the inventory; `{}` records a repository that exists and is empty",
                ),
            );
        }
    }
}
