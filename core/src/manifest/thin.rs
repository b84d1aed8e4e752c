//! The thin layout: `<root>/manifests/<x>/promoter-manifest.yaml` (registries only) paired with
//! `<root>/images/<x>/images.yaml` (a bare list of images). Structure rules are checked here, on
//! the paths the caller found, so the CLI, the browser and Node all get the same findings.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Location};
use crate::files::{FileId, Files};
use crate::manifest::{Manifest, Reader};

/// Base name of a thin manifest.
pub const MANIFEST_FILE: &str = "promoter-manifest.yaml";
/// Base name of a thin images list.
pub const IMAGES_FILE: &str = "images.yaml";

/// A thin-layout directory: its root path and the directories found under it (relative, `/`
/// separated, e.g. `images`, `images/foo`, `manifests/foo`). Its files are the input files whose
/// paths start with `<root>/`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThinDir {
    /// Root path as given by the user; a trailing `/` is ignored.
    pub root: String,
    /// Directories under the root, relative to it.
    #[serde(default)]
    pub dirs: Vec<String>,
}

impl ThinDir {
    /// The root without trailing slashes (`"."` for an empty root).
    pub fn normalized_root(&self) -> &str {
        let r = self.root.trim_end_matches('/');
        if r.is_empty() && self.root.starts_with('/') { "/" } else { r }
    }

    /// The path of `file` relative to this root, if it lies under it.
    pub fn relative<'p>(&self, path: &'p str) -> Option<&'p str> {
        let root = self.normalized_root();
        if root.is_empty() || root == "." {
            return Some(path.strip_prefix("./").unwrap_or(path));
        }
        path.strip_prefix(root)?.strip_prefix('/')
    }
}

/// Guesses thin roots from file paths alone (for callers that pass a bare `{path: text}` set, like
/// a folder dropped on the browser page): every `…/manifests/<x>/promoter-manifest.yaml` or
/// `…/images/<x>/images.yaml` marks its `…` as a root. Directories are derived from the paths.
pub fn infer_thin_dirs<'a>(paths: impl Iterator<Item = &'a str> + Clone) -> Vec<ThinDir> {
    let mut roots = BTreeSet::new();
    for path in paths.clone() {
        let parts: Vec<&str> = path.split('/').collect();
        let n = parts.len();
        let is_pair = n >= 3
            && ((parts[n - 3] == "manifests" && parts[n - 1] == MANIFEST_FILE)
                || (parts[n - 3] == "images" && parts[n - 1] == IMAGES_FILE));
        if is_pair {
            roots.insert(parts[..n - 3].join("/"));
        }
    }
    roots
        .into_iter()
        .map(|root| {
            let dir = ThinDir { root, dirs: Vec::new() };
            let mut dirs = BTreeSet::new();
            for rel in paths.clone().filter_map(|p| dir.relative(p)) {
                let mut acc = String::new();
                for part in rel.split('/').collect::<Vec<_>>().iter().rev().skip(1).rev() {
                    if !acc.is_empty() {
                        acc.push('/');
                    }
                    acc.push_str(part);
                    dirs.insert(acc.clone());
                }
            }
            ThinDir { dirs: dirs.into_iter().collect(), ..dir }
        })
        .collect()
}

/// Checks the structure of a thin directory and reads its manifest pairs. Returns the manifests
/// and the ids of every file that belongs to this directory.
pub fn thin_layout(files: &Files, dir: &ThinDir, out: &mut Vec<Diagnostic>) -> (Vec<Manifest>, Vec<FileId>) {
    let root = dir.normalized_root();
    let owned: Vec<(FileId, &str)> =
        files.iter().filter_map(|(id, f)| dir.relative(&f.path).map(|r| (id, r))).collect();
    let has_dir = |d: &str| {
        dir.dirs.iter().any(|x| x.trim_end_matches('/') == d)
            || owned.iter().any(|(_, r)| r.starts_with(&format!("{d}/")))
    };
    let path_of =
        |rel: &str| if root.is_empty() || root == "." { rel.to_owned() } else { format!("{root}/{rel}") };
    for sub in ["manifests", "images"] {
        if !has_dir(sub) {
            out.push(
                Diagnostic::error(&format!("thin-{sub}-dir-missing"), Location::whole(&path_of(sub)), format!("thin manifest directory {root} has no `{sub}/` folder"))
                    .with_help("a thin manifest directory holds `manifests/<x>/promoter-manifest.yaml` and `images/<x>/images.yaml`"),
            );
        }
    }
    let mut manifests = Vec::new();
    let mut reader = Reader { files, out };
    let mut paired_images = BTreeSet::new();
    for &(id, rel) in &owned {
        let parts: Vec<&str> = rel.split('/').collect();
        if parts.last() != Some(&MANIFEST_FILE) {
            continue;
        }
        match parts.as_slice() {
            ["manifests", x, _] => {
                let images_rel = format!("images/{x}/{IMAGES_FILE}");
                let Some(manifest) = read_pair(
                    &mut reader,
                    id,
                    owned.iter().find(|(_, r)| *r == images_rel).map(|(i, _)| *i),
                    &path_of(&images_rel),
                ) else {
                    continue;
                };
                paired_images.insert(images_rel);
                manifests.push(manifest);
            }
            ["images", ..] => {
                reader.out.push(
                    Diagnostic::error("thin-manifest-in-images", Location::whole(&files.get(id).path), "a promoter-manifest.yaml under `images/` is never read: its promotions would be lost")
                        .with_help("move it to `manifests/<x>/promoter-manifest.yaml`"),
                );
            }
            ["manifests", ..] => {
                reader.out.push(
                    Diagnostic::error(
                        "thin-manifest-misplaced",
                        Location::whole(&files.get(id).path),
                        "a promoter-manifest.yaml must sit exactly at `manifests/<x>/promoter-manifest.yaml`",
                    )
                    .with_help("move it one level below `manifests/`, next to no other folder level"),
                );
            }
            _ => {}
        }
    }
    for &(id, rel) in &owned {
        let parts: Vec<&str> = rel.split('/').collect();
        if matches!(parts.as_slice(), ["images", _, IMAGES_FILE]) && !paired_images.contains(rel) {
            reader.out.push(
                Diagnostic::warning("thin-images-orphan", Location::whole(&files.get(id).path), "this images.yaml has no `manifests/<x>/promoter-manifest.yaml`, so nothing in it is promoted")
                    .with_help("add the matching promoter-manifest.yaml, or remove this file"),
            );
        }
    }
    if manifests.is_empty() && !owned.iter().any(|(_, r)| r.ends_with(MANIFEST_FILE)) {
        reader.out.push(
            Diagnostic::error(
                "thin-no-manifests",
                Location::whole(root),
                format!("no manifests found in {root}"),
            )
            .with_help("expected `manifests/<x>/promoter-manifest.yaml` files under this directory"),
        );
    }
    (manifests, owned.iter().map(|(id, _)| *id).collect())
}

fn read_pair(
    reader: &mut Reader<'_>,
    manifest_file: FileId,
    images_file: Option<FileId>,
    images_path: &str,
) -> Option<Manifest> {
    let (mut manifest, images_path_key) = reader.thin_manifest(manifest_file)?;
    let Some(images_file) = images_file else {
        reader.out.push(
            Diagnostic::error(
                "thin-images-file-missing",
                reader.files.locate(manifest_file, Default::default()),
                format!("{images_path} does not exist, so this manifest promotes nothing"),
            )
            .with_help(format!("create {images_path} with the list of images to promote")),
        );
        return Some(manifest);
    };
    if let Some(key) = images_path_key {
        let expected = format!(
            "../../images/{}",
            images_path.rsplit('/').nth(1).map(|x| format!("{x}/{IMAGES_FILE}")).unwrap_or_default()
        );
        if key.value.trim_start_matches("./") != expected {
            reader
                .warning(
                    "images-path-ignored",
                    manifest_file,
                    key.span,
                    format!("`imagesPath` is ignored: images are always read from {images_path}"),
                )
                .help = Some("remove `imagesPath`; the thin layout fixes where images.yaml lives".into());
        }
    }
    manifest.images = reader.images_file(images_file);
    manifest.images_file = Some(images_file);
    Some(manifest)
}
