//! Reading one attachment layer into a claim: what it says was signed (a simple-signing payload,
//! a DSSE envelope's statement, a bundle's message digest), about which digest, with which
//! signatures, certificate and log entries. Everything here is self-consistency: a layer whose
//! bytes, payload or subject do not hold together is broken whatever the policy.

use sha2::Digest as _;

use super::bundle::{Bundle, SHA2_256, TlogEntry};
use super::cert::Leaf;
use super::dsse::Envelope;
use super::encoding::{unb64, unhex};
use super::payload::{COSIGN_SIGN_PREDICATE_TYPE, Statement, parse_simple_signing};
use super::rekor::CosignBundle;
use super::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, DSSE_MEDIA_TYPE, EvidenceKind, PREDICATE_TYPE_ANNOTATION,
    SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, SignedLayer,
};

/// Whether a claim is a signature or an attestation of a predicate type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Signs the image.
    Signature,
    /// Attests a predicate about it.
    Attestation(String),
}

/// What the signatures are over.
#[derive(Clone, Debug)]
pub(crate) enum Signed {
    /// These bytes (a payload, a DSSE PAE).
    Message(Vec<u8>),
    /// A message of which only the SHA-256 is known (a bundle's message signature).
    Prehash(Vec<u8>),
}

/// A layer read and found self-consistent.
#[derive(Clone, Debug)]
pub(crate) struct Claim {
    /// Signature or attestation.
    pub(crate) role: Role,
    /// What is signed.
    pub(crate) signed: Signed,
    /// SHA-256 of the artifact a log entry records (the payload; the image manifest).
    pub(crate) artifact_sha256: Vec<u8>,
    /// Candidate signatures (DSSE may carry several).
    pub(crate) signatures: Vec<Vec<u8>>,
    /// The keyless certificate, when the layer carries one.
    pub(crate) certificate: Option<Leaf>,
    /// Transparency log entries.
    pub(crate) entries: Vec<TlogEntry>,
}

impl Claim {
    /// Whether `signature` verifies over what is signed with `key`.
    pub(crate) fn verifies(&self, key: &super::VerifyKey, signature: &[u8]) -> bool {
        match &self.signed {
            Signed::Message(bytes) => key.verify(bytes, signature),
            Signed::Prehash(hash) => key.verify_prehash(hash, signature),
        }
    }

    /// The first signature that verifies with `key`.
    pub(crate) fn signature_for(&self, key: &super::VerifyKey) -> Option<&[u8]> {
        self.signatures.iter().map(Vec::as_slice).find(|s| self.verifies(key, s))
    }
}

/// A layer that cannot be a valid signature or attestation, with the role it seemed to have.
#[derive(Clone, Debug)]
pub(crate) struct Broken {
    /// Signature or attestation (from the attachment kind and unsigned hints when unreadable).
    pub(crate) role: Role,
    /// Why.
    pub(crate) reason: String,
}

/// Reads one layer of an attachment of `kind` for `digest`.
///
/// # Errors
///
/// The layer is broken: bytes that do not match its digest, a payload or statement about another
/// digest, a signature that does not verify with the certificate it carries, anything unreadable.
pub(crate) fn read(kind: EvidenceKind, layer: &SignedLayer, digest: &str) -> Result<Claim, Broken> {
    let hinted_role = match kind {
        EvidenceKind::Signature | EvidenceKind::Bundle => Role::Signature,
        EvidenceKind::Attestation => {
            Role::Attestation(layer.annotations.get(PREDICATE_TYPE_ANNOTATION).cloned().unwrap_or_default())
        }
    };
    let broken = |reason: String| Broken { role: hinted_role.clone(), reason };
    let data = unb64(&layer.data).ok_or_else(|| broken("layer data is not base64".into()))?;
    let hash = sha2::Sha256::digest(&data);
    let recorded = layer.digest.strip_prefix("sha256:").and_then(unhex);
    if recorded.as_deref() != Some(hash.as_slice()) {
        return Err(broken(format!("layer data does not hash to its digest {}", layer.digest)));
    }
    let claim = match kind {
        EvidenceKind::Signature => legacy_signature(layer, data, digest),
        EvidenceKind::Attestation => legacy_attestation(layer, &data, digest),
        EvidenceKind::Bundle => bundle(layer, &data, digest),
    }
    .map_err(|(role, reason)| Broken { role: role.unwrap_or(hinted_role.clone()), reason })?;
    if let Some(leaf) = &claim.certificate
        && claim.signature_for(&leaf.key).is_none()
    {
        return Err(Broken {
            role: claim.role,
            reason: "signature does not verify with the certificate it carries".into(),
        });
    }
    Ok(claim)
}

type Failed = (Option<Role>, String);

fn legacy_signature(layer: &SignedLayer, payload: Vec<u8>, digest: &str) -> Result<Claim, Failed> {
    if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
        return Err((None, format!("media type {} is not a cosign signature layer's", layer.media_type)));
    }
    let parsed = parse_simple_signing(&payload).map_err(|e| (None, e.to_string()))?;
    if parsed.docker_manifest_digest != digest {
        return Err((None, format!("payload signs {}, not {digest}", parsed.docker_manifest_digest)));
    }
    let signature = layer
        .annotations
        .get(SIGNATURE_ANNOTATION)
        .ok_or_else(|| (None, format!("no {SIGNATURE_ANNOTATION} annotation")))?;
    let signature =
        unb64(signature).ok_or_else(|| (None, format!("{SIGNATURE_ANNOTATION} is not base64")))?;
    let artifact_sha256 = sha2::Sha256::digest(&payload).to_vec();
    Ok(Claim {
        role: Role::Signature,
        signed: Signed::Message(payload),
        artifact_sha256,
        signatures: vec![signature],
        certificate: annotated_certificate(layer).map_err(|e| (None, e))?,
        entries: annotated_entry(layer).map_err(|e| (None, e))?,
    })
}

fn legacy_attestation(layer: &SignedLayer, data: &[u8], digest: &str) -> Result<Claim, Failed> {
    if layer.media_type != DSSE_MEDIA_TYPE {
        return Err((None, format!("media type {} is not a DSSE attestation layer's", layer.media_type)));
    }
    let envelope = Envelope::from_json(data).map_err(|e| (None, e.to_string()))?;
    let mut claim = from_envelope(&envelope, digest)?;
    claim.certificate = annotated_certificate(layer).map_err(|e| (Some(claim.role.clone()), e))?;
    claim.entries = annotated_entry(layer).map_err(|e| (Some(claim.role.clone()), e))?;
    Ok(claim)
}

fn bundle(layer: &SignedLayer, data: &[u8], digest: &str) -> Result<Claim, Failed> {
    // Any bundle version: v0.1/v0.2 read the same (what they carry decides the rest).
    if !super::is_bundle_type(&layer.media_type) {
        return Err((None, format!("media type {} is not a Sigstore bundle's", layer.media_type)));
    }
    let bundle = Bundle::from_json(data).map_err(|e| (None, e.to_string()))?;
    let mut claim = if let Some(envelope) = &bundle.dsse_envelope {
        from_envelope(envelope, digest)?
    } else if let Some(message) = &bundle.message_signature {
        // The message is the image manifest itself, so its digest is the image digest.
        let Some(md) = message.message_digest.as_ref().filter(|m| m.algorithm == SHA2_256) else {
            return Err((None, "messageSignature has no SHA2_256 messageDigest".into()));
        };
        let want = digest.strip_prefix("sha256:").and_then(unhex);
        if want.as_deref() != Some(md.digest.as_slice()) {
            return Err((None, format!("messageDigest is not {digest}: the bundle signs another artifact")));
        }
        Claim {
            role: Role::Signature,
            signed: Signed::Prehash(md.digest.clone()),
            artifact_sha256: md.digest.clone(),
            signatures: vec![message.signature.clone()],
            certificate: None,
            entries: Vec::new(),
        }
    } else {
        return Err((None, "bundle has neither messageSignature nor dsseEnvelope".into()));
    };
    if let Some(der) = bundle.leaf_certificate() {
        claim.certificate = Some(Leaf::from_der(der).map_err(|e| (Some(claim.role.clone()), e))?);
    }
    claim.entries = bundle.verification_material.tlog_entries;
    Ok(claim)
}

/// A DSSE envelope holding an in-toto statement about `digest`.
fn from_envelope(envelope: &Envelope, digest: &str) -> Result<Claim, Failed> {
    let statement = Statement::from_json(&envelope.payload).map_err(|e| (None, e.to_string()))?;
    let role = if statement.predicate_type == COSIGN_SIGN_PREDICATE_TYPE {
        Role::Signature
    } else {
        Role::Attestation(statement.predicate_type.clone())
    };
    if !statement.is_about(digest) {
        return Err((Some(role), format!("statement subject does not name {digest}")));
    }
    Ok(Claim {
        role,
        signed: Signed::Message(envelope.signed_bytes()),
        artifact_sha256: sha2::Sha256::digest(&envelope.payload).to_vec(),
        signatures: envelope.signatures.iter().map(|s| s.sig.clone()).collect(),
        certificate: None,
        entries: Vec::new(),
    })
}

fn annotated_certificate(layer: &SignedLayer) -> Result<Option<Leaf>, String> {
    layer
        .annotations
        .get(CERTIFICATE_ANNOTATION)
        .filter(|pem| !pem.trim().is_empty())
        .map(|pem| Leaf::from_pem(pem))
        .transpose()
}

/// cosign's Rekor bundle annotation as a bundle log entry (promise, no proof).
fn annotated_entry(layer: &SignedLayer) -> Result<Vec<TlogEntry>, String> {
    let Some(text) = layer.annotations.get(BUNDLE_ANNOTATION) else {
        return Ok(Vec::new());
    };
    let bundle = CosignBundle::from_json(text).map_err(|e| e.to_string())?;
    let p = &bundle.payload;
    let body = unb64(&p.body).ok_or_else(|| format!("{BUNDLE_ANNOTATION}: Payload.body is not base64"))?;
    let log_id = unhex(&p.log_id).ok_or_else(|| format!("{BUNDLE_ANNOTATION}: Payload.logID is not hex"))?;
    let set = unb64(&bundle.signed_entry_timestamp)
        .ok_or_else(|| format!("{BUNDLE_ANNOTATION}: SignedEntryTimestamp is not base64"))?;
    Ok(vec![TlogEntry {
        log_index: p.log_index,
        log_id: super::bundle::LogId { key_id: log_id },
        kind_version: super::bundle::KindVersion { kind: String::new(), version: String::new() },
        integrated_time: p.integrated_time,
        inclusion_promise: Some(super::bundle::InclusionPromise { signed_entry_timestamp: set }),
        inclusion_proof: None,
        canonicalized_body: body,
    }])
}
