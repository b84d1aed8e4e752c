//! Keys. Public keys are read once from PEM (SPKI, what `cosign.pub` holds) or from a
//! certificate's SubjectPublicKeyInfo DER, then verify ECDSA signatures in ASN.1 DER form (what
//! cosign, Fulcio and Rekor produce); P-256 verifies with SHA-256 and P-384 with SHA-384, the
//! pairings Sigstore's trusted roots and cosign's keys use. Private keys (P-256, what cosign makes)
//! are read from PKCS#8, SEC1 or cosign's encrypted key file (scrypt + nacl/secretbox around
//! PKCS#8) and sign deterministically (RFC 6979), so core needs no randomness.

use crypto_secretbox::aead::{Aead as _, KeyInit as _};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use p256::pkcs8::DecodePrivateKey as _;
use serde::Deserialize;
use spki::der::Decode as _;
use spki::{DecodePublicKey as _, EncodePublicKey as _, ObjectIdentifier, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

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

    /// A Sigstore bundle's `publicKey.hint` for this key: base64 SHA-256 of its DER SPKI (what
    /// sigstore-go and cosign write; verifiers use it only to pick a key).
    pub fn hint(&self) -> String {
        use sha2::Digest as _;
        super::encoding::b64(&sha2::Sha256::digest(self.to_spki_der()))
    }

    /// The curve's name (`P-256`, `P-384`).
    pub fn curve(&self) -> &'static str {
        match self {
            Self::P256(_) => "P-256",
            Self::P384(_) => "P-384",
        }
    }
}

/// PEM labels of cosign's encrypted private key (current, then older cosign releases').
const COSIGN_KEY_LABELS: [&str; 2] = ["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"];

/// The largest scrypt work an encrypted key file may ask for (memory `128 * N * r` bytes, times
/// `p` passes): cosign uses N = 32768, r = 8, p = 1 (32 MiB, once); a file asking for far more
/// is refused rather than obeyed.
const MAX_SCRYPT_WORK: u64 = 256 * 1024 * 1024;

/// An ECDSA P-256 private key cip signs with. Its bytes are wiped when dropped and never shown
/// (`Debug` prints the public key only).
#[derive(Clone)]
pub struct SigningKey(p256::ecdsa::SigningKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("public", &self.verify_key().to_pem()).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PEM private key: PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, or cosign's
    /// encrypted key (`ENCRYPTED SIGSTORE PRIVATE KEY`, `ENCRYPTED COSIGN PRIVATE KEY`) with
    /// `password` (cosign allows an empty one). Text around the block is ignored.
    ///
    /// # Errors
    ///
    /// No private key block; a key of another curve or algorithm than P-256; an encrypted key
    /// without a password or with a wrong one; a damaged file. Messages never quote the key.
    pub fn from_pem(pem: &str, password: Option<&str>) -> Result<Self, FormatError> {
        let blocks = pem_blocks(pem)?;
        let Some((label, der)) = blocks.into_iter().next() else {
            return Err(FormatError::NotAKey {
                expected: "PEM private key",
                found: "no PEM block (-----BEGIN PRIVATE KEY----- or cosign's -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----)".into(),
            });
        };
        let der = Zeroizing::new(der);
        match label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&der),
            label if COSIGN_KEY_LABELS.contains(&label) => {
                let password = password.ok_or(FormatError::PasswordRequired)?;
                let plaintext = decrypt_cosign_key(&der, password)?;
                Self::from_pkcs8_der(&plaintext)
            }
            "ENCRYPTED PRIVATE KEY" => Err(FormatError::UnsupportedKey(
                "a password-encrypted PKCS#8 key (decrypt it, e.g. `openssl pkcs8 -in KEY -out PLAIN`, or use cosign's encrypted key format)".into(),
            )),
            "RSA PRIVATE KEY" => Err(FormatError::UnsupportedKey("RSA".into())),
            other => Err(FormatError::NotAKey {
                expected: "PEM private key",
                found: format!("a PEM {other} block"),
            }),
        }
    }

    /// Reads a PKCS#8 DER private key (P-256 only).
    ///
    /// # Errors
    ///
    /// Not PKCS#8, or not an ECDSA P-256 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, FormatError> {
        let info = pkcs8::PrivateKeyInfo::try_from(der).map_err(|_| FormatError::NotAKey {
            expected: "PKCS#8 private key",
            found: "DER that does not parse as PKCS#8".into(),
        })?;
        check_curve(info.algorithm.oid, info.algorithm.parameters_oid().ok())?;
        p256::SecretKey::from_pkcs8_der(der).map(|k| Self(k.into())).map_err(|_| FormatError::NotAKey {
            expected: "P-256 private key",
            found: "a PKCS#8 key whose EC private key does not decode".into(),
        })
    }

    /// Reads a SEC1 (`EC PRIVATE KEY`) DER private key (P-256 only).
    ///
    /// # Errors
    ///
    /// Not SEC1, or not a P-256 key.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, FormatError> {
        let parsed = sec1::EcPrivateKey::try_from(der).map_err(|_| FormatError::NotAKey {
            expected: "SEC1 EC private key",
            found: "DER that does not parse as SEC1".into(),
        })?;
        let curve = parsed.parameters.and_then(|p| p.named_curve());
        check_curve(EC_PUBLIC_KEY, curve)?;
        p256::SecretKey::from_sec1_der(der).map(|k| Self(k.into())).map_err(|_| FormatError::NotAKey {
            expected: "P-256 private key",
            found: "a SEC1 key that does not decode".into(),
        })
    }

    /// A key from its 32-byte big-endian scalar: the engine makes ephemeral keyless keys from its
    /// random number generator.
    ///
    /// # Errors
    ///
    /// Not 32 bytes, zero, or not below the curve order.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        // p256 would zero-pad a short slice; a scalar shorter than 32 bytes is a caller's bug.
        let bytes: &[u8; 32] = bytes.try_into().map_err(|_| FormatError::NotAKey {
            expected: "P-256 scalar",
            found: format!("{} bytes, not 32", bytes.len()),
        })?;
        p256::ecdsa::SigningKey::from_bytes(bytes.into()).map(Self).map_err(|_| FormatError::NotAKey {
            expected: "P-256 scalar",
            found: "bytes that are not a valid P-256 private scalar".into(),
        })
    }

    /// The public half.
    pub fn verify_key(&self) -> VerifyKey {
        VerifyKey::P256(*self.0.verifying_key())
    }

    /// The public key as PEM `PUBLIC KEY` (what `cosign.pub` holds, what Fulcio is sent).
    pub fn public_key_pem(&self) -> String {
        self.verify_key().to_pem()
    }

    /// ECDSA P-256 / SHA-256 signature of `message`, ASN.1 DER, deterministic (RFC 6979): the
    /// same key and message give the same bytes.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: p256::ecdsa::DerSignature = self.0.sign(message);
        signature.as_bytes().to_vec()
    }
}

/// Refuses private keys that are not EC P-256, naming what they are.
fn check_curve(algorithm: ObjectIdentifier, curve: Option<ObjectIdentifier>) -> Result<(), FormatError> {
    if algorithm == RSA_ENCRYPTION {
        return Err(FormatError::UnsupportedKey("RSA private key; cip signs with ECDSA P-256".into()));
    }
    if algorithm == ED25519 {
        return Err(FormatError::UnsupportedKey("Ed25519 private key; cip signs with ECDSA P-256".into()));
    }
    if algorithm != EC_PUBLIC_KEY {
        return Err(FormatError::UnsupportedKey(format!(
            "private key algorithm {algorithm}; cip signs with ECDSA P-256"
        )));
    }
    match curve {
        Some(c) if c == P256_CURVE => Ok(()),
        Some(c) if c == P384_CURVE => Err(FormatError::UnsupportedKey(
            "P-384 private key; cip signs with ECDSA P-256 (P-384 keys verify only)".into(),
        )),
        Some(c) => Err(FormatError::UnsupportedKey(format!("EC curve {c}; cip signs with P-256"))),
        None => Err(FormatError::UnsupportedKey("EC private key without a named curve".into())),
    }
}

/// cosign's encrypted key file body (the PEM block's bytes are this JSON).
#[derive(Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(with = "super::encoding::base64_bytes")]
    ciphertext: Vec<u8>,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    #[serde(with = "super::encoding::base64_bytes")]
    salt: Vec<u8>,
}

#[derive(Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    #[serde(with = "super::encoding::base64_bytes")]
    nonce: Vec<u8>,
}

/// Decrypts cosign's encrypted key JSON to the PKCS#8 DER it holds.
fn decrypt_cosign_key(json: &[u8], password: &str) -> Result<Zeroizing<Vec<u8>>, FormatError> {
    const WHAT: &str = "cosign encrypted private key";
    let doc: EncryptedKey = serde_json::from_slice(json)
        .map_err(|e| FormatError::invalid(WHAT, format!("not cosign's key JSON ({e})")))?;
    if doc.kdf.name != "scrypt" {
        return Err(FormatError::invalid(WHAT, format!("key derivation {:?}, not scrypt", doc.kdf.name)));
    }
    if doc.cipher.name != "nacl/secretbox" {
        return Err(FormatError::invalid(WHAT, format!("cipher {:?}, not nacl/secretbox", doc.cipher.name)));
    }
    let ScryptParams { n, r, p } = doc.kdf.params;
    if !n.is_power_of_two() || n < 2 {
        return Err(FormatError::invalid(WHAT, format!("scrypt N = {n} is not a power of two")));
    }
    let work = 128u64.saturating_mul(n).saturating_mul(u64::from(r)).saturating_mul(u64::from(p));
    if work > MAX_SCRYPT_WORK {
        return Err(FormatError::invalid(
            WHAT,
            format!("scrypt parameters N = {n}, r = {r}, p = {p} ask for more than 256 MiB of work"),
        ));
    }
    let log_n = u8::try_from(n.trailing_zeros()).unwrap_or(u8::MAX);
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|_| {
        FormatError::invalid(WHAT, format!("scrypt parameters N = {n}, r = {r}, p = {p} are invalid"))
    })?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password.as_bytes(), &doc.kdf.salt, &params, key.as_mut_slice())
        .map_err(|_| FormatError::invalid(WHAT, "scrypt failed"))?;
    let nonce: [u8; 24] = doc
        .cipher
        .nonce
        .as_slice()
        .try_into()
        .map_err(|_| FormatError::invalid(WHAT, "the nonce is not 24 bytes"))?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(key.as_slice().into());
    cipher
        .decrypt(&nonce.into(), doc.ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| FormatError::WrongPassword)
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
        // Strict RFC 7468 first, else what other clients write (sigstore-js puts all the base64
        // on one line, and Rekor keeps it so): the text between the markers, whitespace removed.
        let (found, der) = match spki::der::pem::decode_vec(block.as_bytes()) {
            Ok((found, der)) => (found.to_owned(), der),
            Err(e) => {
                let body: String =
                    after[label_end + "-----".len()..end].chars().filter(|c| !c.is_whitespace()).collect();
                let der = super::encoding::unb64(&body).ok_or_else(|| {
                    FormatError::invalid("PEM", format!("the {label} block does not decode ({e})"))
                })?;
                (label.to_owned(), der)
            }
        };
        blocks.push((found, der));
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
    use super::super::encoding::{b64, unb64};
    use super::*;

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
        assert_eq!(
            unb64(&parsed.hint()).unwrap(),
            <sha2::Sha256 as sha2::Digest>::digest(parsed.to_spki_der()).to_vec()
        );
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

    /// Fixtures written by tests/trust/keys/make_keys.py (Python cryptography, PyNaCl, hashlib).
    const PKCS8: &str = include_str!("../../../tests/trust/keys/pkcs8.pem");
    const SEC1: &str = include_str!("../../../tests/trust/keys/sec1.pem");
    const PUBLIC: &str = include_str!("../../../tests/trust/keys/public.pem");
    const COSIGN_KEY: &str = include_str!("../../../tests/trust/keys/cosign.key");
    const COSIGN_LEGACY_KEY: &str = include_str!("../../../tests/trust/keys/cosign-legacy.key");
    const P384_KEY: &str = include_str!("../../../tests/trust/keys/p384.pem");
    const PYTHON_SIGNATURE: &str = include_str!("../../../tests/trust/keys/message.sig");
    const MESSAGE: &[u8] = b"cip signs this message\n";
    const PASSWORD: &str = "cip-test-password";

    #[test]
    fn pkcs8_and_sec1_from_python_read_as_the_same_key() {
        let pkcs8 = SigningKey::from_pem(PKCS8, None).unwrap();
        let sec1 = SigningKey::from_pem(SEC1, None).unwrap();
        assert_eq!(pkcs8.public_key_pem(), PUBLIC);
        assert_eq!(sec1.public_key_pem(), PUBLIC);
    }

    #[test]
    fn signs_exactly_as_pythons_rfc6979() {
        // Python cryptography's deterministic ECDSA of the same message: byte-identical DER.
        let key = SigningKey::from_pem(PKCS8, None).unwrap();
        let signature = key.sign(MESSAGE);
        assert_eq!(b64(&signature), PYTHON_SIGNATURE.trim());
        let public = VerifyKey::from_pem(PUBLIC).unwrap();
        assert!(public.verify(MESSAGE, &signature));
        assert!(!public.verify(b"another message", &signature));
    }

    #[test]
    fn cosign_encrypted_keys_decrypt_with_the_password() {
        for file in [COSIGN_KEY, COSIGN_LEGACY_KEY] {
            let key = SigningKey::from_pem(file, Some(PASSWORD)).unwrap();
            assert_eq!(key.public_key_pem(), PUBLIC);
        }
        assert_eq!(SigningKey::from_pem(COSIGN_KEY, Some("wrong")).unwrap_err(), FormatError::WrongPassword);
        assert_eq!(SigningKey::from_pem(COSIGN_KEY, None).unwrap_err(), FormatError::PasswordRequired);
        // A tampered ciphertext is refused like a wrong password: the MAC fails.
        let (label, json) = pem_blocks(COSIGN_KEY).unwrap().remove(0);
        let mut doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let mut ciphertext = unb64(doc["ciphertext"].as_str().unwrap()).unwrap();
        ciphertext[20] ^= 1;
        doc["ciphertext"] = b64(&ciphertext).into();
        let tampered = encode_pem(&label, &serde_json::to_vec(&doc).unwrap());
        assert_eq!(SigningKey::from_pem(&tampered, Some(PASSWORD)).unwrap_err(), FormatError::WrongPassword);
    }

    #[test]
    fn refuses_other_keys_without_echoing_them() {
        let err = SigningKey::from_pem(P384_KEY, None).unwrap_err();
        assert!(matches!(err, FormatError::UnsupportedKey(ref m) if m.contains("P-384")), "{err}");
        let err = SigningKey::from_pem(PUBLIC, None).unwrap_err();
        assert!(err.to_string().contains("PUBLIC KEY"), "{err}");
        let err = SigningKey::from_pem("no key", None).unwrap_err();
        assert!(err.to_string().contains("no PEM block"), "{err}");
        // A damaged body: errors name the problem, never the bytes.
        let body: String = PKCS8.lines().nth(1).unwrap().to_owned();
        let damaged = PKCS8.replace(&body, &body.chars().rev().collect::<String>());
        let err = SigningKey::from_pem(&damaged, None).unwrap_err().to_string();
        assert!(!err.contains(&body[8..20]), "{err}");
        let key = SigningKey::from_pem(PKCS8, None).unwrap();
        assert!(!format!("{key:?}").contains(PKCS8.lines().nth(1).unwrap()));
        assert!(SigningKey::from_bytes(&[0u8; 32]).is_err());
        assert!(SigningKey::from_bytes(&[1u8; 31]).is_err());
        assert_eq!(SigningKey::from_bytes(&[7u8; 32]).unwrap().verify_key(), p256_pair().1);
    }

    #[test]
    fn encrypted_key_json_is_checked() {
        let doc_p = |n: u64, p: u32, kdf: &str| {
            let json = format!(
                r#"{{"kdf":{{"name":"{kdf}","params":{{"N":{n},"r":8,"p":{p}}},"salt":"AAAA"}},"cipher":{{"name":"nacl/secretbox","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}},"ciphertext":"AAAA"}}"#
            );
            encode_pem("ENCRYPTED SIGSTORE PRIVATE KEY", json.as_bytes())
        };
        let doc = |n: u64, kdf: &str| doc_p(n, 1, kdf);
        let err = SigningKey::from_pem(&doc(1 << 30, "scrypt"), Some("")).unwrap_err();
        assert!(err.to_string().contains("256 MiB"), "{err}");
        let err = SigningKey::from_pem(&doc_p(32768, 64, "scrypt"), Some("")).unwrap_err();
        assert!(err.to_string().contains("p = 64"), "{err}");
        let err = SigningKey::from_pem(&doc(1000, "scrypt"), Some("")).unwrap_err();
        assert!(err.to_string().contains("power of two"), "{err}");
        let err = SigningKey::from_pem(&doc(1024, "pbkdf2"), Some("")).unwrap_err();
        assert!(err.to_string().contains("not scrypt"), "{err}");
        assert_eq!(
            SigningKey::from_pem(&doc(1024, "scrypt"), Some("")).unwrap_err(),
            FormatError::WrongPassword
        );
    }

    proptest::proptest! {
        /// Damaged key files are errors, never panics: any byte of a real PEM replaced.
        #[test]
        fn damaged_pem_never_panics(at in 0usize..700, byte in proptest::prelude::any::<u8>(), which in 0usize..4) {
            let original = [PKCS8, SEC1, PUBLIC, P384_KEY][which];
            let mut bytes = original.as_bytes().to_vec();
            let at = at % bytes.len();
            bytes[at] = byte;
            let text = String::from_utf8_lossy(&bytes);
            let _ = pem_blocks(&text);
            let _ = VerifyKey::from_pem(&text);
            let _ = SigningKey::from_pem(&text, Some(PASSWORD));
            let _ = SigningKey::from_pem(&text[..at.min(text.len())], None);
        }
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
