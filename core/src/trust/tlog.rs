//! Transparency log (Rekor) evidence, verified offline against the trusted root's log keys:
//! the signed entry timestamp (inclusion promise: the log's ECDSA signature over the canonical
//! JSON `{"body","integratedTime","logID","logIndex"}`), the RFC 6962 inclusion proof and its
//! signed checkpoint when a bundle carries one, and that the entry's body is about this very
//! signature, key and payload (a `hashedrekord`, `dsse` or `intoto` entry).
//!
//! The promise is required: it is what makes `integratedTime` trustworthy, and keyless
//! certificates are checked at that time (core has no clock). An inclusion proof alone would
//! need a signed timestamp authority, which cip does not check.

use sha2::Digest as _;

use super::bundle::{InclusionProof, TlogEntry};
use super::encoding::{b64, hex, unb64, unhex};
use super::key::{VerifyKey, pem_blocks};
use super::rekor::{EntryBody, parse_entry_body, set_message};
use super::root::TrustedRoot;

/// Who signed, as a log entry must name it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Signer<'a> {
    /// A certificate's DER.
    Certificate(&'a [u8]),
    /// A public key's SPKI DER.
    Key(&'a [u8]),
}

/// What the entry must be about.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Recorded<'a> {
    /// SHA-256 of the signed artifact (the payload, or for DSSE the envelope's payload).
    pub(crate) artifact_sha256: &'a [u8],
    /// The signature bytes.
    pub(crate) signature: &'a [u8],
    /// The signer.
    pub(crate) signer: Signer<'a>,
}

/// Verifies a log entry (a bundle's `tlogEntries[]` item, or cosign's bundle annotation read
/// into one) against `root` and checks it records `signed`; returns the verified
/// `integratedTime`.
///
/// # Errors
///
/// A sentence saying what does not hold.
pub(crate) fn verify_entry(
    entry: &TlogEntry,
    root: &TrustedRoot,
    signed: &Recorded<'_>,
) -> Result<u64, String> {
    let log_id = entry.log_id.key_id.as_slice();
    let Some(log) = root.log(log_id) else {
        return Err(format!(
            "log entry is from log {}, not a transparency log of --trusted-root",
            hex(log_id)
        ));
    };
    let Some(promise) = &entry.inclusion_promise else {
        return Err("log entry has no signed entry timestamp (inclusion promise)".into());
    };
    let body = entry.canonicalized_body.as_slice();
    let message = set_message(&b64(body), entry.integrated_time, &hex(log_id), entry.log_index);
    if !log.key.verify(&message, &promise.signed_entry_timestamp) {
        return Err("signed entry timestamp does not verify with the log's key".into());
    }
    let time = u64::try_from(entry.integrated_time)
        .map_err(|_| "log entry has a negative integratedTime".to_owned())?;
    if !log.valid_for.contains(time) {
        return Err(format!("the log's key was not valid at the entry's time ({time})"));
    }
    if let Some(proof) = &entry.inclusion_proof {
        verify_proof(body, proof, &log.key, log.key_hint)?;
    }
    body_records(body, signed)?;
    Ok(time)
}

/// Checks the RFC 6962 audit path from the entry's leaf to the proof's root hash, and that the
/// checkpoint (a signed note) is signed by the log and names that root and size.
fn verify_proof(body: &[u8], proof: &InclusionProof, key: &VerifyKey, hint: [u8; 4]) -> Result<(), String> {
    let (Ok(index), Ok(size)) = (u64::try_from(proof.log_index), u64::try_from(proof.tree_size)) else {
        return Err("inclusion proof has a negative index or size".into());
    };
    let leaf = hash_leaf(body);
    match root_from_proof(index, size, leaf, &proof.hashes) {
        Some(root) if root.as_slice() == proof.root_hash.as_slice() => {}
        _ => return Err("inclusion proof does not lead to its root hash".into()),
    }
    let (note, signatures) = split_note(&proof.checkpoint.envelope)
        .ok_or_else(|| "inclusion proof checkpoint is not a signed note".to_owned())?;
    let signed = signatures
        .iter()
        .any(|sig| sig.len() > 4 && sig[..4] == hint && key.verify(note.as_bytes(), &sig[4..]));
    if !signed {
        return Err("inclusion proof checkpoint is not signed by the log's key".into());
    }
    let mut lines = note.lines().skip(1);
    let note_size = lines.next().and_then(|l| l.parse::<u64>().ok());
    let note_root = lines.next().and_then(unb64);
    if note_size != Some(size) || note_root.as_deref() != Some(proof.root_hash.as_slice()) {
        return Err("inclusion proof checkpoint names another tree than the proof".into());
    }
    Ok(())
}

/// A signed note's text (through the blank line's first newline) and its signatures' bytes.
fn split_note(envelope: &str) -> Option<(&str, Vec<Vec<u8>>)> {
    let end = envelope.find("\n\n")?;
    let (note, rest) = envelope.split_at(end + 1);
    let signatures = rest
        .lines()
        .filter_map(|l| l.strip_prefix("\u{2014} "))
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(_, sig)| unb64(sig))
        .collect();
    Some((note, signatures))
}

fn hash_leaf(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::new().chain_update([0u8]).chain_update(data).finalize().into()
}

fn hash_children(left: &[u8], right: &[u8]) -> [u8; 32] {
    sha2::Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
}

/// The root an audit path leads to (RFC 9162 section 2.1.3.2), or `None` when the path has the
/// wrong length for `index` in a tree of `size`.
fn root_from_proof(index: u64, size: u64, leaf: [u8; 32], path: &[Vec<u8>]) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    // The path first climbs the inner part (where index and size - 1 differ), then the right
    // border of the tree.
    let inner = (u64::BITS - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    if path.len() != inner + border {
        return None;
    }
    let mut hash = leaf;
    for (i, sibling) in path.iter().enumerate() {
        hash = if i >= inner || (index >> i) & 1 == 1 {
            hash_children(sibling, &hash)
        } else {
            hash_children(&hash, sibling)
        };
    }
    Some(hash)
}

/// Whether the entry body records this signature, by this signer, over this artifact.
fn body_records(body: &[u8], signed: &Recorded<'_>) -> Result<(), String> {
    let entry = parse_entry_body(body).map_err(|e| e.to_string())?;
    let (hash, named) = match &entry {
        EntryBody::HashedRekord { algorithm, hash_hex, signature, verifier_pem } => (
            (algorithm == "sha256").then_some(hash_hex),
            signature == signed.signature && names_signer(verifier_pem, signed.signer),
        ),
        EntryBody::Dsse { payload_hash_hex, signatures, .. } => (
            Some(payload_hash_hex),
            signatures.iter().any(|(sig, pem)| sig == signed.signature && names_signer(pem, signed.signer)),
        ),
        EntryBody::Other(kind, version) => {
            return Err(format!(
                "log entry is a {kind} {version} entry; cip checks hashedrekord 0.0.1, dsse 0.0.1 and intoto 0.0.2"
            ));
        }
    };
    if hash.and_then(|h| unhex(h)).as_deref() != Some(signed.artifact_sha256) {
        return Err(format!(
            "log entry records another artifact than the signed one (sha256 {})",
            hex(signed.artifact_sha256)
        ));
    }
    if !named {
        return Err("log entry records another signature or signer".into());
    }
    Ok(())
}

/// Whether a PEM verifier (certificate or public key) is the signer.
fn names_signer(pem: &[u8], signer: Signer<'_>) -> bool {
    let Ok(text) = std::str::from_utf8(pem) else { return false };
    let Ok(blocks) = pem_blocks(text) else { return false };
    let Some((label, der)) = blocks.first() else { return false };
    match signer {
        Signer::Certificate(cert) => label == "CERTIFICATE" && der == cert,
        Signer::Key(spki) => label == "PUBLIC KEY" && der == spki,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tree hashes computed independently of `root_from_proof`, straight from RFC 6962's MTH.
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = leaves.len().next_power_of_two() / 2;
        hash_children(&mth(&leaves[..k]), &mth(&leaves[k..]))
    }

    fn path(index: usize, leaves: &[[u8; 32]]) -> Vec<Vec<u8>> {
        if leaves.len() == 1 {
            return vec![];
        }
        let k = leaves.len().next_power_of_two() / 2;
        if index < k {
            let mut p = path(index, &leaves[..k]);
            p.push(mth(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = path(index - k, &leaves[k..]);
            p.push(mth(&leaves[..k]).to_vec());
            p
        }
    }

    #[test]
    fn audit_paths_of_every_leaf_of_every_small_tree() {
        for size in 1..=17usize {
            let leaves: Vec<[u8; 32]> = (0..size).map(|i| hash_leaf(&[i as u8])).collect();
            let root = mth(&leaves);
            for index in 0..size {
                let p = path(index, &leaves);
                assert_eq!(root_from_proof(index as u64, size as u64, leaves[index], &p), Some(root));
                // Another leaf, a shorter path or an index past the end are refused.
                let other = hash_leaf(b"x");
                assert_ne!(root_from_proof(index as u64, size as u64, other, &p), Some(root));
                if !p.is_empty() {
                    assert_eq!(root_from_proof(index as u64, size as u64, leaves[index], &p[1..]), None);
                }
                assert_eq!(root_from_proof(size as u64, size as u64, leaves[index], &p), None);
            }
        }
    }

    #[test]
    fn note_split() {
        let (note, sigs) = split_note("log - 1\n3\nAAAA\n\n\u{2014} log AQIDBAU=\n").unwrap();
        assert_eq!(note, "log - 1\n3\nAAAA\n");
        assert_eq!(sigs, vec![vec![1, 2, 3, 4, 5]]);
        assert!(split_note("no blank line\n").is_none());
    }
}
