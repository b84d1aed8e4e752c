//! The trust gate over keyless signatures made by sigstore-js (another independent producer:
//! its own key generation, Fulcio and Rekor clients and bundle builder) against the lab's
//! `@sigstore/mock` Fulcio and Rekor: `tests/sigstore/fixtures/` (see make-fixtures.mjs there).
//! Core must accept what sigstore-js made, with its trusted root, and refuse a wrong identity or
//! issuer, as sigstore-js's own verifier does.

use std::path::PathBuf;

use cip_core::rules::Code;
use cip_core::trust::encoding::{b64, hex};
use cip_core::trust::{
    BUNDLE_MEDIA_TYPE, Evidence, EvidenceKind, Policy, Problem, SignedLayer, TrustOptions, check,
};
use serde_json::Value;
use sha2::Digest as _;

fn read(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/sigstore/fixtures").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn identity() -> Value {
    serde_json::from_slice(&read("identity.json")).unwrap()
}

fn options(identity_value: &str, issuer: &str) -> TrustOptions {
    TrustOptions {
        require_signature: true,
        certificate_identity: Some(identity_value.into()),
        certificate_oidc_issuer: Some(issuer.into()),
        trusted_root: Some(String::from_utf8(read("trusted_root.json")).unwrap()),
        ..TrustOptions::default()
    }
}

fn good() -> TrustOptions {
    let id = identity();
    options(id["identity"].as_str().unwrap(), id["issuer"].as_str().unwrap())
}

fn layer_of(media_type: &str, data: &[u8], annotations: &Value) -> SignedLayer {
    SignedLayer {
        media_type: media_type.into(),
        digest: format!("sha256:{}", hex(&sha2::Sha256::digest(data))),
        annotations: serde_json::from_value(annotations.clone()).unwrap_or_default(),
        data: b64(data),
    }
}

fn run(options: &TrustOptions, digest: &str, kind: EvidenceKind, layer: SignedLayer) -> Vec<Problem> {
    let policy = Policy::new(options).unwrap();
    let layers = [layer];
    check(Some(&policy), &Evidence { digest, attachments: vec![(kind, &layers)] })
}

/// cosign's keyless `.sig` layer built from a sigstore-js signing (certificate, chain, Rekor
/// bundle annotations).
fn legacy() -> SignedLayer {
    let descriptor: Value = serde_json::from_slice(&read("legacy/layer.json")).unwrap();
    let layer = layer_of(
        descriptor["mediaType"].as_str().unwrap(),
        &read("legacy/payload.json"),
        &descriptor["annotations"],
    );
    assert_eq!(layer.digest, descriptor["digest"].as_str().unwrap());
    layer
}

#[test]
fn legacy_keyless_signature_verifies_and_wrong_identity_or_issuer_is_refused() {
    let id = identity();
    let digest = id["digest"].as_str().unwrap();
    assert_eq!(run(&good(), digest, EvidenceKind::Signature, legacy()), vec![]);
    let wrong = options(&format!("{}x", id["identity"].as_str().unwrap()), id["issuer"].as_str().unwrap());
    let problems = run(&wrong, digest, EvidenceKind::Signature, legacy());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].code, Code::SignatureInvalid);
    assert!(problems[0].message.contains("does not match --certificate-identity"), "{problems:?}");
    let wrong = options(id["identity"].as_str().unwrap(), "https://other.issuer.test");
    let problems = run(&wrong, digest, EvidenceKind::Signature, legacy());
    assert!(problems[0].message.contains("does not match --certificate-oidc-issuer"), "{problems:?}");
}

#[test]
fn dsse_bundle_is_an_attestation_of_its_predicate_type() {
    let id = identity();
    let digest = id["digest"].as_str().unwrap();
    let bundle = layer_of(BUNDLE_MEDIA_TYPE, &read("dsse/bundle.json"), &Value::Null);
    let options = TrustOptions {
        require_signature: false,
        require_attestation: vec![id["predicateType"].as_str().unwrap().into()],
        ..good()
    };
    assert_eq!(run(&options, digest, EvidenceKind::Bundle, bundle.clone()), vec![]);
    // About another digest: the statement's subject does not name it.
    let other = format!("sha256:{}", "0".repeat(64));
    let problems = run(&options, &other, EvidenceKind::Bundle, bundle);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].code, Code::AttestationInvalid);
    assert!(problems[0].message.contains("statement subject does not name"), "{problems:?}");
}

#[test]
fn message_signature_bundles_verify_with_their_inclusion_proof() {
    // A message signature binds the SHA-256 of what it signs: here the artifact stands for the
    // image manifest, so its digest is the "image" digest.
    let artifact = read("message/artifact.bin");
    let digest = format!("sha256:{}", hex(&sha2::Sha256::digest(&artifact)));
    for file in ["message/bundle-v0.3.json", "message/bundle.json"] {
        let bundle = layer_of(BUNDLE_MEDIA_TYPE, &read(file), &Value::Null);
        assert_eq!(run(&good(), &digest, EvidenceKind::Bundle, bundle.clone()), vec![], "{file}");
        let problems = run(&good(), &format!("sha256:{}", "1".repeat(64)), EvidenceKind::Bundle, bundle);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("messageDigest is not"), "{problems:?}");
    }
}
