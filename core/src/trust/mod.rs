//! Trust at promotion time (issue 14): verify the signatures and attestations a source digest
//! carries before it is promoted (the gate), and build the bytes cip signs and pushes after it is
//! promoted (legacy cosign `.sig` layers, Sigstore bundles, DSSE promotion attestations).
//!
//! Pure, like the rest of core: keys, certificates, the trusted root and the evidence come in as
//! text and bytes, findings and bytes go out; no clock (times come from the evidence: a Rekor
//! entry's `integratedTime`), no randomness (ECDSA signing is deterministic, RFC 6979; the engine
//! makes ephemeral keyless keys). So the wasm package and the Node addon verify exactly as the CLI.
//!
//! This file is the API the planner (`crate::plan`) and the native engine (`cip::sign`) use; the
//! formats live in the submodules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::rules::Code;

pub mod bundle;
pub mod dsse;
pub mod encoding;
mod error;
pub mod fulcio;
pub mod key;
pub mod manifest;
pub mod payload;
pub mod rekor;

pub use bundle::Bundle;
pub use dsse::{Envelope, pae};
pub use encoding::b64;
pub use error::FormatError;
pub use key::{SigningKey, VerifyKey};
pub use payload::{
    COSIGN_SIGN_PREDICATE_TYPE, Promotion, SimpleSigning, Statement, parse_simple_signing,
    promotion_statement, simple_signing_payload,
};

// Verification (the gate): trusted root, certificates, log entries, layers, policy, decision.
mod cert;
mod claim;
mod policy;
mod root;
mod sct;
mod tlog;
mod verify;

/// Media type of a cosign simple-signing payload layer (legacy `.sig`).
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Media type of a DSSE envelope layer (legacy `.att`).
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Whether a media type or referrer `artifactType` is a Sigstore bundle's, of any version
/// (`application/vnd.dev.sigstore.bundle.v0.3+json`, `...bundle+json;version=0.1`).
pub fn is_bundle_type(media_type: &str) -> bool {
    media_type.starts_with(BUNDLE_TYPE_PREFIX)
}

/// What every Sigstore bundle media type starts with ([`BUNDLE_MEDIA_TYPE`] is v0.3's).
pub const BUNDLE_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// Media type (and referrer `artifactType`) of a Sigstore bundle v0.3.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Annotation holding a legacy layer's base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Annotation holding a keyless legacy layer's PEM leaf certificate.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Annotation holding a keyless legacy layer's PEM chain.
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Annotation holding a keyless legacy layer's Rekor bundle (`SignedEntryTimestamp` + `Payload`).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Annotation naming an attestation layer's in-toto predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// The predicate type of cip's promotion attestation.
pub const PROMOTION_PREDICATE_TYPE: &str = "https://cip.invalid/promotion/v1";

/// One layer of a signature or attestation attachment, with its bytes, as the inventory records
/// it (`signedLayers`): enough to verify offline. An OCI descriptor with `data` embedded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedLayer {
    /// The layer's media type ([`SIMPLE_SIGNING_MEDIA_TYPE`], [`DSSE_MEDIA_TYPE`] or
    /// [`BUNDLE_MEDIA_TYPE`]).
    pub media_type: String,
    /// The layer's digest (`sha256:<hex>`); `data` must hash to it.
    pub digest: String,
    /// The layer's annotations (signature, certificate, chain, bundle, predicate type).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The layer's bytes, standard base64.
    pub data: String,
}

/// The verification policy in the CLI's words (`--require-signature`, `--verify-key`, ...), with
/// files already read as text. The JavaScript form is the same object in camelCase.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustOptions {
    /// `--require-signature`: an unsigned digest is `signature-missing`.
    #[serde(default)]
    pub require_signature: bool,
    /// `--verify-key`: PEM public key (SPKI, ECDSA P-256 or P-384; cosign's `cosign.pub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_key: Option<String>,
    /// `--certificate-identity`: the exact SAN (email or URI) of a keyless certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_identity: Option<String>,
    /// `--certificate-identity-regexp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_identity_regexp: Option<String>,
    /// `--certificate-oidc-issuer`: the exact OIDC issuer extension of a keyless certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_oidc_issuer: Option<String>,
    /// `--certificate-oidc-issuer-regexp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// `--trusted-root`: a Sigstore `trusted_root.json` (certificate authorities and log keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_root: Option<String>,
    /// `--require-attestation`: predicate types that must be attested (same key or identity).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_attestation: Vec<String>,
}

/// Why a policy could not be built: the caller's input (a key, a regexp, a trusted root) is bad.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{option}: {message}")]
pub struct TrustError {
    /// The option at fault, in the CLI's words (`--verify-key`).
    pub option: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// A compiled [`TrustOptions`]: parsed key, trusted root and patterns.
#[derive(Clone, Debug)]
pub struct Policy {
    rules: policy::Rules,
}

impl Policy {
    /// Parses and checks the options.
    ///
    /// # Errors
    ///
    /// A key, certificate, trusted root or pattern that does not parse; identity constraints
    /// without a trusted root; both a key and identity constraints; a keyless policy without
    /// both an identity and an issuer constraint (cosign requires both); a trusted root without
    /// either; `--require-signature`/`--require-attestation` with nothing to verify against.
    ///
    /// Identity and issuer regexps match like cosign's (Go `regexp.MatchString`): unanchored;
    /// write `^...$` to match the whole value.
    pub fn new(options: &TrustOptions) -> Result<Self, TrustError> {
        policy::Rules::compile(options).map(|rules| Self { rules })
    }
}

/// What kind of attachment a piece of evidence came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceKind {
    /// A cosign tag-scheme signature (`sha256-<hex>.sig`).
    Signature,
    /// A cosign tag-scheme attestation (`sha256-<hex>.att`).
    Attestation,
    /// An OCI 1.1 referrer holding a Sigstore bundle.
    Bundle,
}

/// The trust evidence of one source digest: its attachments' layers.
#[derive(Clone, Debug)]
pub struct Evidence<'a> {
    /// The digest being promoted (`sha256:<hex>`).
    pub digest: &'a str,
    /// Each attachment found for it, with its recorded layers.
    pub attachments: Vec<(EvidenceKind, &'a [SignedLayer])>,
}

/// A trust finding for one digest; the planner turns it into a diagnostic at the digest's line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `signature-invalid`, `signature-missing`, `attestation-invalid` or `attestation-missing`.
    pub code: Code,
    /// What is wrong, naming the attachment (e.g. `layer 2 of sha256-<hex>.sig: ...`).
    pub message: String,
}

/// Checks one digest's evidence. Without a policy (`None`), only what can be checked without one:
/// a present signature whose payload names another digest, or whose signature does not verify with
/// the certificate it carries, is `signature-invalid`. With a policy, at least one signature (and
/// one attestation per required predicate type) must verify against it.
///
/// In detail: a layer whose bytes, payload digest, statement subject or embedded-certificate
/// signature do not hold together is always `signature-invalid` / `attestation-invalid`. With a
/// policy: no signature at all is `signature-missing` when it requires signatures; signatures
/// present but none satisfying the policy is `signature-invalid`, naming each one and why; for
/// each required predicate type, none present is `attestation-missing` and none satisfying is
/// `attestation-invalid`. Sound signatures by other signers beside a satisfying one are fine.
///
/// Keyless signatures are checked at the time the transparency log vouches for (the verified
/// entry's `integratedTime`): core has no clock, and Fulcio certificates live ten minutes. What a
/// keyless signature must have: a certificate chaining to a CA of the trusted root, valid then,
/// with the code-signing usage and the identity and issuer asked for; a Rekor entry of a log of
/// the root whose signed entry timestamp verifies (and inclusion proof and checkpoint, when
/// present) and that records this signature; an embedded SCT by a CT log of the root when the
/// root lists CT logs. Not supported: RFC 3161 timestamps and Rekor v2 entries (no signed entry
/// timestamp), so bundles carrying only those are not satisfied.
pub fn check(policy: Option<&Policy>, evidence: &Evidence<'_>) -> Vec<Problem> {
    verify::check(policy.map(|p| &p.rules), evidence)
}
