//! From the full repository paths of a plan (`registry + "/" + image`) to a [`Store`] and the
//! repository path inside it. One store per registry host (so repositories of one host can mount
//! each other's blobs) and one per `oci:DIR` layout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cip_core::reference::OCI_LAYOUT_PREFIX;

use super::http::HttpStore;
use super::layout::Layout;
use super::{ErrorKind, Operation, RegistryError, Store};
use crate::registry::RegistryClient;

/// Opens the store of a key: a registry host (`127.0.0.1:5000`) or an `oci:DIR` name.
pub type Opener = Box<dyn Fn(&str) -> Result<Arc<dyn Store>, RegistryError> + Send + Sync>;

/// The opener of a run: `oci:DIR` names open layouts, every other key is a registry host reached
/// through `client` (one HTTP store per host).
pub fn opener(client: RegistryClient) -> Opener {
    Box::new(move |key: &str| match Layout::open(key) {
        Some(layout) => Ok(Arc::new(layout) as Arc<dyn Store>),
        None => Ok(Arc::new(HttpStore::new(client.clone(), key)) as Arc<dyn Store>),
    })
}

/// A repository located in a store.
#[derive(Clone)]
pub struct Location {
    /// The store (shared by every repository of the host or layout).
    pub store: Arc<dyn Store>,
    /// Store key: host or `oci:DIR`; equal keys mean one store, so mounts are possible.
    pub key: String,
    /// Repository path inside the store.
    pub repo: String,
}

/// The registries of a run and their opened stores.
pub struct Stores {
    /// Registry names, longest first, so `gcr.io/a/b` wins over `gcr.io/a`.
    registries: Vec<String>,
    open: Opener,
    cache: Mutex<HashMap<String, Arc<dyn Store>>>,
}

/// Splits a registry name into a store key and the repository prefix inside the store.
pub(crate) fn store_key(registry: &str) -> (&str, &str) {
    if registry.starts_with(OCI_LAYOUT_PREFIX) {
        return (registry, "");
    }
    registry.split_once('/').unwrap_or((registry, ""))
}

impl Stores {
    /// Stores for `registries` (the registry names of the manifests), opened on first use.
    pub fn new(registries: impl IntoIterator<Item = String>, open: Opener) -> Self {
        let mut registries: Vec<String> = registries.into_iter().collect();
        registries.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        registries.dedup();
        Stores { registries, open, cache: Mutex::new(HashMap::new()) }
    }

    /// The registry name a full repository path lies under.
    pub fn registry_of<'a>(&'a self, full_repo: &str) -> Option<&'a str> {
        self.registries
            .iter()
            .find(|r| full_repo.strip_prefix(r.as_str()).is_some_and(|rest| rest.starts_with('/')))
            .map(String::as_str)
    }

    /// The store of a registry name (`gcr.io/k8s-staging-foo` opens the `gcr.io` store) and the
    /// repository prefix inside it.
    pub fn store_of(&self, registry: &str) -> Result<(Arc<dyn Store>, String), RegistryError> {
        let (key, prefix) = store_key(registry);
        Ok((self.store(key)?, prefix.to_owned()))
    }

    /// Locates a full repository path (`gcr.io/staging/foo`, `oci:./prod/foo`).
    pub fn locate(&self, full_repo: &str) -> Result<Location, RegistryError> {
        let Some(registry) = self.registry_of(full_repo) else {
            // A repository named exactly like a registry prefix (`host/proj` itself, met when a
            // snapshot walks `host/proj`) lies in that registry's host.
            let (key, repo) = store_key(full_repo);
            if !repo.is_empty() && self.registries.iter().any(|r| store_key(r).0 == key) {
                return Ok(Location { store: self.store(key)?, key: key.to_owned(), repo: repo.to_owned() });
            }
            let kind = ErrorKind::Invalid("no registry of the manifests contains this repository".into());
            return Err(RegistryError::new(full_repo, "", Operation::Open, kind));
        };
        let image = &full_repo[registry.len() + 1..];
        let (key, prefix) = store_key(registry);
        let repo = if prefix.is_empty() { image.to_owned() } else { format!("{prefix}/{image}") };
        let store = self.store(key)?;
        Ok(Location { store, key: key.to_owned(), repo })
    }

    fn store(&self, key: &str) -> Result<Arc<dyn Store>, RegistryError> {
        let mut cache = self.cache.lock().expect("store cache lock");
        if let Some(store) = cache.get(key) {
            return Ok(store.clone());
        }
        let store = (self.open)(key)?;
        cache.insert(key.to_owned(), store.clone());
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(store_key("gcr.io/k8s-staging-foo"), ("gcr.io", "k8s-staging-foo"));
        assert_eq!(store_key("127.0.0.1:5000"), ("127.0.0.1:5000", ""));
        assert_eq!(store_key("oci:./prod/x"), ("oci:./prod/x", ""));
    }

    #[test]
    fn longest_registry_wins() {
        let open: Opener = Box::new(|key| {
            Ok(Arc::new(Layout::open(&format!("oci:{key}")).expect("layout")) as Arc<dyn Store>)
        });
        let stores = Stores::new(["h.io/a".to_owned(), "h.io/a/b".to_owned()], open);
        assert_eq!(stores.registry_of("h.io/a/b/c"), Some("h.io/a/b"));
        assert_eq!(stores.registry_of("h.io/a/c"), Some("h.io/a"));
        assert_eq!(stores.registry_of("h.io/ab/c"), None);
        let endpoint = stores.locate("h.io/a/b/c").expect("located");
        assert_eq!((endpoint.key.as_str(), endpoint.repo.as_str()), ("h.io", "a/b/c"));
    }
}
