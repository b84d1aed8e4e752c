//! Blobs: existence (`HEAD`), streamed reads, uploads and cross-repository mounts.
//!
//! Uploads are streamed: `POST` a session (retried normally; it also authenticates for push),
//! then either one `PUT ?digest=` with the whole stream as body (the default), or, with
//! `upload_chunk_bytes`, one `PATCH` per chunk with its `Content-Range` and a final `PUT
//! ?digest=` that commits. A layer is never held in memory whole (at most one chunk). Because a
//! stream cannot be replayed, the requests carrying it are sent once; the executor retries the
//! whole image on a transient failure. The verified stream holds its last bytes back until the
//! digest matched, so a blob that does not verify is never committed.

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, StatusCode};

use super::client::{Call, RegistryClient};
use super::error::{ErrorKind, Operation, RegistryError};
use super::response::{body_text, error_chain, status_kind};

/// A stream of blob bytes. An `Err` item ends the stream and means "do not commit".
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, RegistryError>> + Send>>;

/// A blob being read or written: its announced size and its bytes, in chunks.
pub struct BlobStream {
    /// Size in bytes announced by the source (checked by the executor while streaming).
    pub size: u64,
    /// The bytes.
    pub stream: ByteStream,
}

impl fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStream").field("size", &self.size).finish_non_exhaustive()
    }
}

/// Outcome of a cross-repository mount request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountOutcome {
    /// The blob is now in the target repository.
    Mounted,
    /// The store declined (registry answered 202, or the store cannot mount); the caller then
    /// calls `Store::put_blob`.
    NotMounted,
}

impl RegistryClient {
    /// True when the repository (`full`) has the blob.
    pub(crate) async fn blob_exists(&self, full: &str, digest: &str) -> Result<bool, RegistryError> {
        let call =
            self.repo_call(full, Operation::HeadBlob, Method::HEAD, &format!("blobs/{digest}"), &["pull"]);
        let response = self.execute(&call, None).await?;
        match response.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => Err(self.error(call.host, call.repository, call.operation, status_kind(s.as_u16(), ""))),
        }
    }

    /// Opens a blob for streaming. A missing blob is [`ErrorKind::NotFound`]; a body lost
    /// mid-way ends the stream with an [`ErrorKind::Interrupted`] item.
    pub(crate) async fn get_blob(&self, full: &str, digest: &str) -> Result<BlobStream, RegistryError> {
        let mut call =
            self.repo_call(full, Operation::GetBlob, Method::GET, &format!("blobs/{digest}"), &["pull"]);
        // Layers can be large: no whole-request limit, the client's read timeout still applies.
        call.timeout = None;
        let response = self.execute(&call, None).await?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            let kind = ErrorKind::NotFound(format!("blob {digest}"));
            return Err(self.error(call.host, call.repository, call.operation, kind));
        }
        if !status.is_success() {
            return Err(self.error(
                call.host,
                call.repository,
                call.operation,
                status_kind(status.as_u16(), ""),
            ));
        }
        let size = response.content_length().unwrap_or(0);
        let error =
            self.error(call.host, call.repository, call.operation, ErrorKind::Interrupted(String::new()));
        let stream = response.bytes_stream().map_err(move |e| RegistryError {
            kind: ErrorKind::Interrupted(error_chain(&e)),
            ..error.clone()
        });
        Ok(BlobStream { size, stream: stream.boxed() })
    }

    /// Uploads a blob from a stream; commits only if the stream ends without an `Err` item.
    pub(crate) async fn put_blob(
        &self,
        full: &str,
        digest: &str,
        blob: BlobStream,
    ) -> Result<(), RegistryError> {
        let response = self.start_upload(full, "", None).await?;
        let fail = |kind| self.error(full_host(full), Some(full), Operation::PutBlob, kind);
        if response.status() != StatusCode::ACCEPTED {
            let status = response.status().as_u16();
            return Err(fail(status_kind(status, &body_text(response).await)));
        }
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| fail(ErrorKind::Invalid("upload session without Location".into())))?;
        if let Some(chunk) = self.inner.config.upload_chunk_bytes {
            return self.put_blob_chunked(full, digest, location, blob, chunk).await;
        }
        let mut call = self.repo_call(full, Operation::PutBlob, Method::PUT, "", &["pull", "push"]);
        call.target = absolute_or_rooted(upload_target(&location, digest));
        call.timeout = None;
        call.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        call.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.size));
        self.finish_upload(&call, reqwest::Body::wrap_stream(blob.stream)).await
    }

    /// Asks the registry to make a blob of `from_repo` (a path on the same host) available in
    /// `full` without transferring it.
    pub(crate) async fn mount_blob(
        &self,
        full: &str,
        from_repo: &str,
        digest: &str,
    ) -> Result<MountOutcome, RegistryError> {
        let query = format!("?mount={digest}&from={from_repo}");
        let response = self.start_upload(full, &query, Some(from_repo)).await?;
        match response.status() {
            StatusCode::CREATED => Ok(MountOutcome::Mounted),
            // 202: the registry opened a normal upload session instead; the caller uploads.
            StatusCode::ACCEPTED => Ok(MountOutcome::NotMounted),
            s => {
                let kind = status_kind(s.as_u16(), &body_text(response).await);
                Err(self.error(full_host(full), Some(full), Operation::MountBlob, kind))
            }
        }
    }

    /// Starts an upload session (a mount when `from` is given); returns the response.
    async fn start_upload(
        &self,
        full: &str,
        query: &str,
        from: Option<&str>,
    ) -> Result<reqwest::Response, RegistryError> {
        let operation = if from.is_some() { Operation::MountBlob } else { Operation::PutBlob };
        let mut call = self.repo_call(
            full,
            operation,
            Method::POST,
            &format!("blobs/uploads/{query}"),
            &["pull", "push"],
        );
        if let Some(from) = from {
            call.scopes.add(&format!("repository:{from}"), &["pull"]);
        }
        call.headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        call.body = Some(Bytes::new());
        self.execute(&call, None).await
    }

    /// The chunked upload of the OCI distribution spec (see the module documentation).
    async fn put_blob_chunked(
        &self,
        full: &str,
        digest: &str,
        mut location: String,
        blob: BlobStream,
        chunk: u64,
    ) -> Result<(), RegistryError> {
        let chunk = usize::try_from(chunk).unwrap_or(usize::MAX);
        let mut stream = blob.stream;
        let mut buffer: Vec<u8> = Vec::with_capacity(chunk.min(64 * 1024 * 1024));
        let mut offset = 0u64;
        loop {
            let next = stream.next().await;
            let done = next.is_none();
            if let Some(bytes) = next {
                let bytes = bytes.map_err(|e| {
                    self.error(
                        full_host(full),
                        Some(full),
                        Operation::PutBlob,
                        ErrorKind::Aborted(e.to_string()),
                    )
                })?;
                buffer.extend_from_slice(&bytes);
            }
            while buffer.len() >= chunk || (done && !buffer.is_empty()) {
                let take = buffer.len().min(chunk);
                let part: Vec<u8> = buffer.drain(..take).collect();
                location = self.patch_chunk(full, &location, offset, part).await?;
                offset += take as u64;
            }
            if done {
                break;
            }
        }
        let mut call = self.repo_call(full, Operation::PutBlob, Method::PUT, "", &["pull", "push"]);
        call.target = absolute_or_rooted(upload_target(&location, digest));
        call.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
        self.finish_upload(&call, reqwest::Body::from(Vec::new())).await
    }

    async fn patch_chunk(
        &self,
        full: &str,
        location: &str,
        offset: u64,
        part: Vec<u8>,
    ) -> Result<String, RegistryError> {
        let mut call = self.repo_call(full, Operation::PutBlob, Method::PATCH, "", &["pull", "push"]);
        call.target = absolute_or_rooted(location.to_string());
        call.timeout = None;
        let end = offset + part.len() as u64 - 1;
        call.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
        call.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(part.len() as u64));
        call.headers.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("{offset}-{end}")).expect("digits and a dash"),
        );
        let response = self.execute(&call, Some(reqwest::Body::from(part))).await?;
        let status = response.status();
        if status != StatusCode::ACCEPTED {
            let kind = status_kind(status.as_u16(), &body_text(response).await);
            return Err(self.error(call.host, call.repository, call.operation, kind));
        }
        Ok(response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| location.to_string(), str::to_string))
    }

    /// Sends the request that commits an upload (`PUT ?digest=`, with the whole blob or none).
    async fn finish_upload(&self, call: &Call<'_>, body: reqwest::Body) -> Result<(), RegistryError> {
        let response = self.execute(call, Some(body)).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let kind = status_kind(status.as_u16(), &body_text(response).await);
        Err(self.error(call.host, call.repository, call.operation, kind))
    }
}

fn full_host(full: &str) -> &str {
    super::host::split_repository(full).0
}

/// A relative upload `Location` is resolved against the registry; an absolute one is used as is
/// (registries may hand uploads to another host).
fn absolute_or_rooted(target: String) -> String {
    if target.starts_with('/') || target.contains("://") { target } else { format!("/{target}") }
}

/// Resolves an upload `Location` (absolute or relative) and appends `digest=`.
fn upload_target(location: &str, digest: &str) -> String {
    let separator = if location.contains('?') { '&' } else { '?' };
    format!("{location}{separator}digest={digest}")
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
