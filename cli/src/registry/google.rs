//! The `tags/list` response, including Google's extension (Container Registry and Artifact
//! Registry): a `manifest` map from digest to tags and media type, and a `child` list of
//! nested repository names. With the extension one request describes a whole repository.

use std::collections::BTreeMap;

use cip_core::inventory::{ManifestInfo, Repository};
use serde::Deserialize;

/// A `tags/list` response body.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TagsList {
    /// Repository name.
    #[serde(default)]
    pub name: Option<String>,
    /// Tags (standard); `null` on some registries for an empty repository.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Google extension: digest -> details.
    #[serde(default)]
    pub manifest: Option<BTreeMap<String, GoogleManifest>>,
    /// Google extension: names of nested repositories (last path segment only).
    #[serde(default)]
    pub child: Option<Vec<String>>,
}

/// One entry of Google's `manifest` map (only the fields cip uses).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleManifest {
    /// Tags pointing at this digest.
    #[serde(default)]
    pub tag: Vec<String>,
    /// Media type of the manifest.
    #[serde(default)]
    pub media_type: Option<String>,
}

impl TagsList {
    /// Parses a body.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("tags/list body is not valid: {e}"))
    }

    /// True when the registry answered with Google's extension.
    pub fn has_extension(&self) -> bool {
        self.manifest.is_some()
    }

    /// The standard tag list (empty when absent).
    pub fn tag_names(&self) -> &[String] {
        self.tags.as_deref().unwrap_or_default()
    }

    /// The repository described by the extension's `manifest` map.
    pub fn to_repository(&self) -> Repository {
        let mut repo = Repository::new();
        for (digest, m) in self.manifest.iter().flatten() {
            let mut tags = m.tag.clone();
            tags.sort();
            tags.dedup();
            repo.insert(
                digest.clone(),
                ManifestInfo { tags, media_type: m.media_type.clone(), ..ManifestInfo::default() },
            );
        }
        repo
    }

    /// What the listing tells of the repository: everything with the extension, tag names
    /// otherwise.
    pub(crate) fn into_listing(self) -> super::tags::Listing {
        if self.has_extension() {
            super::tags::Listing::Full(self.to_repository())
        } else {
            let mut tags = self.tags.unwrap_or_default();
            tags.sort();
            tags.dedup();
            super::tags::Listing::Tags(tags)
        }
    }

    /// Nested repository names (sorted).
    pub fn children(&self) -> Vec<String> {
        let mut c = self.child.clone().unwrap_or_default();
        c.sort();
        c.dedup();
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body of the documented shape (Google Container Registry / Artifact Registry).
    const BODY: &str = r#"{
      "child": ["sub-b", "sub-a"],
      "manifest": {
        "sha256:1111111111111111111111111111111111111111111111111111111111111111": {
          "imageSizeBytes": "2811478",
          "layerId": "",
          "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
          "tag": ["v1.0", "latest"],
          "timeCreatedMs": "1576000000000",
          "timeUploadedMs": "1576000000001"
        },
        "sha256:2222222222222222222222222222222222222222222222222222222222222222": {
          "imageSizeBytes": "0",
          "layerId": "",
          "mediaType": "application/vnd.oci.image.index.v1+json",
          "tag": [],
          "timeCreatedMs": "0",
          "timeUploadedMs": "1576000000002"
        }
      },
      "name": "project/repo",
      "tags": ["latest", "v1.0"]
    }"#;

    #[test]
    fn parses_extension() {
        let list = TagsList::parse(BODY.as_bytes()).unwrap();
        assert!(list.has_extension());
        assert_eq!(list.children(), ["sub-a", "sub-b"]);
        let repo = list.to_repository();
        assert_eq!(repo.len(), 2);
        let first = &repo["sha256:1111111111111111111111111111111111111111111111111111111111111111"];
        assert_eq!(first.tags, ["latest", "v1.0"]);
        let second = &repo["sha256:2222222222222222222222222222222222222222222222222222222222222222"];
        assert!(second.tags.is_empty());
        assert_eq!(second.media_type.as_deref(), Some("application/vnd.oci.image.index.v1+json"));
    }

    #[test]
    fn parses_standard_and_null_tags() {
        let list = TagsList::parse(br#"{"name":"a/b","tags":null}"#).unwrap();
        assert!(!list.has_extension());
        assert!(list.tag_names().is_empty());
        let list = TagsList::parse(br#"{"name":"a/b","tags":["x"]}"#).unwrap();
        assert_eq!(list.tag_names(), ["x"]);
    }
}
