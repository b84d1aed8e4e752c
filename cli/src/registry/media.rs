//! Manifest media types cip understands, and reading an index's children.

use serde::Deserialize;

/// Docker image manifest, schema 2.
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub(crate) const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI image manifest.
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// The `Accept` header for manifest requests: every supported type, so the registry never
/// down-converts and digests stay those of the stored bytes.
pub(crate) const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// What a media type denotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A single-platform image manifest.
    Image,
    /// An index / manifest list.
    Index,
    /// Anything else.
    Unsupported,
}

/// Classifies a media type (parameters such as `; charset=utf-8` are ignored).
pub(crate) fn kind(media_type: &str) -> Kind {
    match media_type.split(';').next().unwrap_or("").trim() {
        DOCKER_MANIFEST | OCI_MANIFEST => Kind::Image,
        DOCKER_MANIFEST_LIST | OCI_INDEX => Kind::Index,
        _ => Kind::Unsupported,
    }
}

/// The media type without parameters.
pub(crate) fn essence(media_type: &str) -> &str {
    media_type.split(';').next().unwrap_or("").trim()
}

#[derive(Deserialize)]
struct IndexDoc {
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Descriptor {
    digest: String,
}

/// The digests an index lists, sorted and deduplicated, plus the `mediaType` it declares.
pub(crate) fn index_children(bytes: &[u8]) -> Result<(Vec<String>, Option<String>), String> {
    let doc: IndexDoc = serde_json::from_slice(bytes).map_err(|e| format!("index is not valid JSON: {e}"))?;
    let mut children: Vec<String> = doc.manifests.into_iter().map(|d| d.digest).collect();
    children.sort();
    children.dedup();
    Ok((children, doc.media_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind(OCI_INDEX), Kind::Index);
        assert_eq!(kind("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8"), Kind::Image);
        assert_eq!(kind("application/vnd.docker.distribution.manifest.v1+prettyjws"), Kind::Unsupported);
    }

    #[test]
    fn children() {
        let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
            "manifests":[{"digest":"sha256:bb","size":1},{"digest":"sha256:aa","size":2}]}"#;
        let (c, mt) = index_children(body).unwrap();
        assert_eq!(c, ["sha256:aa", "sha256:bb"]);
        assert_eq!(mt.as_deref(), Some(OCI_INDEX));
    }
}
