//! Attachment findings: `attachment-too-deep` (the planner stopped following attachments of
//! attachments at [`MAX_ATTACHMENT_DEPTH`]) and `attachment-missing` (the attachment audit found
//! a source attachment absent from a destination). [`crate::plan`]'s attachment walk notes them;
//! they are reported here once per manifest entry, located at the digest that brought the
//! attachments along.

use std::collections::{BTreeMap, BTreeSet};

use crate::ManifestSet;
use crate::diagnostic::Diagnostic;
use crate::plan::MAX_ATTACHMENT_DEPTH;
use crate::plan::edge::{NONE, Site};

use super::{Code, and_more};

/// Attachment findings noted during a walk, reported once per manifest entry by
/// [`Self::report`].
#[derive(Default)]
pub(crate) struct Findings {
    /// Digest site -> (source repository, attachment whose own attachments were not followed).
    too_deep: BTreeMap<Site, BTreeSet<(String, String)>>,
    /// Digest site -> (destination repository, missing attachment `kind digest`).
    missing: BTreeMap<Site, BTreeSet<(String, String)>>,
}

impl Findings {
    /// Attachments of `attachment` (in `src`) lie deeper than the planner follows.
    pub(crate) fn too_deep(&mut self, site: Site, src: &str, attachment: &str) {
        let site = Site { tag: NONE, ..site };
        self.too_deep.entry(site).or_default().insert((src.to_owned(), attachment.to_owned()));
    }

    /// The attachment `what` (its kind and digest) is not in destination `dst`.
    pub(crate) fn missing(&mut self, site: Site, dst: &str, what: String) {
        let site = Site { tag: NONE, ..site };
        self.missing.entry(site).or_default().insert((dst.to_owned(), what));
    }

    /// Emits the findings, one per manifest entry and code.
    pub(crate) fn report(self, set: &ManifestSet, out: &mut Vec<Diagnostic>) {
        for (site, deep) in self.too_deep {
            let digest = site.digest(set);
            let (src, attachment) = deep.first().cloned().unwrap_or_default();
            out.push(
                Diagnostic::new(
                    Code::AttachmentTooDeep,
                    set.files.locate(digest.file, digest.span),
                    format!(
                        "attachments of {} nest deeper than {MAX_ATTACHMENT_DEPTH} levels: those of \
                         {src}@{attachment}{} are not promoted",
                        digest.value,
                        and_more(deep.len())
                    ),
                )
                .with_help(
                    "cip follows attachments of attachments 3 levels deep; copy the deeper ones \
                     separately, or attach them closer to the image",
                ),
            );
        }
        for (site, missing) in self.missing {
            let digest = site.digest(set);
            let (dst, what) = missing.first().cloned().unwrap_or_default();
            out.push(
                Diagnostic::new(
                    Code::AttachmentMissing,
                    set.files.locate(digest.file, digest.span),
                    format!(
                        "{what} of {} is in the source but not in {dst}{}",
                        digest.value,
                        and_more(missing.len())
                    ),
                )
                .with_help("run `cip promote` again: it copies the missing attachments (see `cip plan`)"),
            );
        }
    }
}
