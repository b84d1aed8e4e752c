//! The OCI objects cip pushes for trust: cosign's legacy `.sig` image (one simple-signing layer per
//! signature, cosign's annotations, the config go-containerregistry writes for it) and OCI 1.1
//! referrer manifests (a Sigstore bundle or attestation with a `subject`, the empty config).
//! Field order follows the writers cosign uses, so the bytes look like cosign's.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::Digest as _;

use super::bundle::Bundle;
use super::encoding::{b64, unb64};
use super::payload::Statement;
use super::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, FormatError, SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING_MEDIA_TYPE, SignedLayer,
};

/// OCI image manifest media type (cosign writes its `.sig` images as OCI).
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image config media type.
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// The OCI 1.1 empty descriptor's media type (a referrer's config); its content is `{}`.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// cosign v3's annotation on a bundle referrer: what the bundle holds (`dsse-envelope`).
pub const BUNDLE_CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
/// cosign v3's annotation on a bundle referrer: the in-toto predicate type inside.
pub const BUNDLE_PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";
/// OCI's creation-time annotation (cosign v3 sets it on bundle referrers).
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// What a keyless legacy layer carries beside its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyless {
    /// The PEM leaf certificate (`dev.sigstore.cosign/certificate`).
    pub certificate: String,
    /// The PEM chain above it (`dev.sigstore.cosign/chain`); may be empty.
    pub chain: String,
    /// The Rekor bundle annotation JSON (`dev.sigstore.cosign/bundle`, see
    /// `rekor::CosignBundle`).
    pub bundle: String,
}

/// An OCI content descriptor (the subject of a referrer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of what it points at.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", super::encoding::hex(&sha2::Sha256::digest(bytes)))
}

/// A legacy `.sig` layer: `payload` (a simple-signing payload) with its DER `signature` in
/// `dev.cosignproject.cosign/signature`, and when keyless the certificate, chain and Rekor bundle
/// annotations (an empty chain is left out, as cosign does).
pub fn signature_layer(payload: &[u8], signature: &[u8], keyless: Option<&Keyless>) -> SignedLayer {
    let mut annotations = BTreeMap::from([(SIGNATURE_ANNOTATION.to_owned(), b64(signature))]);
    if let Some(k) = keyless {
        annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), k.certificate.clone());
        if !k.chain.is_empty() {
            annotations.insert(CHAIN_ANNOTATION.to_owned(), k.chain.clone());
        }
        annotations.insert(BUNDLE_ANNOTATION.to_owned(), k.bundle.clone());
    }
    SignedLayer {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE.to_owned(),
        digest: sha256_digest(payload),
        annotations,
        data: b64(payload),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LayerDescriptor<'a> {
    media_type: &'a str,
    size: u64,
    digest: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageManifest<'a> {
    schema_version: u32,
    media_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<&'a str>,
    config: LayerDescriptor<'a>,
    layers: Vec<LayerDescriptor<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a Descriptor>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
}

/// The `.sig` image holding `layers` (in order): its manifest bytes and its config bytes (the
/// config go-containerregistry writes when cosign appends layers to an empty image: zero times,
/// one history entry and one diff id per layer).
///
/// # Errors
///
/// A layer whose `data` is not base64 or does not hash to its `digest`.
pub fn signature_manifest(layers: &[SignedLayer]) -> Result<(Vec<u8>, Vec<u8>), FormatError> {
    let mut sizes = Vec::with_capacity(layers.len());
    for (i, layer) in layers.iter().enumerate() {
        let bytes = unb64(&layer.data).ok_or_else(|| {
            FormatError::invalid("signature layer", format!("layer {} data is not base64", i + 1))
        })?;
        if sha256_digest(&bytes) != layer.digest {
            return Err(FormatError::invalid(
                "signature layer",
                format!("layer {} data does not hash to {}", i + 1, layer.digest),
            ));
        }
        sizes.push(bytes.len() as u64);
    }
    let config = sig_config(layers);
    let config_digest = sha256_digest(&config);
    let empty = BTreeMap::new();
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST_MEDIA_TYPE,
        artifact_type: None,
        config: LayerDescriptor {
            media_type: OCI_CONFIG_MEDIA_TYPE,
            size: config.len() as u64,
            digest: &config_digest,
            annotations: &empty,
        },
        layers: layers
            .iter()
            .zip(sizes)
            .map(|(l, size)| LayerDescriptor {
                media_type: &l.media_type,
                size,
                digest: &l.digest,
                annotations: &l.annotations,
            })
            .collect(),
        subject: None,
        annotations: &empty,
    };
    Ok((serde_json::to_vec(&manifest).unwrap_or_default(), config))
}

/// The `.sig` image's config, as go-containerregistry's `ConfigFile` serializes it (Go field
/// order, zero times).
fn sig_config(layers: &[SignedLayer]) -> Vec<u8> {
    #[derive(Serialize)]
    struct ConfigFile<'a> {
        architecture: &'a str,
        created: &'a str,
        history: Vec<History<'a>>,
        os: &'a str,
        rootfs: RootFs<'a>,
        config: serde_json::Map<String, serde_json::Value>,
    }
    #[derive(Serialize)]
    struct History<'a> {
        created: &'a str,
    }
    #[derive(Serialize)]
    struct RootFs<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        diff_ids: Vec<&'a str>,
    }
    const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
    let config = ConfigFile {
        architecture: "",
        created: ZERO_TIME,
        history: layers.iter().map(|_| History { created: ZERO_TIME }).collect(),
        os: "",
        rootfs: RootFs { kind: "layers", diff_ids: layers.iter().map(|l| l.digest.as_str()).collect() },
        config: serde_json::Map::new(),
    };
    serde_json::to_vec(&config).unwrap_or_default()
}

/// The annotations cosign v3 puts on a bundle referrer: [`BUNDLE_CONTENT_ANNOTATION`]
/// (`dsse-envelope` or `message-signature`), [`BUNDLE_PREDICATE_TYPE_ANNOTATION`] (the in-toto
/// predicate type of a DSSE bundle) and, when given, [`CREATED_ANNOTATION`] (RFC 3339; core has
/// no clock). Registries return these in referrers listings, so a reader can pick a bundle
/// without fetching it.
pub fn bundle_referrer_annotations(bundle: &Bundle, created: Option<&str>) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::new();
    let content = if bundle.dsse_envelope.is_some() { "dsse-envelope" } else { "message-signature" };
    annotations.insert(BUNDLE_CONTENT_ANNOTATION.to_owned(), content.to_owned());
    let statement = bundle.dsse_envelope.as_ref().and_then(|e| Statement::from_json(&e.payload).ok());
    if let Some(statement) = statement {
        annotations.insert(BUNDLE_PREDICATE_TYPE_ANNOTATION.to_owned(), statement.predicate_type);
    }
    if let Some(created) = created {
        annotations.insert(CREATED_ANNOTATION.to_owned(), created.to_owned());
    }
    annotations
}

/// An OCI 1.1 referrer of `subject`: one layer (`layer_media_type`, `layer` bytes), the empty
/// config (`application/vnd.oci.empty.v1+json`, content `{}`), `artifact_type` and
/// `annotations`. Returns the manifest bytes and the config bytes (`{}`), both to be pushed.
pub fn referrer_manifest(
    artifact_type: &str,
    layer_media_type: &str,
    layer: &[u8],
    subject: &Descriptor,
    annotations: &BTreeMap<String, String>,
) -> (Vec<u8>, Vec<u8>) {
    let config = b"{}".to_vec();
    let config_digest = sha256_digest(&config);
    let layer_digest = sha256_digest(layer);
    let empty = BTreeMap::new();
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: OCI_MANIFEST_MEDIA_TYPE,
        artifact_type: Some(artifact_type),
        config: LayerDescriptor {
            media_type: EMPTY_MEDIA_TYPE,
            size: config.len() as u64,
            digest: &config_digest,
            annotations: &empty,
        },
        layers: vec![LayerDescriptor {
            media_type: layer_media_type,
            size: layer.len() as u64,
            digest: &layer_digest,
            annotations: &empty,
        }],
        subject: Some(subject),
        annotations,
    };
    (serde_json::to_vec(&manifest).unwrap_or_default(), config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::payload::simple_signing_payload;

    const DIGEST: &str = "sha256:703218c0465075f4425e58fac086e09e1de5c340b12976ab9eb8ad26615c3715";

    #[test]
    fn signature_layer_and_manifest_in_cosigns_shape() {
        let payload = simple_signing_payload("reg.example/app", DIGEST);
        let key_layer = signature_layer(&payload, &[0x30, 0x01], None);
        assert_eq!(key_layer.media_type, SIMPLE_SIGNING_MEDIA_TYPE);
        assert_eq!(key_layer.annotations.len(), 1);
        assert_eq!(key_layer.annotations[SIGNATURE_ANNOTATION], "MAE=");
        let keyless = Keyless {
            certificate: "-----BEGIN CERTIFICATE-----\n".into(),
            chain: String::new(),
            bundle: "{}".into(),
        };
        let keyless_layer = signature_layer(&payload, &[0x30, 0x02], Some(&keyless));
        assert!(keyless_layer.annotations.contains_key(CERTIFICATE_ANNOTATION));
        assert!(keyless_layer.annotations.contains_key(BUNDLE_ANNOTATION));
        assert!(!keyless_layer.annotations.contains_key(CHAIN_ANNOTATION));

        let layers = [key_layer.clone(), keyless_layer];
        let (manifest, config) = signature_manifest(&layers).unwrap();
        let config_text = String::from_utf8(config.clone()).unwrap();
        assert_eq!(
            config_text,
            format!(
                r#"{{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{{"created":"0001-01-01T00:00:00Z"}},{{"created":"0001-01-01T00:00:00Z"}}],"os":"","rootfs":{{"type":"layers","diff_ids":["{d}","{d}"]}},"config":{{}}}}"#,
                d = key_layer.digest
            )
        );
        let doc: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        assert_eq!(doc["schemaVersion"], 2);
        assert_eq!(doc["mediaType"], OCI_MANIFEST_MEDIA_TYPE);
        assert_eq!(doc["config"]["digest"], sha256_digest(&config));
        assert_eq!(doc["config"]["size"], config.len());
        assert_eq!(doc["layers"][0]["size"], payload.len());
        assert_eq!(doc["layers"][0]["digest"], key_layer.digest);
        assert_eq!(doc["layers"][1]["annotations"][SIGNATURE_ANNOTATION], "MAI=");
        let text = String::from_utf8(manifest).unwrap();
        assert!(text.starts_with(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":"#), "{text}");
    }

    /// Build, then read back as a verifier does: the layer's bytes are the payload naming the
    /// digest, and its annotation is a signature of them by the key.
    #[test]
    fn key_signed_layer_reads_back() {
        use crate::trust::{SigningKey, VerifyKey, parse_simple_signing};
        let key = SigningKey::from_bytes(&[5u8; 32]).unwrap();
        let payload = simple_signing_payload("reg.example/app", DIGEST);
        let layer = signature_layer(&payload, &key.sign(&payload), None);
        let data = unb64(&layer.data).unwrap();
        assert_eq!(sha256_digest(&data), layer.digest);
        assert_eq!(parse_simple_signing(&data).unwrap().docker_manifest_digest, DIGEST);
        let signature = unb64(&layer.annotations[SIGNATURE_ANNOTATION]).unwrap();
        let public = VerifyKey::from_pem(&key.public_key_pem()).unwrap();
        assert!(public.verify(&data, &signature));
        let other = simple_signing_payload("reg.example/app", "sha256:00");
        assert!(!public.verify(&other, &signature));
    }

    /// Build with the signing side, check with the gate (`trust::check`): cip's own key-signed
    /// `.sig` layer and DSSE bundles pass a policy of that key; a tampered payload, another key
    /// or another digest do not.
    #[test]
    fn built_signatures_pass_the_gate() {
        use crate::rules::Code;
        use crate::trust::bundle::{Bundle, Content};
        use crate::trust::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
        use crate::trust::payload::{Promotion, cosign_sign_statement, promotion_statement};
        use crate::trust::{
            BUNDLE_MEDIA_TYPE, Evidence, EvidenceKind, PROMOTION_PREDICATE_TYPE, Policy, SigningKey,
            TrustOptions, check, pae,
        };
        let key = SigningKey::from_bytes(&[5u8; 32]).unwrap();
        let other = SigningKey::from_bytes(&[6u8; 32]).unwrap();
        let policy = |k: &SigningKey| {
            Policy::new(&TrustOptions {
                require_signature: true,
                verify_key: Some(k.public_key_pem()),
                require_attestation: vec![PROMOTION_PREDICATE_TYPE.to_owned()],
                ..TrustOptions::default()
            })
            .unwrap()
        };
        let codes = |policy: &Policy, digest: &str, kind: EvidenceKind, layers: &[SignedLayer]| {
            let evidence = Evidence { digest, attachments: vec![(kind, layers)] };
            check(Some(policy), &evidence).into_iter().map(|p| p.code).collect::<Vec<_>>()
        };
        let bundle_layer = |statement: &[u8], signer: &SigningKey| {
            let signature = signer.sign(&pae(IN_TOTO_PAYLOAD_TYPE, statement));
            let envelope = Envelope::new(IN_TOTO_PAYLOAD_TYPE, statement, &signature, "");
            let bundle =
                Bundle::with_key(&signer.verify_key().hint(), vec![], Content::Dsse(envelope)).to_json();
            SignedLayer {
                media_type: BUNDLE_MEDIA_TYPE.to_owned(),
                digest: sha256_digest(&bundle),
                annotations: BTreeMap::new(),
                data: b64(&bundle),
            }
        };
        let payload = simple_signing_payload("reg.example/app", DIGEST);
        let legacy = signature_layer(&payload, &key.sign(&payload), None);
        let image = bundle_layer(&cosign_sign_statement("reg.example/app", DIGEST), &key);
        let promotion = bundle_layer(
            &promotion_statement(&Promotion {
                subject_name: "reg.example/app",
                source: "stage.example/app@sha256:ab",
                destination: "reg.example/app@sha256:ab",
                digest: DIGEST,
                time: "2026-01-02T03:04:05Z",
                version: "0.1.0",
            }),
            &key,
        );
        let ours = policy(&key);
        let all = [legacy.clone(), image.clone(), promotion.clone()];
        let evidence = Evidence {
            digest: DIGEST,
            attachments: vec![(EvidenceKind::Signature, &all[..1]), (EvidenceKind::Bundle, &all[1..])],
        };
        assert_eq!(check(Some(&ours), &evidence), vec![]);
        // Either signature form alone satisfies --require-signature.
        for (kind, layer) in [(EvidenceKind::Signature, &legacy), (EvidenceKind::Bundle, &image)] {
            let found = codes(&ours, DIGEST, kind, std::slice::from_ref(layer));
            assert_eq!(found, vec![Code::AttestationMissing], "{kind:?}");
        }
        // Another key's policy: present but not satisfying.
        let found = codes(&policy(&other), DIGEST, EvidenceKind::Signature, std::slice::from_ref(&legacy));
        assert!(found.contains(&Code::SignatureInvalid), "{found:?}");
        // Another digest: the payload names DIGEST, so the layer is broken for it.
        let elsewhere = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        let found = codes(&ours, elsewhere, EvidenceKind::Signature, std::slice::from_ref(&legacy));
        assert!(found.contains(&Code::SignatureInvalid), "{found:?}");
        // A tampered payload (digest and data consistent, signature not over them).
        let tampered_payload = simple_signing_payload("reg.example/evil", DIGEST);
        let mut tampered = legacy.clone();
        tampered.data = b64(&tampered_payload);
        tampered.digest = sha256_digest(&tampered_payload);
        let found = codes(&ours, DIGEST, EvidenceKind::Signature, std::slice::from_ref(&tampered));
        assert!(found.contains(&Code::SignatureInvalid), "{found:?}");
    }

    #[test]
    fn signature_manifest_refuses_layers_that_do_not_hold_together() {
        let mut layer = signature_layer(b"x", &[1], None);
        layer.data = b64(b"y");
        assert!(signature_manifest(&[layer.clone()]).unwrap_err().to_string().contains("does not hash"));
        layer.data = "*".into();
        assert!(signature_manifest(&[layer]).is_err());
    }

    #[test]
    fn bundle_annotations_name_content_and_predicate() {
        use crate::trust::bundle::{Content, MessageSignature};
        use crate::trust::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
        let statement = crate::trust::payload::cosign_sign_statement("r", DIGEST);
        let envelope = Envelope::new(IN_TOTO_PAYLOAD_TYPE, &statement, &[1], "");
        let dsse = Bundle::with_key("", vec![], Content::Dsse(envelope));
        let annotations = bundle_referrer_annotations(&dsse, Some("2026-01-02T03:04:05Z"));
        assert_eq!(annotations[BUNDLE_CONTENT_ANNOTATION], "dsse-envelope");
        assert_eq!(annotations[BUNDLE_PREDICATE_TYPE_ANNOTATION], crate::trust::COSIGN_SIGN_PREDICATE_TYPE);
        assert_eq!(annotations[CREATED_ANNOTATION], "2026-01-02T03:04:05Z");
        let message = Bundle::with_key("", vec![], Content::Message(MessageSignature::sha256(b"m", &[1])));
        let annotations = bundle_referrer_annotations(&message, None);
        assert_eq!(annotations.len(), 1);
        assert_eq!(annotations[BUNDLE_CONTENT_ANNOTATION], "message-signature");
    }

    #[test]
    fn referrer_has_subject_empty_config_and_one_layer() {
        let subject =
            Descriptor { media_type: OCI_MANIFEST_MEDIA_TYPE.into(), digest: DIGEST.into(), size: 1234 };
        let annotations =
            BTreeMap::from([(BUNDLE_CONTENT_ANNOTATION.to_owned(), "dsse-envelope".to_owned())]);
        let (manifest, config) = referrer_manifest(
            super::super::BUNDLE_MEDIA_TYPE,
            super::super::BUNDLE_MEDIA_TYPE,
            b"bundle",
            &subject,
            &annotations,
        );
        assert_eq!(config, b"{}");
        let doc: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        assert_eq!(doc["artifactType"], super::super::BUNDLE_MEDIA_TYPE);
        assert_eq!(doc["config"]["mediaType"], EMPTY_MEDIA_TYPE);
        // The OCI image spec's well-known digest of `{}`.
        assert_eq!(
            doc["config"]["digest"],
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(doc["config"]["size"], 2);
        assert_eq!(doc["layers"].as_array().unwrap().len(), 1);
        assert_eq!(doc["layers"][0]["digest"], sha256_digest(b"bundle"));
        assert_eq!(doc["layers"][0]["size"], 6);
        assert_eq!(doc["subject"]["digest"], DIGEST);
        assert_eq!(doc["subject"]["size"], 1234);
        assert_eq!(doc["annotations"][BUNDLE_CONTENT_ANNOTATION], "dsse-envelope");
    }
}
