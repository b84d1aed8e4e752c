//! Semantic rules over read manifests: source registry, names, digests, tags, and the overlap of
//! destinations within and across manifests. All manifests of a run are checked together.

mod names;
mod overlap;

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::manifest::Manifest;

/// Runs every semantic rule over all manifests of a run.
pub fn check(files: &Files, manifests: &[Manifest], out: &mut Vec<Diagnostic>) {
    let mut indexes = Vec::with_capacity(manifests.len());
    for manifest in manifests {
        names::check_registries(files, manifest, out);
        names::check_images(files, manifest, out);
        indexes.push(overlap::index_tags(files, manifest, out));
    }
    overlap::check_destination_overlaps(files, manifests, &indexes, out);
}
