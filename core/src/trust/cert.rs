//! Keyless signing certificates (Fulcio's): the leaf's key, identity (SAN: email, URI or Fulcio's
//! username otherName), OIDC issuer (Fulcio extension `1.3.6.1.4.1.57264.1.8`, a DER
//! UTF8String, or the legacy `1.3.6.1.4.1.57264.1.1`, raw bytes) and code-signing EKU, and
//! whether it chains to a certificate authority of the trusted root at a given time.
//!
//! Core has no clock: the time a short-lived certificate is checked at is the one the
//! transparency log vouches for (a verified entry's `integratedTime`), as cosign does; the caller
//! passes it in. The chain is the trusted root's own (`certChain`), never one the signature
//! carries: a chain annotation is only a hint and proves nothing.

use der::{Decode as _, Encode as _};
use sha2::Digest as _;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::spki::ObjectIdentifier;

use super::key::{VerifyKey, pem_blocks};
use super::root::TrustedRoot;

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// Fulcio's SAN otherName type for username identities.
const FULCIO_USERNAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");
/// Fulcio's OIDC issuer extension (DER UTF8String).
const OIDC_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's first OIDC issuer extension (the bytes of the issuer URL, not DER).
const OIDC_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");

/// A leaf (signing) certificate and what verification reads from it.
#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    cert: Certificate,
    /// The certified key: the signature must verify with it.
    pub(crate) key: VerifyKey,
    /// The SAN values (emails, URIs, usernames), the identities `--certificate-identity` matches.
    pub(crate) identities: Vec<String>,
    /// The OIDC issuer, from the v2 extension or else the legacy one.
    pub(crate) issuer: Option<String>,
    /// The DER bytes, to compare with what a log entry names.
    pub(crate) der: Vec<u8>,
}

impl Leaf {
    /// Reads a DER certificate.
    ///
    /// # Errors
    ///
    /// Not X.509, or its key is not ECDSA P-256/P-384.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, String> {
        let cert = Certificate::from_der(der).map_err(|e| format!("certificate does not parse ({e})"))?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| format!("certificate key does not encode ({e})"))?;
        let key = VerifyKey::from_spki_der(&spki).map_err(|e| format!("certificate key: {e}"))?;
        let mut identities = Vec::new();
        let (mut issuer_v1, mut issuer_v2) = (None, None);
        for ext in cert.tbs_certificate.extensions.iter().flatten() {
            let value = ext.extn_value.as_bytes();
            if ext.extn_id == SUBJECT_ALT_NAME {
                let san = SubjectAltName::from_der(value)
                    .map_err(|e| format!("certificate SAN does not parse ({e})"))?;
                for name in san.0 {
                    match name {
                        GeneralName::Rfc822Name(s) => identities.push(s.to_string()),
                        GeneralName::UniformResourceIdentifier(s) => identities.push(s.to_string()),
                        // Fulcio's username identities: an otherName holding a UTF8String.
                        GeneralName::OtherName(other) if other.type_id == FULCIO_USERNAME => {
                            if let Ok(s) = other.value.decode_as::<der::asn1::Utf8StringRef<'_>>() {
                                identities.push(s.as_str().to_owned());
                            }
                        }
                        _ => {}
                    }
                }
            } else if ext.extn_id == OIDC_ISSUER_V2 {
                let s = der::asn1::Utf8StringRef::from_der(value)
                    .map_err(|e| format!("certificate OIDC issuer extension does not parse ({e})"))?;
                issuer_v2 = Some(s.as_str().to_owned());
            } else if ext.extn_id == OIDC_ISSUER_V1 {
                issuer_v1 = Some(String::from_utf8_lossy(value).into_owned());
            }
        }
        Ok(Self { cert, key, identities, issuer: issuer_v2.or(issuer_v1), der: der.to_vec() })
    }

    /// Reads the first certificate of a PEM text (cosign's certificate annotation).
    ///
    /// # Errors
    ///
    /// No `CERTIFICATE` block, or one that does not parse.
    pub(crate) fn from_pem(pem: &str) -> Result<Self, String> {
        let blocks = pem_blocks(pem).map_err(|e| format!("certificate: {e}"))?;
        match blocks.into_iter().find(|(label, _)| label == "CERTIFICATE") {
            Some((_, der)) => Self::from_der(&der),
            None => Err("certificate: no -----BEGIN CERTIFICATE----- block".into()),
        }
    }

    /// Whether the certificate allows code signing (the extended key usage Fulcio sets).
    pub(crate) fn code_signing(&self) -> bool {
        self.cert.tbs_certificate.extensions.iter().flatten().filter(|e| e.extn_id == EXTENDED_KEY_USAGE).any(
            |e| {
                ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
                    .is_ok_and(|eku| eku.0.contains(&CODE_SIGNING))
            },
        )
    }

    /// Checks the leaf at `time` (Unix seconds, from a verified log entry): it was valid then,
    /// may sign code, and is signed by a certificate authority of `root` whose own chain (up to
    /// its self-signed root) holds and was valid then.
    ///
    /// # Errors
    ///
    /// What failed, in a sentence naming the time or the authority.
    pub(crate) fn verify_at(&self, root: &TrustedRoot, time: u64) -> Result<(), String> {
        let (start, end) = validity(&self.cert);
        if time < start || time > end {
            return Err(format!(
                "certificate was not valid at the log entry's time ({time}; valid {start} to {end}, Unix seconds)"
            ));
        }
        if !self.code_signing() {
            return Err("certificate lacks the code-signing extended key usage".into());
        }
        let mut reasons = Vec::new();
        for (i, authority) in root.authorities.iter().enumerate() {
            match chain_holds(&self.cert, &authority.chain, time) {
                Ok(()) if authority.valid_for.contains(time) => {
                    if root.ct_logs.is_empty() {
                        return Ok(());
                    }
                    return super::sct::verify_embedded(&self.cert, &authority.chain[0], &root.ct_logs);
                }
                Ok(()) => reasons
                    .push(format!("certificate authority {i} of the trusted root was not valid at {time}")),
                Err(e) => reasons.push(e),
            }
        }
        if reasons.iter().all(|r| r.starts_with("not signed")) || reasons.is_empty() {
            return Err("certificate does not chain to a certificate authority of --trusted-root".into());
        }
        Err(reasons.join("; "))
    }
}

/// Whether `leaf` is signed by `chain[0]` and every certificate of the chain was valid at
/// `time`. The chain's own signatures were checked once, when the trusted root was read
/// ([`order_authority_chain`]).
fn chain_holds(leaf: &Certificate, chain: &[Certificate], time: u64) -> Result<(), String> {
    match chain.first() {
        Some(issuer) if signed_by(leaf, issuer) => {}
        _ => return Err("not signed by the authority".to_owned()),
    }
    for (i, cert) in chain.iter().enumerate() {
        let (start, end) = validity(cert);
        if time < start || time > end {
            return Err(format!("authority certificate {i} was not valid at {time}"));
        }
    }
    Ok(())
}

/// Orders a trusted root authority's certificates from the issuing one to the self-signed
/// root, checking each is signed by the next. Sigstore's trusted roots have listed them in both
/// orders (the protobuf spec imposes none). Done once per policy: these signatures do not depend
/// on the evidence.
///
/// # Errors
///
/// No self-signed root, more than one, or certificates that do not form one chain from it.
pub(crate) fn order_authority_chain(chain: Vec<Certificate>) -> Result<Vec<Certificate>, String> {
    let (mut roots, mut rest): (Vec<Certificate>, Vec<Certificate>) =
        chain.into_iter().partition(|c| signed_by(c, c));
    let Some(root) = roots.pop() else {
        return Err("no self-signed root certificate".into());
    };
    if !roots.is_empty() {
        return Err("more than one self-signed root certificate in one chain".into());
    }
    let mut ordered = vec![root];
    while let Some(next) = ordered.last().and_then(|top| rest.iter().position(|c| signed_by(c, top))) {
        ordered.push(rest.swap_remove(next));
    }
    if !rest.is_empty() {
        return Err(format!("{} certificate(s) are not signed by the chain from its root", rest.len()));
    }
    ordered.reverse();
    Ok(ordered)
}

/// Whether `issuer`'s key signed `cert` (ECDSA with SHA-256/384/512 over the TBS DER) and names
/// it as issuer.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return false;
    }
    let Ok(tbs) = cert.tbs_certificate.to_der() else { return false };
    let Ok(spki) = issuer.tbs_certificate.subject_public_key_info.to_der() else { return false };
    let Ok(key) = VerifyKey::from_spki_der(&spki) else { return false };
    let Some(signature) = cert.signature.as_bytes() else { return false };
    let oid = cert.signature_algorithm.oid;
    let prehash = if oid == ECDSA_SHA256 {
        sha2::Sha256::digest(&tbs).to_vec()
    } else if oid == ECDSA_SHA384 {
        sha2::Sha384::digest(&tbs).to_vec()
    } else if oid == ECDSA_SHA512 {
        sha2::Sha512::digest(&tbs).to_vec()
    } else {
        return false;
    };
    key.verify_prehash(&prehash, signature)
}

/// notBefore and notAfter in Unix seconds.
fn validity(cert: &Certificate) -> (u64, u64) {
    let v = &cert.tbs_certificate.validity;
    (v.not_before.to_unix_duration().as_secs(), v.not_after.to_unix_duration().as_secs())
}
