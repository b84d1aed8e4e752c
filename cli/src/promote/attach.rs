//! Executing `attach` actions (issue 13): a signature, attestation, SBOM or other referrer of a
//! digest placed in a destination repository follows it there.
//!
//! - Ordering: attach actions run after every copy and tag action of the run, in waves by depth
//!   ([`waves`]: an attachment of an attachment after its subject), so the image's own tags are
//!   never delayed or blocked by an attachment. Before writing, the subject must be in place in
//!   the destination (written in this run, or found by `HEAD`); otherwise the attach fails (and
//!   is reported) without writing anything.
//! - Copies are byte-exact and go through the executor's own path (blobs before the manifest by
//!   digest, verified while streaming); only then is the tag written.
//! - Tag-scheme attachments (`sha256-<hex>.sig`, `.att`, `.sbom`) are the one tag whose content
//!   changes over time. The destination's current manifest under the tag is read at write time:
//!   the same digest needs nothing; none gets the source's; a different one whose layers already
//!   include every source layer is left alone; otherwise the tag gets the **union** (source layers
//!   in order, then the destination's others), so a signature the destination already has is
//!   never dropped. The union is decided from the destination as it is when written, not as it
//!   was planned (the plan's `merge` flag says what the planner expected).
//! - Referrers: the manifest is copied by digest. A destination that maintains referrers lists
//!   (it answered `OCI-Subject`) needs nothing more; elsewhere the referrers tag-schema index
//!   `sha256-<hex>` is read, the referrer's descriptor added, and the index written back (by
//!   digest, then tag) under a per-subject lock, never removing an entry.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use cip_core::plan::{Action, ActionKind};
use serde_json::Value;

use super::{Counters, Executor, precondition, read_manifest, shared};
use crate::registry::digest::sha256_digest;
use crate::registry::media::OCI_INDEX;
use crate::registry::referrers::{descriptor_of, merge_into_index, schema_tag};
use crate::store::{ErrorKind, Location, Operation, RawManifest, RegistryError};

/// (destination store, repository, subject).
type IndexKey = (String, String, String);

/// Per (destination store, repository, subject) locks: one writer of a referrers index at a time.
#[derive(Default)]
pub(super) struct IndexLocks(Mutex<HashMap<IndexKey, Arc<tokio::sync::Mutex<()>>>>);

impl IndexLocks {
    fn of(&self, key: IndexKey) -> Arc<tokio::sync::Mutex<()>> {
        self.0.lock().expect("index locks").entry(key).or_default().clone()
    }
}

/// The order actions run in: copies and tags first (one wave), then attach actions by depth.
pub(super) fn waves(actions: &[Action]) -> Vec<Vec<usize>> {
    let mut depth: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let attaches: Vec<(usize, &Action)> =
        actions.iter().enumerate().filter(|(_, a)| a.action == ActionKind::Attach).collect();
    // An attachment whose subject is itself attached in this run goes one wave later; a few
    // passes settle chains (the planner stops at depth 3).
    for _ in 0..=attaches.len().min(8) {
        for (_, a) in &attaches {
            let subject = a.attachment.as_ref().map_or("", |t| t.subject.as_str());
            let d = depth.get(&(a.dst.as_str(), subject)).map_or(1, |d| d + 1);
            depth.insert((a.dst.as_str(), a.digest.as_str()), d);
        }
    }
    let mut waves: Vec<Vec<usize>> = vec![
        actions.iter().enumerate().filter(|(_, a)| a.action != ActionKind::Attach).map(|(i, _)| i).collect(),
    ];
    for (i, a) in attaches {
        let d = depth[&(a.dst.as_str(), a.digest.as_str())];
        if waves.len() <= d {
            waves.resize(d + 1, Vec::new());
        }
        waves[d].push(i);
    }
    waves.retain(|w| !w.is_empty());
    waves
}

/// The union of a source and a destination tag-scheme manifest: the source manifest with its
/// layers followed by the destination's layers it lacks; `None` when the destination already
/// has every source layer.
pub(crate) fn union(source: &[u8], destination: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut doc: Value = serde_json::from_slice(source).map_err(|e| format!("source manifest: {e}"))?;
    let theirs: Value =
        serde_json::from_slice(destination).map_err(|e| format!("destination manifest: {e}"))?;
    let layers = |d: &Value| d.get("layers").and_then(Value::as_array).cloned().unwrap_or_default();
    let digest = |l: &Value| l.get("digest").and_then(Value::as_str).map(str::to_owned);
    let ours = layers(&doc);
    let theirs = layers(&theirs);
    let held: BTreeSet<String> = theirs.iter().filter_map(digest).collect();
    if ours.iter().filter_map(digest).all(|d| held.contains(&d)) {
        return Ok(None);
    }
    let mine: BTreeSet<String> = ours.iter().filter_map(digest).collect();
    let mut merged = ours;
    merged.extend(theirs.into_iter().filter(|l| digest(l).is_none_or(|d| !mine.contains(&d))));
    doc["layers"] = Value::Array(merged);
    serde_json::to_vec(&doc).map(Some).map_err(|e| e.to_string())
}

fn invalid(at: &Location, operation: Operation, message: String) -> RegistryError {
    RegistryError::new(at.store.name(), &at.repo, operation, ErrorKind::Invalid(message))
}

impl Executor<'_> {
    /// Runs one attach action (see the module documentation).
    pub(super) async fn attach(&self, action: &Action, counters: &Counters) -> Result<(), RegistryError> {
        let dst = self.stores.locate(&action.dst)?;
        let Some(attachment) = &action.attachment else {
            return Err(invalid(&dst, Operation::PutManifest, "attach action without its attachment".into()));
        };
        let src_repo = action.src.rsplit_once('@').map_or(action.src.as_str(), |(r, _)| r);
        let src = self.stores.locate(src_repo)?;
        self.subject_in_place(&dst, &attachment.subject).await?;
        // An attachment that vanished from the source since planning is `lost`.
        let Some(raw) = precondition::present(self.source_manifest(&src, &action.digest).await, counters)?
        else {
            return Ok(());
        };
        if action.tags.is_empty() {
            self.ensure_manifest(&src, &dst, &raw, counters).await?;
            if !dst.store.maintains_referrers() {
                self.add_to_referrers_index(&dst, &attachment.subject, &raw).await?;
            }
            return Ok(());
        }
        for tag in &action.tags {
            self.attach_tag(&src, &dst, tag, &raw, counters).await?;
        }
        Ok(())
    }

    /// The subject is in the destination: written in this run, or found there.
    async fn subject_in_place(&self, dst: &Location, subject: &str) -> Result<(), RegistryError> {
        let cell = shared(&self.manifests, (dst.key.clone(), dst.repo.clone(), subject.to_owned()));
        cell.get_or_try_init(|| async {
            match dst.store.head_manifest(&dst.repo, subject).await? {
                Some(_) => Ok(()),
                None => Err(RegistryError::new(
                    dst.store.name(),
                    &dst.repo,
                    Operation::HeadManifest,
                    ErrorKind::NotFound(format!(
                        "subject {subject} is not in place, so its attachment is not written"
                    )),
                )),
            }
        })
        .await?;
        Ok(())
    }

    /// Writes a tag-scheme attachment under `tag`, never dropping a destination layer.
    async fn attach_tag(
        &self,
        src: &Location,
        dst: &Location,
        tag: &str,
        raw: &RawManifest,
        counters: &Counters,
    ) -> Result<(), RegistryError> {
        let current = dst.store.head_manifest(&dst.repo, tag).await?;
        let write = match current {
            Some(head) if head.digest == raw.digest => return Ok(()),
            None => raw.clone(),
            Some(head) => {
                let theirs = read_manifest(dst, &head.digest).await?;
                let merged =
                    union(&raw.bytes, &theirs.bytes).map_err(|m| invalid(dst, Operation::GetManifest, m))?;
                let Some(bytes) = merged else { return Ok(()) };
                RawManifest {
                    digest: sha256_digest(&bytes),
                    bytes: bytes.into(),
                    media_type: raw.media_type.clone(),
                }
            }
        };
        // The source manifest's blobs (and the manifest itself, by digest) first; the union's
        // other layers are the destination's own.
        self.ensure_manifest(src, dst, raw, counters).await?;
        if write.digest != raw.digest {
            dst.store.put_manifest(&dst.repo, &write.digest, &write).await?;
            Counters::bump(&counters.manifests);
        }
        dst.store.put_manifest(&dst.repo, tag, &write).await
    }

    /// Adds the referrer `raw` of `subject` to the destination's referrers tag-schema index,
    /// one writer per (destination, subject) at a time.
    async fn add_to_referrers_index(
        &self,
        dst: &Location,
        subject: &str,
        raw: &RawManifest,
    ) -> Result<(), RegistryError> {
        let lock = self.index_locks.of((dst.key.clone(), dst.repo.clone(), subject.to_owned()));
        let _held = lock.lock().await;
        add_to_referrers_index(dst, subject, raw).await
    }
}

/// Adds the referrer `raw` of `subject` to the referrers tag-schema index `sha256-<hex>` of
/// `dst`: read, add the descriptor (never removing one), write back by digest then tag. The
/// caller makes sure nobody else writes that index meanwhile (the executor's per-subject
/// locks; signing writes each subject from one task).
pub(crate) async fn add_to_referrers_index(
    dst: &Location,
    subject: &str,
    raw: &RawManifest,
) -> Result<(), RegistryError> {
    let tag = schema_tag(subject);
    let existing = match dst.store.get_manifest(&dst.repo, &tag).await {
        Ok(m) => Some(m),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    let descriptor = descriptor_of(&raw.bytes, &raw.digest, &raw.media_type);
    let merged = merge_into_index(existing.as_ref().map(|m| &m.bytes[..]), &descriptor)
        .map_err(|m| invalid(dst, Operation::ListReferrers, format!("{tag}: {m}")))?;
    let Some(bytes) = merged else { return Ok(()) };
    let index =
        RawManifest { digest: sha256_digest(&bytes), bytes: bytes.into(), media_type: OCI_INDEX.into() };
    dst.store.put_manifest(&dst.repo, &index.digest, &index).await?;
    dst.store.put_manifest(&dst.repo, &tag, &index).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(layers: &[&str]) -> Vec<u8> {
        let layers: Vec<Value> = layers.iter().map(|d| serde_json::json!({"digest": d, "size": 1})).collect();
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "layers": layers})).unwrap()
    }

    fn digests(bytes: &[u8]) -> Vec<String> {
        let doc: Value = serde_json::from_slice(bytes).unwrap();
        doc["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn union_keeps_every_destination_layer_source_first() {
        let merged = union(&manifest(&["a", "b"]), &manifest(&["c", "a"])).unwrap().unwrap();
        assert_eq!(digests(&merged), ["a", "b", "c"]);
        assert_eq!(union(&manifest(&["a"]), &manifest(&["b", "a"])).unwrap(), None, "nothing to add");
        assert_eq!(union(&manifest(&[]), &manifest(&["b"])).unwrap(), None);
        assert!(union(b"nope", &manifest(&["b"])).is_err());
    }
}
