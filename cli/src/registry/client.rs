//! The registry client's state: one reqwest client per run (connection reuse, HTTP/2 where
//! offered), what each host taught us (endpoint, challenge, listing style, refused credentials,
//! outage clock), and the description of one call. The operations live beside it, one file per
//! family: [`super::ping`] (reachability and challenge), [`super::auth`] (credentials and
//! tokens), [`super::manifest`], [`super::blob`] (blobs and uploads), [`super::tags`],
//! [`super::catalog`] and [`super::google`]; every request goes through the one send loop in
//! [`super::send`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::sync::OnceCell;

use super::auth::{self, Challenge, Credential, Credentials, Scopes, TokenCache};
use super::error::{ErrorKind, Operation, RegistryError};
use super::host;
use super::ratelimit::{HostLimiter, RatePolicy, RateReport};
use super::retry::RetryPolicy;
use super::stats::Stats;

/// Page size asked for in `tags/list` and `_catalog`.
pub(crate) const PAGE_SIZE: u32 = 1000;

/// Settings of one run's client.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `User-Agent`.
    pub user_agent: String,
    /// Time limit for one metadata request (manifests, listings, tokens).
    pub timeout: Duration,
    /// Time limit for establishing a connection.
    pub connect_timeout: Duration,
    /// A fixed rate for every host `rates` does not name (requests per second, 0 = unlimited);
    /// `None`: each host's default by kind (see [`rate_policy`]).
    pub default_rate: Option<f64>,
    /// Fixed per-host requests per second.
    pub rates: BTreeMap<String, f64>,
    /// Host -> number of workers sharing its rate (`cip apply --shard I/N`): every rate of
    /// [`rate_policy`] for that host, fixed or default, is divided by it.
    pub rate_shared_by: BTreeMap<String, usize>,
    /// Requests in flight per host.
    pub max_concurrency_per_host: usize,
    /// Hosts (`HOST` or `HOST:PORT`) allowed plain HTTP and unverified TLS.
    pub insecure: BTreeSet<String>,
    /// Retry settings.
    pub retry: RetryPolicy,
    /// Explicit credentials per host.
    pub credentials: BTreeMap<String, Credential>,
    /// Docker config directory (`None`: do not read Docker's config).
    pub docker_config_dir: Option<PathBuf>,
    /// Registry name -> service account to impersonate (Google hosts).
    pub service_accounts: BTreeMap<String, String>,
    /// Google service-account key file (instead of gcp_auth's discovery).
    pub google_key_file: Option<PathBuf>,
    /// IAM Credentials API base URL.
    pub iam_endpoint: String,
    /// Fixed name resolution (host name -> address), as curl's `--resolve`.
    pub resolve: Vec<(String, SocketAddr)>,
    /// Upload blobs in chunks of this many bytes (one `PATCH` each) instead of one streamed
    /// request: for registries or proxies that limit request sizes. `None`: monolithic.
    pub upload_chunk_bytes: Option<u64>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            user_agent: format!("cip/{}", env!("CARGO_PKG_VERSION")),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            default_rate: None,
            rates: BTreeMap::new(),
            rate_shared_by: BTreeMap::new(),
            max_concurrency_per_host: 16,
            insecure: BTreeSet::new(),
            retry: RetryPolicy::default(),
            credentials: BTreeMap::new(),
            docker_config_dir: auth::credentials::default_docker_config_dir(),
            service_accounts: BTreeMap::new(),
            google_key_file: None,
            iam_endpoint: auth::gcp::DEFAULT_IAM_ENDPOINT.to_string(),
            resolve: Vec::new(),
            upload_chunk_bytes: None,
        }
    }
}

/// How a host is reached, learned once per run from `GET /v2/`.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    /// `https://host` or `http://host`.
    pub(crate) base: String,
    /// Whether certificate checks are off for this host.
    pub(crate) unverified: bool,
    /// What the registry asked for.
    pub(crate) challenge: Challenge,
}

/// Per-host state.
#[derive(Debug)]
pub(crate) struct HostState {
    pub(crate) limiter: HostLimiter,
    /// Reachability and challenge; a failure is remembered too, so a dead registry is not
    /// pinged again for every repository.
    pub(crate) endpoint: OnceCell<Result<Endpoint, ErrorKind>>,
    /// Identities whose credentials this host refused: later requests fail at once instead of
    /// asking again (no retry storm on a wrong password).
    pub(crate) refused: Mutex<BTreeSet<String>>,
    /// Whether this host offers Google's `tags/list` extension, once known.
    pub(crate) extension: Mutex<Option<bool>>,
    /// Whether this host serves the OCI 1.1 referrers API, once known (see `referrers.rs`).
    pub(crate) referrers_api: Mutex<Option<bool>>,
    /// A challenge learned from a 401 on a host whose `/v2/` was open.
    pub(crate) late_challenge: Mutex<Option<Challenge>>,
    /// When the host's current run of transient failures began (`None`: healthy). Every
    /// request to the host shares it, so the retry budget is the host's, not the request's: a
    /// registry that restarts for a few seconds delays the requests in flight instead of failing
    /// them, and one that stays down fails them all once the budget is spent.
    pub(crate) outage: Mutex<Option<Instant>>,
    /// Whether the host ever answered in this run. A host never reached gets the policy's few
    /// attempts only (a typo in a registry name fails in seconds, not after the whole budget).
    pub(crate) reached: std::sync::atomic::AtomicBool,
    /// When the host last answered (any non-retryable status).
    pub(crate) last_answer: Mutex<Option<Instant>>,
}

pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    pub(crate) http: reqwest::Client,
    pub(crate) http_unverified: reqwest::Client,
    pub(crate) hosts: Mutex<HashMap<String, Arc<HostState>>>,
    pub(crate) credentials: Credentials,
    pub(crate) tokens: TokenCache,
    pub(crate) stats: Arc<Stats>,
}

/// A registry client. Cheap to clone; clones share connections, limits, tokens and counters.
#[derive(Clone)]
pub struct RegistryClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient").finish_non_exhaustive()
    }
}

/// One HTTP call, described so it can be re-sent on retry.
pub(crate) struct Call<'a> {
    /// Registry host (as in image names; Docker Hub is mapped).
    pub(crate) host: &'a str,
    /// Full repository path for error messages and the credential's identity (or the host).
    pub(crate) repository: Option<&'a str>,
    /// What this is.
    pub(crate) operation: Operation,
    /// Method.
    pub(crate) method: Method,
    /// Path and query (`/v2/...`), or an absolute URL from a `Link` header.
    pub(crate) target: String,
    /// Extra headers.
    pub(crate) headers: HeaderMap,
    /// Body (re-sent on retry).
    pub(crate) body: Option<bytes::Bytes>,
    /// Token scopes the call needs.
    pub(crate) scopes: Scopes,
    /// Whole-request time limit; `None` for streams, which rely on the read timeout.
    pub(crate) timeout: Option<Duration>,
    /// A capability probe (the referrers API): a `401` to it says nothing about the
    /// credentials, so they stay offered for the run's other requests.
    pub(crate) probe: bool,
}

impl RegistryClient {
    /// Builds the client (no network traffic yet).
    pub fn new(config: ClientConfig) -> Result<Self, String> {
        let build = |unverified: bool| {
            let mut b = reqwest::Client::builder()
                .user_agent(config.user_agent.clone())
                .connect_timeout(config.connect_timeout)
                .read_timeout(config.timeout)
                .pool_idle_timeout(Duration::from_secs(60))
                .redirect(reqwest::redirect::Policy::limited(5))
                .tls_danger_accept_invalid_certs(unverified);
            for (name, addr) in &config.resolve {
                b = b.resolve(name, *addr);
            }
            b.build().map_err(|e| format!("cannot build HTTP client: {e}"))
        };
        let http = build(false)?;
        let http_unverified = build(true)?;
        let google = auth::gcp::GoogleAuth::new(
            config.google_key_file.clone(),
            config.iam_endpoint.clone(),
            http.clone(),
        );
        let docker_dir = config.docker_config_dir.clone();
        let credentials =
            Credentials::new(config.credentials.clone(), docker_dir, google, config.service_accounts.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                http_unverified,
                hosts: Mutex::new(HashMap::new()),
                credentials,
                tokens: TokenCache::default(),
                stats: Arc::new(Stats::default()),
            }),
        })
    }

    /// The run's counters.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.inner.stats
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    pub(crate) fn host_state(&self, host: &str) -> Arc<HostState> {
        let mut hosts = self.inner.hosts.lock().expect("hosts lock");
        hosts
            .entry(host.to_string())
            .or_insert_with(|| {
                let cfg = &self.inner.config;
                Arc::new(HostState {
                    limiter: HostLimiter::new(rate_policy(cfg, host), cfg.max_concurrency_per_host),
                    endpoint: OnceCell::new(),
                    refused: Mutex::new(BTreeSet::new()),
                    extension: Mutex::new(None),
                    referrers_api: Mutex::new(None),
                    late_challenge: Mutex::new(None),
                    outage: Mutex::new(None),
                    reached: std::sync::atomic::AtomicBool::new(false),
                    last_answer: Mutex::new(None),
                })
            })
            .clone()
    }

    /// Each host's rate limiter so far: policy, rate in effect, lowest rate, throttling answers.
    pub fn rates(&self) -> BTreeMap<String, RateReport> {
        let hosts = self.inner.hosts.lock().expect("hosts lock");
        hosts.iter().map(|(host, state)| (host.clone(), state.limiter.report())).collect()
    }

    /// Whether `host` is known to offer Google's `tags/list` extension.
    pub(crate) fn extension(&self, host: &str) -> Option<bool> {
        *self.host_state(host).extension.lock().expect("extension lock")
    }

    /// Records whether `host` offers Google's `tags/list` extension.
    pub(crate) fn set_extension(&self, host: &str, offered: bool) {
        *self.host_state(host).extension.lock().expect("extension lock") = Some(offered);
    }

    pub(crate) fn insecure_allowed(&self, host: &str) -> bool {
        let insecure = &self.inner.config.insecure;
        host::is_loopback(host) || insecure.contains(host) || insecure.contains(host::host_name(host))
    }

    /// A token realm may use plain HTTP only when its own host may (loopback, or marked
    /// insecure), or when it is the registry's host name on another port and the registry may.
    /// Credentials sent to a realm travel in clear, so a registry allowed plain HTTP must not be
    /// able to send them to some other machine just by naming it in its challenge.
    pub(crate) fn plain_realm_allowed(&self, host: &str, realm_host: &str) -> bool {
        let same_machine = host::host_name(realm_host).eq_ignore_ascii_case(host::host_name(host));
        self.insecure_allowed(realm_host) || (same_machine && self.insecure_allowed(host))
    }

    pub(crate) fn error(
        &self,
        call_host: &str,
        repository: Option<&str>,
        operation: Operation,
        kind: ErrorKind,
    ) -> RegistryError {
        RegistryError {
            registry: call_host.to_string(),
            repository: repository.map(|r| host::split_repository(r).1.to_string()).filter(|r| !r.is_empty()),
            operation,
            kind,
        }
    }

    /// A GET/HEAD call on `/v2/<name>/...` for `full` (a full repository path).
    pub(crate) fn repo_call<'a>(
        &self,
        full: &'a str,
        operation: Operation,
        method: Method,
        suffix: &str,
        actions: &[&str],
    ) -> Call<'a> {
        let (host, name) = host::split_repository(full);
        let name = name_for(host, name);
        Call {
            host,
            repository: Some(full),
            operation,
            method,
            target: format!("/v2/{name}/{suffix}"),
            headers: HeaderMap::new(),
            body: None,
            scopes: Scopes::repository(&name, actions),
            timeout: Some(self.inner.config.timeout),
            probe: false,
        }
    }
}

/// Google's published quota for Artifact Registry and Container Registry, per host, as the Go
/// promoter uses it.
pub(crate) const GOOGLE_RATE: f64 = 50.0;

/// Where a registry's limit is unknown, the adaptive rate starts here (requests per second).
pub(crate) const ADAPTIVE_START: f64 = 100.0;

/// The rate policy of `host` (the one place rates are decided):
/// - `--host-rate HOST=N`, else `--registry-rate N`: fixed at N (0: unlimited);
/// - loopback and `--insecure-registry` hosts: unlimited, adaptive (a 429 still slows them);
/// - Google hosts (`gcr.io`, `*.gcr.io`, `*-docker.pkg.dev`): 50/s, adaptive below that;
/// - any other host: adaptive from [`ADAPTIVE_START`], without a ceiling;
///
/// each divided by the number of workers sharing the host ([`ClientConfig::rate_shared_by`]).
pub(crate) fn rate_policy(config: &ClientConfig, host: &str) -> RatePolicy {
    let shared = config.rate_shared_by.get(host).copied().unwrap_or(1).max(1) as f64;
    match own_rate_policy(config, host) {
        RatePolicy::Fixed(rate) => RatePolicy::Fixed(rate / shared),
        RatePolicy::Adaptive { start, ceiling } => {
            RatePolicy::Adaptive { start: start / shared, ceiling: ceiling / shared }
        }
    }
}

/// The rate policy of `host` for a worker that has it to itself.
fn own_rate_policy(config: &ClientConfig, host: &str) -> RatePolicy {
    if let Some(rate) = config.rates.get(host).copied().or(config.default_rate) {
        return RatePolicy::Fixed(rate);
    }
    let insecure = config.insecure.contains(host) || config.insecure.contains(host::host_name(host));
    if host::is_loopback(host) || insecure {
        RatePolicy::Adaptive { start: f64::INFINITY, ceiling: f64::INFINITY }
    } else if host::is_google(host) {
        RatePolicy::Adaptive { start: GOOGLE_RATE, ceiling: GOOGLE_RATE }
    } else {
        RatePolicy::Adaptive { start: ADAPTIVE_START, ceiling: f64::INFINITY }
    }
}

/// Docker Hub's official images live under `library/`.
pub(crate) fn name_for(host: &str, name: &str) -> String {
    if matches!(host, "docker.io" | "index.docker.io") && !name.contains('/') {
        format!("library/{name}")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_by_kind_of_host_unless_fixed() {
        let mut config = ClientConfig::default();
        config.insecure.insert("lab.example".into());
        let unlimited = RatePolicy::Adaptive { start: f64::INFINITY, ceiling: f64::INFINITY };
        assert_eq!(rate_policy(&config, "127.0.0.1:5000"), unlimited);
        assert_eq!(rate_policy(&config, "lab.example:5000"), unlimited);
        let google = RatePolicy::Adaptive { start: 50.0, ceiling: 50.0 };
        assert_eq!(rate_policy(&config, "us-docker.pkg.dev"), google);
        assert_eq!(rate_policy(&config, "eu.gcr.io"), google);
        let other = RatePolicy::Adaptive { start: ADAPTIVE_START, ceiling: f64::INFINITY };
        assert_eq!(rate_policy(&config, "ghcr.io"), other);
        config.rates.insert("ghcr.io".into(), 7.0);
        assert_eq!(rate_policy(&config, "ghcr.io"), RatePolicy::Fixed(7.0));
        config.default_rate = Some(0.0);
        assert_eq!(rate_policy(&config, "127.0.0.1:5000"), RatePolicy::Fixed(0.0));
        assert_eq!(rate_policy(&config, "ghcr.io"), RatePolicy::Fixed(7.0), "--host-rate wins");
    }

    #[test]
    fn docker_hub_library() {
        assert_eq!(name_for("docker.io", "alpine"), "library/alpine");
        assert_eq!(name_for("docker.io", "a/b"), "a/b");
        assert_eq!(name_for("gcr.io", "alpine"), "alpine");
    }
}
