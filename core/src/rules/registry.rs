//! Registry entries: `registry-name-invalid` (not `host[:port][/path]` or `oci:DIR`),
//! `registry-repeated` (listed twice in one manifest: harmless for the Go promoter, as identical
//! edges collapse, so a warning) and `no-destinations` (a source and nothing to promote to).

use rustc_hash::FxHashMap;

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::manifest::{Manifest, Spanned};
use crate::reference::registry_name_problem;

use super::{Code, at};

/// Registry name grammar, repeated registries, and a manifest without destinations.
pub(super) fn check(files: &Files, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    let mut seen: FxHashMap<&str, &Spanned<String>> = FxHashMap::default();
    for registry in &manifest.registries {
        let name = &registry.name;
        if let Some(problem) = registry_name_problem(&name.value) {
            out.push(
                Diagnostic::new(
                    Code::RegistryNameInvalid,
                    at(files, name),
                    format!("registry name `{}` is not `host[:port][/path]`", name.value),
                )
                .with_help(problem),
            );
        }
        if let Some(first) = seen.get(name.value.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::RegistryRepeated,
                    at(files, name),
                    format!("registry {} is listed twice", name.value),
                )
                .with_label(at(files, first), "first listed here")
                .with_help("remove one of the entries"),
            );
        } else {
            seen.insert(&name.value, name);
        }
    }
    if !manifest.registries.is_empty() && manifest.destinations().next().is_none() {
        out.push(
            Diagnostic::new(
                Code::NoDestinations,
                files.locate(manifest.file, manifest.registries_span),
                "the manifest has a source but no destination registry, so it promotes nothing",
            )
            .with_help("add the production registries to `registries`"),
        );
    }
}
