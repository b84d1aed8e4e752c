//! Reading registries into an [`Inventory`]: exactly the repositories asked for, in parallel,
//! with as few requests as the registry allows.
//!
//! - Where the registry offers Google's `tags/list` extension, one request describes a whole
//!   repository (digests, tags, media types).
//! - Elsewhere, one `HEAD` per tag the caller needs (not every tag in the repository) and one
//!   `HEAD` per needed digest not already seen through a tag. The inventory then holds the
//!   needed tags only, which is all planning looks at.
//! - A repository that does not exist (404) is read as empty.
//! - Whether a host offers the extension is learned from the first `tags/list` on it; that first
//!   listing also tells which needed tags exist, so absent ones cost no `HEAD`.
//! - Children of indexes are recorded (one `GET` each) only for the digests the caller names in
//!   [`RepoNeeds::children_of`]: a no-op run never reads an index body.

use std::collections::{BTreeMap, BTreeSet};

use cip_core::inventory::{Inventory, ManifestInfo, Repository};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tracing::{debug, info};

use super::client::RegistryClient;
use super::error::RegistryError;
use super::google::TagsList;
use super::host;
use super::media::{self, Kind};

/// What the caller needs to know about one repository.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoNeeds {
    /// Tags whose digests matter.
    pub tags: BTreeSet<String>,
    /// Digests whose presence matters.
    pub digests: BTreeSet<String>,
    /// Read every tag (snapshots), not only `tags`.
    pub everything: bool,
    /// Digests whose index children must be recorded (when they are indexes).
    pub children_of: BTreeSet<String>,
}

impl RepoNeeds {
    /// Merges another set of needs.
    pub fn merge(&mut self, other: &RepoNeeds) {
        self.tags.extend(other.tags.iter().cloned());
        self.digests.extend(other.digests.iter().cloned());
        self.everything |= other.everything;
        self.children_of.extend(other.children_of.iter().cloned());
    }
}

/// The result of reading: what could be read, and every failure.
#[derive(Debug, Default)]
pub struct ReadOutcome {
    /// Repositories read (a failed repository is absent).
    pub inventory: Inventory,
    /// Failures, one per repository (or one per registry when the whole registry failed).
    pub errors: Vec<RegistryError>,
    /// Things worth telling that are not failures (unsupported media types, untagged digests
    /// invisible without the extension), sorted.
    pub notes: Vec<String>,
}

impl ReadOutcome {
    /// Merges another outcome into this one.
    pub fn merge(&mut self, other: ReadOutcome) {
        self.inventory.repositories.extend(other.inventory.repositories);
        self.errors.extend(other.errors);
        self.notes.extend(other.notes);
        self.notes.sort();
        self.notes.dedup();
    }
}

/// Reads the repositories of `request` (full paths -> needs). Hosts are read in parallel; within
/// a host, repositories are read in parallel once the host's listing style is known, bounded by
/// the host's concurrency cap.
pub async fn read(client: &RegistryClient, request: &BTreeMap<String, RepoNeeds>) -> ReadOutcome {
    let mut by_host: BTreeMap<&str, Vec<(&str, &RepoNeeds)>> = BTreeMap::new();
    for (repo, needs) in request {
        by_host.entry(host::split_repository(repo).0).or_default().push((repo, needs));
    }
    client.stats().add_repositories(request.len() as u64);
    let mut hosts: FuturesUnordered<_> =
        by_host.into_iter().map(|(h, repos)| read_host(client, h, repos)).collect();
    let mut outcome = ReadOutcome::default();
    while let Some(part) = hosts.next().await {
        outcome.merge(part);
    }
    outcome.errors.sort_by(|a, b| (&a.registry, &a.repository).cmp(&(&b.registry, &b.repository)));
    outcome
}

async fn read_host(client: &RegistryClient, host: &str, repos: Vec<(&str, &RepoNeeds)>) -> ReadOutcome {
    let mut outcome = ReadOutcome::default();
    let mut rest = repos.into_iter();
    // Probe sequentially until the listing style is known (a 404 repository does not tell).
    while client.extension(host).is_none() {
        let Some((repo, needs)) = rest.next() else { return outcome };
        match read_probe(client, repo, needs).await {
            Ok((repository, notes)) => {
                outcome.inventory.repositories.insert(repo.to_string(), repository);
                outcome.notes.extend(notes);
            }
            Err(error) if error.is_registry_wide() => {
                info!(registry = host, "{error}");
                outcome.errors.push(error);
                // Every other repository would fail the same way; do not hammer the registry.
                return outcome;
            }
            Err(error) => outcome.errors.push(error),
        }
        client.stats().repository_done();
    }
    let extension = client.extension(host) == Some(true);
    let rest: Vec<(&str, &RepoNeeds)> = rest.collect();
    let names: Vec<&str> = rest.iter().map(|(repo, _)| *repo).collect();
    client.prefetch_pull_tokens(host, &names).await;
    let mut reads: FuturesUnordered<_> = rest
        .into_iter()
        .map(|(repo, needs)| async move { (repo, read_repository(client, repo, needs, extension).await) })
        .collect();
    while let Some((repo, result)) = reads.next().await {
        client.stats().repository_done();
        match result {
            Ok((repository, notes)) => {
                outcome.inventory.repositories.insert(repo.to_string(), repository);
                outcome.notes.extend(notes);
            }
            Err(error) => outcome.errors.push(error),
        }
    }
    outcome
}

pub(crate) type RepoResult = Result<(Repository, Vec<String>), RegistryError>;

/// Reads the first repositories of a host with `tags/list`, learning whether the host offers
/// Google's extension.
async fn read_probe(client: &RegistryClient, repo: &str, needs: &RepoNeeds) -> RepoResult {
    let Some(list) = client.list_tags(repo).await? else {
        return read_unlisted(client, repo, needs).await;
    };
    let host = host::split_repository(repo).0;
    client.set_extension(host, list.has_extension());
    debug!(registry = host, extension = list.has_extension(), "listing style learned");
    from_listing(client, repo, needs, list).await
}

async fn read_repository(
    client: &RegistryClient,
    repo: &str,
    needs: &RepoNeeds,
    extension: bool,
) -> RepoResult {
    if extension || needs.everything {
        return match client.list_tags(repo).await? {
            Some(list) => from_listing(client, repo, needs, list).await,
            None if extension => Ok((Repository::new(), Vec::new())),
            None => read_unlisted(client, repo, needs).await,
        };
    }
    let mut repository = Repository::new();
    head_tags(client, repo, needs.tags.iter(), &mut repository).await?;
    head_digests(client, repo, needs, &mut repository).await?;
    finish(client, repo, needs, repository).await
}

/// A repository whose tag listing answered 404. With Google's extension that means it does not
/// exist; the distribution registry, though, answers 404 as well for a repository holding only
/// untagged manifests. So the needed digests are checked one HEAD each (none for a snapshot),
/// lest an untagged digest already promoted be planned as a copy instead of a tag.
async fn read_unlisted(client: &RegistryClient, repo: &str, needs: &RepoNeeds) -> RepoResult {
    debug!(repository = repo, "no tag listing: checking the needed digests");
    let mut repository = Repository::new();
    if !needs.everything {
        head_digests(client, repo, needs, &mut repository).await?;
    }
    finish(client, repo, needs, repository).await
}

/// Builds a repository from a listing: directly with the extension, else by HEADs of the
/// needed (or, for `everything`, all) tags that the listing shows exist.
pub(crate) async fn from_listing(
    client: &RegistryClient,
    repo: &str,
    needs: &RepoNeeds,
    list: TagsList,
) -> RepoResult {
    if list.has_extension() {
        return finish(client, repo, needs, list.to_repository()).await;
    }
    let present: BTreeSet<&String> = list.tag_names().iter().collect();
    let wanted: Vec<&String> = if needs.everything {
        present.iter().copied().collect()
    } else {
        needs.tags.iter().filter(|t| present.contains(t)).collect()
    };
    let mut repository = Repository::new();
    head_tags(client, repo, wanted.into_iter(), &mut repository).await?;
    head_digests(client, repo, needs, &mut repository).await?;
    let (repository, mut notes) = finish(client, repo, needs, repository).await?;
    if needs.everything {
        notes.push(format!(
            "{repo}: the registry lists tags only, so untagged digests are not in the inventory"
        ));
    }
    Ok((repository, notes))
}

async fn head_tags<'a>(
    client: &RegistryClient,
    repo: &str,
    tags: impl Iterator<Item = &'a String>,
    repository: &mut Repository,
) -> Result<(), RegistryError> {
    let mut heads: FuturesUnordered<_> =
        tags.map(|tag| async move { (tag, client.head_manifest(repo, tag).await) }).collect();
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
    client: &RegistryClient,
    repo: &str,
    needs: &RepoNeeds,
    repository: &mut Repository,
) -> Result<(), RegistryError> {
    let missing: Vec<&String> = needs.digests.iter().filter(|d| !repository.contains_key(*d)).collect();
    let mut heads: FuturesUnordered<_> =
        missing.into_iter().map(|d| async move { (d, client.head_manifest(repo, d).await) }).collect();
    while let Some((digest, head)) = heads.next().await {
        if let Some(head) = head? {
            let media_type = (!head.media_type.is_empty()).then_some(head.media_type);
            repository
                .insert(digest.clone(), ManifestInfo { tags: Vec::new(), media_type, children: Vec::new() });
        }
    }
    Ok(())
}

/// Records index children where asked and notes unsupported media types.
async fn finish(
    client: &RegistryClient,
    repo: &str,
    needs: &RepoNeeds,
    mut repository: Repository,
) -> RepoResult {
    let mut notes = Vec::new();
    let mut to_read = Vec::new();
    for (digest, info) in &repository {
        let Some(media_type) = info.media_type.as_deref() else { continue };
        match media::kind(media_type) {
            Kind::Index if needs.children_of.contains(digest) || needs.everything => to_read.push(digest.clone()),
            Kind::Unsupported => notes.push(format!(
                "{repo}@{digest}: unsupported manifest media type {media_type:?} (supported: Docker schema 2, \
                 Docker manifest list, OCI manifest, OCI index)"
            )),
            _ => {}
        }
    }
    let mut gets: FuturesUnordered<_> =
        to_read.into_iter().map(|d| async move { (client.get_manifest(repo, &d).await, d) }).collect();
    while let Some((manifest, digest)) = gets.next().await {
        let Some(manifest) = manifest? else { continue };
        let (children, _) = media::index_children(&manifest.bytes).map_err(|m| RegistryError {
            registry: host::split_repository(repo).0.to_string(),
            repository: Some(host::split_repository(repo).1.to_string()),
            operation: super::error::Operation::GetManifest,
            kind: super::error::ErrorKind::InvalidResponse(format!("{digest}: {m}")),
        })?;
        if let Some(info) = repository.get_mut(&digest) {
            info.children = children;
        }
    }
    Ok((repository, notes))
}
