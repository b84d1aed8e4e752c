//! Repositories of a registry: `GET /v2/_catalog` (paginated) filtered by a prefix, or, where the
//! host offers Google's extension, the `child` lists walked breadth-first from the prefix (one
//! `tags/list` per repository, each kept so that the reader does not list it again).

use reqwest::Method;
use reqwest::header::HeaderMap;

use super::auth::Scopes;
use super::client::{Call, PAGE_SIZE, RegistryClient};
use super::error::{ErrorKind, Operation, RegistryError};
use super::google::TagsList;
use super::tags::next_page;

/// Depth limit for `child` recursion (registry paths are short; this stops a malicious loop).
const MAX_DEPTH: usize = 32;
/// Pages followed at most.
const MAX_PAGES: usize = 10_000;

impl RegistryClient {
    /// The catalog of an open registry (its `/v2/` asked for no credentials, and no repository
    /// has since): the repositories that hold manifests, as a cold destination's cheaper proof
    /// (see `crate::read`). `None` elsewhere or on any failure: on a registry that
    /// authenticates, the catalog needs its own scope, which many refuse, and a refusal must not
    /// count against the credentials the promotion needs.
    pub(crate) async fn open_catalog(&self, host: &str) -> Option<Vec<String>> {
        let endpoint = self.endpoint(host).await.ok()?;
        let state = self.host_state(host);
        let late = state.late_challenge.lock().expect("challenge lock").is_some();
        if endpoint.challenge != super::auth::Challenge::Anonymous || late {
            return None;
        }
        self.catalog(host).await.ok()
    }

    /// Repository names under `host` from `_catalog` (pagination followed), as paths inside the
    /// host, sorted.
    pub async fn catalog(&self, host: &str) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let mut call = Call {
            host,
            repository: None,
            operation: Operation::Catalog,
            method: Method::GET,
            target: format!("/v2/_catalog?n={PAGE_SIZE}"),
            headers: HeaderMap::new(),
            body: None,
            scopes: Scopes::catalog(),
            timeout: Some(self.inner.config.timeout),
            probe: false,
        };
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let Some(page) = self.fetch(&call).await? else {
                let kind = ErrorKind::NotFound("the repository catalog (_catalog)".into());
                return Err(self.error(host, None, Operation::Catalog, kind));
            };
            let next = next_page(&page.headers, &page.url);
            let parsed: Catalog = serde_json::from_slice(&page.bytes).map_err(|e| {
                self.error(host, None, Operation::Catalog, ErrorKind::Invalid(format!("_catalog body: {e}")))
            })?;
            out.extend(parsed.repositories.unwrap_or_default());
            match next {
                Some(target) => call.target = target,
                None => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every repository under `root` (`host/path`) by Google's `child` lists, with its listing,
    /// breadth-first, each level in parallel. `root`'s own listing is `first`.
    pub(crate) async fn walk_children(
        &self,
        root: &str,
        first: TagsList,
    ) -> Result<Vec<(String, TagsList)>, RegistryError> {
        let mut out = Vec::new();
        let mut level = vec![(root.to_string(), first)];
        for _ in 0..MAX_DEPTH {
            if level.is_empty() {
                break;
            }
            let children: Vec<String> = level
                .iter()
                .flat_map(|(path, list)| list.children().into_iter().map(move |c| format!("{path}/{c}")))
                .collect();
            out.append(&mut level);
            let reads = children.iter().map(|path| async move { (path, self.list_tags(path).await) });
            let mut next = Vec::new();
            for (path, listed) in futures_util::future::join_all(reads).await {
                if let Some(list) = listed? {
                    next.push((path.clone(), list));
                }
            }
            next.sort_by(|a, b| a.0.cmp(&b.0));
            level = next;
        }
        Ok(out)
    }
}
