//! Signing after promoting (issue 14): every digest a run placed (or found in place) in a
//! destination is signed once per (digest, identity), and the signature is written to every
//! destination repository holding that digest under that identity.
//!
//! | file | what |
//! |---|---|
//! | `targets.rs` | which (digest, identity) pairs to sign, and where each goes |
//! | `token.rs` | OIDC identity tokens: given, GitHub Actions' ambient token, Google IAM `generateIdToken` |
//! | `sigstore.rs` | Fulcio (`signingCert`) and Rekor (`log/entries`) over HTTP |
//! | `signer.rs` | one signer per run: a key, or keyless (ephemeral P-256 key + Fulcio certificate) |
//! | `write.rs` | the writers: legacy `.sig` (union of layers), bundle referrers, promotion attestations |
//! | `report.rs` | what was written, skipped and failed, per digest and destination |
//!
//! Order and failure: signing runs after the copy executor, only for digests whose edges are in
//! place (an edge blocked by the plan, or whose action failed, is not signed). A signing failure
//! is reported (the run exits 1) and never blocks or undoes a tag: a re-run signs what is
//! missing, because targets come from the manifests, not from the run's actions.
//!
//! Idempotence: before writing, each destination's existing signatures for the digest are read
//! and checked with [`cip_core::trust::check`] against a policy made from this run's own key (or
//! keyless identity); a destination that already carries a valid one is skipped unless
//! `resign`. Every request goes through the registry client's one send loop (registry writes
//! through the stores; Fulcio, Rekor and token endpoints through [`RegistryClient::send`]).

pub(crate) mod report;
pub(crate) mod signer;
pub(crate) mod sigstore;
pub(crate) mod targets;
pub(crate) mod token;
pub(crate) mod write;

use std::sync::Arc;

use futures_util::{StreamExt, stream};

pub use report::{SignOutcome, SignReport, SignSummary, SignedDestination, SignedDigest};
pub use token::{DEFAULT_IAM_ENDPOINT, TokenSource};

use crate::registry::{RegistryClient, Secret};
use crate::store::Stores;

/// The public Sigstore instance's Fulcio (`--fulcio-url` default).
pub const DEFAULT_FULCIO_URL: &str = "https://fulcio.sigstore.dev";
/// The public Sigstore instance's Rekor (`--rekor-url` default).
pub const DEFAULT_REKOR_URL: &str = "https://rekor.sigstore.dev";

/// How signatures are stored (`--signature-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureFormat {
    /// cosign's tag scheme: a simple-signing layer in `sha256-<hex>.sig` (cosign v1/v2, the Go
    /// promoter).
    Legacy,
    /// A Sigstore bundle v0.3 stored as an OCI 1.1 referrer of the image (cosign v3's default).
    Bundle,
}

impl SignatureFormat {
    /// The format's name (`legacy`, `bundle`).
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureFormat::Legacy => "legacy",
            SignatureFormat::Bundle => "bundle",
        }
    }
}

/// Who signs.
#[derive(Clone, Debug)]
pub enum SignerSource {
    /// A private key (`--sign-key`): PEM text (PKCS#8, SEC1, or cosign's encrypted format) and
    /// the password of an encrypted one.
    Key {
        /// The key file's text.
        pem: Secret,
        /// `CIP_SIGN_PASSWORD` / `COSIGN_PASSWORD`, for cosign's encrypted keys.
        password: Option<Secret>,
    },
    /// Keyless: an OIDC identity token exchanged at Fulcio for a short-lived certificate of an
    /// ephemeral key; every signature is logged in Rekor.
    Keyless {
        /// Where the identity token comes from.
        token: TokenSource,
        /// Fulcio base URL.
        fulcio_url: String,
        /// Rekor base URL.
        rekor_url: String,
    },
}

/// What signing after a promotion does (`cip promote --sign ...`).
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// Who signs.
    pub signer: SignerSource,
    /// How signatures are stored.
    pub format: SignatureFormat,
    /// `--signing-identity REGISTRY/PATH`: the `docker-reference` signed is this prefix and the
    /// image name, for every destination (one signature for all mirrors); `None`: each
    /// destination repository is its own identity.
    pub signing_identity: Option<String>,
    /// Sign again even where a valid signature for this identity exists.
    pub resign: bool,
    /// Also push a signed in-toto promotion attestation (a Sigstore bundle referrer).
    pub attest_promotion: bool,
    /// Digests signed in parallel (`--max-signature-ops`).
    pub max_ops: usize,
    /// A Sigstore `trusted_root.json` (text) to check existing keyless signatures against; without
    /// it, an existing keyless signature counts when it is self-consistent and names this run's
    /// identity and issuer.
    pub trusted_root: Option<String>,
    /// The promoter version recorded in attestations.
    pub promoter_version: String,
}

impl SignOptions {
    /// Options for `signer` with the defaults: bundle format, no identity rewrite, 16 digests
    /// in parallel.
    pub fn new(signer: SignerSource) -> Self {
        SignOptions {
            signer,
            format: SignatureFormat::Bundle,
            signing_identity: None,
            resign: false,
            attest_promotion: false,
            max_ops: 16,
            trusted_root: None,
            promoter_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Why signing could not start at all (per-digest failures are in the [`SignReport`]).
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The key could not be read (not a key, wrong password, unsupported curve).
    #[error("--sign-key: {0}")]
    Key(String),
    /// No identity token, or the token source failed.
    #[error("identity token: {0}")]
    Token(String),
    /// Fulcio refused or failed.
    #[error("Fulcio: {0}")]
    Fulcio(String),
    /// Rekor refused or failed.
    #[error("Rekor: {0}")]
    Rekor(String),
    /// An option is unusable (a trusted root that does not parse, ...).
    #[error("{0}")]
    Option(String),
}

/// Signs every target of a finished promotion (see the module documentation).
pub(crate) async fn run(
    client: &RegistryClient,
    stores: &Stores,
    targets: Vec<targets::Target>,
    options: &SignOptions,
) -> SignReport {
    let mut report = SignReport::new(options.format);
    if targets.is_empty() {
        return report;
    }
    let signer = match signer::Signer::open(client, options).await {
        Ok(s) => Arc::new(s),
        Err(error) => {
            report.fail_all(&targets, &error.to_string());
            return report;
        }
    };
    let writer = write::Writer::new(client, stores, options, signer);
    let digests: Vec<SignedDigest> = stream::iter(targets)
        .map(|t| {
            let writer = &writer;
            async move { writer.sign_target(&t).await }
        })
        .buffer_unordered(options.max_ops.max(1))
        .collect()
        .await;
    report.extend(digests);
    report
}
