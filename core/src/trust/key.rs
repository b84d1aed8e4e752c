//! Public keys: read once from PEM (SPKI, what `cosign.pub` holds) or from a certificate's
//! SubjectPublicKeyInfo DER, then used to verify ECDSA signatures in ASN.1 DER form (what cosign,
//! Fulcio and Rekor produce). P-256 verifies with SHA-256 and P-384 with SHA-384, the pairings
//! Sigstore's trusted roots and cosign's keys use.

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use spki::der::Decode as _;
use spki::{DecodePublicKey as _, EncodePublicKey as _, ObjectIdentifier, SubjectPublicKeyInfoRef};

use super::FormatError;

/// `id-ecPublicKey` (RFC 5480).
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `rsaEncryption`, named in the error when someone gives an RSA key.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// `id-Ed25519`, named in the error when someone gives an Ed25519 key.
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// `secp256r1` (P-256).
const P256_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// `secp384r1` (P-384).
const P384_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// An ECDSA public key cip verifies with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyKey {
    /// NIST P-256, signatures over SHA-256.
    P256(p256::ecdsa::VerifyingKey),
    /// NIST P-384, signatures over SHA-384.
    P384(p384::ecdsa::VerifyingKey),
}

impl VerifyKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), the form of `cosign.pub`. Text around
    /// the block is ignored; the first block must be the key.
    ///
    /// # Errors
    ///
    /// Not PEM, another PEM kind (a certificate or a private key), or not an ECDSA P-256/P-384 key.
    pub fn from_pem(pem: &str) -> Result<Self, FormatError> {
        let blocks = pem_blocks(pem)?;
        let Some((label, der)) = blocks.first() else {
            return Err(FormatError::NotAKey {
                expected: "PEM public key",
                found: "no PEM block (-----BEGIN PUBLIC KEY-----)".into(),
            });
        };
        if label != "PUBLIC KEY" {
            return Err(FormatError::NotAKey {
                expected: "PEM public key",
                found: format!("a PEM {label} block (give the -----BEGIN PUBLIC KEY----- file)"),
            });
        }
        Self::from_spki_der(der)
    }

    /// Reads a DER SubjectPublicKeyInfo, e.g. the one inside an X.509 certificate.
    ///
    /// # Errors
    ///
    /// Not DER SPKI, or not an ECDSA P-256/P-384 key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, FormatError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| FormatError::NotAKey {
            expected: "SubjectPublicKeyInfo",
            found: format!("DER that does not parse ({e})"),
        })?;
        let algorithm = spki.algorithm.oid;
        if algorithm == RSA_ENCRYPTION {
            return Err(FormatError::UnsupportedKey("RSA".into()));
        }
        if algorithm == ED25519 {
            return Err(FormatError::UnsupportedKey("Ed25519".into()));
        }
        if algorithm != EC_PUBLIC_KEY {
            return Err(FormatError::UnsupportedKey(format!("algorithm {algorithm}")));
        }
        let curve = spki
            .algorithm
            .parameters_oid()
            .map_err(|_| FormatError::UnsupportedKey("EC key without a named curve".into()))?;
        let bad = |e: spki::Error| FormatError::NotAKey {
            expected: "EC public key",
            found: format!("a point that does not decode ({e})"),
        };
        if curve == P256_CURVE {
            let key = p256::PublicKey::from_public_key_der(der).map_err(bad)?;
            Ok(Self::P256(key.into()))
        } else if curve == P384_CURVE {
            let key = p384::PublicKey::from_public_key_der(der).map_err(bad)?;
            Ok(Self::P384(key.into()))
        } else {
            Err(FormatError::UnsupportedKey(format!("EC curve {curve}")))
        }
    }

    /// Whether `der_signature` (ASN.1 DER ECDSA) signs `message` with this key. A signature that
    /// does not parse is simply not valid.
    pub fn verify(&self, message: &[u8], der_signature: &[u8]) -> bool {
        match self {
            Self::P256(key) => p256::ecdsa::DerSignature::try_from(der_signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
            Self::P384(key) => p384::ecdsa::DerSignature::try_from(der_signature)
                .is_ok_and(|sig| key.verify(message, &sig).is_ok()),
        }
    }

    /// Whether `der_signature` signs a message whose hash is `prehash` (SHA-256 for P-256,
    /// SHA-384 for P-384): a Sigstore bundle's `messageSignature` carries only the digest.
    pub fn verify_prehash(&self, prehash: &[u8], der_signature: &[u8]) -> bool {
        match self {
            Self::P256(key) => p256::ecdsa::DerSignature::try_from(der_signature)
                .and_then(|sig| p256::ecdsa::Signature::from_der(sig.as_bytes()))
                .is_ok_and(|sig| key.verify_prehash(prehash, &sig).is_ok()),
            Self::P384(key) => p384::ecdsa::DerSignature::try_from(der_signature)
                .and_then(|sig| p384::ecdsa::Signature::from_der(sig.as_bytes()))
                .is_ok_and(|sig| key.verify_prehash(prehash, &sig).is_ok()),
        }
    }

    /// The key as DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let document = match self {
            Self::P256(key) => p256::PublicKey::from(key).to_public_key_der(),
            Self::P384(key) => p384::PublicKey::from(key).to_public_key_der(),
        };
        // Encoding a valid point cannot fail: the key was decoded or derived.
        document.map(|d| d.into_vec()).unwrap_or_default()
    }

    /// The key as PEM `PUBLIC KEY` (64-column base64, `\n` line ends), as cosign writes it.
    pub fn to_pem(&self) -> String {
        encode_pem("PUBLIC KEY", &self.to_spki_der())
    }

    /// The curve's name (`P-256`, `P-384`).
    pub fn curve(&self) -> &'static str {
        match self {
            Self::P256(_) => "P-256",
            Self::P384(_) => "P-384",
        }
    }
}

/// Every PEM block of `text`, in order, as (label, DER bytes): a certificate chain annotation has
/// several. Text outside the blocks is ignored.
///
/// # Errors
///
/// A block that begins and does not end, or whose base64 does not decode.
pub fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, FormatError> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            return Err(FormatError::invalid("PEM", "a -----BEGIN line does not end with -----"));
        };
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = after.find(&end_marker) else {
            return Err(FormatError::invalid("PEM", format!("the {label} block has no {end_marker} line")));
        };
        let block = &rest[start..start + "-----BEGIN ".len() + end + end_marker.len()];
        let (found, der) = spki::der::pem::decode_vec(block.as_bytes())
            .map_err(|e| FormatError::invalid("PEM", format!("the {label} block does not decode ({e})")))?;
        blocks.push((found.to_owned(), der));
        rest = &after[end + end_marker.len()..];
    }
    Ok(blocks)
}

/// `der` as a PEM block with `label` (64-column base64, `\n` line ends, final newline).
pub fn encode_pem(label: &str, der: &[u8]) -> String {
    spki::der::pem::encode_string(label, spki::der::pem::LineEnding::LF, der).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;

    fn p256_pair() -> (p256::ecdsa::SigningKey, VerifyKey) {
        let signing = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let verify = VerifyKey::P256(*signing.verifying_key());
        (signing, verify)
    }

    #[test]
    fn pem_round_trip_and_verify() {
        let (signing, verify) = p256_pair();
        let pem = verify.to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let parsed = VerifyKey::from_pem(&format!("comment\n{pem}trailer")).unwrap();
        assert_eq!(parsed, verify);
        let sig: p256::ecdsa::DerSignature = signing.sign(b"payload");
        assert!(parsed.verify(b"payload", sig.as_bytes()));
        assert!(!parsed.verify(b"payloaD", sig.as_bytes()));
        assert!(!parsed.verify(b"payload", &sig.as_bytes()[1..]));
        let digest = <sha2::Sha256 as sha2::Digest>::digest(b"payload");
        assert!(parsed.verify_prehash(&digest, sig.as_bytes()));
        assert!(!parsed.verify_prehash(&[0u8; 32], sig.as_bytes()));
    }

    #[test]
    fn p384_verifies_with_sha384() {
        let signing = p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).unwrap();
        let verify = VerifyKey::from_pem(&VerifyKey::P384(*signing.verifying_key()).to_pem()).unwrap();
        assert_eq!(verify.curve(), "P-384");
        let sig: p384::ecdsa::DerSignature = signing.sign(b"m");
        assert!(verify.verify(b"m", sig.as_bytes()));
        assert!(!verify.verify(b"n", sig.as_bytes()));
    }

    #[test]
    fn refuses_other_pem_kinds_and_algorithms() {
        let err = VerifyKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .unwrap_err();
        assert!(err.to_string().contains("CERTIFICATE"), "{err}");
        let err = VerifyKey::from_pem("nothing here").unwrap_err();
        assert!(err.to_string().contains("no PEM block"), "{err}");
        // An Ed25519 SPKI (RFC 8410 example).
        let ed = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        assert_eq!(VerifyKey::from_pem(ed).unwrap_err(), FormatError::UnsupportedKey("Ed25519".into()));
    }

    #[test]
    fn pem_blocks_reads_a_chain() {
        let (_, a) = p256_pair();
        let text = format!("{}{}", a.to_pem(), encode_pem("CERTIFICATE", b"\x30\x00"));
        let blocks = pem_blocks(&text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[1], ("CERTIFICATE".to_owned(), b"\x30\x00".to_vec()));
        assert!(pem_blocks("-----BEGIN X-----\nAAAA\n").is_err());
    }
}
