//! The thin layout: `<root>/manifests/<x>/promoter-manifest.yaml` (registries only) paired with
//! `<root>/images/<x>/images.yaml` (a bare list of images). This module finds the files of a thin
//! directory among the paths the caller found ([`Layout`]) and reads the pairs; the structure
//! findings (`thin-*`, `images-path-ignored`) are [`crate::rules::thin_layout`]'s. Working on paths
//! alone, the CLI, the browser and Node all get the same result.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
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
    /// The root without trailing slashes (`""` for an empty or `.` root, `/` for the file system root).
    pub fn normalized_root(&self) -> &str {
        let r = self.root.trim_end_matches('/');
        if r.is_empty() && self.root.starts_with('/') {
            "/"
        } else if r == "." {
            ""
        } else {
            r
        }
    }

    /// The path of `file` relative to this root, if it lies under it.
    pub fn relative<'p>(&self, path: &'p str) -> Option<&'p str> {
        match self.normalized_root() {
            "" => Some(path.strip_prefix("./").unwrap_or(path)),
            "/" => path.strip_prefix('/'),
            root => path.strip_prefix(root)?.strip_prefix('/'),
        }
    }

    /// The shown path of `rel` under this root.
    pub(crate) fn path_of(&self, rel: &str) -> String {
        match self.normalized_root() {
            "" => rel.to_owned(),
            "/" => format!("/{rel}"),
            root => format!("{root}/{rel}"),
        }
    }

    /// The root as shown in findings (`.` when it is the current directory).
    pub(crate) fn shown_root(&self) -> &str {
        match self.normalized_root() {
            "" => ".",
            root => root,
        }
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
                // Every proper prefix of the relative path is a directory.
                for (i, _) in rel.match_indices('/') {
                    dirs.insert(rel[..i].to_owned());
                }
            }
            ThinDir { dirs: dirs.into_iter().collect(), ..dir }
        })
        .collect()
}

/// Where a `promoter-manifest.yaml` sits relative to a thin root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement<'p> {
    /// `manifests/<x>/promoter-manifest.yaml`: read, paired with `images/<x>/images.yaml`.
    Pair(&'p str),
    /// Under `images/`: never read.
    UnderImages,
    /// Under `manifests/` at the wrong depth.
    Misplaced,
    /// Anywhere else: ignored, as the Go promoter does.
    Elsewhere,
}

fn placement(rel: &str) -> Option<Placement<'_>> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts.last() != Some(&MANIFEST_FILE) {
        return None;
    }
    Some(match parts.as_slice() {
        ["manifests", x, _] => Placement::Pair(x),
        ["images", ..] => Placement::UnderImages,
        ["manifests", ..] => Placement::Misplaced,
        _ => Placement::Elsewhere,
    })
}

/// A manifest pair of a thin directory: `manifests/<x>/promoter-manifest.yaml` and, when it
/// exists, `images/<x>/images.yaml`.
pub(crate) struct Pair<'d> {
    /// The `promoter-manifest.yaml`.
    pub(crate) manifest: FileId,
    /// The folder name `<x>`.
    pub(crate) x: &'d str,
    /// The `images.yaml`, when the input has it.
    pub(crate) images: Option<FileId>,
    /// The path of the `images.yaml` as shown in findings (whether or not it exists).
    pub(crate) images_path: String,
}

/// What a thin directory holds: its files, folders and manifest pairs. The structure findings
/// (`thin-*`) are [`crate::rules::thin_layout`]'s; this only finds the files.
pub(crate) struct Layout<'d> {
    /// Every input file under the root, with its path relative to the root.
    pub(crate) owned: Vec<(FileId, &'d str)>,
    /// Folders under the root, as the caller listed them.
    pub(crate) known_dirs: BTreeSet<&'d str>,
    /// `manifests/` and `images/`, each when the root has it.
    pub(crate) has_manifests_dir: bool,
    /// See `has_manifests_dir`.
    pub(crate) has_images_dir: bool,
    /// Every `promoter-manifest.yaml` and where it sits, in input order.
    pub(crate) placed: Vec<(FileId, Placement<'d>)>,
    /// The pairs that are read.
    pub(crate) pairs: Vec<Pair<'d>>,
    /// `manifests/<x>` and `images/<x>/images.yaml` of every pair (relative paths).
    pub(crate) paired: BTreeSet<String>,
}

impl<'d> Layout<'d> {
    /// Finds the files of `dir` among the input files and sorts out the pairs.
    pub(crate) fn scan(files: &'d Files, dir: &'d ThinDir) -> Self {
        let owned: Vec<(FileId, &str)> =
            files.iter().filter_map(|(id, f)| dir.relative(&f.path).map(|r| (id, r))).collect();
        let known_dirs: BTreeSet<&str> = dir.dirs.iter().map(|d| d.trim_end_matches('/')).collect();
        let has_dir = |d: &str| {
            known_dirs.contains(d)
                || owned.iter().any(|(_, r)| r.strip_prefix(d).is_some_and(|t| t.starts_with('/')))
        };
        let (has_manifests_dir, has_images_dir) = (has_dir("manifests"), has_dir("images"));
        let mut placed = Vec::new();
        let mut pairs = Vec::new();
        let mut paired = BTreeSet::new();
        for &(id, rel) in &owned {
            let Some(place) = placement(rel) else { continue };
            placed.push((id, place));
            if let Placement::Pair(x) = place {
                let images_rel = format!("images/{x}/{IMAGES_FILE}");
                let images = owned.iter().find(|(_, r)| *r == images_rel).map(|(i, _)| *i);
                pairs.push(Pair { manifest: id, x, images, images_path: dir.path_of(&images_rel) });
                paired.insert(format!("manifests/{x}"));
                paired.insert(images_rel);
            }
        }
        Layout { owned, known_dirs, has_manifests_dir, has_images_dir, placed, pairs, paired }
    }
}

/// Checks the structure of a thin directory and reads its manifest pairs. Returns the manifests
/// and the ids of every file that belongs to this directory.
pub fn thin_layout(files: &Files, dir: &ThinDir, out: &mut Vec<Diagnostic>) -> (Vec<Manifest>, Vec<FileId>) {
    let layout = Layout::scan(files, dir);
    crate::rules::thin_layout::check(files, dir, &layout, out);
    let mut reader = Reader { files, out };
    let manifests = layout.pairs.iter().filter_map(|pair| read_pair(&mut reader, pair)).collect();
    (manifests, layout.owned.iter().map(|(id, _)| *id).collect())
}

fn read_pair(reader: &mut Reader<'_>, pair: &Pair<'_>) -> Option<Manifest> {
    let (mut manifest, images_path_key) = reader.thin_manifest(pair.manifest)?;
    crate::rules::thin_layout::check_pair(reader.files, pair, images_path_key.as_ref(), reader.out);
    if let Some(images_file) = pair.images {
        manifest.images = reader.images_file(images_file);
        manifest.images_file = Some(images_file);
    }
    Some(manifest)
}
