//! The native registry engine: an OCI Distribution API client for any registry (Artifact
//! Registry, GCR, Docker Hub, GHCR, Quay, Harbor, the CNCF distribution registry), with
//! authentication, per-host rate and concurrency limits and retries, and the readers that turn
//! registries into a [`cip_core::inventory::Inventory`] for planning, snapshots and audits.

pub mod auth;
pub mod client;
pub mod error;
pub mod google;
pub mod host;
pub mod inventory;
pub mod link;
pub mod media;
pub mod needs;
pub mod ratelimit;
pub mod retry;
pub mod secret;
pub mod snapshot;
pub mod stats;
pub mod store;

pub use client::{ClientConfig, RegistryClient};
pub use error::{ErrorKind, Operation, RegistryError};
pub use inventory::{ReadOutcome, RepoNeeds};
pub use secret::Secret;
