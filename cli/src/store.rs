//! The storage abstraction the copy executor works against: one [`Store`] per registry host (HTTP,
//! `cli/src/registry`) or per local OCI image layout directory (`oci:DIR`, [`crate::layout`]).
//!
//! # Contract
//!
//! - A `Store` speaks for one *registry*: a host (`gcr.io`, `127.0.0.1:5000`) or one layout
//!   directory. The `repo` argument of every method is the repository path inside that store
//!   (`k8s-staging-foo/foo-controller` for `gcr.io/k8s-staging-foo` + image `foo-controller`; just
//!   `foo-controller` for `oci:DIR` + image `foo-controller`). Cross-repository mounts are therefore
//!   possible exactly within one store.
//! - Manifests travel as raw bytes ([`RawManifest`]) with their media type and are never
//!   re-serialized: the digest in the destination equals the digest in the source.
//! - Stores move bytes; they do not have to trust or verify them. The executor verifies every
//!   manifest and blob it reads against its digest **while streaming**, and a stream handed to
//!   [`Store::put_blob`] yields an `Err` item instead of its last chunk when the bytes did not match.
//!   A store must then abandon the upload and commit nothing (HTTP: abort the request body; layout:
//!   drop the temporary file). Stores may verify again (a registry does; the layout does).
//! - `put_manifest` by tag must only be called once the manifest is present by digest; stores do
//!   not enforce ordering, the executor does. Stores never delete anything.
//! - Errors carry the registry, repository and operation, so a report line is self-explanatory.
//!   Retries, rate limiting and authentication are the HTTP store's business, invisible here.

use std::fmt;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

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

/// A stream of blob bytes. An `Err` item ends the stream and means "do not commit".
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, StoreError>> + Send>>;

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
    /// calls [`Store::put_blob`].
    NotMounted,
}

/// A registry or a local layout, seen as repositories of manifests and blobs.
#[async_trait]
pub trait Store: Send + Sync {
    /// The registry name used in reports and errors (`127.0.0.1:5000`, `oci:./prod`).
    fn name(&self) -> &str;

    /// Reads a manifest by tag or digest. A missing manifest is [`ErrorKind::NotFound`].
    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<RawManifest, StoreError>;

    /// Resolves a tag or digest without reading the body; `None` when absent.
    async fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<ManifestHead>, StoreError>;

    /// Stores a manifest under `reference` (its digest, or a tag). The bytes are stored as given.
    async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<(), StoreError>;

    /// True when the repository already has the blob.
    async fn blob_exists(&self, repo: &str, digest: &str) -> Result<bool, StoreError>;

    /// Opens a blob for streaming. A missing blob is [`ErrorKind::NotFound`].
    async fn get_blob(&self, repo: &str, digest: &str) -> Result<BlobStream, StoreError>;

    /// Uploads a blob from a stream; commits only if the stream ends without an `Err` item.
    async fn put_blob(&self, repo: &str, digest: &str, blob: BlobStream) -> Result<(), StoreError>;

    /// Asks the store to make a blob of `from_repo` available in `repo` without transferring it.
    async fn mount_blob(&self, repo: &str, from_repo: &str, digest: &str)
    -> Result<MountOutcome, StoreError>;

    /// Tags of a repository, sorted; empty for a repository that does not exist.
    async fn list_tags(&self, repo: &str) -> Result<Vec<String>, StoreError>;
}

/// The operation a [`StoreError`] happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// [`Store::get_manifest`].
    GetManifest,
    /// [`Store::head_manifest`].
    HeadManifest,
    /// [`Store::put_manifest`].
    PutManifest,
    /// [`Store::blob_exists`].
    BlobExists,
    /// [`Store::get_blob`].
    GetBlob,
    /// [`Store::put_blob`].
    PutBlob,
    /// [`Store::mount_blob`].
    MountBlob,
    /// [`Store::list_tags`].
    ListTags,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::GetManifest => "reading manifest",
            Operation::HeadManifest => "checking manifest",
            Operation::PutManifest => "writing manifest",
            Operation::BlobExists => "checking blob",
            Operation::GetBlob => "reading blob",
            Operation::PutBlob => "uploading blob",
            Operation::MountBlob => "mounting blob",
            Operation::ListTags => "listing tags",
        })
    }
}

/// What went wrong, independent of where.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The manifest, blob or repository does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// Bytes read did not hash to the digest they were asked for.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest requested.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// The byte count differs from the announced size.
    #[error("size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// Announced size.
        expected: u64,
        /// Bytes received.
        actual: u64,
    },
    /// The registry answered with an error status (after the HTTP store's retries).
    #[error("HTTP {status}: {message}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// Registry error code/message, secrets removed.
        message: String,
    },
    /// Authentication failed or was refused.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Connection, TLS or timeout problem (after retries).
    #[error("transport: {0}")]
    Transport(String),
    /// Local file system error (layout stores).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Content the store cannot handle (unknown media type, corrupt layout, ...).
    #[error("{0}")]
    Invalid(String),
    /// The executor aborted the stream (the source failed or did not verify).
    #[error("upload aborted: {0}")]
    Aborted(String),
}

impl ErrorKind {
    /// True when trying again may succeed: a timeout, a reset or cut-off body (which shows up as
    /// a transport error or as fewer bytes than announced), a 408, 429 or 5xx answer. Refusals
    /// (401, 403, 404), bad content and local IO errors are final, and so is a digest mismatch:
    /// all the bytes arrived and they are not the image the manifest names.
    pub fn is_transient(&self) -> bool {
        match self {
            ErrorKind::Transport(_) | ErrorKind::Aborted(_) | ErrorKind::SizeMismatch { .. } => true,
            ErrorKind::DigestMismatch { .. } => false,
            ErrorKind::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            ErrorKind::NotFound(_) | ErrorKind::Auth(_) | ErrorKind::Io(_) | ErrorKind::Invalid(_) => false,
        }
    }
}

/// An error with the registry, repository and operation it happened in.
#[derive(Debug, thiserror::Error)]
#[error("{registry}: {operation} {repository}: {kind}")]
pub struct StoreError {
    /// Registry name ([`Store::name`]).
    pub registry: String,
    /// Repository path inside the registry.
    pub repository: String,
    /// What was being done.
    pub operation: Operation,
    /// What went wrong.
    #[source]
    pub kind: ErrorKind,
}

impl StoreError {
    /// Builds an error for `operation` on `registry`/`repository`.
    pub fn new(registry: &str, repository: &str, operation: Operation, kind: ErrorKind) -> Self {
        StoreError { registry: registry.to_owned(), repository: repository.to_owned(), operation, kind }
    }

    /// True for a missing manifest, blob or repository.
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, ErrorKind::NotFound(_))
    }
}
