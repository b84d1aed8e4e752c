//! The one inventory reader: what `cip plan`, `cip audit`, `cip snapshot`, `cip promote` and the
//! Node engine know of the registries, read through the stores (HTTP registries and `oci:`
//! layouts alike), with as few requests as the question allows.
//!
//! - [`read_for_plan`]: destinations first (the planner decides an edge is present from the
//!   destination alone); then, at each source, only digests some destination still lacks (or
//!   lacks a wanted tag of), with the children of indexes. A no-op run never reaches a source.
//! - [`read_registries`]: every repository under registry names or prefixes (snapshots,
//!   audits).
//!
//! Attachments (signatures, attestations, SBOMs, referrers; see `attachments`) are discovered
//! in the same reads unless [`Discovery`] turns them off: then every source repository is read
//! too (its listing and attachment tags, not its digests), since an attachment can change in the
//! source while its image stays put. The signature attachments of digests promoted in this
//! run are read with their signature layers' bytes (see `signed`), for the trust gate.
//!
//! How each repository is read (one listing, or one `HEAD` per needed tag) is
//! `repository`'s business. A repository that fails is left out of the inventory and its
//! error returned, so the planner blocks exactly its edges as `inventory-missing`.

mod attachments;
mod prefix;
mod repository;
mod signed;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cip_core::inventory::Inventory;
use cip_core::plan::AttachmentFilter;
use cip_core::reference::{is_valid_digest, is_valid_tag};
use cip_core::{ManifestSet, PlanOptions};

use crate::registry::RegistryError;
use crate::registry::stats::Stats;
use crate::store::Stores;
pub use repository::RepoNeeds;
use repository::read;

/// The result of reading: what could be read, and every failure.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Repositories read (a failed repository is absent).
    pub inventory: Inventory,
    /// Failures, one per repository (or one per registry when the whole registry failed).
    pub errors: Vec<RegistryError>,
    /// Things worth telling that are not failures (unsupported media types, untagged digests
    /// invisible without a full listing), sorted.
    pub notes: Vec<String>,
}

impl ReadOutcome {
    /// Merges another outcome into this one (its repositories replace equal ones).
    pub(crate) fn merge(&mut self, other: ReadOutcome) {
        self.inventory.repositories.extend(other.inventory.repositories);
        self.errors.extend(other.errors);
        self.notes.extend(other.notes);
        self.notes.sort();
        self.notes.dedup();
    }

    /// The first failure that makes a whole registry unusable, if any.
    pub fn registry_wide_error(&self) -> Option<&RegistryError> {
        self.errors.iter().find(|e| e.is_registry_wide())
    }
}

/// Which attachments reading looks for: `--attachments` and `--attachment-type` of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovery {
    /// Look for attachments at all (`--attachments none` turns this off).
    pub attachments: bool,
    /// Referrers API answers are filtered to these `artifactType`s when given.
    pub artifact_types: Vec<String>,
}

impl Discovery {
    /// What planning with `options` needs read. The trust gate needs the signatures whatever
    /// travels: with trust options, attachments are read even under `--attachments none`, and
    /// a referrers API filtered by `--attachment-type` is asked for Sigstore bundles too.
    pub fn of(options: &PlanOptions) -> Self {
        let trust = options.trust != cip_core::trust::TrustOptions::default();
        let mut artifact_types = options.attachment_types.clone();
        if trust && !artifact_types.is_empty() {
            artifact_types.push(cip_core::trust::BUNDLE_MEDIA_TYPE.to_owned());
        }
        Discovery { attachments: options.attachments != AttachmentFilter::None || trust, artifact_types }
    }
}

impl Default for Discovery {
    /// Attachments on, as `--attachments all` (the default) plans them.
    fn default() -> Self {
        Discovery::of(&PlanOptions::default())
    }
}

/// digest -> wanted tags, per full repository path.
type Wants = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;
/// Source repo -> digest -> destination repos wanting it.
type Sources = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Source and destination wants of a manifest set (valid digests and tags only: invalid ones
/// are blocked by the planner and need no reading).
fn wants(set: &ManifestSet) -> (Wants, Sources) {
    let mut dests: Wants = BTreeMap::new();
    let mut sources: Sources = BTreeMap::new();
    for manifest in &set.manifests {
        let source = manifest.source();
        for image in &manifest.images {
            for entry in image.dmap.iter().filter(|e| is_valid_digest(&e.digest.value)) {
                let digest = &entry.digest.value;
                let tags: BTreeSet<String> =
                    entry.tags.iter().map(|t| &t.value).filter(|t| is_valid_tag(t)).cloned().collect();
                for dest in manifest.destinations() {
                    let repo = format!("{}/{}", dest.name.value, image.name.value);
                    dests
                        .entry(repo.clone())
                        .or_default()
                        .entry(digest.clone())
                        .or_default()
                        .extend(tags.clone());
                    if let Some(src) = source {
                        let src_repo = format!("{}/{}", src.name.value, image.name.value);
                        sources.entry(src_repo).or_default().entry(digest.clone()).or_default().push(repo);
                    }
                }
            }
        }
    }
    (dests, sources)
}

/// RepoNeeds of the destination repositories: their wanted tags and digests.
fn destination_needs(dests: &Wants, discovery: &Discovery) -> BTreeMap<String, RepoNeeds> {
    dests
        .iter()
        .map(|(repo, digests)| {
            let needs = RepoNeeds {
                tags: digests.values().flatten().cloned().collect(),
                digests: digests.keys().cloned().collect(),
                attachments: discovery.attachments,
                ..RepoNeeds::default()
            };
            (repo.clone(), needs)
        })
        .collect()
}

/// RepoNeeds of the source repositories: digests some destination still lacks, or lacks a wanted
/// tag of (the planner checks the source for every edge not already in place), with children.
/// A source repository that is also a destination gets its destination needs too, since its
/// new reading replaces the first.
fn source_needs(
    sources: &Sources,
    dests: &Wants,
    dest_needs: &BTreeMap<String, RepoNeeds>,
    inventory: &Inventory,
    discovery: &Discovery,
) -> BTreeMap<String, RepoNeeds> {
    let complete = |repo: &str, digest: &str| {
        let wanted = dests.get(repo).and_then(|d| d.get(digest));
        let info = inventory.repository(repo).and_then(|r| r.get(digest));
        info.is_some_and(|info| wanted.is_none_or(|tags| tags.iter().all(|t| info.tags.contains(t))))
    };
    let mut out: BTreeMap<String, RepoNeeds> = BTreeMap::new();
    for (repo, digests) in sources {
        for (digest, _) in digests.iter().filter(|(digest, dsts)| dsts.iter().any(|d| !complete(d, digest))) {
            let needs = out.entry(repo.clone()).or_default();
            needs.digests.insert(digest.clone());
            needs.children_of.insert(digest.clone());
            if discovery.attachments {
                needs.referrers_of.insert(digest.clone());
                // Promoted in this run: the trust gate verifies its signatures.
                needs.signed_of.insert(digest.clone());
            }
        }
        if discovery.attachments {
            let needs = out.entry(repo.clone()).or_default();
            needs.attachments = true;
            needs.artifact_types.clone_from(&discovery.artifact_types);
            // In place everywhere, but their attachments may have changed in the source.
            needs.if_attached.extend(digests.keys().cloned());
            for (digest, dsts) in digests {
                let known =
                    dsts.iter().find_map(|d| inventory.repository(d)?.get(digest)?.media_type.clone());
                if let Some(media_type) = known {
                    needs.known_media_types.insert(digest.clone(), media_type);
                }
            }
        }
    }
    for (repo, needs) in out.iter_mut() {
        if let Some(dest) = dest_needs.get(repo) {
            needs.merge(dest);
        }
    }
    out
}

/// Reads what planning `set` needs (see the module documentation).
pub async fn read_for_plan(
    set: &ManifestSet,
    stores: &Stores,
    stats: &Arc<Stats>,
    discovery: &Discovery,
) -> ReadOutcome {
    let (dests, sources) = wants(set);
    let dest_needs = destination_needs(&dests, discovery);
    let mut outcome = read(stores, stats, dest_needs.clone()).await;
    let mut needs = source_needs(&sources, &dests, &dest_needs, &outcome.inventory, discovery);
    // Registries that could not be read at all are not asked again.
    needs.retain(|repo, _| {
        !outcome.errors.iter().any(|e| e.is_registry_wide() && repo.starts_with(&e.registry))
    });
    let unread: Vec<String> = sources.keys().filter(|r| !needs.contains_key(*r)).cloned().collect();
    if !needs.is_empty() {
        outcome.merge(read(stores, stats, needs).await);
    }
    // Sources with nothing to read are known for what planning asks of them: no edge needs them.
    for repo in unread {
        let failed = outcome.errors.iter().any(|e| e.is_registry_wide() && repo.starts_with(&e.registry));
        if !failed {
            outcome.inventory.repositories.entry(repo).or_default();
        }
    }
    if discovery.attachments {
        differing_layers(stores, &sources, &mut outcome).await;
    }
    outcome
}

/// Fills `layers` of tag-scheme attachments whose tag points at different manifests in a source
/// and one of its destinations (both sides), so the planner can apply the union rule; equal
/// digests need nothing read.
async fn differing_layers(stores: &Stores, sources: &Sources, outcome: &mut ReadOutcome) {
    let mut wanted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let inventory = &outcome.inventory;
    for (src, digests) in sources {
        let dsts: BTreeSet<&String> = digests.values().flatten().collect();
        let Some(src_repo) = inventory.repository(src) else { continue };
        for dst in dsts {
            let Some(dst_repo) = inventory.repository(dst) else { continue };
            let dst_tags: BTreeMap<&String, &String> =
                dst_repo.iter().flat_map(|(d, i)| i.tags.iter().map(move |t| (t, d))).collect();
            for (digest, info) in src_repo {
                for tag in info.tags.iter().filter(|t| attachments::cosign_subject(t).is_some()) {
                    match dst_tags.get(tag) {
                        Some(other) if *other != digest => {
                            wanted.entry(src.clone()).or_default().insert(digest.clone());
                            wanted.entry(dst.clone()).or_default().insert((*other).clone());
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    for (repo, digests) in wanted {
        let Ok(at) = stores.locate(&repo) else { continue };
        let Some(repository) = outcome.inventory.repositories.get_mut(&repo) else { continue };
        if let Err(error) = attachments::fill_layers(at.store.as_ref(), &at.repo, digests, repository).await {
            outcome.errors.push(error);
        }
    }
}

/// Reads exactly the repositories of `request` (full paths) with what each needs.
pub async fn read_repositories(
    stores: &Stores,
    stats: &Arc<Stats>,
    request: BTreeMap<String, RepoNeeds>,
) -> ReadOutcome {
    read(stores, stats, request).await
}

/// Reads every repository under each of `targets` (registry names or `REGISTRY/PREFIX`).
pub async fn read_registries(stores: &Stores, stats: &Arc<Stats>, targets: &[String]) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    for target in targets {
        outcome.merge(prefix::read_prefix(stores, stats, target).await);
    }
    outcome
}
