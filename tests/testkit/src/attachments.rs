//! Supply-chain attachments in the exact formats cosign and oras write them, pushed by the
//! test kit (no cosign or oras binary is installable here):
//!
//! * cosign tag-scheme signatures (`sha256-<hex>.sig`): an OCI image manifest with one layer per
//!   signature, media type `application/vnd.dev.cosign.simplesigning.v1+json`, the layer being
//!   the simple-signing payload and its `dev.cosignproject.cosign/signature` annotation the
//!   base64 ASN.1 ECDSA P-256 / SHA-256 signature over exactly those bytes. Signing again
//!   appends a layer and re-pushes the tag, as cosign does.
//! * cosign attestations (`sha256-<hex>.att`): layers of media type
//!   `application/vnd.dsse.envelope.v1+json` holding a DSSE envelope around an in-toto
//!   statement, with a `predicateType` annotation.
//! * cosign SBOM attachments (`sha256-<hex>.sbom`): the SBOM document as the single layer.
//! * OCI 1.1 referrers as `oras attach` writes them: an image manifest with `artifactType`, the
//!   empty config, the artifact as a layer and a `subject`; on a registry without the referrers
//!   API the referrers tag-schema index (`sha256-<hex>`) is read, extended and re-pushed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Map, Value, json};

use crate::client::{Client, Pushed};
use crate::data::Digest;
use crate::error::Error;

/// cosign's simple-signing layer media type.
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The annotation holding a cosign signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// DSSE envelope media type (cosign attestations).
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
/// SPDX JSON, as an OCI artifact type.
pub const SPDX_JSON: &str = "application/spdx+json";
/// SPDX JSON, as cosign's `attach sbom` layer media type.
pub const SPDX_TEXT: &str = "text/spdx+json";
/// OCI image manifest media type.
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The OCI empty descriptor's media type (`{}`), used by oras for artifacts without a config.
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// An ECDSA P-256 key pair derived from a seed (deterministic, so runs are repeatable).
pub struct Signer {
    key: SigningKey,
}

impl Signer {
    /// The key pair of `seed`.
    pub fn from_seed(seed: u64) -> Signer {
        let mut scalar = Digest::of(&seed.to_le_bytes());
        loop {
            let hex = &scalar.0[7..];
            let bytes: Vec<u8> =
                (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex")).collect();
            if let Ok(key) = SigningKey::from_slice(&bytes) {
                return Signer { key };
            }
            scalar = Digest::of(scalar.0.as_bytes());
        }
    }

    /// The public key as PEM (SubjectPublicKeyInfo), as `cosign generate-key-pair` writes
    /// `cosign.pub`.
    pub fn public_key_pem(&self) -> String {
        self.key.verifying_key().to_public_key_pem(LineEnding::LF).expect("PEM encoding")
    }

    /// The base64 ASN.1 DER ECDSA signature (SHA-256) over exactly `payload`.
    pub fn sign(&self, payload: &[u8]) -> String {
        let signature: Signature = self.key.sign(payload);
        STANDARD.encode(signature.to_der().as_bytes())
    }
}

/// The simple-signing payload cosign signs for `docker_reference@digest`.
pub fn simple_signing_payload(docker_reference: &str, digest: &Digest, note: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest.as_str()},
            "type": "cosign container image signature",
        },
        "optional": {"note": note},
    }))
    .expect("json")
}

/// The cosign tag of an attachment kind (`sig`, `att`, `sbom`) of `subject`.
pub fn cosign_tag(subject: &Digest, suffix: &str) -> String {
    format!("{}.{suffix}", referrers_tag(subject))
}

/// The referrers tag-schema tag of `subject` (`sha256-<hex>`).
pub fn referrers_tag(subject: &Digest) -> String {
    subject.0.replacen(':', "-", 1)
}

/// The DSSE pre-authentication encoding (what a DSSE signature signs).
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

impl Client {
    /// `cosign sign --key`: appends one signature layer to `sha256-<hex>.sig` of `subject` in
    /// `repo` (creating it when absent) and re-pushes the tag. Returns the new `.sig` manifest.
    pub async fn push_cosign_signature(
        &self,
        repo: &str,
        subject: &Digest,
        signer: &Signer,
        docker_reference: &str,
        note: &str,
    ) -> Result<Pushed, Error> {
        let payload = simple_signing_payload(docker_reference, subject, note);
        let annotations = json!({ SIGNATURE_ANNOTATION: signer.sign(&payload) });
        self.append_layer(repo, &cosign_tag(subject, "sig"), &payload, SIMPLE_SIGNING, annotations).await
    }

    /// `cosign attest --key`: appends a DSSE-enveloped in-toto statement about `subject` to
    /// `sha256-<hex>.att`.
    pub async fn push_cosign_attestation(
        &self,
        repo: &str,
        subject: &Digest,
        signer: &Signer,
        predicate_type: &str,
    ) -> Result<Pushed, Error> {
        let statement = serde_json::to_vec(&json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": predicate_type,
            "subject": [{"name": repo, "digest": {"sha256": &subject.0[7..]}}],
            "predicate": {"builder": {"id": "cip-testkit"}},
        }))
        .expect("json");
        let payload_type = "application/vnd.in-toto+json";
        let signature = signer.sign(&pae(payload_type, &statement));
        let envelope = serde_json::to_vec(&json!({
            "payloadType": payload_type,
            "payload": STANDARD.encode(&statement),
            "signatures": [{"keyid": "", "sig": signature}],
        }))
        .expect("json");
        let annotations = json!({ "predicateType": predicate_type });
        self.append_layer(repo, &cosign_tag(subject, "att"), &envelope, DSSE_ENVELOPE, annotations).await
    }

    /// `cosign attach sbom --type spdx`: `sha256-<hex>.sbom` with the SBOM as its one layer.
    pub async fn push_cosign_sbom(&self, repo: &str, subject: &Digest, sbom: &[u8]) -> Result<Pushed, Error> {
        let tag = cosign_tag(subject, "sbom");
        let layer = self.layer(repo, sbom, SPDX_TEXT, Value::Null).await?;
        self.put_cosign_manifest(repo, &tag, vec![layer]).await
    }

    /// `oras attach --artifact-type TYPE`: a referrer manifest of `subject` carrying `blob` as
    /// its one layer, pushed by digest; with `tag_schema`, the `sha256-<hex>` referrers index is
    /// read, extended and re-pushed (what oras does on a registry without the referrers API).
    pub async fn push_referrer(
        &self,
        repo: &str,
        subject: &Pushed,
        artifact_type: &str,
        blob: &[u8],
        tag_schema: bool,
    ) -> Result<Pushed, Error> {
        let empty = self.push_blob(repo, b"{}").await?;
        let layer = self
            .layer(repo, blob, artifact_type, json!({"org.opencontainers.image.title": "sbom.spdx.json"}))
            .await?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": OCI_EMPTY, "digest": empty.as_str(), "size": 2, "data": "e30="},
            "layers": [layer],
            "subject": {"mediaType": subject.media_type, "digest": subject.digest.as_str(), "size": subject.size},
            "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
        }))
        .expect("json");
        let digest = Digest::of(&manifest);
        self.push_manifest(repo, digest.as_str(), &manifest, OCI_MANIFEST).await?;
        if tag_schema {
            let tag = referrers_tag(&subject.digest);
            let descriptor = json!({
                "mediaType": OCI_MANIFEST, "digest": digest.as_str(), "size": manifest.len(),
                "artifactType": artifact_type,
                "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
            });
            let mut index = match self.get_manifest(repo, &tag).await? {
                Some(found) => found.json(),
                None => json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}),
            };
            let list =
                index["manifests"].as_array_mut().ok_or_else(|| Error("bad referrers index".into()))?;
            if !list.iter().any(|d| d["digest"] == descriptor["digest"]) {
                list.push(descriptor);
            }
            let bytes = serde_json::to_vec(&index).expect("json");
            self.push_manifest(repo, &tag, &bytes, OCI_INDEX).await?;
        }
        let size = manifest.len() as u64;
        Ok(Pushed { digest, size, media_type: OCI_MANIFEST.into(), bytes: manifest, platform: None })
    }

    /// Pushes a layer blob and returns its descriptor.
    async fn layer(
        &self,
        repo: &str,
        bytes: &[u8],
        media_type: &str,
        annotations: Value,
    ) -> Result<Value, Error> {
        let digest = self.push_blob(repo, bytes).await?;
        let mut layer = json!({"mediaType": media_type, "size": bytes.len(), "digest": digest.as_str()});
        if !annotations.is_null() {
            layer["annotations"] = annotations;
        }
        Ok(layer)
    }

    /// cosign's append: the layers already under `tag` (if any), then the new one.
    async fn append_layer(
        &self,
        repo: &str,
        tag: &str,
        bytes: &[u8],
        media_type: &str,
        annotations: Value,
    ) -> Result<Pushed, Error> {
        let mut layers: Vec<Value> = match self.get_manifest(repo, tag).await? {
            Some(found) => found.json()["layers"].as_array().cloned().unwrap_or_default(),
            None => Vec::new(),
        };
        let layer = self.layer(repo, bytes, media_type, annotations).await?;
        if !layers.iter().any(|l| l["digest"] == layer["digest"]) {
            layers.push(layer);
        }
        self.put_cosign_manifest(repo, tag, layers).await
    }

    /// A cosign attachment manifest over `layers` (config as cosign writes it), by digest and
    /// under `tag`.
    async fn put_cosign_manifest(&self, repo: &str, tag: &str, layers: Vec<Value>) -> Result<Pushed, Error> {
        let diff_ids: Vec<Value> = layers.iter().map(|l| l["digest"].clone()).collect();
        let mut config = Map::new();
        config.insert("architecture".into(), json!(""));
        config.insert("created".into(), json!("0001-01-01T00:00:00Z"));
        config.insert("history".into(), json!([{"created": "0001-01-01T00:00:00Z"}]));
        config.insert("os".into(), json!(""));
        config.insert("rootfs".into(), json!({"type": "layers", "diff_ids": diff_ids}));
        config.insert("config".into(), json!({}));
        let config = serde_json::to_vec(&config).expect("json");
        let config_digest = self.push_blob(repo, &config).await?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": config_digest.as_str()},
            "layers": layers,
        }))
        .expect("json");
        let digest = Digest::of(&manifest);
        self.push_manifest(repo, digest.as_str(), &manifest, OCI_MANIFEST).await?;
        self.push_manifest(repo, tag, &manifest, OCI_MANIFEST).await?;
        let size = manifest.len() as u64;
        Ok(Pushed { digest, size, media_type: OCI_MANIFEST.into(), bytes: manifest, platform: None })
    }
}
