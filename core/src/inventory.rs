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
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Inventory {
    /// Parses the JSON form.
    pub fn from_json(text: &str) -> Result<Self, InventoryError> {
        serde_json::from_str(text).map_err(|e| InventoryError {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
    }

    /// Deterministic pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("inventory serializes");
        s.push('\n');
        s
    }
}
