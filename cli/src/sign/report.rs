//! What signing did: per digest and identity, each destination's signature (and promotion
//! attestation) written, skipped (a valid one was there) or failed, with the cause; and totals
//! for the summary line.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::SignatureFormat;
use super::targets::Target;

/// How one signature or attestation write ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignOutcome {
    /// Written.
    Written,
    /// A valid one for this identity was already there.
    Skipped,
    /// Not written (see `error`).
    Failed,
}

/// One destination repository of a signed digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedDestination {
    /// The destination repository.
    pub dst: String,
    /// The signature.
    pub signature: SignOutcome,
    /// The promotion attestation (`--attest-promotion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<SignOutcome>,
    /// Why something failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One (digest, identity) and where its signature went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedDigest {
    /// The digest.
    pub digest: String,
    /// The `docker-reference` signed.
    pub identity: String,
    /// Each destination repository.
    pub destinations: Vec<SignedDestination>,
}

/// Totals, counting destinations.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignSummary {
    /// Signatures written.
    pub written: usize,
    /// Destinations that already had a valid signature.
    pub skipped: usize,
    /// Signatures not written.
    pub failed: usize,
    /// Promotion attestations written.
    pub attestations_written: usize,
    /// Promotion attestations already there.
    pub attestations_skipped: usize,
    /// Promotion attestations not written.
    pub attestations_failed: usize,
    /// Digests signed (one signing each, whatever the number of destinations).
    pub signings: usize,
}

/// Everything signing did in one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignReport {
    /// `legacy` or `bundle`.
    pub format: SignatureFormat,
    /// One entry per (digest, identity), sorted.
    pub digests: Vec<SignedDigest>,
    /// Totals.
    pub summary: SignSummary,
}

impl SignReport {
    pub(crate) fn new(format: SignatureFormat) -> Self {
        SignReport { format, digests: Vec::new(), summary: SignSummary::default() }
    }

    /// Every target failed for one reason (no signer).
    pub(crate) fn fail_all(&mut self, targets: &[Target], error: &str) {
        let digests = targets
            .iter()
            .map(|t| SignedDigest {
                digest: t.digest.clone(),
                identity: t.identity.clone(),
                destinations: t
                    .destinations
                    .iter()
                    .map(|d| SignedDestination {
                        dst: d.dst.clone(),
                        signature: SignOutcome::Failed,
                        attestation: None,
                        error: Some(error.to_owned()),
                    })
                    .collect(),
            })
            .collect();
        self.extend(digests);
    }

    pub(crate) fn extend(&mut self, digests: Vec<SignedDigest>) {
        self.digests.extend(digests);
        self.digests.sort_by(|a, b| (&a.digest, &a.identity).cmp(&(&b.digest, &b.identity)));
        let mut s = SignSummary::default();
        for d in &self.digests {
            let mut signed = false;
            for dest in &d.destinations {
                match dest.signature {
                    SignOutcome::Written => {
                        s.written += 1;
                        signed = true;
                    }
                    SignOutcome::Skipped => s.skipped += 1,
                    SignOutcome::Failed => s.failed += 1,
                }
                match dest.attestation {
                    Some(SignOutcome::Written) => s.attestations_written += 1,
                    Some(SignOutcome::Skipped) => s.attestations_skipped += 1,
                    Some(SignOutcome::Failed) => s.attestations_failed += 1,
                    None => {}
                }
            }
            s.signings += usize::from(signed);
        }
        self.summary = s;
    }

    /// True when any signature or attestation failed.
    pub fn has_failures(&self) -> bool {
        self.summary.failed > 0 || self.summary.attestations_failed > 0
    }

    /// Failures (one line each) and the summary line, for people.
    pub fn to_human(&self) -> String {
        let mut out = String::new();
        for d in &self.digests {
            for dest in d.destinations.iter().filter(|x| x.error.is_some()) {
                let cause = dest.error.as_deref().unwrap_or_default();
                let _ = writeln!(out, "failed: sign {}@{} as {}: {cause}", dest.dst, d.digest, d.identity);
            }
        }
        let s = &self.summary;
        let _ = write!(
            out,
            "signatures ({}): {} written, {} already there, {} failed",
            self.format.as_str(),
            s.written,
            s.skipped,
            s.failed
        );
        if s.attestations_written + s.attestations_skipped + s.attestations_failed > 0 {
            let _ = write!(
                out,
                "; promotion attestations: {} written, {} already there, {} failed",
                s.attestations_written, s.attestations_skipped, s.attestations_failed
            );
        }
        out.push('\n');
        out
    }
}
