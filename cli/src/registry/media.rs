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

/// A manifest or index document, as far as cip reads it: cip's own small types rather than
/// `oci-spec`'s, because cip copies manifests byte for byte and only needs the references, and
/// must accept every shape registries serve (Docker schema 2 and manifest lists, OCI manifests,
/// indexes and artifacts) without validating fields it does not use.
#[derive(Deserialize)]
struct ManifestDoc {
    #[serde(rename = "schemaVersion")]
    schema_version: Option<u64>,
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    manifests: Option<Vec<Descriptor>>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    /// OCI artifacts (the artifact manifest draft) list `blobs`.
    #[serde(default)]
    blobs: Vec<Descriptor>,
}

/// A content descriptor (only the fields cip uses).
#[derive(Deserialize)]
struct Descriptor {
    digest: Option<String>,
    size: Option<u64>,
    /// Foreign layers (Windows base images) name where they live instead.
    #[serde(default)]
    urls: Vec<String>,
}

fn parse(bytes: &[u8]) -> Result<ManifestDoc, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not a manifest (invalid JSON: {e})"))
}

/// The digests an index lists, sorted and deduplicated, plus the `mediaType` it declares.
pub(crate) fn index_children(bytes: &[u8]) -> Result<(Vec<String>, Option<String>), String> {
    let doc = parse(bytes)?;
    let mut children: Vec<String> = doc.manifests.into_iter().flatten().filter_map(|d| d.digest).collect();
    children.sort();
    children.dedup();
    Ok((children, doc.media_type))
}

/// The media type of stored manifest bytes: their own `mediaType`, else guessed from the shape
/// (OCI manifests and indexes may omit the field; an index has `manifests`).
pub(crate) fn media_type_of(bytes: &[u8]) -> String {
    match parse(bytes) {
        Ok(ManifestDoc { media_type: Some(media_type), .. }) => media_type,
        Ok(ManifestDoc { manifests: Some(_), .. }) => OCI_INDEX.to_owned(),
        _ => OCI_MANIFEST.to_owned(),
    }
}

/// What a manifest references: child manifests (index) or blobs with sizes (image).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct References {
    /// Child manifest digests of an index.
    pub(crate) children: Vec<String>,
    /// Config and layer digests with their sizes, sorted, foreign layers left out (they are
    /// not distributable: they stay where their `urls` say).
    pub(crate) blobs: Vec<(String, u64)>,
}

impl References {
    /// Reads the references of the manifest `bytes` whose digest is `digest` (Docker schema 2,
    /// manifest list, OCI manifest, OCI index, OCI artifacts with a `blobs` list).
    pub(crate) fn of(bytes: &[u8], digest: &str) -> Result<Self, String> {
        let doc = parse(bytes).map_err(|e| format!("manifest {digest}: {e}"))?;
        if doc.schema_version == Some(1) {
            return Err(format!("manifest {digest} is Docker schema 1, which cip does not copy"));
        }
        let described = |d: &Descriptor| match (&d.digest, d.size) {
            (Some(blob), Some(size)) if cip_core::reference::is_valid_digest(blob) => {
                Ok((blob.clone(), size))
            }
            _ => Err(format!("manifest {digest} has a descriptor without a sha256 digest and size")),
        };
        let mut refs = References::default();
        for child in doc.manifests.iter().flatten() {
            refs.children.push(described(child)?.0);
        }
        for blob in doc.config.iter().chain(&doc.layers).chain(&doc.blobs).filter(|d| d.urls.is_empty()) {
            refs.blobs.push(described(blob)?);
        }
        refs.blobs.sort();
        refs.blobs.dedup();
        Ok(refs)
    }
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
    fn references_of_images_indexes_and_schema_1() {
        let image = br#"{"schemaVersion":2,"config":{"digest":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","size":3},
            "layers":[{"digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":1},
                      {"digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","size":2,"urls":["https://x"]}]}"#;
        let refs = References::of(image, "sha256:m").unwrap();
        assert!(refs.children.is_empty());
        let digests: Vec<&str> = refs.blobs.iter().map(|(d, _)| &d[7..8]).collect();
        assert_eq!(digests, ["a", "c"], "foreign layers stay where they are");
        assert!(References::of(br#"{"schemaVersion":1}"#, "sha256:m").unwrap_err().contains("schema 1"));
        assert!(References::of(br#"{"layers":[{"digest":"md5:x","size":1}]}"#, "sha256:m").is_err());
        assert!(References::of(b"not json", "sha256:m").unwrap_err().contains("invalid JSON"));
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
