//! Certificate transparency (RFC 6962) for keyless certificates: Fulcio logs each certificate
//! in a CT log before issuing it and embeds the log's signed certificate timestamp (SCT). cosign
//! requires a valid one by default; so does cip when the trusted root lists CT logs (`ctlogs`).
//!
//! The SCT signs the precertificate: the leaf's TBS without the SCT extension, bound to the
//! issuer's key hash. The list itself is parsed by `x509-cert` (its `sct` feature).

use der::{Decode as _, Encode as _};
use sha2::Digest as _;
use x509_cert::Certificate;
use x509_cert::ext::pkix::sct::{SignedCertificateTimestamp, SignedCertificateTimestampList};
use x509_cert::spki::ObjectIdentifier;

use super::root::LogKey;

/// The embedded SCT list extension.
const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// Checks that `leaf` embeds an SCT by one of `logs`, over its precertificate as issued by
/// `issuer`.
///
/// # Errors
///
/// No SCT, one that does not parse, or none signed by a CT log of the trusted root.
pub(crate) fn verify_embedded(
    leaf: &Certificate,
    issuer: &Certificate,
    logs: &[LogKey],
) -> Result<(), String> {
    let extensions = leaf.tbs_certificate.extensions.as_deref().unwrap_or_default();
    let Some(extension) = extensions.iter().find(|e| e.extn_id == SCT_LIST) else {
        return Err(
            "certificate has no embedded SCT (certificate transparency), and --trusted-root lists CT logs"
                .into(),
        );
    };
    let scts = SignedCertificateTimestampList::from_der(extension.extn_value.as_bytes())
        .map_err(|e| format!("certificate SCT list does not parse ({e})"))?
        .parse_timestamps()
        .map_err(|e| format!("certificate SCT list does not parse ({e:?})"))?;
    let mut precert = leaf.tbs_certificate.clone();
    precert.extensions = Some(extensions.iter().filter(|e| e.extn_id != SCT_LIST).cloned().collect());
    let tbs = precert.to_der().map_err(|e| format!("certificate does not re-encode ({e})"))?;
    let issuer_spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| format!("issuer key does not encode ({e})"))?;
    let issuer_key_hash = sha2::Sha256::digest(&issuer_spki);
    for serialized in &scts {
        let Ok(sct) = serialized.parse_timestamp() else { continue };
        let Some(log) = logs.iter().find(|l| l.log_id == sct.log_id.key_id) else { continue };
        let signed = signed_data(&sct, &issuer_key_hash, &tbs);
        if log.key.verify(&signed, sct.signature.signature.as_slice()) {
            return Ok(());
        }
    }
    Err("no embedded SCT verifies with a CT log of --trusted-root".into())
}

/// RFC 6962 section 3.2's `digitally-signed` input for a precertificate entry.
fn signed_data(sct: &SignedCertificateTimestamp, issuer_key_hash: &[u8], tbs: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tbs.len() + 64);
    out.push(0); // version v1
    out.push(0); // signature_type certificate_timestamp
    out.extend_from_slice(&sct.timestamp.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // entry_type precert_entry
    out.extend_from_slice(issuer_key_hash);
    // TBS length as uint24: a certificate is far below 16 MiB.
    let len = u32::try_from(tbs.len()).unwrap_or(u32::MAX).to_be_bytes();
    out.extend_from_slice(&len[1..]);
    out.extend_from_slice(tbs);
    let extensions = sct.extensions.as_slice();
    out.extend_from_slice(&u16::try_from(extensions.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(extensions);
    out
}
