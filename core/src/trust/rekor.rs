//! Rekor v1 (the transparency log): the entry bodies cip proposes (`hashedrekord` v0.0.1,
//! `dsse` v0.0.1) and reads back (those, and cosign v2's `intoto` v0.0.2), the log's entry response, the signed entry timestamp's exact
//! message, and the two places an entry is kept: a Sigstore bundle's `tlogEntries` and cosign's
//! `dev.sigstore.cosign/bundle` annotation.

use serde::{Deserialize, Serialize};

use super::FormatError;
use super::bundle::{Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId, TlogEntry};
use super::dsse::Envelope;
use super::encoding::{b64, unb64, unhex};

/// One entry as `POST /api/v1/log/entries` (and `GET .../entries/{uuid}`) answer it, under its
/// UUID key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// The canonicalized entry body, base64.
    pub body: String,
    /// When the log integrated it, Unix seconds.
    pub integrated_time: i64,
    /// The log's id: hex SHA-256 of its DER public key.
    #[serde(rename = "logID")]
    pub log_id: String,
    /// The entry's index in the log.
    pub log_index: i64,
    /// The signed entry timestamp and the inclusion proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

/// `verification` of a [`LogEntry`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// The log's signature over [`set_message`], base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_entry_timestamp: Option<String>,
    /// The Merkle inclusion proof (hex hashes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<RekorInclusionProof>,
}

/// Rekor's inclusion proof: hex hashes, the checkpoint as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RekorInclusionProof {
    /// The signed checkpoint note.
    #[serde(default)]
    pub checkpoint: String,
    /// Hex hashes, leaf to root.
    #[serde(default)]
    pub hashes: Vec<String>,
    /// The index in the tree.
    pub log_index: i64,
    /// Hex root hash.
    pub root_hash: String,
    /// The tree's size.
    pub tree_size: i64,
}

/// Reads a log entry response: a JSON object of UUID → entry (one, in practice).
///
/// # Errors
///
/// Not that JSON object.
pub fn parse_log_entries(bytes: &[u8]) -> Result<Vec<(String, LogEntry)>, FormatError> {
    let map: std::collections::BTreeMap<String, LogEntry> =
        serde_json::from_slice(bytes).map_err(|e| FormatError::invalid("Rekor log entry", e.to_string()))?;
    Ok(map.into_iter().collect())
}

/// The bytes a Rekor signed entry timestamp signs: the RFC 8785 canonical JSON of
/// `{body, integratedTime, logID, logIndex}` (keys in that sorted order, no spaces).
pub fn set_message(body_b64: &str, integrated_time: i64, log_id_hex: &str, log_index: i64) -> Vec<u8> {
    #[derive(Serialize)]
    struct Canonical<'a> {
        body: &'a str,
        #[serde(rename = "integratedTime")]
        integrated_time: i64,
        #[serde(rename = "logID")]
        log_id: &'a str,
        #[serde(rename = "logIndex")]
        log_index: i64,
    }
    // Base64 and hex need no JSON escaping, so serde_json's output is the canonical form.
    serde_json::to_vec(&Canonical { body: body_b64, integrated_time, log_id: log_id_hex, log_index })
        .unwrap_or_default()
}

impl LogEntry {
    /// The bytes its signed entry timestamp signs.
    pub fn set_message(&self) -> Vec<u8> {
        set_message(&self.body, self.integrated_time, &self.log_id, self.log_index)
    }

    /// The entry as a Sigstore bundle `tlogEntries` item (kind and version from its body).
    ///
    /// # Errors
    ///
    /// A body, log id, timestamp or proof that does not decode.
    pub fn to_tlog_entry(&self) -> Result<TlogEntry, FormatError> {
        const WHAT: &str = "Rekor log entry";
        let body = unb64(&self.body).ok_or_else(|| FormatError::invalid(WHAT, "body is not base64"))?;
        let kind: KindOnly =
            serde_json::from_slice(&body).map_err(|e| FormatError::invalid(WHAT, format!("body: {e}")))?;
        let key_id = unhex(&self.log_id).ok_or_else(|| FormatError::invalid(WHAT, "logID is not hex"))?;
        let verification = self.verification.clone().unwrap_or_default();
        let inclusion_promise = match verification.signed_entry_timestamp {
            Some(set) => Some(InclusionPromise {
                signed_entry_timestamp: unb64(&set)
                    .ok_or_else(|| FormatError::invalid(WHAT, "signedEntryTimestamp is not base64"))?,
            }),
            None => None,
        };
        let inclusion_proof = match verification.inclusion_proof {
            Some(proof) => {
                let unhex_field = |h: &str| {
                    unhex(h).ok_or_else(|| FormatError::invalid(WHAT, "inclusionProof hash is not hex"))
                };
                Some(InclusionProof {
                    log_index: proof.log_index,
                    root_hash: unhex_field(&proof.root_hash)?,
                    tree_size: proof.tree_size,
                    hashes: proof.hashes.iter().map(|h| unhex_field(h)).collect::<Result<_, _>>()?,
                    checkpoint: Checkpoint { envelope: proof.checkpoint },
                })
            }
            None => None,
        };
        Ok(TlogEntry {
            log_index: self.log_index,
            log_id: LogId { key_id },
            kind_version: KindVersion { kind: kind.kind, version: kind.api_version },
            integrated_time: self.integrated_time,
            inclusion_promise,
            inclusion_proof,
            canonicalized_body: body,
        })
    }

    /// The entry as cosign's `dev.sigstore.cosign/bundle` annotation.
    ///
    /// # Errors
    ///
    /// The entry has no signed entry timestamp.
    pub fn to_cosign_bundle(&self) -> Result<CosignBundle, FormatError> {
        let set = self
            .verification
            .as_ref()
            .and_then(|v| v.signed_entry_timestamp.clone())
            .ok_or_else(|| FormatError::invalid("Rekor log entry", "no signedEntryTimestamp"))?;
        Ok(CosignBundle {
            signed_entry_timestamp: set,
            payload: CosignBundlePayload {
                body: self.body.clone(),
                integrated_time: self.integrated_time,
                log_index: self.log_index,
                log_id: self.log_id.clone(),
            },
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KindOnly {
    kind: String,
    api_version: String,
}

/// cosign's `dev.sigstore.cosign/bundle` annotation (Go's `bundle.RekorBundle`, fields in its
/// order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosignBundle {
    /// The log's signed entry timestamp, base64.
    #[serde(rename = "SignedEntryTimestamp")]
    pub signed_entry_timestamp: String,
    /// The entry it signs.
    #[serde(rename = "Payload")]
    pub payload: CosignBundlePayload,
}

/// `Payload` of a [`CosignBundle`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosignBundlePayload {
    /// The canonicalized entry body, base64.
    pub body: String,
    /// Unix seconds.
    #[serde(rename = "integratedTime")]
    pub integrated_time: i64,
    /// The entry's index.
    #[serde(rename = "logIndex")]
    pub log_index: i64,
    /// Hex log id.
    #[serde(rename = "logID")]
    pub log_id: String,
}

impl CosignBundle {
    /// Reads the annotation's JSON.
    ///
    /// # Errors
    ///
    /// Not that JSON.
    pub fn from_json(text: &str) -> Result<Self, FormatError> {
        serde_json::from_str(text)
            .map_err(|e| FormatError::invalid("cosign bundle annotation", e.to_string()))
    }

    /// The annotation's JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The bytes its signed entry timestamp signs.
    pub fn set_message(&self) -> Vec<u8> {
        let p = &self.payload;
        set_message(&p.body, p.integrated_time, &p.log_id, p.log_index)
    }
}

/// A decoded entry body, as far as cip checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryBody {
    /// `hashedrekord` v0.0.1: a signature over an artifact's hash.
    HashedRekord {
        /// Hash algorithm (`sha256`).
        algorithm: String,
        /// Lower-case hex of the artifact's hash.
        hash_hex: String,
        /// The DER signature.
        signature: Vec<u8>,
        /// The verifier: PEM public key or certificate, as bytes.
        verifier_pem: Vec<u8>,
    },
    /// `dsse` v0.0.1, or `intoto` v0.0.2 (what cosign v2 logs for attestations; the same
    /// facts): a DSSE envelope's hashes and signatures.
    Dsse {
        /// Hex SHA-256 of the envelope JSON as submitted.
        envelope_hash_hex: String,
        /// Hex SHA-256 of the payload.
        payload_hash_hex: String,
        /// Each (DER signature, verifier PEM bytes).
        signatures: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// Any other kind or version (`kind`, `apiVersion`).
    Other(String, String),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Proposed<S> {
    api_version: String,
    kind: String,
    spec: S,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedRekordSpec {
    data: HashedData,
    signature: HashedSignature,
}

#[derive(Serialize, Deserialize)]
struct HashedData {
    hash: Hash,
}

#[derive(Serialize, Deserialize)]
struct Hash {
    algorithm: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedSignature {
    content: String,
    public_key: Content,
}

#[derive(Serialize, Deserialize)]
struct Content {
    content: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DsseSpec {
    envelope_hash: Hash,
    payload_hash: Hash,
    signatures: Vec<DsseSignature>,
}

#[derive(Deserialize)]
struct DsseSignature {
    signature: String,
    verifier: String,
}

#[derive(Deserialize)]
struct IntotoSpec {
    content: IntotoContent,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoContent {
    hash: Hash,
    payload_hash: Hash,
    envelope: IntotoEnvelope,
}

#[derive(Deserialize)]
struct IntotoEnvelope {
    signatures: Vec<IntotoSignature>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoSignature {
    sig: String,
    public_key: String,
}

/// Reads a canonicalized entry body (bytes, base64-decoded).
///
/// # Errors
///
/// Not JSON, or a `hashedrekord`/`dsse` body whose fields do not decode.
pub fn parse_entry_body(body: &[u8]) -> Result<EntryBody, FormatError> {
    const WHAT: &str = "Rekor entry body";
    let invalid = |e: serde_json::Error| FormatError::invalid(WHAT, e.to_string());
    let kind: KindOnly = serde_json::from_slice(body).map_err(invalid)?;
    let decode = |field: &str, text: &str| {
        unb64(text).ok_or_else(|| FormatError::invalid(WHAT, format!("{field} is not base64")))
    };
    match (kind.kind.as_str(), kind.api_version.as_str()) {
        ("hashedrekord", "0.0.1") => {
            let entry: Proposed<HashedRekordSpec> = serde_json::from_slice(body).map_err(invalid)?;
            Ok(EntryBody::HashedRekord {
                algorithm: entry.spec.data.hash.algorithm,
                hash_hex: entry.spec.data.hash.value.to_ascii_lowercase(),
                signature: decode("signature.content", &entry.spec.signature.content)?,
                verifier_pem: decode(
                    "signature.publicKey.content",
                    &entry.spec.signature.public_key.content,
                )?,
            })
        }
        ("dsse", "0.0.1") => {
            let entry: Proposed<DsseSpec> = serde_json::from_slice(body).map_err(invalid)?;
            let signatures = entry
                .spec
                .signatures
                .iter()
                .map(|s| Ok((decode("signature", &s.signature)?, decode("verifier", &s.verifier)?)))
                .collect::<Result<_, FormatError>>()?;
            Ok(EntryBody::Dsse {
                envelope_hash_hex: entry.spec.envelope_hash.value.to_ascii_lowercase(),
                payload_hash_hex: entry.spec.payload_hash.value.to_ascii_lowercase(),
                signatures,
            })
        }
        ("intoto", "0.0.2") => {
            let entry: Proposed<IntotoSpec> = serde_json::from_slice(body).map_err(invalid)?;
            let content = entry.spec.content;
            let signatures = content
                .envelope
                .signatures
                .iter()
                .map(|s| {
                    // intoto v0.0.2 stores the envelope's base64 signature base64-encoded again;
                    // a DER signature starts with 0x30, its base64 text with `M`.
                    let once = decode("signatures.sig", &s.sig)?;
                    let sig = match once.first() {
                        Some(0x30) => once,
                        _ => std::str::from_utf8(&once)
                            .ok()
                            .and_then(unb64)
                            .ok_or_else(|| FormatError::invalid(WHAT, "signatures.sig is not base64"))?,
                    };
                    Ok((sig, decode("signatures.publicKey", &s.public_key)?))
                })
                .collect::<Result<_, FormatError>>()?;
            Ok(EntryBody::Dsse {
                envelope_hash_hex: content.hash.value.to_ascii_lowercase(),
                payload_hash_hex: content.payload_hash.value.to_ascii_lowercase(),
                signatures,
            })
        }
        _ => Ok(EntryBody::Other(kind.kind, kind.api_version)),
    }
}

/// The `hashedrekord` v0.0.1 entry to propose for a signature over a message whose SHA-256 is
/// `sha256_hex`, verified by `verifier_pem` (the PEM public key, or the PEM leaf certificate
/// when keyless).
pub fn hashedrekord_entry(sha256_hex: &str, der_signature: &[u8], verifier_pem: &str) -> Vec<u8> {
    let entry = Proposed {
        api_version: "0.0.1".to_owned(),
        kind: "hashedrekord".to_owned(),
        spec: HashedRekordSpec {
            data: HashedData { hash: Hash { algorithm: "sha256".to_owned(), value: sha256_hex.to_owned() } },
            signature: HashedSignature {
                content: b64(der_signature),
                public_key: Content { content: b64(verifier_pem.as_bytes()) },
            },
        },
    };
    serde_json::to_vec(&entry).unwrap_or_default()
}

/// The `dsse` v0.0.1 entry to propose for a signed envelope, verified by `verifier_pem`
/// (PEM public key or leaf certificate). The log hashes the envelope JSON given here.
pub fn dsse_entry(envelope: &Envelope, verifier_pem: &str) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Spec {
        proposed_content: ProposedContent,
    }
    #[derive(Serialize)]
    struct ProposedContent {
        envelope: String,
        verifiers: Vec<String>,
    }
    let entry = Proposed {
        api_version: "0.0.1".to_owned(),
        kind: "dsse".to_owned(),
        spec: Spec {
            proposed_content: ProposedContent {
                envelope: String::from_utf8(envelope.to_json()).unwrap_or_default(),
                verifiers: vec![b64(verifier_pem.as_bytes())],
            },
        },
    };
    serde_json::to_vec(&entry).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Rekor answer's shape (from the v1 API's `LogEntry` definition), shortened values.
    fn answer(body_b64: &str) -> String {
        format!(
            r#"{{"24296fb24b8ad77a0f1c": {{"body":"{body_b64}","integratedTime":1700000000,
              "logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d","logIndex":42,
              "verification":{{"signedEntryTimestamp":"MEUCIQ==",
                "inclusionProof":{{"checkpoint":"log - 1\n43\nAAE=\n","hashes":["0a0b"],"logIndex":41,"rootHash":"0001","treeSize":43}}}}}}}}"#
        )
    }

    #[test]
    fn set_message_is_canonical_json() {
        assert_eq!(
            String::from_utf8(set_message("e30=", 1_700_000_000, "c0d2", 42)).unwrap(),
            r#"{"body":"e30=","integratedTime":1700000000,"logID":"c0d2","logIndex":42}"#
        );
    }

    #[test]
    fn hashedrekord_round_trip_and_to_bundle_and_annotation() {
        let body = hashedrekord_entry("ABCD", &[0x30, 0x01], "-----BEGIN PUBLIC KEY-----\n");
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.starts_with(r#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"ABCD"}}"#), "{text}");
        assert_eq!(
            parse_entry_body(&body).unwrap(),
            EntryBody::HashedRekord {
                algorithm: "sha256".into(),
                hash_hex: "abcd".into(),
                signature: vec![0x30, 0x01],
                verifier_pem: b"-----BEGIN PUBLIC KEY-----\n".to_vec(),
            }
        );
        let entries = parse_log_entries(answer(&b64(&body)).as_bytes()).unwrap();
        let (uuid, entry) = &entries[0];
        assert_eq!(uuid, "24296fb24b8ad77a0f1c");
        let tlog = entry.to_tlog_entry().unwrap();
        assert_eq!(tlog.kind_version, KindVersion { kind: "hashedrekord".into(), version: "0.0.1".into() });
        assert_eq!(tlog.canonicalized_body, body);
        assert_eq!(tlog.log_id.key_id.len(), 32);
        let proof = tlog.inclusion_proof.unwrap();
        assert_eq!((proof.log_index, proof.tree_size, proof.root_hash), (41, 43, vec![0, 1]));
        assert_eq!(proof.hashes, vec![vec![0x0a, 0x0b]]);
        let cosign = entry.to_cosign_bundle().unwrap();
        let json = cosign.to_json();
        assert!(json.starts_with(r#"{"SignedEntryTimestamp":"MEUCIQ==","Payload":{"body":""#), "{json}");
        assert!(json.ends_with(r#""integratedTime":1700000000,"logIndex":42,"logID":"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"}}"#), "{json}");
        let back = CosignBundle::from_json(&json).unwrap();
        assert_eq!(back.set_message(), entry.set_message());
    }

    #[test]
    fn dsse_body_parses_and_bad_entries_are_refused() {
        let canonical = br#"{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":"AA"},"payloadHash":{"algorithm":"sha256","value":"bb"},"signatures":[{"signature":"AQ==","verifier":"Ag=="}]}}"#;
        assert_eq!(
            parse_entry_body(canonical).unwrap(),
            EntryBody::Dsse {
                envelope_hash_hex: "aa".into(),
                payload_hash_hex: "bb".into(),
                signatures: vec![(vec![1], vec![2])],
            }
        );
        // intoto v0.0.2 as Rekor stores cosign v2 attestations: the signature base64 twice.
        let intoto = format!(
            r#"{{"apiVersion":"0.0.2","kind":"intoto","spec":{{"content":{{"envelope":{{"payloadType":"application/vnd.in-toto+json","signatures":[{{"publicKey":"Ag==","sig":"{}"}}]}},"hash":{{"algorithm":"sha256","value":"CC"}},"payloadHash":{{"algorithm":"sha256","value":"DD"}}}}}}}}"#,
            b64(b64(&[0x30, 0x01]).as_bytes())
        );
        assert_eq!(
            parse_entry_body(intoto.as_bytes()).unwrap(),
            EntryBody::Dsse {
                envelope_hash_hex: "cc".into(),
                payload_hash_hex: "dd".into(),
                signatures: vec![(vec![0x30, 0x01], vec![2])],
            }
        );
        assert_eq!(
            parse_entry_body(br#"{"apiVersion":"0.0.5","kind":"rekord","spec":{}}"#).unwrap(),
            EntryBody::Other("rekord".into(), "0.0.5".into())
        );
        assert!(parse_entry_body(b"[]").is_err());
        let no_set = answer("e30=").replace(r#""signedEntryTimestamp":"MEUCIQ==","#, "");
        let entries = parse_log_entries(no_set.as_bytes()).unwrap();
        assert!(entries[0].1.to_cosign_bundle().is_err());
        // `{}` has no kind: it is no entry body.
        assert!(entries[0].1.to_tlog_entry().is_err());
    }

    /// The keyless lab's Rekor key (tests/sigstore/fixtures/trusted_root.json), and its log id.
    fn lab_log() -> (crate::trust::VerifyKey, Vec<u8>) {
        let root: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/sigstore/fixtures/trusted_root.json")).unwrap();
        let tlog = &root["tlogs"][0];
        let der = unb64(tlog["publicKey"]["rawBytes"].as_str().unwrap()).unwrap();
        let log_id = unb64(tlog["logId"]["keyId"].as_str().unwrap()).unwrap();
        (crate::trust::VerifyKey::from_spki_der(&der).unwrap(), log_id)
    }

    /// Entries sigstore-js logged in the lab's Rekor (@sigstore/mock): each signed entry timestamp
    /// verifies over [`set_message`] with the log's key, and each body reads as the signature it
    /// records.
    #[test]
    fn sigstore_js_entries_verify_and_their_bodies_read() {
        use crate::trust::bundle::Bundle;
        use sha2::Digest as _;
        let (log_key, log_id) = lab_log();
        let fixtures = [
            include_str!("../../../tests/sigstore/fixtures/message/bundle.json"),
            include_str!("../../../tests/sigstore/fixtures/message/bundle-v0.3.json"),
            include_str!("../../../tests/sigstore/fixtures/dsse/bundle.json"),
            include_str!("../../../tests/sigstore/fixtures/legacy/bundle.json"),
        ];
        for text in fixtures {
            let bundle = Bundle::from_json(text.as_bytes()).unwrap();
            let entry = &bundle.verification_material.tlog_entries[0];
            assert_eq!(entry.log_id.key_id, log_id);
            let message = set_message(
                &b64(&entry.canonicalized_body),
                entry.integrated_time,
                &crate::trust::encoding::hex(&entry.log_id.key_id),
                entry.log_index,
            );
            let set = &entry.inclusion_promise.as_ref().unwrap().signed_entry_timestamp;
            assert!(log_key.verify(&message, set));
            let mut tampered = message.clone();
            tampered[10] ^= 1;
            assert!(!log_key.verify(&tampered, set));
            match (
                parse_entry_body(&entry.canonicalized_body).unwrap(),
                &bundle.message_signature,
                &bundle.dsse_envelope,
            ) {
                (EntryBody::HashedRekord { algorithm, hash_hex, signature, verifier_pem }, Some(m), None) => {
                    assert_eq!(algorithm, "sha256");
                    assert_eq!(unhex(&hash_hex).unwrap(), m.message_digest.as_ref().unwrap().digest);
                    assert_eq!(signature, m.signature);
                    assert!(
                        String::from_utf8(verifier_pem).unwrap().starts_with("-----BEGIN CERTIFICATE-----")
                    );
                }
                (EntryBody::Dsse { payload_hash_hex, signatures, .. }, None, Some(envelope)) => {
                    assert_eq!(
                        unhex(&payload_hash_hex).unwrap(),
                        sha2::Sha256::digest(&envelope.payload).to_vec()
                    );
                    assert_eq!(signatures[0].0, envelope.signatures[0].sig);
                }
                other => panic!("unexpected entry/content pairing: {other:?}"),
            }
        }
    }

    /// cosign's bundle annotation on the lab's legacy keyless layer (built from sigstore-js's
    /// entry): its SET verifies, and its body names the layer's payload and signature.
    #[test]
    fn legacy_layer_bundle_annotation_verifies() {
        let (log_key, _) = lab_log();
        let layer: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/sigstore/fixtures/legacy/layer.json")).unwrap();
        let annotations = &layer["annotations"];
        let cosign =
            CosignBundle::from_json(annotations[crate::trust::BUNDLE_ANNOTATION].as_str().unwrap()).unwrap();
        let set = unb64(&cosign.signed_entry_timestamp).unwrap();
        assert!(log_key.verify(&cosign.set_message(), &set));
        let body = parse_entry_body(&unb64(&cosign.payload.body).unwrap()).unwrap();
        let EntryBody::HashedRekord { hash_hex, signature, .. } = body else { panic!("{body:?}") };
        assert_eq!(format!("sha256:{hash_hex}"), layer["digest"].as_str().unwrap());
        let annotated = unb64(annotations[crate::trust::SIGNATURE_ANNOTATION].as_str().unwrap()).unwrap();
        assert_eq!(signature, annotated);
        // Written back, the annotation is the same JSON.
        let original: serde_json::Value =
            serde_json::from_str(annotations[crate::trust::BUNDLE_ANNOTATION].as_str().unwrap()).unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&cosign.to_json()).unwrap(), original);
    }

    #[test]
    fn dsse_proposed_entry_carries_the_envelope_text() {
        let envelope = Envelope::new("application/vnd.in-toto+json", b"{}", &[1], "");
        let body = dsse_entry(&envelope, "PEM");
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["kind"], "dsse");
        let text = value["spec"]["proposedContent"]["envelope"].as_str().unwrap();
        assert_eq!(Envelope::from_json(text.as_bytes()).unwrap(), envelope);
        assert_eq!(value["spec"]["proposedContent"]["verifiers"][0], b64(b"PEM"));
    }
}
