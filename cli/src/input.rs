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
    /// The file is not UTF-8 text.
    #[error("{path} is not UTF-8 text; manifests are YAML text files")]
    NotText {
        /// The path as given.
        path: String,
    },
}

/// File names of the thin layout that are read; every other file is ignored, as the Go promoter
/// does.
const THIN_FILES: &[&str] = &["promoter-manifest.yaml", "images.yaml"];

/// Reads every PATH into one input (all manifests of a run are validated together).
pub(crate) fn read_paths<P: AsRef<str>>(paths: &[P]) -> Result<Input, InputError> {
    let mut files = Vec::new();
    let mut thin_dirs = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let meta = fs::metadata(path).map_err(|source| InputError::Read { path: path.to_owned(), source })?;
        if meta.is_dir() {
            let mut dir = ThinDir { root: path.to_owned(), dirs: Vec::new() };
            walk(Path::new(path), "", &mut dir, &mut files, path)?;
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
    shown_root: &str,
) -> Result<(), InputError> {
    let err = |source| InputError::Read { path: dir.display().to_string(), source };
    let mut entries: Vec<_> = fs::read_dir(dir).map_err(err)?.collect::<Result<_, _>>().map_err(err)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let child_rel = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        // Follow symlinks as the Go promoter does (a broken link reads as missing).
        let Ok(meta) = fs::metadata(entry.path()) else { continue };
        if meta.is_dir() {
            thin.dirs.push(child_rel.clone());
            walk(&entry.path(), &child_rel, thin, files, shown_root)?;
        } else if meta.is_file() && THIN_FILES.contains(&name.as_str()) {
            let shown = format!("{}/{child_rel}", shown_root.trim_end_matches('/'));
            let mut file = read_file(&entry.path().display().to_string())?;
            file.path = shown;
            files.push(file);
        }
    }
    Ok(())
}

fn read_file(path: &str) -> Result<SourceFile, InputError> {
    let bytes = fs::read(path).map_err(|source| InputError::Read { path: path.to_owned(), source })?;
    let text = String::from_utf8(bytes).map_err(|_| InputError::NotText { path: path.to_owned() })?;
    Ok(SourceFile::new(path, text))
}
