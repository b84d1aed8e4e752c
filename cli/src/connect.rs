//! Registry options shared by every front end that reaches registries (the `cip` commands and the
//! Node addon): one place turns them into a [`ClientConfig`], so a flag and its JavaScript option
//! can never drift apart. Front ends only decode their own syntax (flags, JS objects, environment
//! variables) into [`RegistryOptions`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use cip_core::ManifestSet;

use crate::registry::auth::Credential;
use crate::registry::{ClientConfig, RegistryClient};

/// How to reach registries; `None` fields keep [`ClientConfig`]'s defaults.
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// Requests per second per host (0 = unlimited).
    pub rate: Option<f64>,
    /// Requests per second for single hosts, overriding `rate`.
    pub host_rates: BTreeMap<String, f64>,
    /// Requests in flight per host.
    pub max_concurrency: Option<usize>,
    /// Time before a request without an answer is retried.
    pub request_timeout: Option<Duration>,
    /// A Google service-account key file instead of application default credentials.
    pub google_key_file: Option<PathBuf>,
    /// Hosts (`HOST` or `HOST:PORT`) reached over plain HTTP or unverified TLS.
    pub insecure: BTreeSet<String>,
    /// Docker config directory holding `config.json` (default: `$DOCKER_CONFIG` or `~/.docker`).
    pub docker_config_dir: Option<PathBuf>,
    /// Do not read Docker's config.json at all.
    pub no_docker_config: bool,
    /// Explicit credentials per host.
    pub credentials: BTreeMap<String, Credential>,
    /// Chunked blob uploads of this many bytes per request (`None`: one streamed request).
    pub upload_chunk_bytes: Option<u64>,
}

/// The registry client could not be configured (bad TLS setup, unreadable key file, ...).
#[derive(Debug, thiserror::Error)]
#[error("configuring the registry client: {0}")]
pub struct ConnectError(pub String);

impl RegistryOptions {
    /// The client settings these options describe; `set` supplies each registry's
    /// `service-account` (impersonated on Google hosts).
    pub fn client_config(&self, set: Option<&ManifestSet>) -> ClientConfig {
        let mut config = ClientConfig::default();
        if let Some(rate) = self.rate {
            config.default_rate = rate;
        }
        config.rates.extend(self.host_rates.iter().map(|(h, r)| (h.clone(), *r)));
        if let Some(n) = self.max_concurrency {
            config.max_concurrency_per_host = n.max(1);
        }
        if let Some(timeout) = self.request_timeout {
            config.timeout = timeout.max(Duration::from_secs(1));
        }
        config.google_key_file = self.google_key_file.clone();
        config.insecure = self.insecure.clone();
        if let Some(dir) = &self.docker_config_dir {
            config.docker_config_dir = Some(dir.clone());
        }
        if self.no_docker_config {
            config.docker_config_dir = None;
        }
        config.credentials.extend(self.credentials.iter().map(|(h, c)| (h.clone(), c.clone())));
        config.upload_chunk_bytes = self.upload_chunk_bytes.filter(|&n| n > 0);
        for registry in set.iter().flat_map(|s| &s.manifests).flat_map(|m| &m.registries) {
            if let Some(account) = &registry.service_account {
                config.service_accounts.insert(registry.name.value.clone(), account.value.clone());
            }
        }
        config
    }

    /// The registry client these options describe.
    pub fn client(&self, set: Option<&ManifestSet>) -> Result<RegistryClient, ConnectError> {
        RegistryClient::new(self.client_config(set)).map_err(ConnectError)
    }
}
