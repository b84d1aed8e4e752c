//! Reads the PATH arguments of a command into a core [`Input`]: a file is a plain manifest; a
//! directory is a thin manifest directory, walked for `promoter-manifest.yaml` and `images.yaml`
//! files and its folder structure (the structure rules themselves live in the core).

use std::fs;
use std::path::Path;

use cip_core::{Input, SourceFile, ThinDir};

/// Why the PATH arguments could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    /// The path does not exist or cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path as given.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// A thin directory's `images/<x>/images.yaml` is not a regular file.
    #[error("{path} is {what}, not a file; a thin manifest directory holds its images list in this file")]
    NotAFile {
        /// The path as shown in findings.
        path: String,
        /// What it is instead: "a directory", "a symlink to a directory", "a symlink loop", ...
        what: String,
    },
    /// The file is not UTF-8 text.
    #[error("{path} is not UTF-8 text; manifests are YAML text files")]
    NotText {
        /// The path as given.
        path: String,
    },
}

impl InputError {
    /// The path the error is about.
    pub(crate) fn path(&self) -> &str {
        match self {
            Self::Read { path, .. } | Self::NotAFile { path, .. } | Self::NotText { path } => path,
        }
    }
}

/// File names of the thin layout that are read; every other file is ignored, as the Go promoter
/// does.
const THIN_FILES: &[&str] = &["promoter-manifest.yaml", IMAGES_FILE];
const IMAGES_FILE: &str = "images.yaml";

/// Reads every PATH into one input (all manifests of a run are validated together).
pub(crate) fn read_paths<P: AsRef<str>>(paths: &[P]) -> Result<Input, InputError> {
    let mut files = Vec::new();
    let mut thin_dirs = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let meta = fs::metadata(path).map_err(|source| InputError::Read { path: path.to_owned(), source })?;
        if meta.is_dir() {
            let mut dir = ThinDir { root: path.to_owned(), dirs: Vec::new() };
            let first = files.len();
            let mut odd = Vec::new();
            walk(Path::new(path), "", &mut dir, &mut files, &mut odd, path)?;
            not_files(&odd, &files[first..], path)?;
            dir.dirs.sort();
            thin_dirs.push(dir);
        } else {
            files.push(read_file(path)?);
        }
    }
    Ok(Input { files, thin_dirs: Some(thin_dirs) })
}

fn walk(
    dir: &Path,
    rel: &str,
    thin: &mut ThinDir,
    files: &mut Vec<SourceFile>,
    odd: &mut Vec<(String, String)>,
    shown_root: &str,
) -> Result<(), InputError> {
    let err = |source| InputError::Read { path: dir.display().to_string(), source };
    let mut entries: Vec<_> = fs::read_dir(dir).map_err(err)?.collect::<Result<_, _>>().map_err(err)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let child_rel = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        let link = entry.file_type().is_ok_and(|t| t.is_symlink());
        let meta = fs::metadata(entry.path());
        if name == IMAGES_FILE && !meta.as_ref().is_ok_and(fs::Metadata::is_file) {
            // Said only if a manifest reads it (`not_files`); a broken link reads as missing,
            // as in Go ("does not exist").
            let what = match &meta {
                Ok(m) if m.is_dir() && link => Some("a symlink to a directory"),
                Ok(m) if m.is_dir() => Some("a directory"),
                Ok(_) => Some("not a regular file"),
                Err(e) if e.raw_os_error() == Some(ELOOP) => Some("a symlink loop"),
                Err(_) => None,
            };
            if let Some(what) = what {
                odd.push((child_rel.clone(), what.to_owned()));
            }
        }
        // Follow symlinks to files as the Go promoter does (a broken link reads as missing).
        let Ok(meta) = meta else { continue };
        if meta.is_dir() {
            thin.dirs.push(child_rel.clone());
            // Go walks `manifests/` with filepath.Walk, which does not follow symlinked
            // directories: a manifest behind one is never read (and the thin rules say so). It
            // reads `images/<x>/images.yaml` by path, through any symlink.
            if link && (child_rel == "manifests" || child_rel.starts_with("manifests/")) {
                continue;
            }
            walk(&entry.path(), &child_rel, thin, files, odd, shown_root)?;
        } else if meta.is_file() && THIN_FILES.contains(&name.as_str()) {
            let shown = format!("{}/{child_rel}", shown_root.trim_end_matches('/'));
            let mut file = read_file(&entry.path().display().to_string())?;
            file.path = shown;
            files.push(file);
        }
    }
    Ok(())
}

/// "Too many levels of symbolic links" (`ELOOP`).
#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
const ELOOP: i32 = 62;
/// "Too many levels of symbolic links" (`ELOOP`).
#[cfg(not(any(target_os = "macos", target_os = "ios", target_os = "freebsd")))]
const ELOOP: i32 = 40;

/// The first `images/<x>/images.yaml` that is not a file although `manifests/<x>/` has a
/// promoter-manifest.yaml to read it: the Go promoter stops there ("is not a regular file").
fn not_files(odd: &[(String, String)], read: &[SourceFile], shown_root: &str) -> Result<(), InputError> {
    let root = shown_root.trim_end_matches('/');
    for (rel, what) in odd {
        let ["images", x, IMAGES_FILE] = rel.split('/').collect::<Vec<_>>()[..] else { continue };
        let manifest = format!("{root}/manifests/{x}/promoter-manifest.yaml");
        if read.iter().any(|f| f.path == manifest) {
            return Err(InputError::NotAFile { path: format!("{root}/{rel}"), what: what.clone() });
        }
    }
    Ok(())
}

fn read_file(path: &str) -> Result<SourceFile, InputError> {
    let bytes = fs::read(path).map_err(|source| InputError::Read { path: path.to_owned(), source })?;
    let text = String::from_utf8(bytes).map_err(|_| InputError::NotText { path: path.to_owned() })?;
    Ok(SourceFile::new(path, text))
}
