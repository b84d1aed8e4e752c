//! The thin directory layout (`manifests/<x>/promoter-manifest.yaml` with `images/<x>/images.yaml`):
//! `thin-manifests-dir-missing`, `thin-images-dir-missing`, `thin-manifest-in-images`,
//! `thin-manifest-misplaced`, `thin-manifest-ignored`, `thin-images-orphan`,
//! `thin-manifest-missing`, `thin-no-manifests`, and, per pair, `thin-images-file-missing` and
//! `images-path-ignored`. The files themselves are found by [`crate::manifest::thin`].
//!
//! The Go promoter walks only `manifests/`: a `promoter-manifest.yaml` nested deeper there makes
//! it look for `images.yaml` in the wrong place and fail, so that is an error here
//! (`thin-manifest-misplaced`). One under `images/` (the real k8s.io tree holds one) or
//! anywhere else outside `manifests/` is never read by Go and never read here: a warning
//! (`thin-manifest-in-images`, `thin-manifest-ignored`).

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Location};
use crate::files::Files;
use crate::manifest::thin::{IMAGES_FILE, Layout, MANIFEST_FILE, Pair, Placement};
use crate::manifest::{Spanned, ThinDir};

use super::{Code, at};

const LAYOUT_HELP: &str =
    "a thin manifest directory holds `manifests/<x>/promoter-manifest.yaml` and `images/<x>/images.yaml`";

/// The structure of one thin directory: its folders and where its manifest files sit.
pub(crate) fn check(files: &Files, dir: &ThinDir, layout: &Layout<'_>, out: &mut Vec<Diagnostic>) {
    for (sub, code, present) in [
        ("manifests", Code::ThinManifestsDirMissing, layout.has_manifests_dir),
        ("images", Code::ThinImagesDirMissing, layout.has_images_dir),
    ] {
        if !present {
            out.push(
                Diagnostic::new(
                    code,
                    Location::whole(&dir.path_of(sub)),
                    format!("the thin manifest directory {} has no `{sub}/` folder", dir.shown_root()),
                )
                .with_help(LAYOUT_HELP),
            );
        }
    }
    for &(id, place) in &layout.placed {
        let path = &files.get(id).path;
        let finding = match place {
            Placement::Pair(_) => continue,
            Placement::UnderImages => Diagnostic::new(
                Code::ThinManifestInImages,
                Location::whole(path),
                "this promoter-manifest.yaml is under `images/`, so it is never read (as in the Go promoter)",
            )
            .with_help(
                "move it to `manifests/<x>/promoter-manifest.yaml` if it should promote, or remove it",
            ),
            Placement::Misplaced => Diagnostic::new(
                Code::ThinManifestMisplaced,
                Location::whole(path),
                "a promoter-manifest.yaml must sit exactly at `manifests/<x>/promoter-manifest.yaml`",
            )
            .with_help("move it to a folder directly under `manifests/`"),
            Placement::Elsewhere => Diagnostic::new(
                Code::ThinManifestIgnored,
                Location::whole(path),
                "this promoter-manifest.yaml is outside `manifests/`, so it is never read",
            )
            .with_help("move it to `manifests/<x>/promoter-manifest.yaml`, or remove it"),
        };
        out.push(finding);
    }
    orphans(files, dir, layout, out);
    // An ignored manifest (outside `manifests/`) does not count: a set of only those promotes nothing. Without
    // `manifests/` the finding above already says there are none.
    let seen_manifest = layout
        .placed
        .iter()
        .any(|(_, place)| !matches!(place, Placement::Elsewhere | Placement::UnderImages));
    if !seen_manifest && layout.has_manifests_dir {
        out.push(
            Diagnostic::new(
                Code::ThinNoManifests,
                Location::whole(dir.shown_root()),
                format!("no manifests found in {}", dir.shown_root()),
            )
            .with_help(LAYOUT_HELP),
        );
    }
}

/// Warnings for halves of a pair: an `images.yaml` no manifest reads, and a `manifests/<x>/`
/// folder without its `promoter-manifest.yaml` (the Go promoter logs and skips it).
fn orphans(files: &Files, dir: &ThinDir, layout: &Layout<'_>, out: &mut Vec<Diagnostic>) {
    let Layout { owned, known_dirs, paired, .. } = layout;
    for &(id, rel) in owned {
        let parts: Vec<&str> = rel.split('/').collect();
        if matches!(parts.as_slice(), ["images", _, IMAGES_FILE]) && !paired.contains(rel) {
            out.push(
                Diagnostic::new(
                    Code::ThinImagesOrphan,
                    Location::whole(&files.get(id).path),
                    "no `manifests/<x>/promoter-manifest.yaml` reads this images.yaml, so nothing in it is promoted",
                )
                .with_help("add the matching promoter-manifest.yaml, or remove this file"),
            );
        }
    }
    let manifest_dirs = known_dirs.iter().copied().chain(owned.iter().filter_map(|(_, r)| {
        let (d, _) = r.rsplit_once('/')?;
        Some(d)
    }));
    let mut warned = BTreeSet::new();
    for d in manifest_dirs {
        let is_x = matches!(d.split('/').collect::<Vec<_>>().as_slice(), ["manifests", _]);
        let holds_manifest = owned.iter().any(|(_, r)| {
            r.strip_prefix(d).is_some_and(|t| t.starts_with('/')) && r.ends_with(MANIFEST_FILE)
        });
        if is_x && !paired.contains(d) && !holds_manifest && warned.insert(d) {
            out.push(
                Diagnostic::new(
                    Code::ThinManifestMissing,
                    Location::whole(&dir.path_of(d)),
                    format!("the folder {d}/ has no promoter-manifest.yaml, so it is skipped"),
                )
                .with_help("add `promoter-manifest.yaml` to it, or remove the folder"),
            );
        }
    }
}

/// One pair whose `promoter-manifest.yaml` could be read: its `imagesPath` (`images_path_key`),
/// and whether its `images.yaml` exists.
pub(crate) fn check_pair(
    files: &Files,
    pair: &Pair<'_>,
    images_path_key: Option<&Spanned<String>>,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(key) = images_path_key {
        // `imagesPath` is relative to the manifest's folder; the conventional value names the
        // paired file. Anything else suggests the author expects it to be honoured.
        let expected = format!("../../images/{}/{IMAGES_FILE}", pair.x);
        if key.value.trim_start_matches("./") != expected {
            out.push(
                Diagnostic::new(
                    Code::ImagesPathIgnored,
                    at(files, key),
                    format!("`imagesPath` is ignored: the images are always read from {}", pair.images_path),
                )
                .with_help("remove `imagesPath`; the thin layout fixes where images.yaml lives"),
            );
        }
    }
    if pair.images.is_none() {
        out.push(
            Diagnostic::new(
                Code::ThinImagesFileMissing,
                files.locate(pair.manifest, Default::default()),
                format!("{} does not exist, so this manifest promotes nothing", pair.images_path),
            )
            .with_help(format!("create {} with the list of images to promote", pair.images_path)),
        );
    }
}
