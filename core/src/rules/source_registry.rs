//! The source registry: `source-registry-missing` and `source-registry-multiple` (a manifest has
//! exactly one `src: true` registry), and the original schema's top-level `src-registry: NAME`:
//! `src-registry-unknown` (names an unlisted registry), `src-registry-conflict` (another entry is
//! marked `src: true`) and `src-registry-legacy` (accepted, with the current form as help).
//!
//! [`resolve_src_registry`] also decides which registry the model marks as the source, so the
//! manifest reader calls it as soon as a plain manifest is read; [`check`] runs with the other
//! rules.

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::manifest::Manifest;

use super::{Code, at};

/// Exactly one `src: true` registry.
pub(super) fn check(files: &Files, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    let sources: Vec<_> = manifest.registries.iter().filter(|r| r.src).collect();
    // A `src-registry` naming an unknown registry is reported where it is written.
    if sources.is_empty() && !manifest.registries.is_empty() && manifest.src_registry.is_none() {
        out.push(
            Diagnostic::new(
                Code::SourceRegistryMissing,
                files.locate(manifest.file, manifest.registries_span),
                "no registry is marked as the source (`src: true`)",
            )
            .with_help("add `src: true` to the staging registry entry"),
        );
    }
    for extra in sources.iter().skip(1) {
        out.push(
            Diagnostic::new(
                Code::SourceRegistryMultiple,
                at(files, &extra.name),
                format!("{} is a second source registry", extra.name.value),
            )
            .with_label(at(files, &sources[0].name), "first source registry")
            .with_help("a manifest has exactly one `src: true` registry"),
        );
    }
}

/// Applies the original schema's `src-registry: NAME` (in `manifest.src_registry`): the named
/// registry becomes the source, unless it is not listed or another entry is marked `src: true`
/// (both errors, and the model is left as written). Accepted, it is still a warning that shows
/// the current form.
pub(crate) fn resolve_src_registry(files: &Files, manifest: &mut Manifest, out: &mut Vec<Diagnostic>) {
    let Some(name) = &manifest.src_registry else { return };
    let Some(i) = manifest.registries.iter().position(|r| r.name.value == name.value) else {
        out.push(
            Diagnostic::new(
                Code::SrcRegistryUnknown,
                at(files, name),
                format!("`src-registry` names {}, which is not listed in `registries`", name.value),
            )
            .with_help("add that registry to `registries`, or fix the name"),
        );
        return;
    };
    if let Some((_, other)) = manifest.registries.iter().enumerate().find(|(j, r)| r.src && *j != i) {
        out.push(
            Diagnostic::new(
                Code::SrcRegistryConflict,
                at(files, name),
                format!(
                    "`src-registry` names {}, but {} is marked `src: true`",
                    name.value, other.name.value
                ),
            )
            .with_label(at(files, &other.name), "marked `src: true` here")
            .with_help("keep one source: remove `src-registry` and mark the source with `src: true`"),
        );
        return;
    }
    let help = if manifest.registries[i].src {
        "remove the `src-registry` line: the same registry is already marked `src: true`".to_owned()
    } else {
        format!("remove `src-registry` and add `src: true` to the registry entry `- name: {}`", name.value)
    };
    out.push(
        Diagnostic::new(
            Code::SrcRegistryLegacy,
            at(files, name),
            "`src-registry` is the original schema; the current one marks the source entry",
        )
        .with_help(help),
    );
    manifest.registries[i].src = true;
}
