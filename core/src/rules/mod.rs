//! Semantic rules over read manifests: source registry, names, digests, tags, and the overlap of
//! destinations within and across manifests.

mod names;
mod overlap;

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::manifest::Manifest;

/// Runs every semantic rule over all manifests of a run.
pub fn check(files: &Files, manifests: &[Manifest], out: &mut Vec<Diagnostic>) {
    for manifest in manifests {
        names::check_registries(files, manifest, out);
        names::check_images(files, manifest, out);
        overlap::check_tag_conflicts(files, manifest, out);
    }
    overlap::check_destination_overlaps(files, manifests, out);
}
