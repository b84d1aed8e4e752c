//! The server's workspace: the manifests under the editor's root folder, read from disk once at
//! `initialize`, with the text of open documents kept in memory over them (what the editor shows
//! wins over what is saved). Paths in findings are relative to the root, as `cip lint` run there
//! prints them; URIs are `file:` URIs.
//!
//! Which files are manifests: every `manifests/<x>/promoter-manifest.yaml` and
//! `images/<x>/images.yaml` (their thin directories are inferred from these paths, as the core
//! does for a dropped folder), and every other `.yaml`/`.yml` file with a top-level `registries:`
//! or `images:` key (a plain manifest). Other YAML files (CI workflows, Kubernetes objects) are
//! never linted, even when opened.

use std::path::{Path, PathBuf};

use cip_core::workspace::Workspace;
use cip_core::{Input, SourceFile};

/// Directories never walked: version control, build output, dependencies.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules", ".venv"];

/// The server's files and their parsed models.
pub(crate) struct Project {
    /// The root folder (absolute); `None` without a workspace folder (only open documents).
    root: Option<PathBuf>,
    /// The core's incremental model of every manifest.
    pub(crate) workspace: Workspace,
}

impl Project {
    /// Reads the manifests under `root` from disk.
    pub(crate) fn open(root: Option<PathBuf>) -> Self {
        let mut files = Vec::new();
        if let Some(root) = &root {
            walk(root, root, &mut files);
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Self { root, workspace: Workspace::new(Input { files, thin_dirs: None }) }
    }

    /// The path findings use for a `file:` URI (relative to the root when under it), or `None`
    /// for a URI that is not a manifest of this project.
    pub(crate) fn path_of(&self, uri: &str, text: &str) -> Option<String> {
        let absolute = PathBuf::from(decode(uri.strip_prefix("file://")?));
        let path = match self.root.as_ref().and_then(|r| absolute.strip_prefix(r).ok()) {
            Some(rel) => rel.to_string_lossy().replace('\\', "/"),
            None => absolute.to_string_lossy().into_owned(),
        };
        let known = self.workspace.files().find(&path).is_some();
        (known || is_manifest(&path, text)).then_some(path)
    }

    /// The `file:` URI of a path in findings.
    pub(crate) fn uri_of(&self, path: &str) -> String {
        let absolute = match &self.root {
            Some(root) if !Path::new(path).is_absolute() => root.join(path),
            _ => PathBuf::from(path),
        };
        format!("file://{}", encode(&absolute.to_string_lossy()))
    }
}

/// True for a file cip reads as a manifest (see the module doc).
fn is_manifest(path: &str, text: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let n = parts.len();
    let thin = n >= 3
        && ((parts[n - 3] == "manifests" && parts[n - 1] == "promoter-manifest.yaml")
            || (parts[n - 3] == "images" && parts[n - 1] == "images.yaml"));
    let yaml = path.ends_with(".yaml") || path.ends_with(".yml");
    thin || (yaml && text.lines().any(|l| l.starts_with("registries:") || l.starts_with("images:")))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if !SKIPPED_DIRS.iter().any(|s| name == *s) {
                walk(root, &path, out);
            }
            continue;
        }
        let Some(rel) = path.strip_prefix(root).ok().map(|r| r.to_string_lossy().replace('\\', "/")) else {
            continue;
        };
        if !(rel.ends_with(".yaml") || rel.ends_with(".yml")) {
            continue;
        }
        // Over the core's size limit the file would only yield a `yaml-too-large` finding.
        if entry.metadata().is_ok_and(|m| m.len() > 16 << 20) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        if is_manifest(&rel, &text) {
            out.push(SourceFile::new(rel, text));
        }
    }
}

/// Percent-decodes a URI path.
pub(crate) fn decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) =
                (bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b)))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a path for a `file:` URI (unreserved characters and `/` stay).
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_with_spaces_and_non_ascii() {
        let project =
            Project { root: Some(PathBuf::from("/w s")), workspace: Workspace::new(Input::default()) };
        let uri = project.uri_of("images/é x/images.yaml");
        assert_eq!(uri, "file:///w%20s/images/%C3%A9%20x/images.yaml");
        assert_eq!(project.path_of(&uri, "").as_deref(), Some("images/é x/images.yaml"));
        assert_eq!(project.path_of("file:///w%20s/ci.yaml", "on: push\n"), None);
        assert_eq!(project.path_of("file:///w%20s/m.yaml", "registries:\n").as_deref(), Some("m.yaml"));
    }
}
