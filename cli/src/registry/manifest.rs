//! Manifests: `HEAD`, `GET` (exact bytes, verified against a digest reference) and `PUT`, by tag
//! or digest, accepting every supported media type so the registry never down-converts.

use bytes::Bytes;
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, StatusCode};

use super::client::{Call, RegistryClient};
use super::digest::sha256_digest;
use super::error::{ErrorKind, Operation, RegistryError};
use super::media;
use super::response::{body_text, content_type, status_kind};

/// A manifest exactly as stored: its bytes, its media type and the digest of the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawManifest {
    /// The manifest bytes, never re-encoded.
    pub bytes: Bytes,
    /// The `Content-Type` / `mediaType` it is served with.
    pub media_type: String,
    /// `sha256:<hex>` of `bytes`. Stores fill it from the registry's `Docker-Content-Digest` or by
    /// hashing; the executor checks it against the digest it asked for.
    pub digest: String,
}

/// What a HEAD on a manifest tells: enough to decide whether a copy is needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestHead {
    /// `sha256:<hex>` the reference resolves to.
    pub digest: String,
    /// Media type of the manifest.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
}

impl RegistryClient {
    /// A request for a manifest by tag or digest, accepting every supported media type.
    fn manifest_call<'a>(
        &self,
        full: &'a str,
        operation: Operation,
        method: Method,
        reference: &str,
    ) -> Call<'a> {
        let actions: &[&str] = if method == Method::PUT { &["pull", "push"] } else { &["pull"] };
        let mut call = self.repo_call(full, operation, method, &format!("manifests/{reference}"), actions);
        call.headers.insert(header::ACCEPT, HeaderValue::from_static(media::ACCEPT_MANIFESTS));
        call
    }

    /// `HEAD` on a manifest by tag or digest. `None` when absent.
    pub async fn head_manifest(
        &self,
        full: &str,
        reference: &str,
    ) -> Result<Option<ManifestHead>, RegistryError> {
        let call = self.manifest_call(full, Operation::HeadManifest, Method::HEAD, reference);
        let response = self.execute(&call, None).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            let status = response.status().as_u16();
            return Err(self.error(call.host, call.repository, call.operation, status_kind(status, "")));
        }
        let headers = response.headers();
        let media_type = content_type(headers).unwrap_or_default();
        let size =
            headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let digest = headers.get("docker-content-digest").and_then(|v| v.to_str().ok()).map(str::to_string);
        match (digest, size) {
            (Some(digest), Some(size)) => Ok(Some(ManifestHead { digest, media_type, size })),
            // Some registries omit the digest on HEAD: read the manifest and hash it.
            _ => Ok(self.get_manifest(full, reference).await?.map(|m| ManifestHead {
                digest: m.digest,
                media_type: m.media_type,
                size: m.bytes.len() as u64,
            })),
        }
    }

    /// `GET` a manifest (exact bytes). When `reference` is a digest the bytes are verified
    /// against it (a mismatch is an integrity failure, final). `None` when absent.
    pub async fn get_manifest(
        &self,
        full: &str,
        reference: &str,
    ) -> Result<Option<RawManifest>, RegistryError> {
        let call = self.manifest_call(full, Operation::GetManifest, Method::GET, reference);
        let Some(fetched) = self.fetch(&call).await? else { return Ok(None) };
        let media_type = content_type(&fetched.headers).unwrap_or_default();
        let bytes = Bytes::from(fetched.bytes);
        let digest = sha256_digest(&bytes);
        if reference.starts_with("sha256:") && digest != reference {
            let kind = ErrorKind::Integrity {
                object: format!("manifest {reference}"),
                found: super::error::found(&digest, None),
            };
            return Err(self.error(call.host, call.repository, call.operation, kind));
        }
        Ok(Some(RawManifest { bytes, media_type, digest }))
    }

    /// `PUT` a manifest under `reference` (its digest, or a tag), bytes as given.
    pub(crate) async fn put_manifest(
        &self,
        full: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<(), RegistryError> {
        let mut call = self.manifest_call(full, Operation::PutManifest, Method::PUT, reference);
        call.headers.remove(header::ACCEPT);
        let content_type = HeaderValue::from_str(&manifest.media_type).map_err(|_| {
            let kind = ErrorKind::Invalid(format!(
                "media type {:?} is not a valid header value",
                manifest.media_type
            ));
            self.error(call.host, call.repository, call.operation, kind)
        })?;
        call.headers.insert(header::CONTENT_TYPE, content_type);
        call.body = Some(manifest.bytes.clone());
        let response = self.execute(&call, None).await?;
        let status = response.status();
        if status.is_success() {
            // A registry that maintains the referrers list of a manifest's subject says so.
            if response.headers().contains_key("oci-subject") {
                self.set_referrers_api(call.host, true);
            }
            return Ok(());
        }
        let text = body_text(response).await;
        Err(self.error(call.host, call.repository, call.operation, status_kind(status.as_u16(), &text)))
    }
}
