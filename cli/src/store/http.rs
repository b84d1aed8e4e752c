//! An HTTP registry host as a [`Store`]: one store per host, so repositories of one host can
//! mount each other's blobs. A thin adapter: every operation is the registry client's (rate
//! limits, retries and authentication apply to each), with the repository path inside the host
//! turned into the full path the client takes.

use async_trait::async_trait;

use super::{BlobStream, Listing, ManifestHead, MountOutcome, RawManifest, Referrer, Store};
use crate::registry::{ErrorKind, Operation, RegistryClient, RegistryError};

/// A registry host seen as a [`Store`].
#[derive(Clone, Debug)]
pub(crate) struct HttpStore {
    client: RegistryClient,
    host: String,
}

impl HttpStore {
    /// The store for `host` (`gcr.io`, `127.0.0.1:5000`).
    pub(crate) fn new(client: RegistryClient, host: &str) -> Self {
        Self { client, host: host.to_string() }
    }

    fn full(&self, repo: &str) -> String {
        format!("{}/{repo}", self.host)
    }
}

#[async_trait]
impl Store for HttpStore {
    fn name(&self) -> &str {
        &self.host
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<RawManifest, RegistryError> {
        match self.client.get_manifest(&self.full(repo), reference).await? {
            Some(m) => Ok(m),
            None => {
                let kind = ErrorKind::NotFound(format!("manifest {reference}"));
                Err(RegistryError::new(&self.host, repo, Operation::GetManifest, kind))
            }
        }
    }

    async fn head_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<ManifestHead>, RegistryError> {
        self.client.head_manifest(&self.full(repo), reference).await
    }

    async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        manifest: &RawManifest,
    ) -> Result<(), RegistryError> {
        self.client.put_manifest(&self.full(repo), reference, manifest).await
    }

    async fn blob_exists(&self, repo: &str, digest: &str) -> Result<bool, RegistryError> {
        self.client.blob_exists(&self.full(repo), digest).await
    }

    async fn get_blob(&self, repo: &str, digest: &str) -> Result<BlobStream, RegistryError> {
        self.client.get_blob(&self.full(repo), digest).await
    }

    async fn put_blob(&self, repo: &str, digest: &str, blob: BlobStream) -> Result<(), RegistryError> {
        self.client.put_blob(&self.full(repo), digest, blob).await
    }

    async fn mount_blob(
        &self,
        repo: &str,
        from_repo: &str,
        digest: &str,
    ) -> Result<MountOutcome, RegistryError> {
        self.client.mount_blob(&self.full(repo), from_repo, digest).await
    }

    async fn list(&self, repo: &str) -> Result<Listing, RegistryError> {
        let Some(list) = self.client.list_tags(&self.full(repo)).await? else { return Ok(Listing::Missing) };
        self.client.set_extension(&self.host, list.has_extension());
        Ok(list.into_listing())
    }

    async fn referrers(
        &self,
        repo: &str,
        digest: &str,
        artifact_types: &[String],
    ) -> Result<Option<Vec<Referrer>>, RegistryError> {
        self.client.referrers(&self.full(repo), digest, artifact_types).await
    }

    fn maintains_referrers(&self) -> bool {
        self.client.referrers_api(&self.host) == Some(true)
    }

    async fn prepare_reads(&self, repos: &[&str]) {
        let full: Vec<String> = repos.iter().map(|r| self.full(r)).collect();
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        self.client.prefetch_pull_tokens(&self.host, &full).await;
    }

    async fn repositories_with_manifests(&self) -> Option<Vec<String>> {
        self.client.open_catalog(&self.host).await
    }

    fn lists_fully(&self) -> Option<bool> {
        self.client.extension(&self.host)
    }

    async fn catalog(&self, prefix: &str) -> Result<Vec<(String, Option<Listing>)>, RegistryError> {
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() {
            // Where Google's extension is offered, the prefix's own listing names its children.
            match self.client.list_tags(&self.full(prefix)).await {
                Ok(Some(list)) if list.has_extension() => {
                    self.client.set_extension(&self.host, true);
                    let walked = self.client.walk_children(&self.full(prefix), list).await?;
                    let strip = self.host.len() + 1;
                    // Path segments that only hold other repositories are not repositories.
                    let holds_images = |l: &Listing| !matches!(l, Listing::Full(r) if r.is_empty());
                    return Ok(walked
                        .into_iter()
                        .map(|(path, l)| (path[strip..].to_string(), l.into_listing()))
                        .filter(|(_, l)| holds_images(l))
                        .map(|(path, l)| (path, Some(l)))
                        .collect());
                }
                Ok(_) => {}
                Err(error) if error.is_registry_wide() => return Err(error),
                Err(_) => {}
            }
        }
        let repos = self.client.catalog(&self.host).await?;
        let under = |r: &String| prefix.is_empty() || r == prefix || r.starts_with(&format!("{prefix}/"));
        Ok(repos.into_iter().filter(under).map(|r| (r, None)).collect())
    }
}
