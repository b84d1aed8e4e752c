//! Test support for cip: real registries on loopback, a push helper, and a fault-injection proxy.
//!
//! Everything here talks to `127.0.0.1` only and every wait is bounded by a timeout.
//!
//! * [`Registry`] starts the real CNCF distribution registry (Debian package `docker-registry`,
//!   binary `/usr/bin/docker-registry`) on a random free loopback port with temporary storage, in one of
//!   three auth modes ([`Auth::Open`], [`Auth::Basic`] with an htpasswd file, [`Auth::Token`] with an
//!   in-process JWT issuer), and kills it on drop. Its access log is parsed by [`Registry::request_log`].
//! * [`Client`] pushes deterministic content (blobs, Docker schema2 / OCI image manifests, Docker manifest
//!   lists / OCI indexes) and reads it back (`get_manifest`, `list_tags`, `blob_exists`).
//! * [`FaultProxy`] sits between a client and a registry and injects seeded faults (5xx, 429 with
//!   `Retry-After`, resets, truncation, stalls, trickling), counting each kind.
//! * [`check_complete`] verifies the crash-safety invariant: every tag points at a complete image.
//! * [`max_in_window`] measures the highest request count in any window (rate-limit checks).
//! * [`Dataset`] / [`populate`] / [`promotion_manifest`] build realistic image sets and their manifest.
//! * [`Signer`] and the `push_cosign_*` / [`Client::push_referrer`] helpers push signatures,
//!   attestations, SBOMs and referrers in the formats cosign and oras write (issue 13);
//!   [`ReferrersFront`] adds the OCI 1.1 referrers API in front of a real registry.
//! * [`SigstoreLab`] runs a loopback Fulcio + Rekor (`tests/sigstore`, `@sigstore/mock`) for keyless
//!   signing, and [`sigstore_verify`] checks keyless signatures with sigstore-js (issue 14).
//! * [`cip_binary`], [`docker_config`], [`run_bounded`], [`kill_after`] drive the `cip` binary.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cip_testkit::Error> {
//! use cip_testkit::{random_layer, MediaKind, Registry};
//! let registry = Registry::start().await?;
//! let client = registry.client();
//! let image = client.push_image("team/app", Some("v1"), &[random_layer(1, 1024)], MediaKind::Oci).await?;
//! assert!(client.get_manifest("team/app", "v1").await?.is_some());
//! println!("{} {}", registry.host(), image.digest);
//! # Ok(()) }
//! ```

mod attachments;
mod check;
mod client;
mod data;
mod dataset;
mod error;
mod http1;
mod process;
mod proxy;
mod referrers;
mod registry;
mod sigstore;
mod token;

pub use attachments::{
    DSSE_ENVELOPE, SIGNATURE_ANNOTATION, SIMPLE_SIGNING, SPDX_JSON, SPDX_TEXT, Signer, cosign_tag,
    referrers_tag, simple_signing_payload,
};
pub use check::{check_complete, max_in_window};
pub use client::{Client, Credentials, FetchedManifest, MediaKind, Platform, Pushed};
pub use data::{Digest, random_layer};
pub use dataset::{Dataset, DatasetImage, populate, promotion_manifest};
pub use error::Error;
pub use process::{
    STAGING_HELLO, STAGING_PLAIN, cip_binary, copy_dir, docker_config, docker_config_entries, kill_after,
    layout_promotion, run_bounded, staging_layout,
};
pub use proxy::{FaultKind, FaultProxy, FaultProxyConfig, ProxiedRequest};
pub use referrers::ReferrersFront;
pub use registry::{Auth, LoggedRequest, Registry, RegistryOptions};
pub use sigstore::{Expect, LabStats, Signed, SigstoreLab, Verdict, sigstore_verify};
