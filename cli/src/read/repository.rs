//! Reading repositories through their stores, with as few requests as each store allows.
//!
//! - Where a store describes a whole repository in one call (a layout's `index.json`, Google's
//!   `tags/list` extension), one listing per repository.
//! - Elsewhere, one `HEAD` per tag the caller needs (not every tag in the repository) and one
//!   `HEAD` per needed digest not already seen through a tag. The inventory then holds the
//!   needed tags only, which is all planning looks at.
//! - A repository without a listing is empty; on a store that does not list fully its needed
//!   digests are still checked, since the distribution registry answers `404 NAME_UNKNOWN` to
//!   `tags/list` for a repository holding only untagged manifests exactly as for one that does
//!   not exist (same status, same error code, same body). The cheaper proof is an open
//!   registry's catalog (`_catalog`, which the distribution registry builds from the
//!   repositories holding manifests): fetched once per store, at the first repository without a
//!   listing, a repository absent from it holds no manifest at all, so its digests need no
//!   `HEAD` (a cold destination costs one listing per repository plus the catalog's pages, not
//!   one request per digest). On a registry that authenticates, or where the catalog fails, the
//!   digests are checked one by one as before (see `Store::repositories_with_manifests`).
//!   A catalog that hid a repository would only make cip copy an image that is already there
//!   (blobs found present, the same manifest bytes written again), never skip one.
//! - Whether an HTTP host lists fully is learned from its first listing, read before the
//!   host's other repositories; that listing also tells which needed tags exist.
//! - Children of indexes are recorded (one `GET` each) only for digests named in
//!   [`RepoNeeds::children_of`] (and for snapshots): a no-op run never reads an index body.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::OnceCell;

use cip_core::inventory::{ManifestInfo, Repository};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tracing::debug;

use super::{ReadOutcome, attachments, signed};
use crate::registry::media::{self, Kind};
use crate::registry::stats::Stats;
use crate::registry::{ErrorKind, Operation, RegistryError};
use crate::store::{Listing, Location, Stores};

/// What the caller needs to know about one repository.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoNeeds {
    /// Tags whose digests matter.
    pub tags: BTreeSet<String>,
    /// Digests whose presence matters.
    pub digests: BTreeSet<String>,
    /// Read every tag (snapshots, audits), not only `tags`.
    pub everything: bool,
    /// Digests whose index children must be recorded (when they are indexes).
    pub children_of: BTreeSet<String>,
    /// A listing already fetched while finding the repository (Google's `child` walk).
    pub listing: Option<Listing>,
    /// Record attachments (issue 13, see `attachments`): list the repository to find its
    /// attachment tags, resolve them, and read its referrers tag-schema indexes.
    pub attachments: bool,
    /// Digests (with their index children) whose referrers the store's referrers API is asked
    /// for, when it has one: one request per digest, so only digests promoted in this run.
    pub referrers_of: BTreeSet<String>,
    /// Only referrers with one of these `artifactType`s (`--attachment-type`), when given.
    pub artifact_types: Vec<String>,
    /// Digests resolved (and their children recorded) only when the listing shows attachments
    /// of them: a source's digests already in place everywhere, whose attachments the planner
    /// still compares.
    pub if_attached: BTreeSet<String>,
    /// Media types of `if_attached` digests as a destination holding the same digest reported
    /// them (same digest, same bytes): such a digest is recorded without a `HEAD`.
    pub known_media_types: BTreeMap<String, String>,
    /// Digests whose signature attachments (`.sig`, `.att`, Sigstore-bundle referrers) are read
    /// with their signature layers' bytes, for the trust gate (see `signed`): digests promoted
    /// in this run.
    pub signed_of: BTreeSet<String>,
}

impl RepoNeeds {
    /// Merges another set of needs.
    pub fn merge(&mut self, other: &RepoNeeds) {
        self.tags.extend(other.tags.iter().cloned());
        self.digests.extend(other.digests.iter().cloned());
        self.everything |= other.everything;
        self.children_of.extend(other.children_of.iter().cloned());
        self.attachments |= other.attachments;
        self.referrers_of.extend(other.referrers_of.iter().cloned());
        self.if_attached.extend(other.if_attached.iter().cloned());
        self.known_media_types.extend(other.known_media_types.iter().map(|(d, m)| (d.clone(), m.clone())));
        self.signed_of.extend(other.signed_of.iter().cloned());
        for t in &other.artifact_types {
            if !self.artifact_types.contains(t) {
                self.artifact_types.push(t.clone());
            }
        }
    }
}

type RepoResult = Result<(Repository, Vec<String>), RegistryError>;

/// Reads the repositories of `request` (full paths -> needs). Stores are read in parallel;
/// within a store, repositories are read in parallel once its listing style is known (the HTTP
/// client bounds requests in flight per host).
pub(crate) async fn read(
    stores: &Stores,
    stats: &Arc<Stats>,
    request: BTreeMap<String, RepoNeeds>,
) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    let mut by_store: BTreeMap<String, Vec<(String, Location, RepoNeeds)>> = BTreeMap::new();
    for (repo, needs) in request {
        match stores.locate(&repo) {
            Ok(at) => by_store.entry(at.key.clone()).or_default().push((repo, at, needs)),
            Err(error) => outcome.errors.push(error),
        }
    }
    stats.add_repositories(by_store.values().map(|v| v.len() as u64).sum());
    let mut parts: FuturesUnordered<_> =
        by_store.into_values().map(|repos| read_store(stats, repos)).collect();
    while let Some(part) = parts.next().await {
        outcome.merge(part);
    }
    outcome.errors.sort_by(|a, b| (&a.registry, &a.repository).cmp(&(&b.registry, &b.repository)));
    outcome
}

/// A store's catalog, fetched at most once per read: `None` when it could not be had.
type Catalog = OnceCell<Option<BTreeSet<String>>>;

async fn read_store(stats: &Arc<Stats>, repos: Vec<(String, Location, RepoNeeds)>) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    let catalog = Catalog::new();
    let catalog = &catalog;
    let mut rest = repos.into_iter().peekable();
    let Some(store) = rest.peek().map(|(_, at, _)| at.store.clone()) else { return outcome };
    // Read one repository at a time until the listing style is known (a missing repository
    // does not tell).
    while store.lists_fully().is_none() {
        let Some((repo, at, needs)) = rest.next() else { return outcome };
        let result = read_repository(&at, &needs, true, catalog).await;
        stats.repository_done();
        match result {
            Err(error) if error.is_registry_wide() => {
                debug!(registry = store.name(), "{error}");
                outcome.errors.push(error);
                // Every other repository would fail the same way; do not hammer the registry.
                return outcome;
            }
            result => record(&mut outcome, repo, result),
        }
    }
    let rest: Vec<(String, Location, RepoNeeds)> = rest.collect();
    let names: Vec<&str> = rest.iter().map(|(_, at, _)| at.repo.as_str()).collect();
    store.prepare_reads(&names).await;
    let mut reads: FuturesUnordered<_> = rest
        .iter()
        .map(|(repo, at, needs)| async move { (repo, read_repository(at, needs, false, catalog).await) })
        .collect();
    while let Some((repo, result)) = reads.next().await {
        stats.repository_done();
        record(&mut outcome, repo.clone(), result);
    }
    outcome
}

fn record(outcome: &mut ReadOutcome, repo: String, result: RepoResult) {
    match result {
        Ok((repository, notes)) => {
            outcome.inventory.repositories.insert(repo, repository);
            outcome.notes.extend(notes);
        }
        Err(error) => outcome.errors.push(error),
    }
}

/// Reads one repository; `probe` lists it whatever the store's style (to learn the style).
async fn read_repository(at: &Location, needs: &RepoNeeds, probe: bool, catalog: &Catalog) -> RepoResult {
    let fully = at.store.lists_fully();
    let listing = match &needs.listing {
        Some(listing) => Some(listing.clone()),
        None if probe || needs.everything || needs.attachments || fully == Some(true) => {
            Some(at.store.list(&at.repo).await?)
        }
        None => None,
    };
    let full = at.store.lists_fully() == Some(true);
    let mut repository = Repository::new();
    let mut notes = Vec::new();
    match listing {
        Some(Listing::Full(listed)) => repository = listed,
        Some(Listing::Missing) if full => {}
        Some(Listing::Missing) => {
            if !needs.everything && !needs.digests.is_empty() && holds_manifests(at, catalog).await {
                debug!(repository = %at.repo, "no listing: checking the needed digests");
                head_digests(at, needs, &mut repository).await?;
            }
        }
        Some(Listing::Tags(present)) => {
            let present: BTreeSet<&String> = present.iter().collect();
            let wanted: Vec<&String> = if needs.everything {
                present.iter().copied().collect()
            } else {
                let attachment = |t: &&String| needs.attachments && attachments::is_attachment_tag(t);
                let mut wanted: Vec<&String> = needs.tags.iter().filter(|t| present.contains(t)).collect();
                wanted.extend(present.iter().copied().filter(|t| attachment(t) && !needs.tags.contains(*t)));
                wanted
            };
            head_tags(at, wanted.into_iter(), &mut repository).await?;
            let attached: BTreeSet<String> =
                present.iter().filter_map(|t| attachments::subject_of_tag(t)).collect();
            let mut needs = needs.clone();
            for digest in needs.if_attached.intersection(&attached) {
                match needs.known_media_types.get(digest) {
                    Some(media_type) => {
                        repository.entry(digest.clone()).or_insert_with(|| ManifestInfo {
                            media_type: Some(media_type.clone()),
                            ..ManifestInfo::default()
                        });
                    }
                    None => {
                        needs.digests.insert(digest.clone());
                    }
                }
            }
            head_digests(at, &needs, &mut repository).await?;
            if needs.everything {
                notes.push(format!(
                    "{}/{}: the registry lists tags only, so untagged digests are not in the inventory",
                    at.store.name(),
                    at.repo
                ));
            }
        }
        None => {
            head_tags(at, needs.tags.iter(), &mut repository).await?;
            head_digests(at, needs, &mut repository).await?;
        }
    }
    finish(at, needs, repository, notes).await
}

/// Whether the repository may hold manifests: `false` only when the store's catalog was read
/// and does not name it (see the module documentation).
async fn holds_manifests(at: &Location, catalog: &Catalog) -> bool {
    let names = catalog
        .get_or_init(|| async {
            let names = at.store.repositories_with_manifests().await;
            if names.is_none() {
                debug!(registry = at.store.name(), "no open catalog: digests are checked one by one");
            }
            names.map(|names| names.into_iter().collect())
        })
        .await;
    names.as_ref().is_none_or(|names| names.contains(&at.repo))
}

async fn head_tags<'a>(
    at: &Location,
    tags: impl Iterator<Item = &'a String>,
    repository: &mut Repository,
) -> Result<(), RegistryError> {
    let mut heads: FuturesUnordered<_> =
        tags.map(|tag| async move { (tag, at.store.head_manifest(&at.repo, tag).await) }).collect();
    while let Some((tag, head)) = heads.next().await {
        if let Some(head) = head? {
            let info = repository.entry(head.digest).or_default();
            info.tags.push(tag.clone());
            info.tags.sort();
            if info.media_type.is_none() && !head.media_type.is_empty() {
                info.media_type = Some(head.media_type);
            }
        }
    }
    Ok(())
}

/// HEAD each needed digest not already known.
async fn head_digests(
    at: &Location,
    needs: &RepoNeeds,
    repository: &mut Repository,
) -> Result<(), RegistryError> {
    let missing: Vec<&String> = needs.digests.iter().filter(|d| !repository.contains_key(*d)).collect();
    let mut heads: FuturesUnordered<_> =
        missing.into_iter().map(|d| async move { (d, at.store.head_manifest(&at.repo, d).await) }).collect();
    while let Some((digest, head)) = heads.next().await {
        if let Some(head) = head? {
            let media_type = (!head.media_type.is_empty()).then_some(head.media_type);
            repository.insert(digest.clone(), ManifestInfo { media_type, ..ManifestInfo::default() });
        }
    }
    Ok(())
}

/// Records index children where asked and notes unsupported media types.
async fn finish(
    at: &Location,
    needs: &RepoNeeds,
    mut repository: Repository,
    mut notes: Vec<String>,
) -> RepoResult {
    let mut to_read = Vec::new();
    let attached: BTreeSet<String> =
        repository.values().flat_map(|i| &i.tags).filter_map(|t| attachments::subject_of_tag(t)).collect();
    let wanted = |d: &String| {
        needs.children_of.contains(d)
            || needs.everything
            || (needs.if_attached.contains(d) && attached.contains(d))
    };
    for (digest, info) in &repository {
        let Some(media_type) = info.media_type.as_deref() else { continue };
        match media::kind(media_type) {
            Kind::Index if wanted(digest) => to_read.push(digest.clone()),
            Kind::Unsupported => notes.push(format!(
                "{}/{}@{digest}: unsupported manifest media type {media_type:?} (supported: Docker schema 2, \
                 Docker manifest list, OCI manifest, OCI index)",
                at.store.name(),
                at.repo
            )),
            _ => {}
        }
    }
    let mut gets: FuturesUnordered<_> =
        to_read.into_iter().map(|d| async move { (at.store.get_manifest(&at.repo, &d).await, d) }).collect();
    while let Some((manifest, digest)) = gets.next().await {
        let manifest = match manifest {
            Ok(m) => m,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        };
        let children = media::index_children(&manifest.bytes).map_err(|m| {
            let kind = ErrorKind::Invalid(format!("{digest}: {m}"));
            RegistryError::new(at.store.name(), &at.repo, Operation::GetManifest, kind)
        })?;
        if let Some(info) = repository.get_mut(&digest) {
            info.children = children.0;
        }
    }
    if needs.attachments || needs.everything {
        attachments::read_schema_indexes(at, &mut repository).await?;
    }
    if !needs.referrers_of.is_empty() {
        let mut subjects = needs.referrers_of.clone();
        for digest in &needs.referrers_of {
            if let Some(info) = repository.get(digest) {
                subjects.extend(info.children.iter().cloned());
            }
        }
        attachments::read_referrers_api(at, subjects, &needs.artifact_types, &mut repository, &mut notes)
            .await;
    }
    if !needs.signed_of.is_empty() {
        let requests = signed::fill(at, &needs.signed_of, &mut repository, &mut notes).await?;
        debug!(repository = %at.repo, requests, "signature layers read for the trust gate");
    }
    if needs.everything {
        let digests = attachments::cosign_digests(&repository);
        attachments::fill_layers(at.store.as_ref(), &at.repo, digests, &mut repository).await?;
    }
    Ok((repository, notes))
}
