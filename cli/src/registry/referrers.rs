//! OCI 1.1 referrers: `GET /v2/<name>/referrers/<digest>` (an image index of the manifests whose
//! `subject` is the digest), with the `artifactType` filter and `Link` pagination; and the
//! referrers tag schema (`sha256-<hex>` index) that registries without the API rely on: reading
//! its descriptors and merging one more in (never removing one).
//!
//! Whether a host offers the API is learned from its answers and kept in its state: a `404` to a
//! referrers request means no API (the spec forbids a `404` from a registry that has it), and an
//! `OCI-Subject` header on a manifest `PUT` means the registry maintains the list itself.

use reqwest::Method;
use serde_json::{Map, Value};

use super::client::RegistryClient;
use super::error::{ErrorKind, Operation, RegistryError};
use super::media::OCI_INDEX;
use super::tags::next_page;

/// One referrer, as a referrers list (API answer or tag-schema index) describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Referrer {
    /// The referrer manifest's digest.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Its `artifactType`, when the descriptor has one.
    pub artifact_type: Option<String>,
    /// The whole descriptor, kept as read (annotations included) for the tag-schema index.
    pub descriptor: Value,
}

/// Pages followed at most.
const MAX_PAGES: usize = 1000;

/// Reads a referrers list: an image index whose `manifests` are the referrers' descriptors.
pub fn parse_list(bytes: &[u8]) -> Result<Vec<Referrer>, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not a referrers index: {e}"))?;
    let manifests = doc.get("manifests").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    manifests
        .iter()
        .map(|d| {
            let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
            let digest = text("digest")
                .filter(|d| cip_core::reference::is_valid_digest(d))
                .ok_or_else(|| "a referrer descriptor without a sha256 digest".to_owned())?;
            Ok(Referrer {
                digest,
                media_type: text("mediaType").unwrap_or_default(),
                artifact_type: text("artifactType"),
                descriptor: d.clone(),
            })
        })
        .collect()
}

/// The referrers tag-schema index with `descriptor` added, or `None` when `existing` already
/// lists its digest. Entries already there are kept as they are, in their order.
pub fn merge_into_index(existing: Option<&[u8]>, descriptor: &Value) -> Result<Option<Vec<u8>>, String> {
    let mut doc: Map<String, Value> = match existing {
        Some(bytes) => serde_json::from_slice(bytes).map_err(|e| format!("not a referrers index: {e}"))?,
        None => {
            let mut m = Map::new();
            m.insert("schemaVersion".into(), Value::from(2));
            m.insert("mediaType".into(), Value::from(OCI_INDEX));
            m
        }
    };
    let digest = descriptor.get("digest").and_then(Value::as_str);
    let manifests = doc.entry("manifests").or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = manifests.as_array_mut() else {
        return Err("a referrers index whose `manifests` is not a list".into());
    };
    if list.iter().any(|d| d.get("digest").and_then(Value::as_str) == digest) {
        return Ok(None);
    }
    list.push(descriptor.clone());
    serde_json::to_vec(&doc).map(Some).map_err(|e| e.to_string())
}

/// The descriptor of a referrer manifest for a referrers list: media type, digest, size, and its
/// `artifactType` (or config media type) and annotations, as the OCI 1.1 spec asks.
pub fn descriptor_of(bytes: &[u8], digest: &str, media_type: &str) -> Value {
    let doc: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    let mut d = Map::new();
    d.insert("mediaType".into(), Value::from(media_type));
    d.insert("digest".into(), Value::from(digest));
    d.insert("size".into(), Value::from(bytes.len() as u64));
    let artifact_type = doc
        .get("artifactType")
        .or_else(|| doc.get("config").and_then(|c| c.get("mediaType")))
        .and_then(Value::as_str);
    if let Some(t) = artifact_type {
        d.insert("artifactType".into(), Value::from(t));
    }
    if let Some(a) = doc.get("annotations").filter(|a| a.as_object().is_some_and(|o| !o.is_empty())) {
        d.insert("annotations".into(), a.clone());
    }
    Value::Object(d)
}

/// The referrers tag-schema tag of a digest: `sha256:<hex>` -> `sha256-<hex>`.
pub fn schema_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

impl RegistryClient {
    /// The referrers of `digest` in `full` through the referrers API; `None` when the host has
    /// no such API (known from an earlier answer, or this one). With exactly one artifact type
    /// the registry is asked to filter; in every case the answer is filtered here too, since a
    /// registry may ignore the filter (it says so by omitting `OCI-Filters-Applied`).
    pub async fn referrers(
        &self,
        full: &str,
        digest: &str,
        artifact_types: &[String],
    ) -> Result<Option<Vec<Referrer>>, RegistryError> {
        let host = super::host::split_repository(full).0;
        if self.referrers_api(host) == Some(false) {
            return Ok(None);
        }
        let mut suffix = format!("referrers/{digest}");
        if let [only] = artifact_types {
            let encoded: String = reqwest::Url::parse_with_params("x:/", [("artifactType", only)])
                .map(|u| u.query().unwrap_or_default().to_owned())
                .unwrap_or_default();
            suffix = format!("{suffix}?{encoded}");
        }
        let mut call = self.repo_call(full, Operation::ListReferrers, Method::GET, &suffix, &["pull"]);
        call.probe = true;
        let mut found = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = self.fetch(&call).await.inspect_err(|e| {
                // A registry that refuses the endpoint (rather than answering 404) is not asked again.
                if !e.kind.is_transient() {
                    self.set_referrers_api(host, false);
                }
            })?;
            let Some(page) = page else {
                self.set_referrers_api(host, false);
                return Ok(None);
            };
            self.set_referrers_api(host, true);
            let list = parse_list(&page.bytes)
                .map_err(|m| self.error(call.host, call.repository, call.operation, ErrorKind::Invalid(m)))?;
            found.extend(list);
            match next_page(&page.headers, &page.url) {
                Some(target) => call.target = target,
                None => break,
            }
        }
        if !artifact_types.is_empty() {
            found.retain(|r| r.artifact_type.as_ref().is_some_and(|t| artifact_types.contains(t)));
        }
        Ok(Some(found))
    }

    /// Whether `host` is known to serve the referrers API.
    pub(crate) fn referrers_api(&self, host: &str) -> Option<bool> {
        *self.host_state(host).referrers_api.lock().expect("referrers lock")
    }

    /// Records whether `host` serves the referrers API.
    pub(crate) fn set_referrers_api(&self, host: &str, offered: bool) {
        *self.host_state(host).referrers_api.lock().expect("referrers lock") = Some(offered);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn merging_adds_once_and_keeps_existing_entries() {
        let a = serde_json::json!({"mediaType": "m", "digest": A, "size": 1, "annotations": {"k": "v"}});
        let first = merge_into_index(None, &a).unwrap().unwrap();
        let listed = parse_list(&first).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].descriptor, a);
        assert_eq!(merge_into_index(Some(&first), &a).unwrap(), None, "already listed");
        let b = serde_json::json!({"mediaType": "m", "digest": B, "size": 2, "artifactType": "t"});
        let second = merge_into_index(Some(&first), &b).unwrap().unwrap();
        let digests: Vec<String> = parse_list(&second).unwrap().into_iter().map(|r| r.digest).collect();
        assert_eq!(digests, [A, B]);
        assert!(merge_into_index(Some(b"{\"manifests\": 3}"), &b).is_err());
    }

    #[test]
    fn descriptors_carry_artifact_type_or_config_type() {
        let with =
            br#"{"artifactType":"application/spdx+json","config":{"mediaType":"c"},"annotations":{"x":"y"}}"#;
        let d = descriptor_of(with, A, "application/vnd.oci.image.manifest.v1+json");
        assert_eq!(d["artifactType"], "application/spdx+json");
        assert_eq!(d["annotations"]["x"], "y");
        assert_eq!(d["size"], with.len());
        let without = br#"{"config":{"mediaType":"application/vnd.dev.cosign.artifact.sig.v1+json"}}"#;
        let d = descriptor_of(without, A, "m");
        assert_eq!(d["artifactType"], "application/vnd.dev.cosign.artifact.sig.v1+json");
        assert!(d.get("annotations").is_none());
        assert_eq!(schema_tag(A), format!("sha256-{}", &A[7..]));
    }
}
