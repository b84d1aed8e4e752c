//! The trust gate's flags (issue 14), shared by `cip plan`, `cip promote` and `cip run`: what a
//! source digest must carry before it is promoted. Files are read here, by the binary; the core
//! gets their text ([`TrustOptions`]) and compiles the policy once, before anything is read from
//! a registry, so a bad key is a usage error (exit 2) naming the file, not a plan of refusals.

use anyhow::Context;
use cip_core::trust::{Policy, TrustOptions};

/// Verify before promoting: signatures and attestations of the source digests.
#[derive(Debug, Default, clap::Args)]
pub(crate) struct TrustArgs {
    /// Every promoted digest must carry a signature that verifies with --verify-key or the
    /// keyless identity flags (`signature-missing` otherwise). Without it, a signature that is
    /// present but does not verify still blocks its digest (`signature-invalid`).
    #[arg(long)]
    pub require_signature: bool,
    /// A PEM public key (ECDSA P-256 or P-384; cosign's `cosign.pub`) that signatures must
    /// verify with.
    #[arg(long, value_name = "FILE")]
    pub verify_key: Option<String>,
    /// Keyless: the exact identity (certificate SAN: email or URI) of the signer.
    #[arg(long, value_name = "IDENTITY")]
    pub certificate_identity: Option<String>,
    /// Keyless: a regular expression the signer's identity must match (unanchored, as cosign's:
    /// write `^...$` to match it whole).
    #[arg(long, value_name = "REGEXP")]
    pub certificate_identity_regexp: Option<String>,
    /// Keyless: the exact OIDC issuer of the signer's certificate.
    #[arg(long, value_name = "URL")]
    pub certificate_oidc_issuer: Option<String>,
    /// Keyless: a regular expression the OIDC issuer must match (unanchored, as cosign's).
    #[arg(long, value_name = "REGEXP")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// Keyless: the Sigstore trusted root (`trusted_root.json`: certificate authorities and
    /// transparency log keys) that certificates and log entries are verified against, offline.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<String>,
    /// Every promoted digest must carry an attestation of this in-toto predicate type
    /// (repeatable), signed by the same key or identity (`attestation-missing` otherwise).
    #[arg(long, value_name = "PREDICATE_TYPE")]
    pub require_attestation: Vec<String>,
}

impl TrustArgs {
    /// The core's trust options, with the key and trusted root read, checked by compiling the
    /// policy once.
    ///
    /// # Errors
    ///
    /// A file that cannot be read, or options the policy refuses (`--verify-key FILE: ...`).
    pub(crate) fn options(&self) -> anyhow::Result<TrustOptions> {
        let read = |flag: &str, path: &Option<String>| -> anyhow::Result<Option<String>> {
            path.as_deref()
                .map(|p| {
                    std::fs::read_to_string(p).with_context(|| format!("{flag} {p}: cannot read the file"))
                })
                .transpose()
        };
        let options = TrustOptions {
            require_signature: self.require_signature,
            verify_key: read("--verify-key", &self.verify_key)?,
            certificate_identity: self.certificate_identity.clone(),
            certificate_identity_regexp: self.certificate_identity_regexp.clone(),
            certificate_oidc_issuer: self.certificate_oidc_issuer.clone(),
            certificate_oidc_issuer_regexp: self.certificate_oidc_issuer_regexp.clone(),
            trusted_root: read("--trusted-root", &self.trusted_root)?,
            require_attestation: self.require_attestation.clone(),
        };
        if options != TrustOptions::default() {
            Policy::new(&options).map_err(|e| {
                // Name the file where the option is one (`--verify-key FILE: ...`).
                let file = match e.option {
                    "--verify-key" => self.verify_key.as_deref(),
                    "--trusted-root" => self.trusted_root.as_deref(),
                    _ => None,
                };
                match file {
                    Some(path) => anyhow::anyhow!("{} {path}: {}", e.option, e.message),
                    None => anyhow::anyhow!("{e}"),
                }
            })?;
        }
        Ok(options)
    }
}
