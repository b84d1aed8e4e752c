//! The inventory: the state of registries as plain data, keyed by full repository path
//! (`gcr.io/foo-staging/foo-controller`), then by manifest digest. Every front end reads and
//! writes this JSON shape; the registry client produces it, the planner consumes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a repository holds under one digest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestInfo {
    /// Tags pointing at this digest, sorted.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The manifest's media type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// For an index (manifest list): the digests of the manifests it lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
}

/// Digest -> manifest info for one repository.
pub type Repository = BTreeMap<String, ManifestInfo>;

/// The state of a set of repositories.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// Full repository path -> its manifests. A repository absent here is unknown; present and
    /// empty means read and empty.
    pub repositories: BTreeMap<String, Repository>,
}

/// Why an inventory document could not be read (a caller error, not a manifest finding).
#[derive(Debug, thiserror::Error)]
#[error("invalid inventory JSON at line {line}, column {column}: {message}")]
pub struct InventoryError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in bytes, as serde_json counts).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Inventory {
    /// Parses the JSON form.
    pub fn from_json(text: &str) -> Result<Self, InventoryError> {
        serde_json::from_str(text).map_err(|e| {
            // serde_json appends " at line L column C"; the location is reported separately.
            let full = e.to_string();
            let message = full.rsplit_once(" at line ").map_or(full.as_str(), |(m, _)| m).to_owned();
            // serde_json's column counts the bytes read on the line, so an error before anything
            // is read there (the end of the input right after a newline, an empty input) is in
            // its column 0: the 1-based column of that position is 1.
            InventoryError { line: e.line().max(1), column: e.column().max(1), message }
        })
    }

    /// Deterministic pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        crate::wire::pretty_json(self)
    }
}

/// Media types of manifests that list other manifests (OCI index, Docker manifest list).
pub const INDEX_MEDIA_TYPES: &[&str] =
    &["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];

impl ManifestInfo {
    /// True for an index (manifest list): it lists children, or its media type says so.
    pub fn is_index(&self) -> bool {
        !self.children.is_empty()
            || self.media_type.as_deref().is_some_and(|m| INDEX_MEDIA_TYPES.contains(&m))
    }
}

impl Inventory {
    /// The manifests of one repository, by its exact full path (`registry + "/" + image`); `None`
    /// when the repository was not read.
    pub fn repository(&self, repo: &str) -> Option<&Repository> {
        self.repositories.get(repo)
    }

    /// Repositories lying under `prefix` (exact prefix followed by `/`), with the rest of their
    /// path: the image name relative to that registry. Never guesses: `gcr.io/a` does not contain
    /// `gcr.io/ab/x`.
    pub fn under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a Repository)> + 'a {
        let prefix = prefix.trim_end_matches('/');
        self.repositories
            .range::<str, _>((std::ops::Bound::Excluded(prefix), std::ops::Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(prefix))
            .filter_map(move |(k, v)| Some((k.strip_prefix(prefix)?.strip_prefix('/')?, v)))
    }
}

/// Untagged digests of a repository that an index of the same repository lists: they travel
/// with their index, so snapshots (`minimal`) and drift reports leave them out.
pub fn untagged_children(repo: &Repository) -> std::collections::BTreeSet<&str> {
    repo.values()
        .flat_map(|info| info.children.iter())
        .filter(|child| repo.get(child.as_str()).is_some_and(|c| c.tags.is_empty()))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(text: &str) -> (usize, usize) {
        let e = Inventory::from_json(text).expect_err("invalid inventory");
        (e.line, e.column)
    }

    #[test]
    fn error_positions_are_1_based() {
        // The end of the input at the start of a line: serde_json says column 0.
        assert_eq!(position(""), (1, 1));
        assert_eq!(position("{\"repositories\": {}\n"), (2, 1));
        assert_eq!(position("{\n"), (2, 1));
        // Elsewhere the offending character's own column.
        assert_eq!(position("{\"repositories\": x}"), (1, 18));
        assert_eq!(position("{\n  \"repositories\": {},\n  \"extra\": 1}"), (3, 9));
        let e = Inventory::from_json("").unwrap_err();
        assert_eq!(e.to_string(), "invalid inventory JSON at line 1, column 1: EOF while parsing a value");
    }
}
