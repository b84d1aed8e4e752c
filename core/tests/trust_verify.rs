//! The trust gate (`cip_core::trust::check`) over fixtures made by an independent producer:
//! `tests/trust/make_fixtures.py` (Python `cryptography`) signs cosign legacy `.sig`/`.att`
//! layers and Sigstore bundles with its own keys, fake CA and fake transparency log. Each test
//! holds one fixture against a policy and asserts the exact finding (or none).

use std::path::PathBuf;

use cip_core::rules::Code;
use cip_core::trust::{Evidence, EvidenceKind, Policy, Problem, SignedLayer, TrustOptions, check};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/trust/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn layers(name: &str) -> Vec<SignedLayer> {
    serde_json::from_str(&fixture(name)).unwrap()
}

fn digest() -> String {
    fixture("image_digest.txt").trim().to_owned()
}

const IDENTITY: &str = "signer@example.com";
const ISSUER: &str = "https://accounts.example.com";
const PROVENANCE: &str = "https://slsa.dev/provenance/v1";

fn keyed(require_signature: bool) -> TrustOptions {
    TrustOptions { require_signature, verify_key: Some(fixture("signer.pub")), ..TrustOptions::default() }
}

fn keyless(identity: &str, issuer: &str) -> TrustOptions {
    TrustOptions {
        require_signature: true,
        certificate_identity: Some(identity.into()),
        certificate_oidc_issuer: Some(issuer.into()),
        trusted_root: Some(fixture("trusted_root.json")),
        ..TrustOptions::default()
    }
}

/// Checks `attachments` (kind, fixture file) for the fixture digest.
fn run(options: Option<&TrustOptions>, attachments: &[(EvidenceKind, &str)]) -> Vec<Problem> {
    let policy = options.map(|o| Policy::new(o).unwrap());
    let owned: Vec<(EvidenceKind, Vec<SignedLayer>)> =
        attachments.iter().map(|(k, f)| (*k, layers(f))).collect();
    run_layers(policy.as_ref(), &owned)
}

fn run_layers(policy: Option<&Policy>, owned: &[(EvidenceKind, Vec<SignedLayer>)]) -> Vec<Problem> {
    let digest = digest();
    let evidence =
        Evidence { digest: &digest, attachments: owned.iter().map(|(k, l)| (*k, l.as_slice())).collect() };
    check(policy, &evidence)
}

/// The only problem, asserting its code and that its message contains each of `parts`.
fn only(problems: &[Problem], code: Code, parts: &[&str]) {
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].code, code, "{problems:#?}");
    for part in parts {
        assert!(problems[0].message.contains(part), "{:?} lacks {part:?}", problems[0].message);
    }
}

fn sig_tag() -> String {
    format!("{}.sig", digest().replace(':', "-"))
}

use EvidenceKind::{Attestation, Bundle, Signature};

#[test]
fn keyed_signature_verifies() {
    assert_eq!(run(Some(&keyed(true)), &[(Signature, "sig_keyed.json")]), vec![]);
}

#[test]
fn keyed_signature_with_the_wrong_key_is_invalid() {
    let options = TrustOptions { verify_key: Some(fixture("wrong.pub")), ..keyed(true) };
    let problems = run(Some(&options), &[(Signature, "sig_keyed.json")]);
    only(
        &problems,
        Code::SignatureInvalid,
        &[&format!("layer 1 of {}: signature does not verify with --verify-key", sig_tag())],
    );
}

#[test]
fn keyed_signature_log_entries_are_checked_when_a_trusted_root_is_given() {
    let with_root = TrustOptions { trusted_root: Some(fixture("trusted_root.json")), ..keyed(true) };
    assert_eq!(run(Some(&with_root), &[(Signature, "sig_keyed_logged.json")]), vec![]);
    let problems = run(Some(&with_root), &[(Signature, "sig_keyed_logged_bad_set.json")]);
    only(&problems, Code::SignatureInvalid, &["signed entry timestamp does not verify with the log's key"]);
    // Without a root the key alone decides (cosign's --insecure-ignore-tlog view).
    assert_eq!(run(Some(&keyed(true)), &[(Signature, "sig_keyed_logged_bad_set.json")]), vec![]);
}

#[test]
fn tampered_payload_is_invalid() {
    let problems = run(Some(&keyed(false)), &[(Signature, "sig_keyed_tampered.json")]);
    only(&problems, Code::SignatureInvalid, &["does not verify with --verify-key"]);
}

#[test]
fn payload_naming_another_digest_is_invalid_with_or_without_a_policy() {
    for options in [None, Some(keyed(true))] {
        let problems = run(options.as_ref(), &[(Signature, "sig_keyed_wrong_digest.json")]);
        only(
            &problems,
            Code::SignatureInvalid,
            &[&format!("layer 1 of {}: payload signs sha256:", sig_tag()), &format!("not {}", digest())],
        );
    }
}

#[test]
fn unsigned_digest_is_missing_only_when_required() {
    only(&run(Some(&keyed(true)), &[]), Code::SignatureMissing, &["--require-signature"]);
    assert_eq!(run(Some(&keyed(false)), &[]), vec![]);
    assert_eq!(run(None, &[]), vec![]);
}

#[test]
fn without_a_policy_sound_signatures_pass_and_broken_ones_do_not() {
    assert_eq!(run(None, &[(Signature, "sig_keyed.json"), (Signature, "sig_keyless.json")]), vec![]);
    // A keyless payload changed after signing: its own certificate refuses it.
    let mut tampered = layers("sig_keyless.json");
    let payload = String::from_utf8(b64d(&tampered[0].data)).unwrap().replace("stage/app", "evil/app");
    tampered[0].data = b64e(payload.as_bytes());
    tampered[0].digest = format!("sha256:{}", sha256_hex(payload.as_bytes()));
    let problems = run_layers(None, &[(Signature, tampered.clone())]);
    only(&problems, Code::SignatureInvalid, &["signature does not verify with the certificate it carries"]);
    // Bytes that do not hash to the recorded layer digest.
    tampered[0].digest = layers("sig_keyless.json")[0].digest.clone();
    let problems = run_layers(None, &[(Signature, tampered)]);
    only(&problems, Code::SignatureInvalid, &["layer data does not hash to its digest"]);
}

#[test]
fn keyless_signature_verifies() {
    assert_eq!(run(Some(&keyless(IDENTITY, ISSUER)), &[(Signature, "sig_keyless.json")]), vec![]);
    let uri = keyless(
        "https://github.com/example/app/.github/workflows/release.yml@refs/heads/main",
        "https://token.actions.githubusercontent.com",
    );
    assert_eq!(run(Some(&uri), &[(Signature, "sig_keyless_uri.json")]), vec![]);
    assert_eq!(run(Some(&keyless("alice", ISSUER)), &[(Signature, "sig_keyless_username.json")]), vec![]);
    let problems = run(Some(&keyless("bob", ISSUER)), &[(Signature, "sig_keyless_username.json")]);
    only(&problems, Code::SignatureInvalid, &["certificate identity \"alice\" does not match"]);
}

#[test]
fn trusted_root_chain_order_does_not_matter() {
    let options = TrustOptions {
        trusted_root: Some(fixture("trusted_root_root_first.json")),
        ..keyless(IDENTITY, ISSUER)
    };
    assert_eq!(run(Some(&options), &[(Signature, "sig_keyless.json")]), vec![]);
    let problems = run(Some(&options), &[(Signature, "sig_keyless_rogue.json")]);
    only(&problems, Code::SignatureInvalid, &["does not chain"]);
}

#[test]
fn with_ct_logs_in_the_root_a_keyless_certificate_needs_a_valid_embedded_sct() {
    let options =
        TrustOptions { trusted_root: Some(fixture("trusted_root_ct.json")), ..keyless(IDENTITY, ISSUER) };
    assert_eq!(run(Some(&options), &[(Signature, "sig_keyless_sct.json")]), vec![]);
    let problems = run(Some(&options), &[(Signature, "sig_keyless_bad_sct.json")]);
    only(&problems, Code::SignatureInvalid, &["no embedded SCT verifies with a CT log of --trusted-root"]);
    let problems = run(Some(&options), &[(Signature, "sig_keyless.json")]);
    only(&problems, Code::SignatureInvalid, &["certificate has no embedded SCT"]);
    // Without CT logs in the root there is nothing to check an SCT against.
    assert_eq!(run(Some(&keyless(IDENTITY, ISSUER)), &[(Signature, "sig_keyless_bad_sct.json")]), vec![]);
}

#[test]
fn identity_regexps_are_unanchored_like_cosign() {
    let options = TrustOptions {
        certificate_identity: None,
        certificate_identity_regexp: Some(r"@example\.com".into()),
        certificate_oidc_issuer: None,
        certificate_oidc_issuer_regexp: Some("^https://accounts\\.example\\.com$".into()),
        ..keyless(IDENTITY, ISSUER)
    };
    assert_eq!(run(Some(&options), &[(Signature, "sig_keyless.json")]), vec![]);
    let anchored = TrustOptions { certificate_identity_regexp: Some(r"^example\.com$".into()), ..options };
    let problems = run(Some(&anchored), &[(Signature, "sig_keyless.json")]);
    only(
        &problems,
        Code::SignatureInvalid,
        &["\"signer@example.com\" does not match --certificate-identity-regexp"],
    );
}

#[test]
fn wrong_identity_is_invalid() {
    let problems = run(Some(&keyless("other@example.com", ISSUER)), &[(Signature, "sig_keyless.json")]);
    only(
        &problems,
        Code::SignatureInvalid,
        &[&format!(
            "layer 1 of {}: certificate identity \"signer@example.com\" does not match --certificate-identity \"other@example.com\"",
            sig_tag()
        )],
    );
}

#[test]
fn wrong_issuer_is_invalid() {
    let problems =
        run(Some(&keyless(IDENTITY, "https://issuer.example.org")), &[(Signature, "sig_keyless.json")]);
    only(
        &problems,
        Code::SignatureInvalid,
        &[
            "certificate OIDC issuer \"https://accounts.example.com\" does not match --certificate-oidc-issuer",
        ],
    );
}

#[test]
fn certificate_not_chaining_to_the_root_is_invalid() {
    let problems = run(Some(&keyless(IDENTITY, ISSUER)), &[(Signature, "sig_keyless_rogue.json")]);
    only(
        &problems,
        Code::SignatureInvalid,
        &["certificate does not chain to a certificate authority of --trusted-root"],
    );
}

#[test]
fn bad_signed_entry_timestamp_is_invalid() {
    let problems = run(Some(&keyless(IDENTITY, ISSUER)), &[(Signature, "sig_keyless_bad_set.json")]);
    only(&problems, Code::SignatureInvalid, &["signed entry timestamp does not verify with the log's key"]);
}

#[test]
fn certificate_expired_at_the_log_time_is_invalid() {
    let problems = run(Some(&keyless(IDENTITY, ISSUER)), &[(Signature, "sig_keyless_expired.json")]);
    only(&problems, Code::SignatureInvalid, &["certificate was not valid at the log entry's time"]);
}

#[test]
fn certificate_without_code_signing_is_invalid() {
    let problems = run(Some(&keyless(IDENTITY, ISSUER)), &[(Signature, "sig_keyless_not_code_signing.json")]);
    only(&problems, Code::SignatureInvalid, &["code-signing"]);
}

#[test]
fn log_entry_of_another_signature_is_invalid() {
    let problems = run(Some(&keyless(IDENTITY, ISSUER)), &[(Signature, "sig_keyless_entry_mismatch.json")]);
    only(&problems, Code::SignatureInvalid, &["log entry records another signature or signer"]);
}

#[test]
fn keyless_policy_refuses_a_key_signature_and_keyed_policy_a_keyless_one() {
    let problems = run(Some(&keyless(IDENTITY, ISSUER)), &[(Signature, "sig_keyed.json")]);
    only(&problems, Code::SignatureInvalid, &["no certificate: not a keyless signature"]);
    let problems = run(Some(&keyed(true)), &[(Signature, "sig_keyless.json")]);
    only(&problems, Code::SignatureInvalid, &["does not verify with --verify-key"]);
}

#[test]
fn other_signers_beside_a_satisfying_signature_are_fine_broken_layers_are_not() {
    let good = layers("sig_keyed.json");
    let other = layers("sig_keyless.json");
    let wrong_digest = layers("sig_keyed_wrong_digest.json");
    let policy = Policy::new(&keyed(true)).unwrap();
    let one_manifest = vec![good[0].clone(), other[0].clone()];
    assert_eq!(run_layers(Some(&policy), &[(Signature, one_manifest)]), vec![]);
    let with_broken = vec![good[0].clone(), wrong_digest[0].clone()];
    let problems = run_layers(Some(&policy), &[(Signature, with_broken)]);
    only(&problems, Code::SignatureInvalid, &[&format!("layer 2 of {}: payload signs", sig_tag())]);
    assert!(!problems[0].message.contains("layer 1"), "{problems:?}");
}

#[test]
fn keyed_attestation_satisfies_a_required_predicate_type() {
    let options = TrustOptions { require_attestation: vec![PROVENANCE.into()], ..keyed(true) };
    assert_eq!(
        run(Some(&options), &[(Signature, "sig_keyed.json"), (Attestation, "att_keyed.json")]),
        vec![]
    );
    let problems = run(Some(&options), &[(Signature, "sig_keyed.json")]);
    only(&problems, Code::AttestationMissing, &[PROVENANCE, "--require-attestation"]);
    let problems =
        run(Some(&options), &[(Signature, "sig_keyed.json"), (Attestation, "att_keyed_wrong_key.json")]);
    only(
        &problems,
        Code::AttestationInvalid,
        &[&format!(
            "layer 1 of {}.att: signature does not verify with --verify-key",
            digest().replace(':', "-")
        )],
    );
}

#[test]
fn a_broken_attestation_beside_a_satisfying_one_is_still_a_finding() {
    let options = TrustOptions { require_attestation: vec![PROVENANCE.into()], ..keyed(true) };
    let mut att = layers("att_keyed.json");
    att.push(layers("att_keyed_wrong_subject.json").remove(0));
    let sig = layers("sig_keyed.json");
    let problems = run_layers(Some(&Policy::new(&options).unwrap()), &[(Signature, sig), (Attestation, att)]);
    only(
        &problems,
        Code::AttestationInvalid,
        &[&format!("layer 2 of {}.att: statement subject does not name", digest().replace(':', "-"))],
    );
}

#[test]
fn attestation_about_another_digest_is_invalid_without_a_policy() {
    let problems = run(None, &[(Attestation, "att_keyed_wrong_subject.json")]);
    only(&problems, Code::AttestationInvalid, &[&format!("statement subject does not name {}", digest())]);
}

#[test]
fn keyless_attestation_verifies() {
    let options = TrustOptions { require_attestation: vec![PROVENANCE.into()], ..keyless(IDENTITY, ISSUER) };
    assert_eq!(
        run(Some(&options), &[(Signature, "sig_keyless.json"), (Attestation, "att_keyless.json")]),
        vec![]
    );
    let wrong = TrustOptions { require_signature: false, ..keyless("other@example.com", ISSUER) };
    let wrong = TrustOptions { require_attestation: vec![PROVENANCE.into()], ..wrong };
    let problems = run(Some(&wrong), &[(Attestation, "att_keyless.json")]);
    only(&problems, Code::AttestationInvalid, &["does not match --certificate-identity"]);
}

#[test]
fn keyless_attestation_logged_as_an_intoto_entry_verifies() {
    let options = TrustOptions {
        require_signature: false,
        require_attestation: vec![PROVENANCE.into()],
        ..keyless(IDENTITY, ISSUER)
    };
    assert_eq!(run(Some(&options), &[(Attestation, "att_keyless_intoto.json")]), vec![]);
    let wrong =
        TrustOptions { certificate_oidc_issuer: Some("https://issuer.example.org".into()), ..options };
    let problems = run(Some(&wrong), &[(Attestation, "att_keyless_intoto.json")]);
    only(&problems, Code::AttestationInvalid, &["does not match --certificate-oidc-issuer"]);
}

#[test]
fn dsse_bundle_of_cosign_sign_predicate_is_a_signature() {
    assert_eq!(run(Some(&keyed(true)), &[(Bundle, "bundle_dsse_sign_keyed.json")]), vec![]);
    let options = TrustOptions { verify_key: Some(fixture("wrong.pub")), ..keyed(true) };
    only(
        &run(Some(&options), &[(Bundle, "bundle_dsse_sign_keyed.json")]),
        Code::SignatureInvalid,
        &["--verify-key"],
    );
}

#[test]
fn bundle_with_message_signature_and_inclusion_proof_verifies() {
    assert_eq!(run(Some(&keyless(IDENTITY, ISSUER)), &[(Bundle, "bundle_keyless.json")]), vec![]);
    assert_eq!(run(None, &[(Bundle, "bundle_keyless.json")]), vec![]);
}

#[test]
fn bundle_with_a_corrupted_inclusion_proof_is_invalid() {
    let problems = run(Some(&keyless(IDENTITY, ISSUER)), &[(Bundle, "bundle_keyless_bad_proof.json")]);
    only(
        &problems,
        Code::SignatureInvalid,
        &["Sigstore bundle sha256:", "inclusion proof does not lead to its root hash"],
    );
}

#[test]
fn keyed_bundle_verifies_with_the_key() {
    assert_eq!(run(Some(&keyed(true)), &[(Bundle, "bundle_keyed.json")]), vec![]);
    let options = TrustOptions { verify_key: Some(fixture("wrong.pub")), ..keyed(true) };
    only(&run(Some(&options), &[(Bundle, "bundle_keyed.json")]), Code::SignatureInvalid, &["--verify-key"]);
}

#[test]
fn bundle_with_a_dsse_attestation_counts_as_that_attestation() {
    let options = TrustOptions {
        require_signature: false,
        require_attestation: vec![PROVENANCE.into()],
        ..keyless(IDENTITY, ISSUER)
    };
    assert_eq!(run(Some(&options), &[(Bundle, "bundle_att_keyless.json")]), vec![]);
    // It is an attestation, not a signature.
    let options = TrustOptions { require_signature: true, ..options };
    only(&run(Some(&options), &[(Bundle, "bundle_att_keyless.json")]), Code::SignatureMissing, &[]);
}

#[test]
fn policy_errors_name_the_option_and_what_to_do() {
    let err = |o: TrustOptions| Policy::new(&o).unwrap_err();
    let both = TrustOptions { certificate_identity: Some(IDENTITY.into()), ..keyed(true) };
    let e = err(both);
    assert_eq!(e.option, "--verify-key");
    assert!(e.message.contains("not both"), "{e}");
    let no_root = TrustOptions { trusted_root: None, ..keyless(IDENTITY, ISSUER) };
    let e = err(no_root);
    assert_eq!(e.option, "--certificate-identity");
    assert!(e.message.contains("--trusted-root"), "{e}");
    let no_issuer = TrustOptions { certificate_oidc_issuer: None, ..keyless(IDENTITY, ISSUER) };
    assert_eq!(err(no_issuer).option, "--certificate-oidc-issuer");
    let bad_regexp = TrustOptions {
        certificate_identity: None,
        certificate_identity_regexp: Some("(".into()),
        ..keyless(IDENTITY, ISSUER)
    };
    assert_eq!(err(bad_regexp).option, "--certificate-identity-regexp");
    let nothing = TrustOptions { require_signature: true, ..TrustOptions::default() };
    let e = err(nothing);
    assert_eq!(e.option, "--require-signature");
    assert!(e.message.contains("--verify-key"), "{e}");
    let not_a_key = TrustOptions { verify_key: Some(fixture("leaf.pem")), ..keyed(true) };
    let e = err(not_a_key);
    assert_eq!(e.option, "--verify-key");
    assert!(e.to_string().starts_with("--verify-key: "), "{e}");
    let bad_root = TrustOptions { trusted_root: Some("{\"tlogs\": [".into()), ..keyless(IDENTITY, ISSUER) };
    let e = err(bad_root);
    assert_eq!(e.option, "--trusted-root");
    assert!(e.message.contains("line 1, column"), "{e}");
    let broken_chain = TrustOptions {
        trusted_root: Some(fixture("trusted_root_broken_chain.json")),
        ..keyless(IDENTITY, ISSUER)
    };
    let e = err(broken_chain);
    assert_eq!(e.option, "--trusted-root");
    assert!(
        e.message
            .starts_with("certificateAuthorities[0].certChain: 1 certificate(s) are not signed by the chain"),
        "{e}"
    );
    assert!(Policy::new(&TrustOptions::default()).is_ok());
}

fn b64d(text: &str) -> Vec<u8> {
    cip_core::trust::encoding::unb64(text).unwrap()
}

fn b64e(bytes: &[u8]) -> String {
    cip_core::trust::encoding::b64(bytes)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    cip_core::trust::encoding::hex(&sha2::Sha256::digest(bytes))
}
