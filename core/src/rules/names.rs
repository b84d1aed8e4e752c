//! Per-manifest rules: exactly one source registry, well-formed registry and image names, digests
//! and tags, and repeated entries.

use rustc_hash::FxHashMap;

use crate::diagnostic::Diagnostic;
use crate::files::Files;
use crate::manifest::{Manifest, Spanned};
use crate::reference::{image_name_problem, is_valid_digest, registry_name_problem, tag_problem};

fn at(files: &Files, s: &Spanned<String>) -> crate::diagnostic::Location {
    files.locate(s.file, s.span)
}

/// Source registry count, registry name grammar, duplicate registries.
pub fn check_registries(files: &Files, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    let sources: Vec<_> = manifest.registries.iter().filter(|r| r.src).collect();
    // A `src-registry` naming an unknown registry is reported where it is written.
    if sources.is_empty() && !manifest.registries.is_empty() && manifest.src_registry.is_none() {
        out.push(
            Diagnostic::error(
                "source-registry-missing",
                files.locate(manifest.file, manifest.registries_span),
                "no registry is marked as the source (`src: true`)",
            )
            .with_help("add `src: true` to the staging registry entry"),
        );
    }
    for extra in sources.iter().skip(1) {
        out.push(
            Diagnostic::error(
                "source-registry-multiple",
                at(files, &extra.name),
                format!("{} is a second source registry", extra.name.value),
            )
            .with_label(at(files, &sources[0].name), "first source registry")
            .with_help("a manifest has exactly one `src: true` registry"),
        );
    }
    let mut seen: FxHashMap<&str, &Spanned<String>> = FxHashMap::default();
    for registry in &manifest.registries {
        let name = &registry.name;
        if let Some(problem) = registry_name_problem(&name.value) {
            out.push(
                Diagnostic::error(
                    "registry-name-invalid",
                    at(files, name),
                    format!("registry name `{}` is not `host[:port][/path]`", name.value),
                )
                .with_help(problem),
            );
        }
        if let Some(first) = seen.get(name.value.as_str()) {
            // Harmless for the Go promoter (identical edges collapse), so a warning.
            out.push(
                Diagnostic::warning(
                    "registry-repeated",
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
            Diagnostic::warning(
                "no-destinations",
                files.locate(manifest.file, manifest.registries_span),
                "the manifest has a source but no destination registry, so it promotes nothing",
            )
            .with_help("add the production registries to `registries`"),
        );
    }
}

/// Image names, digests, tags, repeated images and repeated tags.
pub fn check_images(files: &Files, manifest: &Manifest, out: &mut Vec<Diagnostic>) {
    let mut names: FxHashMap<&str, (&Spanned<String>, bool)> = FxHashMap::default();
    for image in &manifest.images {
        let name = &image.name;
        if let Some(problem) = image_name_problem(&name.value) {
            out.push(
                Diagnostic::error(
                    "image-name-invalid",
                    at(files, name),
                    format!("image name `{}` is not a valid repository path", name.value),
                )
                .with_help(problem),
            );
        }
        match names.get_mut(name.value.as_str()) {
            Some((first, reported)) if !*reported => {
                *reported = true;
                out.push(
                    Diagnostic::warning(
                        "image-repeated",
                        at(files, name),
                        format!("image {} is listed more than once in this file", name.value),
                    )
                    .with_label(at(files, first), "first listed here")
                    .with_help("merge the entries into one `dmap`; both are promoted as written"),
                );
            }
            Some(_) => {}
            None => {
                names.insert(&name.value, (name, false));
            }
        }
        for entry in &image.dmap {
            check_digest(files, &entry.digest, out);
            check_tags(files, &entry.tags, out);
        }
    }
}

fn check_digest(files: &Files, digest: &Spanned<String>, out: &mut Vec<Diagnostic>) {
    if is_valid_digest(&digest.value) {
        return;
    }
    let lower = digest.value.to_ascii_lowercase();
    let help = if lower != digest.value && is_valid_digest(&lower) {
        "write the hex digits in lowercase".to_owned()
    } else if !digest.value.starts_with("sha256:") {
        "digests are written `sha256:` followed by 64 lowercase hex digits".to_owned()
    } else {
        let hex = digest.value.len().saturating_sub(7);
        format!("a sha256 digest has 64 lowercase hex digits; this one has {hex} characters after `sha256:`")
    };
    out.push(
        Diagnostic::error("digest-invalid", at(files, digest), format!("invalid digest: {}", digest.value))
            .with_help(help),
    );
}

fn check_tags(files: &Files, tags: &[Spanned<String>], out: &mut Vec<Diagnostic>) {
    for (i, tag) in tags.iter().enumerate() {
        if let Some(problem) = tag_problem(&tag.value) {
            out.push(
                Diagnostic::error(
                    "tag-invalid",
                    at(files, tag),
                    format!("invalid tag: `{}`", shorten(&tag.value)),
                )
                .with_help(problem),
            );
        }
        if let Some(first) = tags[..i].iter().find(|t| t.value == tag.value) {
            out.push(
                Diagnostic::warning(
                    "tag-repeated",
                    at(files, tag),
                    format!("tag {} is listed twice for this digest", tag.value),
                )
                .with_label(at(files, first), "first listed here")
                .with_help("remove the repeated tag"),
            );
        }
    }
}

/// A value for a message: long ones are cut (the location shows the whole text).
fn shorten(value: &str) -> String {
    const MAX: usize = 48;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}
