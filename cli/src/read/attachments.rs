//! Discovering attachments (issue 13): what the inventory records so the planner can make
//! signatures, attestations, SBOMs and other referrers follow the digests it places.
//!
//! - cosign tag-scheme attachments (`sha256-<hex>.sig|.att|.sbom`) are ordinary tags: they come
//!   from the tag listing the reader already asks for (one listing per repository; with Google's
//!   extension or a layout the listing names their digests, elsewhere one `HEAD` per such tag).
//! - The referrers tag-schema index (`sha256-<hex>`), found the same way, is read (one `GET`)
//!   and each descriptor it lists becomes a record with `subject` and `artifactType`.
//! - The referrers API (`GET /v2/<name>/referrers/<digest>`) costs one request per digest, so it
//!   is asked only for the digests the caller names (in `cip plan` and `cip promote`: source
//!   digests some destination lacks, i.e. promoted in this run), and for referrers found that
//!   way, to [`MAX_DEPTH`] levels. A store without the API is asked once.
//! - Layers of tag-scheme attachments (for the union rule) are read only where a tag's digest
//!   differs between a source and a destination ([`fill_layers`]), or for a full read (audits).

use std::collections::BTreeSet;

use cip_core::inventory::{ManifestInfo, Repository};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde_json::Value;

use crate::registry::referrers::{Referrer, parse_list};
use crate::registry::{ErrorKind, Operation, RegistryError};
use crate::store::{Location, Store};

/// Levels of referrers of referrers followed through the referrers API (the planner's depth
/// limit is 3; one more level lets it report `attachment-too-deep`).
pub(crate) const MAX_DEPTH: usize = 4;

/// The cosign tag suffixes.
const SUFFIXES: [&str; 3] = [".sig", ".att", ".sbom"];

/// The subject digest of a cosign attachment tag (`sha256-<hex>.sig` -> `sha256:<hex>`).
pub(crate) fn cosign_subject(tag: &str) -> Option<String> {
    let stem = SUFFIXES.iter().find_map(|s| tag.strip_suffix(s))?;
    schema_subject(stem)
}

/// The subject digest of a referrers tag-schema tag (`sha256-<hex>` -> `sha256:<hex>`).
pub(crate) fn schema_subject(tag: &str) -> Option<String> {
    let hex = tag.strip_prefix("sha256-")?;
    let valid = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid.then(|| format!("sha256:{hex}"))
}

/// Whether a tag names an attachment or a referrers index (so a partial read resolves it).
pub(crate) fn is_attachment_tag(tag: &str) -> bool {
    cosign_subject(tag).is_some() || schema_subject(tag).is_some()
}

/// The subject digest of an attachment or referrers index tag.
pub(crate) fn subject_of_tag(tag: &str) -> Option<String> {
    cosign_subject(tag).or_else(|| schema_subject(tag))
}

/// Records referrers as manifests with a `subject` (keeping what is already known of them).
fn record(repository: &mut Repository, subject: &str, referrers: &[Referrer]) {
    for r in referrers {
        let info = repository.entry(r.digest.clone()).or_insert_with(|| ManifestInfo {
            media_type: (!r.media_type.is_empty()).then(|| r.media_type.clone()),
            ..ManifestInfo::default()
        });
        info.subject.get_or_insert_with(|| subject.to_owned());
        if info.artifact_type.is_none() {
            info.artifact_type.clone_from(&r.artifact_type);
        }
    }
}

fn invalid(at: &Location, message: String) -> RegistryError {
    RegistryError::new(at.store.name(), &at.repo, Operation::ListReferrers, ErrorKind::Invalid(message))
}

/// Reads the referrers tag-schema indexes of the repository (tags `sha256-<hex>`) and records
/// the referrers they list.
pub(crate) async fn read_schema_indexes(
    at: &Location,
    repository: &mut Repository,
) -> Result<(), RegistryError> {
    let indexes: Vec<(String, String)> = repository
        .iter()
        .flat_map(|(digest, info)| {
            info.tags.iter().filter_map(|t| schema_subject(t)).map(move |s| (digest.clone(), s))
        })
        .collect();
    let mut gets: FuturesUnordered<_> = indexes
        .into_iter()
        .map(|(digest, subject)| async move { (at.store.get_manifest(&at.repo, &digest).await, subject) })
        .collect();
    while let Some((manifest, subject)) = gets.next().await {
        let manifest = match manifest {
            Ok(m) => m,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let listed = parse_list(&manifest.bytes).map_err(|m| invalid(at, format!("{subject}: {m}")))?;
        record(repository, &subject, &listed);
    }
    Ok(())
}

/// Asks the store's referrers API for the referrers of `subjects`, then of those, to
/// [`MAX_DEPTH`] levels. Nothing when the store has no API. A store that fails the API is not
/// a failed repository (the images must still be promoted): a note says so, and its referrers
/// are found through the tag schema only.
pub(crate) async fn read_referrers_api(
    at: &Location,
    subjects: BTreeSet<String>,
    artifact_types: &[String],
    repository: &mut Repository,
    notes: &mut Vec<String>,
) {
    if let Err(error) = ask_referrers_api(at, subjects, artifact_types, repository).await {
        notes.push(format!(
            "{}/{}: the referrers API failed ({error}); referrers are found through the referrers tag schema only",
            at.store.name(),
            at.repo
        ));
    }
}

async fn ask_referrers_api(
    at: &Location,
    subjects: BTreeSet<String>,
    artifact_types: &[String],
    repository: &mut Repository,
) -> Result<(), RegistryError> {
    let mut level = subjects;
    for _ in 0..MAX_DEPTH {
        if level.is_empty() {
            break;
        }
        let mut asks: FuturesUnordered<_> = level
            .iter()
            .map(|d| async move { (d, at.store.referrers(&at.repo, d, artifact_types).await) })
            .collect();
        let mut next = BTreeSet::new();
        while let Some((subject, found)) = asks.next().await {
            let Some(found) = found? else { return Ok(()) };
            next.extend(found.iter().map(|r| r.digest.clone()));
            record(repository, subject, &found);
        }
        drop(asks);
        level = next;
    }
    Ok(())
}

/// The layer digests of a manifest, in order.
pub(crate) fn layers_of(bytes: &[u8]) -> Vec<String> {
    let doc: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    doc.get("layers")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|d| d.get("digest")?.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Fills `layers` of the given digests (tag-scheme attachments) from their manifests.
pub(crate) async fn fill_layers(
    store: &dyn Store,
    repo: &str,
    digests: BTreeSet<String>,
    repository: &mut Repository,
) -> Result<(), RegistryError> {
    let mut gets: FuturesUnordered<_> =
        digests.into_iter().map(|d| async move { (store.get_manifest(repo, &d).await, d) }).collect();
    while let Some((manifest, digest)) = gets.next().await {
        let manifest = match manifest {
            Ok(m) => m,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        if let Some(info) = repository.get_mut(&digest) {
            info.layers = layers_of(&manifest.bytes);
        }
    }
    Ok(())
}

/// Digests of the repository's cosign attachment tags (`.sig`, `.att`, `.sbom`).
pub(crate) fn cosign_digests(repository: &Repository) -> BTreeSet<String> {
    repository
        .iter()
        .filter(|(_, info)| info.tags.iter().any(|t| cosign_subject(t).is_some()))
        .map(|(d, _)| d.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_tags() {
        let hex = "a".repeat(64);
        assert_eq!(cosign_subject(&format!("sha256-{hex}.sig")), Some(format!("sha256:{hex}")));
        assert_eq!(cosign_subject(&format!("sha256-{hex}.sbom")), Some(format!("sha256:{hex}")));
        assert_eq!(cosign_subject(&format!("sha256-{hex}")), None);
        assert_eq!(schema_subject(&format!("sha256-{hex}")), Some(format!("sha256:{hex}")));
        assert_eq!(schema_subject(&format!("sha256-{}", "A".repeat(64))), None);
        assert_eq!(schema_subject("sha256-abc"), None);
        assert!(!is_attachment_tag("v1.0"));
        assert!(is_attachment_tag(&format!("sha256-{hex}.att")));
        let m = br#"{"layers":[{"digest":"sha256:1"},{"digest":"sha256:2"}]}"#;
        assert_eq!(layers_of(m), ["sha256:1", "sha256:2"]);
    }
}
