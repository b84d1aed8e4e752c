//! Signed layers (issue 14): the bytes the trust gate verifies, recorded in the inventory
//! (`signedLayers`) so planning stays pure and `cip plan --inventory` verifies offline.
//!
//! Only for the digests the caller names (in `cip plan` and `cip promote`: source digests some
//! destination lacks, i.e. promoted in this run), and only their signature attachments the
//! reader already found: the `sha256-<hex>.sig` and `.att` manifests and Sigstore-bundle
//! referrers. Per such attachment: one manifest `GET`, then one blob `GET` per layer of a
//! signature media type (simple signing, DSSE, bundle). A no-op run reads none of it.
//!
//! Bounded against a hostile source: at most [`MAX_LAYERS`] layers per manifest are read, each at
//! most [`MAX_LAYER_BYTES`]; a larger layer is recorded with empty `data` (which never verifies,
//! so the gate reports it) and noted.

use std::collections::BTreeSet;

use base64::Engine as _;
use cip_core::inventory::{ManifestInfo, Repository};
use cip_core::trust::{BUNDLE_MEDIA_TYPE, DSSE_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE, SignedLayer};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde::Deserialize;

use crate::registry::{ErrorKind, Operation, RegistryError};
use crate::store::Location;

/// Largest signature layer read (a simple-signing payload or bundle is a few KiB).
pub(crate) const MAX_LAYER_BYTES: u64 = 1 << 20;
/// Most signature layers read per attachment manifest.
pub(crate) const MAX_LAYERS: usize = 64;

/// The layer media types the gate verifies.
const SIGNED_MEDIA_TYPES: [&str; 3] = [SIMPLE_SIGNING_MEDIA_TYPE, DSSE_MEDIA_TYPE, BUNDLE_MEDIA_TYPE];

/// The part of an attachment manifest read here.
#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// Digests of the signature attachments of `subjects` recorded in `repository`: their `.sig`
/// and `.att` tags and their Sigstore-bundle referrers.
fn attachments_of(subjects: &BTreeSet<String>, repository: &Repository) -> BTreeSet<String> {
    let tags: BTreeSet<String> = subjects
        .iter()
        .filter_map(|s| s.strip_prefix("sha256:"))
        .flat_map(|hex| [format!("sha256-{hex}.sig"), format!("sha256-{hex}.att")])
        .collect();
    repository
        .iter()
        .filter(|(_, info)| {
            info.tags.iter().any(|t| tags.contains(t)) || (is_bundle(info) && is_subject(info, subjects))
        })
        .map(|(d, _)| d.clone())
        .collect()
}

fn is_bundle(info: &ManifestInfo) -> bool {
    info.artifact_type.as_deref().is_some_and(cip_core::trust::is_bundle_type)
}

fn is_subject(info: &ManifestInfo, subjects: &BTreeSet<String>) -> bool {
    info.subject.as_ref().is_some_and(|s| subjects.contains(s))
}

/// Reads and records the signed layers of the signature attachments of `subjects` (see the
/// module documentation); returns how many requests it sent.
pub(crate) async fn fill(
    at: &Location,
    subjects: &BTreeSet<String>,
    repository: &mut Repository,
    notes: &mut Vec<String>,
) -> Result<u64, RegistryError> {
    let wanted = attachments_of(subjects, repository);
    let mut requests = wanted.len() as u64;
    let mut gets: FuturesUnordered<_> =
        wanted.into_iter().map(|d| async move { (at.store.get_manifest(&at.repo, &d).await, d) }).collect();
    let mut manifests = Vec::new();
    while let Some((manifest, digest)) = gets.next().await {
        match manifest {
            Ok(m) => manifests.push((digest, m)),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    drop(gets);
    for (digest, raw) in manifests {
        let manifest: Manifest = serde_json::from_slice(&raw.bytes).map_err(|e| {
            let kind = ErrorKind::Invalid(format!("{digest}: not a manifest: {e}"));
            RegistryError::new(at.store.name(), &at.repo, Operation::GetManifest, kind)
        })?;
        let signed: Vec<&Descriptor> =
            manifest.layers.iter().filter(|l| SIGNED_MEDIA_TYPES.contains(&l.media_type.as_str())).collect();
        if signed.len() > MAX_LAYERS {
            notes.push(format!(
                "{}/{}@{digest}: {} signature layers; only the first {MAX_LAYERS} are verified",
                at.store.name(),
                at.repo,
                signed.len()
            ));
        }
        let mut layers = Vec::new();
        for layer in signed.into_iter().take(MAX_LAYERS) {
            let data = if layer.size > MAX_LAYER_BYTES {
                notes.push(format!(
                    "{}/{}@{digest}: layer {} is {} bytes, over the {MAX_LAYER_BYTES}-byte limit: not read, so it does not verify",
                    at.store.name(),
                    at.repo,
                    layer.digest,
                    layer.size
                ));
                Vec::new()
            } else {
                requests += 1;
                read_blob(at, &layer.digest).await?
            };
            layers.push(SignedLayer {
                media_type: layer.media_type.clone(),
                digest: layer.digest.clone(),
                annotations: layer.annotations.clone(),
                data: base64::engine::general_purpose::STANDARD.encode(data),
            });
        }
        if let Some(info) = repository.get_mut(&digest) {
            info.layers = manifest.layers.iter().map(|l| l.digest.clone()).collect();
            info.signed_layers = layers;
        }
    }
    Ok(requests)
}

/// Reads a blob of at most [`MAX_LAYER_BYTES`] (a stream announcing less but sending more is
/// cut there: the bytes then do not hash to the digest, and the gate says so).
async fn read_blob(at: &Location, digest: &str) -> Result<Vec<u8>, RegistryError> {
    let mut blob = at.store.get_blob(&at.repo, digest).await?;
    let mut data = Vec::new();
    while let Some(chunk) = blob.stream.next().await {
        let chunk = chunk?;
        let room = (MAX_LAYER_BYTES as usize).saturating_sub(data.len());
        data.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_attachments_of_the_subjects_only() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let mut repo = Repository::new();
        let tagged = |tag: String| ManifestInfo { tags: vec![tag], ..ManifestInfo::default() };
        repo.insert(digest('1'), tagged(format!("sha256-{}.sig", "a".repeat(64))));
        repo.insert(digest('2'), tagged(format!("sha256-{}.att", "a".repeat(64))));
        repo.insert(digest('3'), tagged(format!("sha256-{}.sbom", "a".repeat(64))));
        repo.insert(digest('4'), tagged(format!("sha256-{}.sig", "b".repeat(64))));
        let referrer = |subject: &str, artifact: &str| ManifestInfo {
            subject: Some(subject.to_owned()),
            artifact_type: Some(artifact.to_owned()),
            ..ManifestInfo::default()
        };
        repo.insert(digest('5'), referrer(&a, "application/vnd.dev.sigstore.bundle.v0.3+json"));
        repo.insert(digest('6'), referrer(&a, "application/spdx+json"));
        repo.insert(digest('7'), referrer(&b, "application/vnd.dev.sigstore.bundle.v0.3+json"));
        let found = attachments_of(&BTreeSet::from([a]), &repo);
        assert_eq!(found, BTreeSet::from([digest('1'), digest('2'), digest('5')]));
    }
}
