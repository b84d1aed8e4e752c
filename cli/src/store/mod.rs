//! The storage abstraction the inventory reader and the copy executor work against: one [`Store`]
//! per registry host (`http`, over the registry client) or per local OCI image layout directory
//! (`oci:DIR`, `layout`); `locate` maps a run's full repository paths to them.
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
//! - Errors are the engine's one [`RegistryError`] (registry, repository, operation, kind), so a
//!   report line is self-explanatory. Retries, rate limiting and authentication are the registry
//!   client's business, invisible here.
//! - Reading: [`Store::list`] describes a repository as cheaply as the store can (a layout's
//!   `index.json`, Google's `tags/list` extension: everything at once; a plain registry: tag
//!   names only), and [`Store::lists_fully`] says which, so the reader chooses between one
//!   listing and one `HEAD` per needed tag.
//! - Referrers (OCI 1.1): [`Store::referrers`] asks a store's referrers API, where it has one;
//!   [`Store::maintains_referrers`] says whether writing a manifest with a `subject` is enough
//!   for it to be listed. Elsewhere the executor maintains the referrers tag-schema index
//!   (`sha256-<hex>`) with ordinary manifest reads and writes.

pub(crate) mod http;
pub(crate) mod layout;
pub(crate) mod locate;

use async_trait::async_trait;

pub use crate::registry::blob::{BlobStream, ByteStream, MountOutcome};
pub use crate::registry::error::{ErrorKind, Operation, RegistryError};
pub use crate::registry::manifest::{ManifestHead, RawManifest};
pub use crate::registry::referrers::Referrer;
pub use crate::registry::tags::Listing;
pub use layout::Layout;
pub use locate::{Location, Opener, Stores, opener};

/// A registry or a local layout, seen as repositories of manifests and blobs.
#[async_trait]
pub trait Store: Send + Sync {
    /// The registry name used in reports and errors (`127.0.0.1:5000`, `oci:./prod`).
    fn name(&self) -> &str;

    /// Reads a manifest by tag or digest. A missing manifest is [`ErrorKind::NotFound`].
    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<RawManifest, RegistryError>;

    /// Resolves a tag or digest without reading the body; `None` when absent.
    async fn head_manifest(&self, repo: &str, reference: &str)
    -> Result<Option<ManifestHead>, RegistryError>;

    /// Stores a manifest under `reference` (its digest, or a tag). The bytes are stored as given.
    async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<(), RegistryError>;

    /// True when the repository already has the blob.
    async fn blob_exists(&self, repo: &str, digest: &str) -> Result<bool, RegistryError>;

    /// Opens a blob for streaming. A missing blob is [`ErrorKind::NotFound`].
    async fn get_blob(&self, repo: &str, digest: &str) -> Result<BlobStream, RegistryError>;

    /// Uploads a blob from a stream; commits only if the stream ends without an `Err` item.
    async fn put_blob(&self, repo: &str, digest: &str, blob: BlobStream) -> Result<(), RegistryError>;

    /// Asks the store to make a blob of `from_repo` available in `repo` without transferring it.
    async fn mount_blob(
        &self,
        repo: &str,
        from_repo: &str,
        digest: &str,
    ) -> Result<MountOutcome, RegistryError>;

    /// Describes a repository as cheaply as the store can (see [`Listing`]).
    async fn list(&self, repo: &str) -> Result<Listing, RegistryError>;

    /// Whether [`Store::list`] describes whole repositories: `Some(true)` for layouts and hosts
    /// offering Google's extension, `Some(false)` for registries that list tag names only, `None`
    /// until the first listing of a host tells.
    fn lists_fully(&self) -> Option<bool>;

    /// Repositories under `prefix` (a path inside the store; empty for all), as paths inside the
    /// store, each with its listing when finding it already produced one (Google's `child`
    /// walk), so that it is not listed twice.
    async fn catalog(&self, prefix: &str) -> Result<Vec<(String, Option<Listing>)>, RegistryError>;

    /// Every repository of the store that holds a manifest, where the store can tell cheaply
    /// and safely (an open registry's catalog); `None` otherwise. A repository absent from it
    /// needs no per-digest check. Nothing by default.
    async fn repositories_with_manifests(&self) -> Option<Vec<String>> {
        None
    }

    /// The referrers of `digest` through the store's referrers API (only those with one of
    /// `artifact_types` when given); `None` when the store has no such API. None by default.
    async fn referrers(
        &self,
        _repo: &str,
        _digest: &str,
        _artifact_types: &[String],
    ) -> Result<Option<Vec<Referrer>>, RegistryError> {
        Ok(None)
    }

    /// True once the store has shown that it maintains referrers lists itself (an `OCI-Subject`
    /// answer to a manifest write, or a referrers API answer). False by default.
    fn maintains_referrers(&self) -> bool {
        false
    }

    /// Told before `repos` are read in parallel, so a store can prepare in bulk (the HTTP store
    /// fetches pull tokens for many repositories at once). Best effort; nothing by default.
    async fn prepare_reads(&self, _repos: &[&str]) {}
}
