//! Tag listing: `GET /v2/<name>/tags/list`, following `Link` pagination on the same origin, pages
//! merged (Google's `manifest` and `child` included, see [`super::google`]).

use std::collections::BTreeMap;

use cip_core::inventory::Repository;
use reqwest::Method;
use reqwest::header::{self, HeaderMap};

use super::client::{PAGE_SIZE, RegistryClient};
use super::error::{ErrorKind, Operation, RegistryError};
use super::google::TagsList;
use super::link;

/// What a listing tells of one repository (`Store::list`: a registry's `tags/list`, a layout's
/// `index.json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listing {
    /// Every manifest of the repository with its tags and media type (children of indexes are
    /// not filled in).
    Full(Repository),
    /// Tag names only: digests take one `HEAD` each.
    Tags(Vec<String>),
    /// The store answered that the repository has no listing. Google's extension means it does
    /// not exist; the distribution registry answers the same for a repository holding only
    /// untagged manifests, so needed digests are still checked.
    Missing,
}

/// Pages followed at most (a registry cannot keep cip paging forever).
const MAX_PAGES: usize = 10_000;

impl RegistryClient {
    /// `tags/list` of a repository (`full`: host and path). `None` when the registry has no
    /// listing for it (404).
    pub async fn list_tags(&self, full: &str) -> Result<Option<TagsList>, RegistryError> {
        let suffix = format!("tags/list?n={PAGE_SIZE}");
        let mut call = self.repo_call(full, Operation::ListTags, Method::GET, &suffix, &["pull"]);
        let mut merged: Option<TagsList> = None;
        for _ in 0..MAX_PAGES {
            let Some(page) = self.fetch(&call).await? else { return Ok(merged) };
            let next = next_page(&page.headers, &page.url);
            let list = TagsList::parse(&page.bytes)
                .map_err(|m| self.error(call.host, call.repository, call.operation, ErrorKind::Invalid(m)))?;
            merged = Some(match merged {
                None => list,
                Some(acc) => merge_pages(acc, list),
            });
            match next {
                Some(target) => call.target = target,
                None => break,
            }
        }
        Ok(merged)
    }
}

fn merge_pages(mut acc: TagsList, page: TagsList) -> TagsList {
    if let Some(tags) = page.tags {
        acc.tags.get_or_insert_with(Vec::new).extend(tags);
    }
    if let Some(m) = page.manifest {
        acc.manifest.get_or_insert_with(BTreeMap::new).extend(m);
    }
    if let Some(c) = page.child {
        acc.child.get_or_insert_with(Vec::new).extend(c);
    }
    acc
}

/// The next page's target from a `Link` header. Absolute or relative targets are resolved
/// against the request URL and only followed on the same origin (a registry cannot redirect
/// cip's credentials elsewhere).
pub(crate) fn next_page(headers: &HeaderMap, url: &reqwest::Url) -> Option<String> {
    let value = headers.get(header::LINK)?.to_str().ok()?;
    let target = link::next_link(value)?;
    if target.starts_with('/') {
        return Some(target);
    }
    let resolved = url.join(&target).ok()?;
    (resolved.origin() == url.origin()).then(|| {
        let mut path = resolved.path().to_string();
        if let Some(q) = resolved.query() {
            path.push('?');
            path.push_str(q);
        }
        path
    })
}
