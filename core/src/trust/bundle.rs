//! Sigstore bundles (`dev.sigstore.bundle.v1.Bundle`) in their protobuf-JSON form: camelCase
//! names, bytes as base64, int64 as strings (numbers are read too), zero and empty fields left
//! out and read as defaults (proto3). v0.3 is what cip writes and
//! what cosign v3 stores as an OCI 1.1 referrer; v0.1/v0.2 parse as well (the verifier decides).

use serde::{Deserialize, Serialize};

use super::dsse::Envelope;
use super::encoding::{base64_bytes, base64_list, int64};
use super::{BUNDLE_MEDIA_TYPE, FormatError};

/// Protobuf JSON leaves out zero scalars (a log's first entry has no `logIndex`).
fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A Sigstore bundle: verification material and exactly one of a message signature or a DSSE
/// envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// `application/vnd.dev.sigstore.bundle.v0.3+json` (or an older version's).
    pub media_type: String,
    /// The key or certificate, log entries and timestamps.
    pub verification_material: VerificationMaterial,
    /// A signature over an artifact's digest (what `cosign sign-blob` writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<MessageSignature>,
    /// A DSSE envelope (attestations; cosign v3 image signatures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
}

/// `VerificationMaterial`: one of `certificate` (v0.3), `x509CertificateChain` (v0.1/v0.2) or
/// `publicKey`, plus the transparency log entries and timestamps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// The leaf certificate (v0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    /// The certificate chain, leaf first (v0.1/v0.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertificateChain>,
    /// A hint naming the public key (key-based signatures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// Transparency log entries (Rekor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlog_entries: Vec<TlogEntry>,
    /// RFC 3161 timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<TimestampVerificationData>,
}

/// `X509Certificate`: DER bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    /// The certificate's DER.
    #[serde(with = "base64_bytes")]
    pub raw_bytes: Vec<u8>,
}

/// `X509CertificateChain`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateChain {
    /// Leaf first.
    #[serde(default)]
    pub certificates: Vec<Certificate>,
}

/// `PublicKeyIdentifier`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    /// An optional, unauthenticated name for the key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hint: String,
}

/// `TransparencyLogEntry`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlogEntry {
    /// The entry's index in the log.
    #[serde(with = "int64", default, skip_serializing_if = "is_zero")]
    pub log_index: i64,
    /// Which log: the SHA-256 of its public key's DER.
    pub log_id: LogId,
    /// The entry's kind and version (`hashedrekord` `0.0.1`, `dsse` `0.0.1`).
    pub kind_version: KindVersion,
    /// When the log integrated the entry, Unix seconds.
    #[serde(with = "int64", default, skip_serializing_if = "is_zero")]
    pub integrated_time: i64,
    /// The log's signed entry timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_promise: Option<InclusionPromise>,
    /// The Merkle inclusion proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<InclusionProof>,
    /// The entry body exactly as the log canonicalized it (JSON bytes).
    #[serde(with = "base64_bytes")]
    pub canonicalized_body: Vec<u8>,
}

/// `LogId`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    /// SHA-256 of the log's DER public key.
    #[serde(with = "base64_bytes")]
    pub key_id: Vec<u8>,
}

/// `KindVersion`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindVersion {
    /// `hashedrekord`, `dsse`, `intoto`.
    pub kind: String,
    /// `0.0.1`, `0.0.2`.
    pub version: String,
}

/// `InclusionPromise`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    /// The log's ECDSA signature over the canonical entry (see `rekor::set_message`).
    #[serde(with = "base64_bytes")]
    pub signed_entry_timestamp: Vec<u8>,
}

/// `InclusionProof`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// The entry's index in the (sharded) tree.
    #[serde(with = "int64", default, skip_serializing_if = "is_zero")]
    pub log_index: i64,
    /// The tree's root hash.
    #[serde(with = "base64_bytes")]
    pub root_hash: Vec<u8>,
    /// The tree's size.
    #[serde(with = "int64", default, skip_serializing_if = "is_zero")]
    pub tree_size: i64,
    /// The proof's hashes, leaf to root.
    #[serde(with = "base64_list", default, skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint (note) of that tree.
    pub checkpoint: Checkpoint,
}

/// `Checkpoint`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The signed note's text.
    pub envelope: String,
}

/// `TimestampVerificationData`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimestampVerificationData {
    /// RFC 3161 signed timestamps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rfc3161_timestamps: Vec<Rfc3161Timestamp>,
}

/// `RFC3161SignedTimestamp`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rfc3161Timestamp {
    /// The DER timestamp response.
    #[serde(with = "base64_bytes")]
    pub signed_timestamp: Vec<u8>,
}

/// `MessageSignature`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    /// The digest of the signed message (optional in the spec).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_digest: Option<HashOutput>,
    /// The ASN.1 DER ECDSA signature over the message.
    #[serde(with = "base64_bytes")]
    pub signature: Vec<u8>,
}

/// `HashOutput`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashOutput {
    /// `SHA2_256`, `SHA2_384`, ...
    pub algorithm: String,
    /// The digest bytes.
    #[serde(with = "base64_bytes")]
    pub digest: Vec<u8>,
}

/// Protobuf's name for SHA-256 in `HashOutput.algorithm`.
pub const SHA2_256: &str = "SHA2_256";

impl MessageSignature {
    /// A signature over `message`, recording the message's SHA-256 (what a verifier compares
    /// with the artifact).
    pub fn sha256(message: &[u8], signature: &[u8]) -> Self {
        use sha2::Digest as _;
        Self {
            message_digest: Some(HashOutput {
                algorithm: SHA2_256.to_owned(),
                digest: sha2::Sha256::digest(message).to_vec(),
            }),
            signature: signature.to_vec(),
        }
    }
}

impl Bundle {
    /// Reads a bundle from its JSON bytes.
    ///
    /// # Errors
    ///
    /// Not JSON, a missing field, bad base64/int64, a media type that is not a Sigstore bundle's,
    /// or both or neither of `messageSignature` and `dsseEnvelope`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FormatError> {
        const WHAT: &str = "Sigstore bundle";
        let bundle: Self =
            serde_json::from_slice(bytes).map_err(|e| FormatError::invalid(WHAT, e.to_string()))?;
        if !super::is_bundle_type(&bundle.media_type) {
            return Err(FormatError::invalid(
                WHAT,
                format!("mediaType {:?} is not a Sigstore bundle's", bundle.media_type),
            ));
        }
        if bundle.message_signature.is_some() == bundle.dsse_envelope.is_some() {
            return Err(FormatError::invalid(
                WHAT,
                "it must hold exactly one of messageSignature and dsseEnvelope",
            ));
        }
        Ok(bundle)
    }

    /// The bundle as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A v0.3 bundle for a keyless signature: the leaf certificate's DER, the log entries and
    /// the content (one of message signature or DSSE envelope).
    pub fn keyless(certificate_der: &[u8], tlog_entries: Vec<TlogEntry>, content: Content) -> Self {
        Self::v03(
            VerificationMaterial {
                certificate: Some(Certificate { raw_bytes: certificate_der.to_vec() }),
                tlog_entries,
                ..VerificationMaterial::default()
            },
            content,
        )
    }

    /// A v0.3 bundle for a key-based signature (`hint` names the key, may be empty).
    pub fn with_key(hint: &str, tlog_entries: Vec<TlogEntry>, content: Content) -> Self {
        Self::v03(
            VerificationMaterial {
                public_key: Some(PublicKeyIdentifier { hint: hint.to_owned() }),
                tlog_entries,
                ..VerificationMaterial::default()
            },
            content,
        )
    }

    fn v03(verification_material: VerificationMaterial, content: Content) -> Self {
        let (message_signature, dsse_envelope) = match content {
            Content::Message(m) => (Some(m), None),
            Content::Dsse(e) => (None, Some(e)),
        };
        Self {
            media_type: BUNDLE_MEDIA_TYPE.to_owned(),
            verification_material,
            message_signature,
            dsse_envelope,
        }
    }

    /// The leaf certificate's DER, whichever field holds it.
    pub fn leaf_certificate(&self) -> Option<&[u8]> {
        let material = &self.verification_material;
        material
            .certificate
            .as_ref()
            .or_else(|| material.x509_certificate_chain.as_ref().and_then(|c| c.certificates.first()))
            .map(|c| c.raw_bytes.as_slice())
    }
}

/// A bundle's signed content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// A signature over a message (with its digest).
    Message(MessageSignature),
    /// A DSSE envelope.
    Dsse(Envelope),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v0.3 bundle as sigstore-go / cosign v3 write it (values shortened).
    const V03: &str = r#"{
      "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
      "verificationMaterial": {
        "certificate": {"rawBytes": "MIIB"},
        "tlogEntries": [{
          "logIndex": "25579",
          "logId": {"keyId": "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="},
          "kindVersion": {"kind": "dsse", "version": "0.0.1"},
          "integratedTime": "1719421238",
          "inclusionPromise": {"signedEntryTimestamp": "MEUC"},
          "inclusionProof": {
            "logIndex": "25578",
            "rootHash": "AAEC",
            "treeSize": "25579",
            "hashes": ["AQID", "BAUG"],
            "checkpoint": {"envelope": "rekor.sigstore.dev - 1\n25579\nAAEC\n"}
          },
          "canonicalizedBody": "e30="
        }]
      },
      "dsseEnvelope": {
        "payload": "e30=",
        "payloadType": "application/vnd.in-toto+json",
        "signatures": [{"sig": "MEQC"}]
      }
    }"#;

    #[test]
    fn parses_v03_with_string_int64() {
        let bundle = Bundle::from_json(V03.as_bytes()).unwrap();
        let entry = &bundle.verification_material.tlog_entries[0];
        assert_eq!(entry.log_index, 25579);
        assert_eq!(entry.integrated_time, 1_719_421_238);
        assert_eq!(entry.log_id.key_id.len(), 32);
        assert_eq!(entry.kind_version.kind, "dsse");
        assert_eq!(entry.canonicalized_body, b"{}");
        let proof = entry.inclusion_proof.as_ref().unwrap();
        assert_eq!((proof.log_index, proof.tree_size), (25578, 25579));
        assert_eq!(proof.hashes, vec![vec![1, 2, 3], vec![4, 5, 6]]);
        assert_eq!(bundle.leaf_certificate(), Some(&[0x30, 0x82, 0x01][..]));
        let envelope = bundle.dsse_envelope.as_ref().unwrap();
        assert_eq!(envelope.signatures[0].keyid, "");
    }

    #[test]
    fn writes_int64_as_strings_and_round_trips() {
        let bundle = Bundle::from_json(V03.as_bytes()).unwrap();
        let json = bundle.to_json();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.contains(r#""logIndex":"25579""#), "{text}");
        assert!(text.contains(r#""integratedTime":"1719421238""#), "{text}");
        assert!(!text.contains("messageSignature"), "{text}");
        assert_eq!(Bundle::from_json(&json).unwrap(), bundle);
    }

    #[test]
    fn reads_numbers_chains_and_message_signatures() {
        let v01 = r#"{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.1",
          "verificationMaterial":{"x509CertificateChain":{"certificates":[{"rawBytes":"AQ=="},{"rawBytes":"Ag=="}]},
            "tlogEntries":[{"logIndex":7,"logId":{"keyId":"AA=="},"kindVersion":{"kind":"hashedrekord","version":"0.0.1"},
              "integratedTime":9,"canonicalizedBody":"e30="}]},
          "messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AAEC"},"signature":"AQ=="}}"#;
        let bundle = Bundle::from_json(v01.as_bytes()).unwrap();
        assert_eq!(bundle.leaf_certificate(), Some(&[1u8][..]));
        assert_eq!(bundle.verification_material.tlog_entries[0].log_index, 7);
        let message = bundle.message_signature.unwrap();
        assert_eq!(message.message_digest.unwrap().algorithm, SHA2_256);
    }

    #[test]
    fn refuses_other_documents() {
        let both =
            V03.replace(r#""dsseEnvelope""#, r#""messageSignature":{"signature":"AQ=="},"dsseEnvelope""#);
        assert!(Bundle::from_json(both.as_bytes()).unwrap_err().to_string().contains("exactly one"));
        let other = V03.replace("application/vnd.dev.sigstore.bundle.v0.3+json", "text/plain");
        assert!(Bundle::from_json(other.as_bytes()).is_err());
        let bad_int = V03.replace(r#""logIndex": "25579""#, r#""logIndex": "x""#);
        assert!(Bundle::from_json(bad_int.as_bytes()).is_err());
    }

    /// Bundles sigstore-js wrote against the keyless lab (tests/sigstore/make-fixtures.mjs): an
    /// independent producer's protobuf JSON reads and writes back to the same JSON value.
    #[test]
    fn sigstore_js_bundles_round_trip() {
        for (name, text) in [
            ("message v0.2", include_str!("../../../tests/sigstore/fixtures/message/bundle.json")),
            ("message v0.3", include_str!("../../../tests/sigstore/fixtures/message/bundle-v0.3.json")),
            ("dsse v0.3", include_str!("../../../tests/sigstore/fixtures/dsse/bundle.json")),
            ("legacy v0.2", include_str!("../../../tests/sigstore/fixtures/legacy/bundle.json")),
        ] {
            let bundle = Bundle::from_json(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(bundle.leaf_certificate().is_some_and(|c| c.len() > 500), "{name}");
            let original: serde_json::Value = serde_json::from_str(text).unwrap();
            let written: serde_json::Value = serde_json::from_slice(&bundle.to_json()).unwrap();
            assert_eq!(written, original, "{name}");
        }
    }

    proptest::proptest! {
        /// Damaged documents are errors, never panics: any byte of a real bundle (and of the
        /// entry body, payload and statement inside it) replaced, or the text cut short.
        #[test]
        fn damaged_documents_never_panic(at in 0usize..20_000, byte in proptest::prelude::any::<u8>()) {
            let original = include_str!("../../../tests/sigstore/fixtures/dsse/bundle.json").as_bytes();
            let at = at % original.len();
            let mut damaged = original.to_vec();
            damaged[at] = byte;
            for bytes in [&damaged[..], &original[..at]] {
                if let Ok(bundle) = Bundle::from_json(bytes) {
                    for entry in &bundle.verification_material.tlog_entries {
                        let _ = crate::trust::rekor::parse_entry_body(&entry.canonicalized_body);
                    }
                    if let Some(envelope) = &bundle.dsse_envelope {
                        let _ = crate::trust::Statement::from_json(&envelope.payload);
                    }
                }
                let _ = crate::trust::rekor::parse_entry_body(bytes);
                let _ = crate::trust::parse_simple_signing(bytes);
                let _ = crate::trust::rekor::parse_log_entries(bytes);
                let _ = crate::trust::fulcio::parse_signing_cert_response(bytes);
                let _ = crate::trust::Envelope::from_json(bytes);
                let _ = crate::trust::fulcio::token_claims(&String::from_utf8_lossy(bytes));
            }
        }
    }

    #[test]
    fn message_signature_records_the_sha256() {
        let m = MessageSignature::sha256(b"abc", &[1]);
        let digest = m.message_digest.unwrap();
        assert_eq!(digest.algorithm, SHA2_256);
        assert_eq!(
            crate::trust::encoding::hex(&digest.digest),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn builders_make_v03() {
        let message = MessageSignature {
            message_digest: Some(HashOutput { algorithm: SHA2_256.into(), digest: vec![0; 32] }),
            signature: vec![1],
        };
        let keyless = Bundle::keyless(&[0x30], vec![], Content::Message(message.clone()));
        assert_eq!(keyless.media_type, BUNDLE_MEDIA_TYPE);
        assert_eq!(Bundle::from_json(&keyless.to_json()).unwrap(), keyless);
        let keyed = Bundle::with_key("", vec![], Content::Message(message));
        let text = String::from_utf8(keyed.to_json()).unwrap();
        assert!(text.contains(r#""publicKey":{}"#), "{text}");
    }
}
