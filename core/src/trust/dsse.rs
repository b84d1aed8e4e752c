//! DSSE envelopes (the in-toto attestation wrapper): the JSON form cosign stores in `.att` layers
//! and a Sigstore bundle's `dsseEnvelope` holds, and the pre-authentication encoding (PAE) that is
//! what a DSSE signature actually signs.

use serde::{Deserialize, Serialize};

use super::FormatError;
use super::encoding::base64_bytes;

/// The payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope. `payload` and each `sig` are bytes (base64 in JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The payload's media type ([`IN_TOTO_PAYLOAD_TYPE`]).
    pub payload_type: String,
    /// The payload bytes (an in-toto statement).
    #[serde(with = "base64_bytes")]
    pub payload: Vec<u8>,
    /// The signatures over [`pae`]`(payload_type, payload)`.
    #[serde(default)]
    pub signatures: Vec<Signature>,
}

/// One signature of an [`Envelope`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// An optional hint naming the key; not authenticated. Left out when empty, as protobuf
    /// JSON (a bundle's `dsseEnvelope`) does; cosign's `.att` layers write `""`, read alike.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The ASN.1 DER ECDSA signature.
    #[serde(with = "base64_bytes")]
    pub sig: Vec<u8>,
}

impl Envelope {
    /// Builds an envelope with one signature.
    pub fn new(payload_type: &str, payload: &[u8], signature: &[u8], keyid: &str) -> Self {
        Self {
            payload_type: payload_type.to_owned(),
            payload: payload.to_vec(),
            signatures: vec![Signature { keyid: keyid.to_owned(), sig: signature.to_vec() }],
        }
    }

    /// Reads an envelope from its JSON bytes.
    ///
    /// # Errors
    ///
    /// Not JSON, a missing field, or a payload/signature that is not base64.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FormatError> {
        serde_json::from_slice(bytes).map_err(|e| FormatError::invalid("DSSE envelope", e.to_string()))
    }

    /// The envelope as JSON bytes (`payloadType`, `payload`, `signatures[{keyid, sig}]`).
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings and byte fields always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The bytes each signature signs.
    pub fn signed_bytes(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }
}

/// DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_spec_example() {
        // The DSSE protocol document's test vector.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn json_round_trip() {
        // cosign's `.att` layer writes `"keyid":""`; protobuf JSON leaves it out.
        let json = br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"AQI="}]}"#;
        let envelope = Envelope::from_json(json).unwrap();
        assert_eq!(envelope.payload, b"{}");
        assert_eq!(envelope.signatures[0].sig, vec![1, 2]);
        assert_eq!(
            envelope.to_json(),
            br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AQI="}]}"#.to_vec()
        );
        let with_id = Envelope::new(IN_TOTO_PAYLOAD_TYPE, b"{}", &[1, 2], "k1");
        assert!(String::from_utf8(with_id.to_json()).unwrap().contains(r#"{"keyid":"k1","sig":"AQI="}"#));
        assert_eq!(envelope, Envelope::new(IN_TOTO_PAYLOAD_TYPE, b"{}", &[1, 2], ""));
        assert!(Envelope::from_json(br#"{"payloadType":"x","payload":"*"}"#).is_err());
    }
}
