//! The gate's decision for one digest: each layer read into a claim ([`super::claim`]), each
//! claim held against the policy, and the outcomes folded into at most one finding per code
//! (signatures) or per predicate type (attestations), naming every attachment that failed and
//! why.
//!
//! A broken layer (self-inconsistent) is a finding with or without a policy: the Go promoter's
//! staging check. A layer that is sound but not by the policy's signer is only a finding when no
//! layer of its role satisfies the policy: other signers' signatures may sit beside ours (the
//! union rule keeps them).

use super::claim::{self, Claim, Role};
use super::policy::{Authority, Rules};
use super::tlog::{Recorded, Signer, verify_entry};
use super::{Evidence, EvidenceKind, Problem};
use crate::rules::Code;

/// One layer's outcome.
struct Outcome {
    /// Signature or attestation.
    role: Role,
    /// "layer 1 of sha256-<hex>.sig".
    label: String,
    /// `Ok`, or why not.
    result: Result<(), Failure>,
}

/// Why a layer does not count.
enum Failure {
    /// Self-inconsistent: a finding whatever the policy.
    Broken(String),
    /// Sound, but not what the policy asks for (another signer, identity, log...).
    Unsatisfied(String),
}

impl Outcome {
    fn message(&self) -> Option<String> {
        match &self.result {
            Ok(()) => None,
            Err(Failure::Broken(reason) | Failure::Unsatisfied(reason)) => {
                Some(format!("{}: {reason}", self.label))
            }
        }
    }

    fn broken(&self) -> bool {
        matches!(self.result, Err(Failure::Broken(_)))
    }
}

/// Checks one digest's evidence (see [`super::check`]).
pub(crate) fn check(rules: Option<&Rules>, evidence: &Evidence<'_>) -> Vec<Problem> {
    let rules = rules.filter(|r| r.authority.is_some());
    let mut outcomes = Vec::new();
    for (kind, layers) in &evidence.attachments {
        for (i, layer) in layers.iter().enumerate() {
            let label = label(*kind, i, evidence.digest, &layer.digest);
            let outcome = match claim::read(*kind, layer, evidence.digest) {
                Err(broken) => {
                    Outcome { role: broken.role, label, result: Err(Failure::Broken(broken.reason)) }
                }
                Ok(claim) => Outcome {
                    role: claim.role.clone(),
                    label,
                    result: rules.map_or(Ok(()), |r| satisfies(r, &claim).map_err(Failure::Unsatisfied)),
                },
            };
            outcomes.push(outcome);
        }
    }
    let mut problems = Vec::new();
    let signatures: Vec<&Outcome> = outcomes.iter().filter(|o| o.role == Role::Signature).collect();
    let (missing, none_ok) =
        (signatures.is_empty(), !signatures.is_empty() && signatures.iter().all(|o| o.result.is_err()));
    if let Some(r) = rules
        && missing
        && r.require_signature
    {
        problems.push(Problem {
            code: Code::SignatureMissing,
            message: format!(
                "{} has no signature (no {}.sig layer and no Sigstore bundle referrer) and --require-signature is set",
                evidence.digest,
                tag_base(evidence.digest)
            ),
        });
    } else if rules.is_some() && none_ok {
        problems.push(Problem {
            code: Code::SignatureInvalid,
            message: format!("no signature satisfies the policy: {}", joined(&signatures, |_| true)),
        });
    } else if signatures.iter().any(|o| o.broken()) {
        problems
            .push(Problem { code: Code::SignatureInvalid, message: joined(&signatures, Outcome::broken) });
    }
    let attestations: Vec<(&str, &Outcome)> = outcomes
        .iter()
        .filter_map(|o| match &o.role {
            Role::Attestation(t) => Some((t.as_str(), o)),
            Role::Signature => None,
        })
        .collect();
    // Predicate types whose failures are already named; broken attestations of other types
    // (and of satisfied required types) are findings on their own, as broken signatures are.
    let mut reported: Vec<&str> = Vec::new();
    for required in rules.map(|r| r.require_attestation.as_slice()).unwrap_or_default() {
        let of_type: Vec<&Outcome> =
            attestations.iter().filter(|(t, _)| t == required).map(|(_, o)| *o).collect();
        if of_type.is_empty() {
            problems.push(Problem {
                code: Code::AttestationMissing,
                message: format!(
                    "{} has no attestation of predicate type {required} (--require-attestation)",
                    evidence.digest
                ),
            });
        } else if of_type.iter().all(|o| o.result.is_err()) {
            problems.push(Problem {
                code: Code::AttestationInvalid,
                message: format!(
                    "no attestation of predicate type {required} satisfies the policy: {}",
                    joined(&of_type, |_| true)
                ),
            });
            // Every failure of this type is named above.
            reported.push(required);
        }
    }
    let broken: Vec<&Outcome> =
        attestations.iter().filter(|(t, o)| o.broken() && !reported.contains(t)).map(|(_, o)| *o).collect();
    if !broken.is_empty() {
        problems.push(Problem { code: Code::AttestationInvalid, message: joined(&broken, |_| true) });
    }
    problems
}

/// The failed outcomes that pass `filter`, each "label: reason", joined by "; ".
fn joined(outcomes: &[&Outcome], filter: impl Fn(&Outcome) -> bool) -> String {
    outcomes.iter().filter(|o| filter(o)).filter_map(|o| o.message()).collect::<Vec<_>>().join("; ")
}

/// `sha256-<hex>`, the tag cosign derives from a digest.
fn tag_base(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

/// How a message names a layer.
fn label(kind: EvidenceKind, index: usize, digest: &str, layer_digest: &str) -> String {
    match kind {
        EvidenceKind::Signature => format!("layer {} of {}.sig", index + 1, tag_base(digest)),
        EvidenceKind::Attestation => format!("layer {} of {}.att", index + 1, tag_base(digest)),
        EvidenceKind::Bundle => format!("Sigstore bundle {layer_digest} (referrer of {digest})"),
    }
}

/// Whether a sound claim satisfies the policy's authority.
fn satisfies(rules: &Rules, claim: &Claim) -> Result<(), String> {
    match &rules.authority {
        None => Ok(()),
        Some(Authority::Key(key)) => {
            let Some(signature) = claim.signature_for(key) else {
                return Err("signature does not verify with --verify-key".into());
            };
            // A key-signed layer's log entries are checked when a trusted root says against what;
            // without one, cosign's `--insecure-ignore-tlog` view: the key alone decides.
            if let (Some(root), false) = (&rules.root, claim.entries.is_empty()) {
                let spki = key.to_spki_der();
                let recorded = Recorded {
                    artifact_sha256: &claim.artifact_sha256,
                    signature,
                    signer: Signer::Key(&spki),
                };
                first_verified(claim, root, &recorded)?;
            }
            Ok(())
        }
        Some(Authority::Keyless { root, identity, issuer }) => {
            let Some(leaf) = &claim.certificate else {
                return Err("no certificate: not a keyless signature (key-signed? give --verify-key)".into());
            };
            // `read` checked a signature verifies with the certificate's key.
            let signature = claim.signature_for(&leaf.key).unwrap_or_default();
            let recorded = Recorded {
                artifact_sha256: &claim.artifact_sha256,
                signature,
                signer: Signer::Certificate(&leaf.der),
            };
            let time = first_verified(claim, root, &recorded)?;
            leaf.verify_at(root, time)?;
            if !leaf.identities.iter().any(|id| identity.matches(id)) {
                return Err(format!(
                    "certificate identity {} does not match {}",
                    quoted(&leaf.identities),
                    identity.describe("--certificate-identity")
                ));
            }
            match &leaf.issuer {
                Some(found) if issuer.matches(found) => Ok(()),
                Some(found) => Err(format!(
                    "certificate OIDC issuer {found:?} does not match {}",
                    issuer.describe("--certificate-oidc-issuer")
                )),
                None => Err("certificate has no OIDC issuer extension".into()),
            }
        }
    }
}

/// The time of the first log entry that verifies, or why none does.
fn first_verified(
    claim: &Claim,
    root: &super::root::TrustedRoot,
    recorded: &Recorded<'_>,
) -> Result<u64, String> {
    if claim.entries.is_empty() {
        return Err(
            "no transparency log entry (keyless signatures need Rekor's signed entry timestamp)".into()
        );
    }
    let mut reasons = Vec::new();
    for entry in &claim.entries {
        match verify_entry(entry, root, recorded) {
            Ok(time) => return Ok(time),
            Err(e) => reasons.push(e),
        }
    }
    Err(reasons.join("; "))
}

fn quoted(values: &[String]) -> String {
    if values.is_empty() {
        return "(none)".into();
    }
    values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")
}
