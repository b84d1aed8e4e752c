//! The thin layout: `<root>/manifests/<x>/promoter-manifest.yaml` (registries only) paired with
//! `<root>/images/<x>/images.yaml` (a bare list of images). Structure rules are checked here, on
//! the paths the caller found, so the CLI, the browser and Node all get the same findings.
//!
//! The Go promoter skips a `promoter-manifest.yaml` anywhere but `manifests/<x>/` (under `images/`
//! silently, deeper with an error); both lose promotions, so both are errors here. One outside
//! `manifests/` and `images/` is a warning, as Go's own fixtures treat such folders as ignored.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Location};
use crate::files::{FileId, Files};
use crate::manifest::{Manifest, Reader};

/// Base name of a thin manifest.
pub const MANIFEST_FILE: &str = "promoter-manifest.yaml";
/// Base name of a thin images list.
pub const IMAGES_FILE: &str = "images.yaml";

const LAYOUT_HELP: &str =
    "a thin manifest directory holds `manifests/<x>/promoter-manifest.yaml` and `images/<x>/images.yaml`";

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
    fn path_of(&self, rel: &str) -> String {
        match self.normalized_root() {
            "" => rel.to_owned(),
            "/" => format!("/{rel}"),
            root => format!("{root}/{rel}"),
        }
    }

    /// The root as shown in findings (`.` when it is the current directory).
    fn shown_root(&self) -> &str {
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
enum Placement<'p> {
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

/// Checks the structure of a thin directory and reads its manifest pairs. Returns the manifests
/// and the ids of every file that belongs to this directory.
pub fn thin_layout(files: &Files, dir: &ThinDir, out: &mut Vec<Diagnostic>) -> (Vec<Manifest>, Vec<FileId>) {
    let owned: Vec<(FileId, &str)> =
        files.iter().filter_map(|(id, f)| dir.relative(&f.path).map(|r| (id, r))).collect();
    let known_dirs: BTreeSet<&str> = dir.dirs.iter().map(|d| d.trim_end_matches('/')).collect();
    let has_dir = |d: &str| {
        known_dirs.contains(d)
            || owned.iter().any(|(_, r)| r.strip_prefix(d).is_some_and(|t| t.starts_with('/')))
    };
    let has_manifests_dir = has_dir("manifests");
    for sub in ["manifests", "images"] {
        if !has_dir(sub) {
            out.push(
                Diagnostic::error(
                    &format!("thin-{sub}-dir-missing"),
                    Location::whole(&dir.path_of(sub)),
                    format!("the thin manifest directory {} has no `{sub}/` folder", dir.shown_root()),
                )
                .with_help(LAYOUT_HELP),
            );
        }
    }
    let mut reader = Reader { files, out };
    let mut manifests = Vec::new();
    let mut paired = BTreeSet::new();
    let mut seen_manifest = false;
    for &(id, rel) in &owned {
        let Some(place) = placement(rel) else { continue };
        // An ignored manifest does not count: a set of only those promotes nothing.
        seen_manifest |= !matches!(place, Placement::Elsewhere);
        let path = &files.get(id).path;
        match place {
            Placement::Pair(x) => {
                let images_rel = format!("images/{x}/{IMAGES_FILE}");
                let images_file = owned.iter().find(|(_, r)| *r == images_rel).map(|(i, _)| *i);
                let images_path = dir.path_of(&images_rel);
                if let Some(manifest) = read_pair(&mut reader, id, images_file, x, &images_path) {
                    manifests.push(manifest);
                }
                paired.insert(format!("manifests/{x}"));
                paired.insert(images_rel);
            }
            Placement::UnderImages => {
                reader.push(
                    Diagnostic::error(
                        "thin-manifest-in-images",
                        Location::whole(path),
                        "a promoter-manifest.yaml under `images/` is never read, so its promotions are lost",
                    )
                    .with_help("move it to `manifests/<x>/promoter-manifest.yaml`"),
                );
            }
            Placement::Misplaced => {
                reader.push(
                    Diagnostic::error(
                        "thin-manifest-misplaced",
                        Location::whole(path),
                        "a promoter-manifest.yaml must sit exactly at `manifests/<x>/promoter-manifest.yaml`",
                    )
                    .with_help("move it to a folder directly under `manifests/`"),
                );
            }
            Placement::Elsewhere => {
                reader.push(
                    Diagnostic::warning(
                        "thin-manifest-ignored",
                        Location::whole(path),
                        "this promoter-manifest.yaml is outside `manifests/`, so it is never read",
                    )
                    .with_help("move it to `manifests/<x>/promoter-manifest.yaml`, or remove it"),
                );
            }
        }
    }
    orphans(&mut reader, dir, &owned, &known_dirs, &paired);
    // Without `manifests/` the finding above already says there are none.
    if !seen_manifest && has_manifests_dir {
        reader.push(
            Diagnostic::error(
                "thin-no-manifests",
                Location::whole(dir.shown_root()),
                format!("no manifests found in {}", dir.shown_root()),
            )
            .with_help(LAYOUT_HELP),
        );
    }
    (manifests, owned.iter().map(|(id, _)| *id).collect())
}

/// Warnings for halves of a pair: an `images.yaml` no manifest reads, and a `manifests/<x>/`
/// folder without its `promoter-manifest.yaml` (the Go promoter logs and skips it).
fn orphans(
    reader: &mut Reader<'_>,
    dir: &ThinDir,
    owned: &[(FileId, &str)],
    known_dirs: &BTreeSet<&str>,
    paired: &BTreeSet<String>,
) {
    for &(id, rel) in owned {
        let parts: Vec<&str> = rel.split('/').collect();
        if matches!(parts.as_slice(), ["images", _, IMAGES_FILE]) && !paired.contains(rel) {
            reader.push(
                Diagnostic::warning(
                    "thin-images-orphan",
                    Location::whole(&reader.files.get(id).path),
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
            reader.push(
                Diagnostic::warning(
                    "thin-manifest-missing",
                    Location::whole(&dir.path_of(d)),
                    format!("the folder {d}/ has no promoter-manifest.yaml, so it is skipped"),
                )
                .with_help("add `promoter-manifest.yaml` to it, or remove the folder"),
            );
        }
    }
}

fn read_pair(
    reader: &mut Reader<'_>,
    manifest_file: FileId,
    images_file: Option<FileId>,
    x: &str,
    images_path: &str,
) -> Option<Manifest> {
    let (mut manifest, images_path_key) = reader.thin_manifest(manifest_file)?;
    if let Some(key) = images_path_key {
        // `imagesPath` is relative to the manifest's folder; the conventional value names the
        // paired file. Anything else suggests the author expects it to be honoured.
        let expected = format!("../../images/{x}/{IMAGES_FILE}");
        if key.value.trim_start_matches("./") != expected {
            reader
                .warning(
                    "images-path-ignored",
                    manifest_file,
                    key.span,
                    format!("`imagesPath` is ignored: the images are always read from {images_path}"),
                )
                .help = Some("remove `imagesPath`; the thin layout fixes where images.yaml lives".into());
        }
    }
    let Some(images_file) = images_file else {
        let location = reader.locate(manifest_file, Default::default());
        reader.push(
            Diagnostic::error(
                "thin-images-file-missing",
                location,
                format!("{images_path} does not exist, so this manifest promotes nothing"),
            )
            .with_help(format!("create {images_path} with the list of images to promote")),
        );
        return Some(manifest);
    };
    manifest.images = reader.images_file(images_file);
    manifest.images_file = Some(images_file);
    Some(manifest)
}
