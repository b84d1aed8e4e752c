//! The HTTP registry as a [`Store`] for the copy executor: one store per registry host, so
//! repositories of one host can mount each other's blobs. Requests go through the shared
//! [`RegistryClient`], so rate limits, retries and authentication apply to every one of them.
//!
//! Uploads are monolithic and streamed (`POST` a session, then one `PUT ?digest=` with the
//! stream as body): a layer is never held in memory. Because a stream cannot be replayed, the
//! `PUT` is sent once; the `POST` before it is retried normally and authenticates for push.

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, StatusCode};

use super::client::{Call, RegistryClient, status_kind};
use super::error::{ErrorKind as RegErrorKind, Operation as RegOperation, RegistryError};
use crate::store::{
    BlobStream, ErrorKind, ManifestHead, MountOutcome, Operation, RawManifest, Store, StoreError,
};

/// A registry host seen as a [`Store`].
#[derive(Clone, Debug)]
pub struct RegistryStore {
    client: RegistryClient,
    host: String,
}

impl RegistryStore {
    /// The store for `host` (`gcr.io`, `127.0.0.1:5000`).
    pub fn new(client: RegistryClient, host: &str) -> Self {
        Self { client, host: host.to_string() }
    }

    fn full(&self, repo: &str) -> String {
        format!("{}/{repo}", self.host)
    }

    fn convert(&self, repo: &str, operation: Operation, error: RegistryError) -> StoreError {
        StoreError {
            registry: self.host.clone(),
            repository: repo.to_string(),
            ..store_error(error, operation)
        }
    }

    fn status_error(
        &self,
        repo: &str,
        operation: Operation,
        reg_op: RegOperation,
        status: u16,
        text: &str,
    ) -> StoreError {
        let error = RegistryError {
            registry: self.host.clone(),
            repository: Some(repo.to_string()),
            operation: reg_op,
            kind: status_kind(status, text),
        };
        self.convert(repo, operation, error)
    }

    /// Starts an upload session (optionally as a mount); returns the response.
    async fn start_upload(
        &self,
        repo: &str,
        query: &str,
        extra_pull: Option<&str>,
        operation: Operation,
    ) -> Result<reqwest::Response, StoreError> {
        let full = self.full(repo);
        let reg_op = if extra_pull.is_some() { RegOperation::MountBlob } else { RegOperation::PutBlob };
        let mut call = self.client.repo_call(
            &full,
            reg_op,
            Method::POST,
            &format!("blobs/uploads/{query}"),
            &["pull", "push"],
        );
        if let Some(from) = extra_pull {
            call.scopes.add(&format!("repository:{from}"), &["pull"]);
        }
        call.headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        call.body = Some(bytes::Bytes::new());
        self.client.execute(&call).await.map_err(|e| self.convert(repo, operation, e))
    }
}

/// A registry-client error as a [`StoreError`] of `operation`, for the executor and for readers
/// that report through stores: same registry and repository, and a kind that keeps what matters
/// (not found, integrity, refused credentials, transient transport).
pub fn store_error(error: RegistryError, operation: Operation) -> StoreError {
    let registry = error.registry.clone();
    let repository = error.repository.clone().unwrap_or_default();
    let message = error.to_string();
    let kind = match error.kind {
        RegErrorKind::NotFound => ErrorKind::NotFound(message),
        RegErrorKind::DigestMismatch { expected, actual } => ErrorKind::DigestMismatch { expected, actual },
        RegErrorKind::AuthRefused { .. } | RegErrorKind::Denied | RegErrorKind::Credentials(_) => {
            ErrorKind::Auth(message)
        }
        RegErrorKind::Status { status, .. } => ErrorKind::Status { status, message },
        // Worth another try by the executor (the client cannot replay a body cut off after
        // a 200); exhausted retries and refused insecure hosts are final.
        RegErrorKind::Connect(_) | RegErrorKind::Timeout(_) | RegErrorKind::Interrupted(_) => {
            ErrorKind::Transport(message)
        }
        RegErrorKind::RetriesExhausted { .. } | RegErrorKind::Insecure { .. } => ErrorKind::Invalid(message),
        RegErrorKind::NotARegistry(_)
        | RegErrorKind::InvalidResponse(_)
        | RegErrorKind::UnsupportedMediaType(_) => ErrorKind::Invalid(message),
    };
    StoreError::new(&registry, &repository, operation, kind)
}

/// Resolves an upload `Location` (absolute or relative) and appends `digest=`.
impl RegistryStore {
    /// The chunked upload of the OCI distribution spec: one `PATCH` per `chunk` bytes with its
    /// `Content-Range`, each answer naming the next `Location`, then a `PUT ?digest=` that
    /// commits. At most one chunk is held in memory. The verified stream holds its last bytes
    /// back until the digest matches, so a blob that does not verify is never committed.
    async fn put_blob_chunked(
        &self,
        repo: &str,
        digest: &str,
        mut location: String,
        blob: BlobStream,
        chunk: u64,
    ) -> Result<(), StoreError> {
        let chunk = usize::try_from(chunk).unwrap_or(usize::MAX);
        let mut stream = blob.stream;
        let mut buffer: Vec<u8> = Vec::with_capacity(chunk.min(64 * 1024 * 1024));
        let mut offset = 0u64;
        loop {
            let next = stream.next().await;
            let done = next.is_none();
            if let Some(bytes) = next {
                let bytes = bytes.map_err(|e| {
                    StoreError::new(&self.host, repo, Operation::PutBlob, ErrorKind::Aborted(e.to_string()))
                })?;
                buffer.extend_from_slice(&bytes);
            }
            while buffer.len() >= chunk || (done && !buffer.is_empty()) {
                let take = buffer.len().min(chunk);
                let part: Vec<u8> = buffer.drain(..take).collect();
                location = self.patch_chunk(repo, &location, offset, part).await?;
                offset += take as u64;
            }
            if done {
                break;
            }
        }
        self.commit_upload(repo, &location, digest).await
    }

    async fn patch_chunk(
        &self,
        repo: &str,
        location: &str,
        offset: u64,
        part: Vec<u8>,
    ) -> Result<String, StoreError> {
        let full = self.full(repo);
        let mut call =
            self.client.repo_call(&full, RegOperation::PutBlob, Method::PATCH, "", &["pull", "push"]);
        call.target = absolute_or_rooted(location.to_string());
        call.timeout = None;
        let end = offset + part.len() as u64 - 1;
        call.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        call.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(part.len() as u64));
        call.headers.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("{offset}-{end}")).expect("digits and a dash"),
        );
        let response = self
            .client
            .execute_stream(&call, reqwest::Body::from(part))
            .await
            .map_err(|e| self.convert(repo, Operation::PutBlob, e))?;
        let status = response.status();
        if status != StatusCode::ACCEPTED {
            let text = response.text().await.unwrap_or_default();
            return Err(self.status_error(
                repo,
                Operation::PutBlob,
                RegOperation::PutBlob,
                status.as_u16(),
                &text,
            ));
        }
        Ok(response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| location.to_string(), str::to_string))
    }

    async fn commit_upload(&self, repo: &str, location: &str, digest: &str) -> Result<(), StoreError> {
        let full = self.full(repo);
        let mut call =
            self.client.repo_call(&full, RegOperation::PutBlob, Method::PUT, "", &["pull", "push"]);
        call.target = absolute_or_rooted(upload_target(location, digest));
        call.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
        self.finish_upload(repo, &call, reqwest::Body::from(Vec::new())).await
    }

    /// Sends the request that commits an upload (`PUT ?digest=`, with the whole blob or none).
    async fn finish_upload(
        &self,
        repo: &str,
        call: &Call<'_>,
        body: reqwest::Body,
    ) -> Result<(), StoreError> {
        let response = self
            .client
            .execute_stream(call, body)
            .await
            .map_err(|e| self.convert(repo, Operation::PutBlob, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(self.status_error(repo, Operation::PutBlob, RegOperation::PutBlob, status.as_u16(), &text))
    }
}

/// A relative upload `Location` is resolved against the registry; an absolute one is used as is
/// (registries may hand uploads to another host).
fn absolute_or_rooted(target: String) -> String {
    if target.starts_with('/') || target.contains("://") { target } else { format!("/{target}") }
}

fn upload_target(location: &str, digest: &str) -> String {
    let separator = if location.contains('?') { '&' } else { '?' };
    format!("{location}{separator}digest={digest}")
}

#[async_trait]
impl Store for RegistryStore {
    fn name(&self) -> &str {
        &self.host
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<RawManifest, StoreError> {
        match self.client.get_manifest(&self.full(repo), reference).await {
            Ok(Some(m)) => Ok(m),
            Ok(None) => Err(StoreError::new(
                &self.host,
                repo,
                Operation::GetManifest,
                ErrorKind::NotFound(format!("manifest {reference}")),
            )),
            Err(e) => Err(self.convert(repo, Operation::GetManifest, e)),
        }
    }

    async fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<ManifestHead>, StoreError> {
        self.client
            .head_manifest(&self.full(repo), reference)
            .await
            .map_err(|e| self.convert(repo, Operation::HeadManifest, e))
    }

    async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<(), StoreError> {
        let full = self.full(repo);
        let mut call = self.client.repo_call(
            &full,
            RegOperation::PutManifest,
            Method::PUT,
            &format!("manifests/{reference}"),
            &["pull", "push"],
        );
        let content_type = HeaderValue::from_str(&manifest.media_type).map_err(|_| {
            StoreError::new(
                &self.host,
                repo,
                Operation::PutManifest,
                ErrorKind::Invalid("invalid media type".into()),
            )
        })?;
        call.headers.insert(header::CONTENT_TYPE, content_type);
        call.body = Some(manifest.bytes.clone());
        let response =
            self.client.execute(&call).await.map_err(|e| self.convert(repo, Operation::PutManifest, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(self.status_error(
            repo,
            Operation::PutManifest,
            RegOperation::PutManifest,
            status.as_u16(),
            &text,
        ))
    }

    async fn blob_exists(&self, repo: &str, digest: &str) -> Result<bool, StoreError> {
        let full = self.full(repo);
        let call = self.client.repo_call(
            &full,
            RegOperation::HeadBlob,
            Method::HEAD,
            &format!("blobs/{digest}"),
            &["pull"],
        );
        let response =
            self.client.execute(&call).await.map_err(|e| self.convert(repo, Operation::BlobExists, e))?;
        match response.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => Err(self.status_error(repo, Operation::BlobExists, RegOperation::HeadBlob, s.as_u16(), "")),
        }
    }

    async fn get_blob(&self, repo: &str, digest: &str) -> Result<BlobStream, StoreError> {
        let full = self.full(repo);
        let mut call = self.client.repo_call(
            &full,
            RegOperation::GetBlob,
            Method::GET,
            &format!("blobs/{digest}"),
            &["pull"],
        );
        // Layers can be large: no whole-request limit, the client's read timeout still applies.
        call.timeout = None;
        let response =
            self.client.execute(&call).await.map_err(|e| self.convert(repo, Operation::GetBlob, e))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Err(StoreError::new(
                &self.host,
                repo,
                Operation::GetBlob,
                ErrorKind::NotFound(format!("blob {digest}")),
            ));
        }
        if !status.is_success() {
            return Err(self.status_error(
                repo,
                Operation::GetBlob,
                RegOperation::GetBlob,
                status.as_u16(),
                "",
            ));
        }
        let size = response.content_length().unwrap_or(0);
        let (host, repo_owned) = (self.host.clone(), repo.to_string());
        let stream = response.bytes_stream().map_err(move |e| {
            let message = super::client::error_chain(&e);
            StoreError::new(&host, &repo_owned, Operation::GetBlob, ErrorKind::Transport(message))
        });
        Ok(BlobStream { size, stream: stream.boxed() })
    }

    async fn put_blob(&self, repo: &str, digest: &str, blob: BlobStream) -> Result<(), StoreError> {
        let response = self.start_upload(repo, "", None, Operation::PutBlob).await?;
        if response.status() != StatusCode::ACCEPTED {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            return Err(self.status_error(repo, Operation::PutBlob, RegOperation::PutBlob, status, &text));
        }
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| {
                StoreError::new(
                    &self.host,
                    repo,
                    Operation::PutBlob,
                    ErrorKind::Invalid("upload session without Location".into()),
                )
            })?;
        if let Some(chunk) = self.client.config().upload_chunk_bytes {
            return self.put_blob_chunked(repo, digest, location, blob, chunk).await;
        }
        let full = self.full(repo);
        let mut call =
            self.client.repo_call(&full, RegOperation::PutBlob, Method::PUT, "", &["pull", "push"]);
        call.target = absolute_or_rooted(upload_target(&location, digest));
        call.timeout = None;
        call.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        call.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.size));
        let body = reqwest::Body::wrap_stream(blob.stream);
        self.finish_upload(repo, &call, body).await
    }

    async fn mount_blob(
        &self,
        repo: &str,
        from_repo: &str,
        digest: &str,
    ) -> Result<MountOutcome, StoreError> {
        let query = format!("?mount={digest}&from={from_repo}");
        let response = self.start_upload(repo, &query, Some(from_repo), Operation::MountBlob).await?;
        match response.status() {
            StatusCode::CREATED => Ok(MountOutcome::Mounted),
            // 202: the registry opened a normal upload session instead; the caller uploads.
            StatusCode::ACCEPTED => Ok(MountOutcome::NotMounted),
            s => {
                let text = response.text().await.unwrap_or_default();
                Err(self.status_error(repo, Operation::MountBlob, RegOperation::MountBlob, s.as_u16(), &text))
            }
        }
    }

    async fn list_tags(&self, repo: &str) -> Result<Vec<String>, StoreError> {
        let list = self
            .client
            .list_tags(&self.full(repo))
            .await
            .map_err(|e| self.convert(repo, Operation::ListTags, e))?;
        let mut tags: Vec<String> = list.map(|l| l.tag_names().to_vec()).unwrap_or_default();
        tags.sort();
        tags.dedup();
        Ok(tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_targets() {
        assert_eq!(
            upload_target("/v2/a/blobs/uploads/u1", "sha256:x"),
            "/v2/a/blobs/uploads/u1?digest=sha256:x"
        );
        assert_eq!(
            upload_target("http://h/v2/a/blobs/uploads/u1?_state=abc", "sha256:x"),
            "http://h/v2/a/blobs/uploads/u1?_state=abc&digest=sha256:x"
        );
    }
}
