//! How front ends reach registries: [`RegistryOptions`] (the CLI's flags and the Node addon's
//! options, in the CLI's words) turned into a client in one place, so a flag and its JavaScript
//! option can never drift apart; and [`Connection`], the stores of a run with the one inventory
//! reader behind them. Front ends only decode their own syntax (flags, JS objects) into
//! [`RegistryOptions`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cip_core::ManifestSet;

use crate::read::{self, ReadOutcome, RepoNeeds};
use crate::registry::auth::Credential;
use crate::registry::stats::{HostReport, Stats};
use crate::registry::{ClientConfig, RegistryClient};
use crate::store::{Stores, locate};

/// How to reach registries; `None` fields keep [`ClientConfig`]'s defaults. Field names are the
/// CLI's flags (`--registry-rate`, `--host-rate`, `--max-concurrency`, `--request-timeout`,
/// `--google-credentials`, `--insecure-registry`, `--no-docker-config`, `--auth-env`,
/// `--chunk-size`).
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// A fixed rate for every host, requests per second (0 = unlimited); `None`: each host's
    /// default by kind (loopback and insecure hosts unlimited, Google hosts 50/s, others
    /// adaptive; see the README's rate limits).
    pub registry_rate: Option<f64>,
    /// Requests per second for single hosts, overriding `registry_rate`.
    pub host_rate: BTreeMap<String, f64>,
    /// Requests in flight per host.
    pub max_concurrency: Option<usize>,
    /// Seconds before a request without an answer is retried.
    pub request_timeout: Option<u64>,
    /// A Google service-account key file instead of application default credentials.
    pub google_credentials: Option<PathBuf>,
    /// Hosts (`HOST` or `HOST:PORT`) reached over plain HTTP or unverified TLS.
    pub insecure_registry: BTreeSet<String>,
    /// Docker config directory holding `config.json` (default: `$DOCKER_CONFIG` or `~/.docker`).
    pub docker_config: Option<PathBuf>,
    /// Do not read Docker's config.json at all.
    pub no_docker_config: bool,
    /// Host -> name of an environment variable holding `USER:PASSWORD`.
    pub auth_env: BTreeMap<String, String>,
    /// Explicit credentials per host (Node callers may pass them directly).
    pub credentials: BTreeMap<String, Credential>,
    /// Chunked blob uploads of this many MiB per request (`None` or 0: one streamed request).
    pub chunk_size: Option<u64>,
}

/// The options could not be turned into a client.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// An option's value is unusable (an unset `--auth-env` variable, ...); the message names
    /// the option.
    #[error("{0}")]
    Option(String),
    /// The HTTP client could not be built (TLS setup, ...).
    #[error("configuring the registry client: {0}")]
    Client(String),
}

impl RegistryOptions {
    /// The client settings these options describe; `set` supplies each registry's
    /// `service-account` (impersonated on Google hosts). Reads the `auth_env` variables.
    pub fn client_config(&self, set: Option<&ManifestSet>) -> Result<ClientConfig, ConnectError> {
        let mut config = ClientConfig { default_rate: self.registry_rate, ..ClientConfig::default() };
        config.rates.extend(self.host_rate.iter().map(|(h, r)| (h.clone(), *r)));
        if let Some(n) = self.max_concurrency {
            config.max_concurrency_per_host = n.max(1);
        }
        if let Some(seconds) = self.request_timeout {
            config.timeout = Duration::from_secs(seconds.max(1));
        }
        config.google_key_file = self.google_credentials.clone();
        config.insecure = self.insecure_registry.clone();
        if let Some(dir) = &self.docker_config {
            config.docker_config_dir = Some(dir.clone());
        }
        if self.no_docker_config {
            config.docker_config_dir = None;
        }
        for (host, var) in &self.auth_env {
            let value = std::env::var(var)
                .map_err(|_| ConnectError::Option(format!("auth-env {host}={var}: ${var} is not set")))?;
            let credential = Credential::from_user_colon_password(&value).ok_or_else(|| {
                ConnectError::Option(format!("auth-env {host}={var}: ${var} must hold USER:PASSWORD"))
            })?;
            config.credentials.insert(host.clone(), credential);
        }
        config.credentials.extend(self.credentials.iter().map(|(h, c)| (h.clone(), c.clone())));
        config.upload_chunk_bytes =
            self.chunk_size.filter(|&n| n > 0).map(|mib| mib.saturating_mul(1024 * 1024));
        for registry in set.iter().flat_map(|s| &s.manifests).flat_map(|m| &m.registries) {
            if let Some(account) = &registry.service_account {
                config.service_accounts.insert(registry.name.value.clone(), account.value.clone());
            }
        }
        Ok(config)
    }

    /// The registry client these options describe.
    pub fn client(&self, set: Option<&ManifestSet>) -> Result<RegistryClient, ConnectError> {
        RegistryClient::new(self.client_config(set)?).map_err(ConnectError::Client)
    }
}

/// The registries of a run: their stores (`oci:DIR` layouts, and hosts reached through one
/// client) and the one inventory reader over them.
pub struct Connection {
    stores: Stores,
    client: RegistryClient,
}

impl Connection {
    /// Connects to `registries` (registry names, `oci:DIR` included) as `options` describe;
    /// `set` supplies service accounts.
    pub fn open(
        registries: Vec<String>,
        set: Option<&ManifestSet>,
        options: &RegistryOptions,
    ) -> Result<Self, ConnectError> {
        Ok(Self::with_client(registries, options.client(set)?))
    }

    /// Connects to `registries` through an existing client (tests and embedders that tune
    /// [`ClientConfig`] beyond what the options say: name resolution, retry policy).
    pub fn with_client(registries: Vec<String>, client: RegistryClient) -> Self {
        let stores = Stores::new(registries, locate::opener(client.clone()));
        Connection { stores, client }
    }

    /// Connects to every registry a manifest set names.
    pub fn for_set(set: &ManifestSet, options: &RegistryOptions) -> Result<Self, ConnectError> {
        let names = set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect();
        Self::open(names, Some(set), options)
    }

    /// The stores, one per host or layout.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// The registry client behind the stores (signing calls Fulcio, Rekor and token
    /// endpoints through its send loop).
    pub(crate) fn client(&self) -> &RegistryClient {
        &self.client
    }

    /// The live counters, for a progress display running beside a read.
    pub fn counters(&self) -> &Arc<Stats> {
        self.client.stats()
    }

    /// Every host reached so far: requests, and the rate its limiter settled on (adaptive
    /// rates fall on `429` and recover), with the number of throttling answers.
    pub fn hosts(&self) -> BTreeMap<String, HostReport> {
        let requests = self.client.stats().snapshot().per_host;
        self.client
            .rates()
            .into_iter()
            .map(|(host, limiter)| {
                let requests = requests.get(&host).copied().unwrap_or(0);
                (host, HostReport { requests, limiter })
            })
            .collect()
    }

    /// Reads what planning `set` needs (destinations first, sources only for what is missing),
    /// with attachments as `--attachments all` plans them.
    pub async fn read_for_plan(&self, set: &ManifestSet) -> ReadOutcome {
        self.read_for_plan_with(set, &read::Discovery::default()).await
    }

    /// [`Connection::read_for_plan`], looking for the attachments `discovery` asks for.
    pub async fn read_for_plan_with(&self, set: &ManifestSet, discovery: &read::Discovery) -> ReadOutcome {
        read::read_for_plan(set, &self.stores, self.counters(), discovery).await
    }

    /// Reads exactly the repositories of `request` (full paths) with what each needs.
    pub async fn read_repositories(&self, request: BTreeMap<String, RepoNeeds>) -> ReadOutcome {
        read::read_repositories(&self.stores, self.counters(), request).await
    }

    /// Reads every repository under each target (`REGISTRY[/PREFIX]` or `oci:DIR`).
    pub async fn read_registries(&self, targets: &[String]) -> ReadOutcome {
        read::read_registries(&self.stores, self.counters(), targets).await
    }

    /// Reads every repository under each destination registry of `set` (what an audit compares).
    pub async fn read_for_audit(&self, set: &ManifestSet) -> ReadOutcome {
        let registries: BTreeSet<String> =
            set.manifests.iter().flat_map(|m| m.destinations()).map(|r| r.name.value.clone()).collect();
        self.read_registries(&registries.into_iter().collect::<Vec<_>>()).await
    }
}
