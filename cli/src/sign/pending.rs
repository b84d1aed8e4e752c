//! TEMPORARY (until core::trust's signing side lands): the builders the engine needs, in the
//! shapes core::trust will provide them. Replaced by core's, then deleted.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cip_core::trust::{self, SignedLayer};
use serde_json::{Value, json};

use crate::registry::digest::sha256_digest;

pub(crate) const COSIGN_SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";

pub(crate) struct Claims {
    pub(crate) issuer: String,
    subject: String,
    email: Option<String>,
}

impl Claims {
    pub(crate) fn identity(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.subject)
    }
    pub(crate) fn proof_subject(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.subject)
    }
}

pub(crate) fn token_claims(token: &str) -> Result<Claims, String> {
    let body = token.split('.').nth(1).ok_or("not a JWT (no payload part)")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .map_err(|_| "not a JWT (payload is not base64url)")?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| "not a JWT (payload is not JSON)")?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(Claims {
        issuer: text("iss").ok_or("the token has no iss claim")?,
        subject: text("sub").ok_or("the token has no sub claim")?,
        email: text("email"),
    })
}

pub(crate) fn signing_cert_request(token: &str, public_pem: &str, proof: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": public_pem},
            "proofOfPossession": STANDARD.encode(proof),
        },
    }))
    .unwrap_or_default()
}

pub(crate) fn parse_signing_cert_response(bytes: &[u8]) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("answer is not JSON ({e})"))?;
    let chain = v
        .get("signedCertificateEmbeddedSct")
        .or_else(|| v.get("signedCertificateDetachedSct"))
        .and_then(|c| c.get("chain"))
        .and_then(|c| c.get("certificates"))
        .and_then(Value::as_array)
        .ok_or("answer without a certificate chain")?;
    let out: Vec<String> = chain.iter().filter_map(Value::as_str).map(str::to_owned).collect();
    if out.is_empty() {
        return Err("empty certificate chain".into());
    }
    Ok(out)
}

pub(crate) struct Keyless {
    pub(crate) certificate: String,
    pub(crate) chain: String,
    pub(crate) bundle: String,
}

pub(crate) fn signature_layer(payload: &[u8], der: &[u8], keyless: Option<&Keyless>) -> SignedLayer {
    let mut annotations = BTreeMap::from([(trust::SIGNATURE_ANNOTATION.to_owned(), STANDARD.encode(der))]);
    if let Some(k) = keyless {
        annotations.insert(trust::CERTIFICATE_ANNOTATION.to_owned(), k.certificate.clone());
        annotations.insert(trust::CHAIN_ANNOTATION.to_owned(), k.chain.clone());
        annotations.insert(trust::BUNDLE_ANNOTATION.to_owned(), k.bundle.clone());
    }
    SignedLayer {
        media_type: trust::SIMPLE_SIGNING_MEDIA_TYPE.to_owned(),
        digest: sha256_digest(payload),
        annotations,
        data: STANDARD.encode(payload),
    }
}

pub(crate) fn signature_manifest(layers: &[SignedLayer]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "", "config": {}, "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .map_err(|e| e.to_string())?;
    let layer_json: Vec<Value> = layers
        .iter()
        .map(|l| {
            let size = STANDARD.decode(&l.data).map(|d| d.len()).unwrap_or(0);
            json!({"mediaType": l.media_type, "size": size, "digest": l.digest, "annotations": l.annotations})
        })
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": sha256_digest(&config)},
        "layers": layer_json,
    }))
    .map_err(|e| e.to_string())?;
    Ok((manifest, config))
}

pub(crate) struct Descriptor {
    pub(crate) media_type: String,
    pub(crate) digest: String,
    pub(crate) size: u64,
}

pub(crate) fn referrer_manifest(
    artifact_type: &str,
    layer_media_type: &str,
    layer: &[u8],
    subject: &Descriptor,
    annotations: &BTreeMap<String, String>,
) -> (Vec<u8>, Vec<u8>) {
    let config = b"{}".to_vec();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": sha256_digest(&config)},
        "layers": [{"mediaType": layer_media_type, "size": layer.len(), "digest": sha256_digest(layer)}],
        "subject": {"mediaType": subject.media_type, "size": subject.size, "digest": subject.digest},
        "annotations": annotations,
    }))
    .unwrap_or_default();
    (manifest, config)
}
