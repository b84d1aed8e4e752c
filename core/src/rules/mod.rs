//! Every finding code ([`Code`]) and every semantic rule. A rule lives in the file named after
//! what it checks; the manifest reader only builds the model and reports problems with the shape
//! of a file. All manifests of a run are checked together, after they are read ([`crate::load`]).
//!
//! Where each code is emitted:
//!
//! | code | file |
//! |---|---|
//! | `yaml-syntax`, `yaml-multiple-documents` | `manifest/read.rs` (the errors of `yaml.rs`) |
//! | `yaml-too-large`, `yaml-too-deep`, `yaml-too-many-nodes` | `manifest/read.rs` (`yaml::Limit::code`) |
//! | `unknown-key`, `wrong-type`, `duplicate-key`, `digest-duplicate` | `manifest/read.rs` |
//! | `registries-missing`, `registries-empty`, `registry-name-missing`, `image-name-missing`, `dmap-missing`, `dmap-empty` | `manifest/read.rs` (required fields) |
//! | `tag-unquoted` | `manifest/read.rs` (needs the YAML scalar style, which the model drops) |
//! | `source-registry-missing`, `source-registry-multiple` | `rules/source_registry.rs` |
//! | `src-registry-unknown`, `src-registry-conflict`, `src-registry-legacy` | `rules/source_registry.rs` (called by the reader: it decides the model's source) |
//! | `registry-name-invalid`, `registry-repeated`, `no-destinations` | `rules/registry.rs` |
//! | `image-name-invalid`, `image-repeated` | `rules/image.rs` |
//! | `digest-invalid` | `rules/digest.rs` |
//! | `tag-invalid`, `tag-repeated`, `tag-conflict` | `rules/tag.rs` |
//! | `destination-overlap` | `rules/overlap.rs` (lint; the plan blocks what it finds) |
//! | `thin-*`, `images-path-ignored` | `rules/thin_layout.rs` (called by `manifest/thin.rs`, which finds the files) |
//! | `lost`, `tag-move`, `inventory-missing` | `rules/edges.rs` (noted by `plan/classify.rs`) |
//! | `entry-removed`, `tag-removed` | `rules/removed.rs` (called by `plan/delta.rs`) |
//! | `attachment-too-deep`, `attachment-missing` | `rules/attachment.rs` (noted by `plan/attach.rs`) |
//!
//! Plan `blocked[].reasons` are these codes too, plus `strict` ([`crate::plan::STRICT_REASON`]),
//! which is an option, not a finding.

pub(crate) mod attachment;
mod code;
mod digest;
pub(crate) mod edges;
mod image;
pub(crate) mod overlap;
mod registry;
pub(crate) mod removed;
pub(crate) mod source_registry;
mod tag;
pub(crate) mod thin_layout;

pub use code::{Code, UnknownCode};

use crate::diagnostic::{Diagnostic, Location};
use crate::files::Files;
use crate::manifest::{Manifest, Spanned};

/// Runs every rule over the model of a run's manifests (the reader's own findings are already in
/// `out`; the overlap check reads them).
pub(crate) fn check(files: &Files, manifests: &[Manifest], out: &mut Vec<Diagnostic>) {
    for manifest in manifests {
        check_manifest(files, manifest, out);
    }
    check_across(files, manifests, out);
}

/// The rules that read one manifest alone: an editor's workspace ([`crate::workspace`]) keeps
/// their findings for the manifests an edit did not touch.
pub(crate) fn check_manifest(files: &Files, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    source_registry::check(files, manifest, out);
    registry::check(files, manifest, out);
    image::check(files, manifest, out);
    digest::check(files, manifest, out);
    tag::check(files, manifest, out);
}

/// The rules that compare entries (tag conflicts within an image, overlaps across manifests);
/// every other finding must already be in `out`.
pub(crate) fn check_across(files: &Files, manifests: &[Manifest], out: &mut Vec<Diagnostic>) {
    let indexes: Vec<_> = manifests.iter().map(|m| tag::index_tags(files, m, out)).collect();
    overlap::check(files, manifests, &indexes, out);
}

/// Where a value was written.
fn at(files: &Files, s: &Spanned<String>) -> Location {
    files.locate(s.file, s.span)
}

/// ` (and N more)` after the first of `n` places named in a message; nothing for one.
fn and_more(n: usize) -> String {
    match n {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    }
}
