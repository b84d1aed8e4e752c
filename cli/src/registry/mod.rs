//! The registry layer: an OCI Distribution API client for any registry (Artifact Registry, GCR,
//! Docker Hub, GHCR, Quay, Harbor, the CNCF distribution registry). The lowest layer of the
//! engine: it imports nothing above it.
//!
//! | file | what |
//! |---|---|
//! | `client.rs` | the client, its settings, per-host state, one call's description |
//! | `send.rs` | the one send loop: rate limit, retry with backoff and `Retry-After`, counting; authentication around it |
//! | `ping.rs` | `GET /v2/`: reachability, scheme, challenge |
//! | `auth/` | challenges, credentials (explicit, Docker config, Google), tokens |
//! | `manifest.rs` | `HEAD`/`GET`/`PUT` manifests |
//! | `blob.rs` | blob existence, streamed reads, uploads (monolithic and chunked), mounts |
//! | `tags.rs` | `tags/list` with pagination |
//! | `referrers.rs` | the OCI 1.1 referrers API with `artifactType` filter and pagination |
//! | `catalog.rs` | `_catalog`, and the Google `child` walk |
//! | `google.rs` | Google's `tags/list` extension |
//! | `error.rs` | the engine's one error type |
//! | `retry.rs`, `ratelimit.rs`, `stats.rs` | retry policy and budget, per-host limits (fixed or adaptive), counters |
//! | `host.rs`, `link.rs`, `media.rs`, `response.rs`, `digest.rs`, `secret.rs` | small helpers |

pub(crate) mod auth;
pub(crate) mod blob;
mod catalog;
pub(crate) mod client;
pub(crate) mod digest;
pub(crate) mod error;
pub(crate) mod google;
pub(crate) mod host;
pub(crate) mod link;
pub(crate) mod manifest;
pub(crate) mod media;
mod ping;
pub(crate) mod ratelimit;
pub(crate) mod referrers;
pub(crate) mod response;
pub(crate) mod retry;
pub(crate) mod secret;
pub(crate) mod send;
pub(crate) mod stats;
pub(crate) mod tags;

pub use client::{ClientConfig, RegistryClient};
pub use error::{ErrorKind, Operation, RegistryError};
pub use google::TagsList;
pub use manifest::{ManifestHead, RawManifest};
pub use ratelimit::RateReport;
pub use retry::RetryPolicy;
pub use secret::Secret;
