//! The inventory: the state of registries as plain data, keyed by full repository path
//! (`gcr.io/foo-staging/foo-controller`), then by manifest digest. Every front end reads and
//! writes this JSON shape; the registry client produces it, the planner consumes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod compact;

pub use compact::CompactInventory;
pub(crate) use compact::{Entry, NONE, RepoView};

/// What a repository holds under one digest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManifestInfo {
    /// Tags pointing at this digest, sorted.
    #[serde(default, deserialize_with = "valid::tags")]
    pub tags: Vec<String>,
    /// The manifest's media type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// For an index (manifest list): the digests of the manifests it lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "valid::children")]
    pub children: Vec<String>,
    /// The digest this manifest refers to (OCI 1.1 `subject`): set on referrers, however they
    /// were found (the referrers API or the referrers tag schema index).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "valid::subject")]
    pub subject: Option<String>,
    /// The OCI `artifactType` (or, for an artifact without one, its config media type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Layer digests in order: recorded for tag-scheme attachments (`sha256-<hex>.sig`, `.att`,
    /// `.sbom`), so the union rule can be planned offline.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "valid::children")]
    pub layers: Vec<String>,
    /// The signature and attestation layers of an attachment manifest (a `.sig`/`.att`
    /// tag-scheme manifest, a Sigstore-bundle referrer) with their bytes and annotations, as the
    /// reader fetched them: what the trust gate verifies offline ([`crate::trust::check`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signed_layers: Vec<crate::trust::SignedLayer>,
}

/// Digest -> manifest info for one repository.
pub type Repository = BTreeMap<String, ManifestInfo>;

/// The state of a set of repositories.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// Full repository path -> its manifests. A repository absent here is unknown; present and
    /// empty means read and empty.
    #[serde(deserialize_with = "valid::repositories")]
    pub repositories: BTreeMap<String, Repository>,
}

/// What `core/inventory.schema.json` requires of digests and tags, checked while reading, so an
/// error carries the position where serde_json found it (just after the offending value).
mod valid {
    use std::collections::{BTreeMap, BTreeSet};

    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    use super::{ManifestInfo, Repository};
    use crate::reference::{is_valid_digest, is_valid_tag};

    /// A digest string that matches `^sha256:[0-9a-f]{64}$` (ordered as its text, so a map of
    /// them keeps the order of [`Repository`]).
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    struct Digest(String);

    impl<'de> Deserialize<'de> for Digest {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let text = String::deserialize(d)?;
            if !is_valid_digest(&text) {
                return Err(invalid_digest(&text));
            }
            Ok(Digest(text))
        }
    }

    /// The error for a digest that [`is_valid_digest`] refuses (also the compact reader's).
    pub(super) fn invalid_digest<E: Error>(text: &str) -> E {
        E::custom(format!("invalid digest `{text}`: expected `sha256:` and 64 lowercase hex digits"))
    }

    pub(super) fn repositories<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Repository>, D::Error> {
        let read = BTreeMap::<String, BTreeMap<Digest, ManifestInfo>>::deserialize(d)?;
        Ok(read.into_iter().map(|(k, repo)| (k, repo.into_iter().map(|(d, m)| (d.0, m)).collect())).collect())
    }

    pub(super) fn subject<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Some(Digest::deserialize(d)?.0))
    }

    pub(super) fn children<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(Vec::<Digest>::deserialize(d)?.into_iter().map(|c| c.0).collect())
    }

    /// A tag that matches `^\w[\w.-]{0,127}$`.
    struct Tag(String);

    impl<'de> Deserialize<'de> for Tag {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let text = String::deserialize(d)?;
            if !is_valid_tag(&text) {
                return Err(D::Error::custom(format!(
                    "invalid tag `{text}`: expected `^\\w[\\w.-]{{0,127}}$`"
                )));
            }
            Ok(Tag(text))
        }
    }

    pub(super) fn tags<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let tags: Vec<String> = Vec::<Tag>::deserialize(d)?.into_iter().map(|t| t.0).collect();
        let mut seen = BTreeSet::new();
        for tag in &tags {
            if !seen.insert(tag.as_str()) {
                return Err(D::Error::custom(format!("tag `{tag}` is listed twice for one digest")));
            }
        }
        Ok(tags)
    }
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

impl InventoryError {
    /// The error of a JSON reader, with its position 1-based.
    fn from_json(e: serde_json::Error) -> Self {
        // serde_json appends " at line L column C"; the location is reported separately.
        let full = e.to_string();
        let message = full.rsplit_once(" at line ").map_or(full.as_str(), |(m, _)| m).to_owned();
        // serde_json's column counts the bytes read on the line, so an error before anything
        // is read there (the end of the input right after a newline, an empty input) is in
        // its column 0: the 1-based column of that position is 1.
        InventoryError { line: e.line().max(1), column: e.column().max(1), message }
    }
}

impl Inventory {
    /// Parses the JSON form.
    pub fn from_json(text: &str) -> Result<Self, InventoryError> {
        serde_json::from_str(text).map_err(InventoryError::from_json)
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
        // What the schema forbids, at the offending value (serde_json: just after it).
        let digest = "{\"repositories\": {\"r.io/x\": {\n  \"sha256:600d\": {}}}}";
        assert_eq!(position(digest), (2, 15));
        let tag = format!(
            "{{\"repositories\": {{\"r.io/x\": {{\"sha256:{}\":\n {{\"tags\": [\"bad tag!\"]}}}}}}}}",
            "a".repeat(64)
        );
        assert_eq!(position(&tag), (2, 22));
        let e = Inventory::from_json(&tag).unwrap_err();
        assert!(e.message.contains("invalid tag `bad tag!`"), "{}", e.message);
        let child = format!(
            "{{\"repositories\": {{\"r.io/x\": {{\"sha256:{}\":\n {{\"children\": [\"sha256:A\"]}}}}}}}}",
            "a".repeat(64)
        );
        assert_eq!(position(&child).0, 2);
        let twice = format!(
            "{{\"repositories\": {{\"r.io/x\": {{\"sha256:{}\": {{\"tags\": [\"a\", \"a\"]}}}}}}}}",
            "a".repeat(64)
        );
        assert!(Inventory::from_json(&twice).unwrap_err().message.contains("twice"));
        let ok = format!(
            "{{\"repositories\": {{\"r.io/x\": {{\"sha256:{}\": {{\"tags\": [\"v1.0\", \"_x\"]}}}}}}}}",
            "a".repeat(64)
        );
        assert!(Inventory::from_json(&ok).is_ok());
        let e = Inventory::from_json("").unwrap_err();
        assert_eq!(e.to_string(), "invalid inventory JSON at line 1, column 1: EOF while parsing a value");
    }
}
