//! The registry client: one reqwest client per run (connection reuse, HTTP/2 where offered),
//! per-host rate and concurrency limits, retries, and authentication, under small typed
//! operations (list tags, check/read manifests, list repositories). Every failure comes back
//! as a [`RegistryError`] naming registry, repository and operation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use sha2::{Digest as _, Sha256};
use tokio::sync::OnceCell;
use tracing::{debug, info};

use super::auth::{self, Challenge, Credential, Credentials, Scopes, TokenCache};
use super::error::{ErrorKind, Operation, RegistryError};
use super::google::TagsList;
use super::host;
use super::link;
use super::media;
use super::ratelimit::HostLimiter;
use super::retry::{self, RetryPolicy, RetryState};
use super::secret::Secret;
use super::stats::Stats;
use crate::store::{ManifestHead, RawManifest};

/// Largest manifest or listing body cip accepts (manifests are small; this bounds memory).
const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;
/// Repositories per batched token request (keeps the token URL well under common limits).
pub const TOKEN_BATCH: usize = 50;
/// Page size asked for in `tags/list` and `_catalog`.
const PAGE_SIZE: u32 = 1000;

/// Settings of one run's client.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `User-Agent`.
    pub user_agent: String,
    /// Time limit for one metadata request (manifests, listings, tokens).
    pub timeout: Duration,
    /// Time limit for establishing a connection.
    pub connect_timeout: Duration,
    /// Requests per second per host unless `rates` says otherwise (0 = unlimited).
    pub default_rate: f64,
    /// Per-host requests per second.
    pub rates: BTreeMap<String, f64>,
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
            default_rate: 50.0,
            rates: BTreeMap::new(),
            max_concurrency_per_host: 16,
            insecure: BTreeSet::new(),
            retry: RetryPolicy::default(),
            credentials: BTreeMap::new(),
            docker_config_dir: auth::credentials::default_docker_config_dir(),
            service_accounts: BTreeMap::new(),
            google_key_file: None,
            iam_endpoint: auth::google::DEFAULT_IAM_ENDPOINT.to_string(),
            resolve: Vec::new(),
            upload_chunk_bytes: None,
        }
    }
}

/// How a host is reached, learned once per run from `GET /v2/`.
#[derive(Clone, Debug)]
struct Endpoint {
    /// `https://host` or `http://host`.
    base: String,
    /// Whether certificate checks are off for this host.
    unverified: bool,
    /// What the registry asked for.
    challenge: Challenge,
}

/// Per-host state.
#[derive(Debug)]
struct HostState {
    limiter: HostLimiter,
    /// Reachability and challenge; a failure is remembered too, so a dead registry is not
    /// pinged again for every repository.
    endpoint: OnceCell<Result<Endpoint, ErrorKind>>,
    /// Identities whose credentials this host refused: later requests fail at once instead of
    /// asking again (no retry storm on a wrong password).
    refused: Mutex<BTreeSet<String>>,
    /// Whether this host offers Google's `tags/list` extension, once known.
    extension: Mutex<Option<bool>>,
    /// A challenge learned from a 401 on a host whose `/v2/` was open.
    late_challenge: Mutex<Option<Challenge>>,
}

struct Inner {
    config: ClientConfig,
    http: reqwest::Client,
    http_unverified: reqwest::Client,
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
    credentials: Credentials,
    tokens: TokenCache,
    stats: Arc<Stats>,
}

/// A registry client. Cheap to clone; clones share connections, limits, tokens and counters.
#[derive(Clone)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient").finish_non_exhaustive()
    }
}

/// One HTTP call, described so it can be re-sent on retry.
pub struct Call<'a> {
    /// Registry host (as in image names; Docker Hub is mapped).
    pub host: &'a str,
    /// Full repository path for error messages and the credential's identity (or the host).
    pub repository: Option<&'a str>,
    /// What this is.
    pub operation: Operation,
    /// Method.
    pub method: Method,
    /// Path and query (`/v2/...`), or an absolute URL from a `Link` header.
    pub target: String,
    /// Extra headers.
    pub headers: HeaderMap,
    /// Body (re-sent on retry).
    pub body: Option<bytes::Bytes>,
    /// Token scopes the call needs.
    pub scopes: Scopes,
    /// Whole-request time limit; `None` for streams, which rely on the read timeout.
    pub timeout: Option<Duration>,
}

/// `sha256:<hex>` of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
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
        let google = auth::google::GoogleAuth::new(
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

    fn host_state(&self, host: &str) -> Arc<HostState> {
        let mut hosts = self.inner.hosts.lock().expect("hosts lock");
        hosts
            .entry(host.to_string())
            .or_insert_with(|| {
                let cfg = &self.inner.config;
                let rate = cfg.rates.get(host).copied().unwrap_or(cfg.default_rate);
                Arc::new(HostState {
                    limiter: HostLimiter::new(rate, cfg.max_concurrency_per_host),
                    endpoint: OnceCell::new(),
                    refused: Mutex::new(BTreeSet::new()),
                    extension: Mutex::new(None),
                    late_challenge: Mutex::new(None),
                })
            })
            .clone()
    }

    /// Whether `host` is known to offer Google's `tags/list` extension.
    pub fn extension(&self, host: &str) -> Option<bool> {
        *self.host_state(host).extension.lock().expect("extension lock")
    }

    /// Records whether `host` offers Google's `tags/list` extension.
    pub fn set_extension(&self, host: &str, offered: bool) {
        *self.host_state(host).extension.lock().expect("extension lock") = Some(offered);
    }

    fn insecure_allowed(&self, host: &str) -> bool {
        let insecure = &self.inner.config.insecure;
        host::is_loopback(host) || insecure.contains(host) || insecure.contains(host::host_name(host))
    }

    /// A token realm may use plain HTTP only when its own host may (loopback, or marked
    /// insecure), or when it is the registry's host name on another port and the registry may.
    /// Credentials sent to a realm travel in clear, so a registry allowed plain HTTP must not be
    /// able to send them to some other machine just by naming it in its challenge.
    fn plain_realm_allowed(&self, host: &str, realm_host: &str) -> bool {
        let same_machine = host::host_name(realm_host).eq_ignore_ascii_case(host::host_name(host));
        self.insecure_allowed(realm_host) || (same_machine && self.insecure_allowed(host))
    }

    fn error(
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

    /// Learns (once) how to reach `host` and what authentication it wants.
    async fn endpoint(&self, host: &str) -> Result<Endpoint, RegistryError> {
        let state = self.host_state(host);
        let found =
            state.endpoint.get_or_init(|| async { self.discover(host).await.map_err(|e| e.kind) }).await;
        found.clone().map_err(|kind| self.error(host, None, Operation::Ping, kind))
    }

    async fn discover(&self, host: &str) -> Result<Endpoint, RegistryError> {
        let api = host::api_host(host);
        let fail = |kind| self.error(host, None, Operation::Ping, kind);
        // Connection failures are retried only on the last scheme tried; before that they
        // just mean "try the next scheme".
        let secure_only = !self.insecure_allowed(host);
        let verified = self.ping(host, &format!("https://{api}"), false, secure_only).await;
        let https_error = match verified {
            Ok(challenge) => {
                return Ok(Endpoint { base: format!("https://{api}"), unverified: false, challenge });
            }
            Err(PingError::Kind(kind)) => return Err(fail(kind)),
            Err(PingError::Transport(message)) => message,
        };
        if !self.insecure_allowed(host) {
            let kind = if looks_like_tls(&https_error) {
                ErrorKind::Insecure { host: host.to_string(), reason: https_error }
            } else {
                ErrorKind::Connect(format!(
                    "{https_error} (over HTTPS; a registry without TLS must be marked --insecure-registry {host})"
                ))
            };
            return Err(fail(kind));
        }
        if looks_like_certificate(&https_error) {
            match self.ping(host, &format!("https://{api}"), true, false).await {
                Ok(challenge) => {
                    return Ok(Endpoint { base: format!("https://{api}"), unverified: true, challenge });
                }
                Err(PingError::Kind(kind)) => return Err(fail(kind)),
                Err(PingError::Transport(_)) => {}
            }
        }
        match self.ping(host, &format!("http://{api}"), false, true).await {
            Ok(challenge) => Ok(Endpoint { base: format!("http://{api}"), unverified: false, challenge }),
            Err(PingError::Kind(kind)) => Err(fail(kind)),
            Err(PingError::Transport(message)) => {
                Err(fail(ErrorKind::Connect(format!("HTTPS: {https_error}; HTTP: {message}"))))
            }
        }
    }

    /// `GET /v2/` on one base URL, with retries for transient trouble.
    async fn ping(
        &self,
        host: &str,
        base: &str,
        unverified: bool,
        last: bool,
    ) -> Result<Challenge, PingError> {
        let cfg = &self.inner.config;
        let client = if unverified { &self.inner.http_unverified } else { &self.inner.http };
        let state = self.host_state(host);
        let mut retry = RetryState::new();
        loop {
            let _permit = state.limiter.admit().await;
            let sent = client.get(format!("{base}/v2/")).timeout(cfg.timeout).send().await;
            let mut transport = false;
            let (delay_hint, problem) = match sent {
                Ok(response) => {
                    self.inner.stats.request(host);
                    let status = response.status();
                    debug!(registry = host, url = %format!("{base}/v2/"), status = status.as_u16(), "ping");
                    if status.is_success() {
                        return Ok(Challenge::Anonymous);
                    }
                    if status == StatusCode::UNAUTHORIZED {
                        let header = response
                            .headers()
                            .get_all(header::WWW_AUTHENTICATE)
                            .iter()
                            .filter_map(|v| v.to_str().ok())
                            .filter_map(auth::challenge::parse)
                            .max_by_key(|c| matches!(c, Challenge::Bearer { .. }));
                        return header.ok_or_else(|| {
                            PingError::Kind(ErrorKind::Credentials(
                                "the registry asks for an authentication scheme cip does not support".into(),
                            ))
                        });
                    }
                    if !retry::is_retryable_status(status.as_u16()) {
                        return Err(PingError::Kind(if status == StatusCode::NOT_FOUND {
                            ErrorKind::NotARegistry(format!("{base}/v2/ answered HTTP 404"))
                        } else {
                            status_kind(status.as_u16(), &body_text(response).await)
                        }));
                    }
                    (retry_after(response.headers()), format!("HTTP {}", status.as_u16()))
                }
                Err(e) if e.is_connect() && (!last || looks_like_tls(&error_chain(&e))) => {
                    // A refused or failed handshake is an answer about this scheme; the caller
                    // decides whether to try another.
                    return Err(PingError::Transport(error_chain(&e)));
                }
                Err(e) => {
                    transport = e.is_connect();
                    (None, error_chain(&e))
                }
            };
            match retry.next_delay(&cfg.retry, delay_hint) {
                Some(delay) => {
                    self.inner.stats.retry();
                    info!(registry = host, "connect: {problem}; retrying in {delay:?}");
                    tokio::time::sleep(delay).await;
                }
                None if transport => {
                    let attempts = retry.attempts();
                    return Err(PingError::Kind(ErrorKind::Connect(format!(
                        "{problem} ({attempts} attempts)"
                    ))));
                }
                None => {
                    return Err(PingError::Kind(ErrorKind::RetriesExhausted {
                        attempts: retry.attempts(),
                        elapsed: retry.elapsed(),
                        last: problem,
                    }));
                }
            }
        }
    }

    /// Sends a call with rate limiting, authentication and retries. Returns the final
    /// response whatever its status, except 401 (after one re-authentication) and exhausted
    /// retries, which are errors.
    pub async fn execute(&self, call: &Call<'_>) -> Result<reqwest::Response, RegistryError> {
        self.execute_with(call, None).await
    }

    /// Sends a call whose body is a stream: one attempt only (a stream cannot be replayed), so
    /// the caller authenticates first with a cheap retriable call on the same scopes.
    pub async fn execute_stream(
        &self,
        call: &Call<'_>,
        body: reqwest::Body,
    ) -> Result<reqwest::Response, RegistryError> {
        self.execute_with(call, Some(body)).await
    }

    async fn execute_with(
        &self,
        call: &Call<'_>,
        mut stream: Option<reqwest::Body>,
    ) -> Result<reqwest::Response, RegistryError> {
        let one_shot = stream.is_some();
        let cfg = &self.inner.config;
        let fail = |kind| self.error(call.host, call.repository, call.operation, kind);
        let endpoint = self.endpoint(call.host).await?;
        let state = self.host_state(call.host);
        let client = if endpoint.unverified { &self.inner.http_unverified } else { &self.inner.http };
        let url = if call.target.starts_with('/') {
            format!("{}{}", endpoint.base, call.target)
        } else {
            call.target.clone()
        };
        // Credentials go only to the registry itself, never to another origin a `Location`
        // or `Link` header names.
        let same_origin = url.starts_with(&format!("{}/", endpoint.base));
        // Another origin's URL may be pre-signed: its query is not logged.
        let shown = if same_origin { url.as_str() } else { url.split('?').next().unwrap_or_default() };
        let mut retry = RetryState::new();
        let mut reauthenticated = false;
        loop {
            let challenge = state
                .late_challenge
                .lock()
                .expect("challenge lock")
                .clone()
                .unwrap_or(endpoint.challenge.clone());
            let (authorization, identity) = if same_origin {
                self.authorization(&state, call, &challenge, reauthenticated)
                    .await
                    .map_err(|k| self.error(call.host, call.repository, Operation::Authenticate, k))?
            } else {
                (None, None)
            };
            let mut request = client.request(call.method.clone(), &url).headers(call.headers.clone());
            if let Some(value) = &authorization {
                let mut v = HeaderValue::from_str(value.expose()).map_err(|_| {
                    fail(ErrorKind::Credentials(
                        "credential contains characters not allowed in a header".into(),
                    ))
                })?;
                v.set_sensitive(true);
                request = request.header(header::AUTHORIZATION, v);
            }
            if let Some(body) = stream.take() {
                request = request.body(body);
            } else if let Some(body) = &call.body {
                request = request.body(body.clone());
            }
            if let Some(t) = call.timeout {
                request = request.timeout(t);
            }
            let started = std::time::Instant::now();
            let sent = {
                let _permit = state.limiter.admit().await;
                request.send().await
            };
            let (hint, problem) = match sent {
                Ok(response) => {
                    self.inner.stats.request(call.host);
                    let status = response.status();
                    debug!(
                        registry = call.host,
                        method = %call.method,
                        url = %shown,
                        status = status.as_u16(),
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "request"
                    );
                    if status == StatusCode::UNAUTHORIZED {
                        if reauthenticated || one_shot {
                            if let Some(identity) = identity {
                                state.refused.lock().expect("refused lock").insert(identity);
                            }
                            return Err(fail(ErrorKind::AuthRefused { status: 401 }));
                        }
                        // Once: the token may have expired, or an open `/v2/` hides a
                        // protected repository. A second 401 is final (no retry storm).
                        self.learn_challenge(&state, &endpoint, response.headers());
                        reauthenticated = true;
                        continue;
                    }
                    if !retry::is_retryable_status(status.as_u16()) || one_shot {
                        return Ok(response);
                    }
                    (retry_after(response.headers()), format!("HTTP {}", status.as_u16()))
                }
                Err(e) if e.is_timeout() => {
                    (None, format!("no response within {:?}", call.timeout.unwrap_or(cfg.timeout)))
                }
                Err(e) => (None, request_error(e)),
            };
            if one_shot {
                return Err(fail(ErrorKind::Connect(problem)));
            }
            match retry.next_delay(&cfg.retry, hint) {
                Some(delay) => {
                    self.inner.stats.retry();
                    info!(
                        registry = call.host,
                        repository = call.repository.unwrap_or(""),
                        "{}: {problem}; retry {} in {delay:?}",
                        call.operation,
                        retry.attempts()
                    );
                    tokio::time::sleep(delay).await;
                }
                None => {
                    return Err(fail(ErrorKind::RetriesExhausted {
                        attempts: retry.attempts(),
                        elapsed: retry.elapsed(),
                        last: problem,
                    }));
                }
            }
        }
    }

    fn learn_challenge(&self, state: &HostState, endpoint: &Endpoint, headers: &HeaderMap) {
        let parsed = headers
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(auth::challenge::parse)
            .max_by_key(|c| matches!(c, Challenge::Bearer { .. }));
        if let Some(c) = parsed
            && c != endpoint.challenge
        {
            *state.late_challenge.lock().expect("challenge lock") = Some(c);
        }
    }

    /// The `Authorization` value for a call under `challenge`.
    /// Returns the header and the identity of the credential used (for the refusal latch).
    async fn authorization(
        &self,
        state: &HostState,
        call: &Call<'_>,
        challenge: &Challenge,
        refresh: bool,
    ) -> Result<(Option<Secret>, Option<String>), ErrorKind> {
        let repository = call.repository.unwrap_or(call.host);
        if *challenge == Challenge::Anonymous {
            return Ok((None, None));
        }
        let credential = self.credential(call.host, repository).await?;
        let identity = credential.as_ref().map_or("anonymous".to_string(), |(_, id)| id.clone());
        if state.refused.lock().expect("refused lock").contains(&identity) {
            return Err(ErrorKind::AuthRefused { status: 401 });
        }
        let header = match challenge {
            Challenge::Anonymous => None,
            Challenge::Basic => match credential {
                Some((Credential::Basic { username, password }, _)) => {
                    Some(auth::basic_header(&username, &password))
                }
                Some((Credential::IdentityToken(token), _)) => {
                    Some(Secret::new(format!("Bearer {}", token.expose())))
                }
                None => {
                    return Err(ErrorKind::Credentials(format!(
                        "{} requires a login and none is configured (use --auth-env {}=VAR or docker login)",
                        call.host, call.host
                    )));
                }
            },
            Challenge::Bearer { realm, service } => {
                let tokens = &self.inner.tokens;
                let cached = if refresh {
                    tokens.invalidate(call.host, &identity, &call.scopes).await;
                    None
                } else {
                    tokens.get(call.host, &identity, &call.scopes).await
                };
                let token = match cached {
                    Some(token) => token,
                    None => {
                        let wanted = tokens.widen(call.host, &identity, &call.scopes).await;
                        let fetched = self
                            .fetch_token(
                                call.host,
                                realm,
                                service.as_deref(),
                                &wanted,
                                credential.map(|c| c.0),
                            )
                            .await;
                        let (token, life) = match fetched {
                            Err(kind @ ErrorKind::AuthRefused { .. }) => {
                                state.refused.lock().expect("refused lock").insert(identity);
                                return Err(kind);
                            }
                            other => other?,
                        };
                        tokens.put(call.host, &identity, wanted, token.clone(), life).await;
                        token
                    }
                };
                Some(Secret::new(format!("Bearer {}", token.expose())))
            }
        };
        Ok((header, Some(identity)))
    }

    /// Fetches tokens covering the pull scope of many repositories at once (in batches of
    /// [`TOKEN_BATCH`]), so reading N repositories of a token-flow registry costs N / batch
    /// token requests instead of N. Best effort: failures are left to the per-request path,
    /// which reports them.
    pub async fn prefetch_pull_tokens(&self, host: &str, repositories: &[&str]) {
        let Ok(endpoint) = self.endpoint(host).await else { return };
        let state = self.host_state(host);
        if !state.refused.lock().expect("refused lock").is_empty() {
            return;
        }
        let challenge =
            state.late_challenge.lock().expect("challenge lock").clone().unwrap_or(endpoint.challenge);
        let Challenge::Bearer { realm, service } = challenge else { return };
        // Repositories with different credentials (per-registry service accounts) never share a token.
        let mut groups: BTreeMap<String, (Option<Credential>, Vec<String>)> = BTreeMap::new();
        for full in repositories {
            let Ok(credential) = self.credential(host, full).await else { return };
            let identity = credential.as_ref().map_or("anonymous".to_string(), |(_, id)| id.clone());
            let name = name_for(host, host::split_repository(full).1);
            groups.entry(identity).or_insert_with(|| (credential.map(|c| c.0), Vec::new())).1.push(name);
        }
        for (identity, (credential, names)) in groups {
            for chunk in names.chunks(TOKEN_BATCH) {
                let mut scopes = Scopes::none();
                for name in chunk {
                    scopes.add(&format!("repository:{name}"), &["pull"]);
                }
                if self.inner.tokens.get(host, &identity, &scopes).await.is_some() {
                    continue;
                }
                match self.fetch_token(host, &realm, service.as_deref(), &scopes, credential.clone()).await {
                    Ok((token, life)) => self.inner.tokens.put(host, &identity, scopes, token, life).await,
                    Err(error) => {
                        debug!(registry = host, "batched token request failed: {error}");
                        return;
                    }
                }
            }
        }
    }

    async fn credential(
        &self,
        host: &str,
        repository: &str,
    ) -> Result<Option<(Credential, String)>, ErrorKind> {
        self.inner.credentials.resolve(host, repository).await.map_err(ErrorKind::Credentials)
    }

    /// The Docker token flow: GET the realm (Basic credentials if any) or, for an identity
    /// token, POST an OAuth2 refresh grant.
    async fn fetch_token(
        &self,
        host: &str,
        realm: &str,
        service: Option<&str>,
        scopes: &Scopes,
        credential: Option<Credential>,
    ) -> Result<(Secret, Duration), ErrorKind> {
        let realm_url = reqwest::Url::parse(realm)
            .map_err(|_| ErrorKind::InvalidResponse(format!("token realm {realm:?}")))?;
        let realm_host = match realm_url.port() {
            Some(p) => format!("{}:{p}", realm_url.host_str().unwrap_or("")),
            None => realm_url.host_str().unwrap_or("").to_string(),
        };
        if realm_url.scheme() != "https" && !self.plain_realm_allowed(host, &realm_host) {
            return Err(ErrorKind::Insecure {
                reason: format!(
                    "registry {host} names the token realm {realm_host} over plain HTTP, where \
                     credentials would travel in clear"
                ),
                host: realm_host,
            });
        }
        let cfg = &self.inner.config;
        let state = self.host_state(&realm_host);
        let mut retry = RetryState::new();
        loop {
            let mut query: Vec<(&str, String)> = Vec::new();
            if let Some(s) = service {
                query.push(("service", s.to_string()));
            }
            let request = match &credential {
                Some(Credential::IdentityToken(refresh)) => {
                    let mut form = query.clone();
                    form.push(("grant_type", "refresh_token".into()));
                    form.push(("refresh_token", refresh.expose().to_string()));
                    form.push(("client_id", "cip".into()));
                    form.push(("scope", scopes.to_params().join(" ")));
                    self.inner.http.post(realm_url.clone()).form(&form)
                }
                other => {
                    query.extend(scopes.to_params().into_iter().map(|s| ("scope", s)));
                    let mut r = self.inner.http.get(realm_url.clone()).query(&query);
                    if let Some(Credential::Basic { username, password }) = other {
                        let mut v = HeaderValue::from_str(auth::basic_header(username, password).expose())
                            .map_err(|_| {
                                ErrorKind::Credentials("credential contains invalid characters".into())
                            })?;
                        v.set_sensitive(true);
                        r = r.header(header::AUTHORIZATION, v);
                    }
                    r
                }
            };
            let sent = {
                let _permit = state.limiter.admit().await;
                request.timeout(cfg.timeout).send().await
            };
            let (hint, problem) = match sent {
                Ok(response) => {
                    self.inner.stats.request(&realm_host);
                    let status = response.status();
                    debug!(registry = host, realm = %realm_url, status = status.as_u16(), "token");
                    if status.is_success() {
                        let bytes = read_limited(response).await?;
                        let parsed: auth::token::TokenResponse =
                            serde_json::from_slice(&bytes).map_err(|_| {
                                ErrorKind::InvalidResponse("token endpoint answered non-JSON".into())
                            })?;
                        return parsed.into_token().ok_or_else(|| {
                            ErrorKind::InvalidResponse("token endpoint answered no token".into())
                        });
                    }
                    if matches!(status.as_u16(), 401 | 403) {
                        return Err(ErrorKind::AuthRefused { status: status.as_u16() });
                    }
                    if !retry::is_retryable_status(status.as_u16()) {
                        return Err(status_kind(status.as_u16(), &body_text(response).await));
                    }
                    (retry_after(response.headers()), format!("token endpoint HTTP {}", status.as_u16()))
                }
                Err(e) => (None, request_error(e)),
            };
            match retry.next_delay(&cfg.retry, hint) {
                Some(delay) => {
                    self.inner.stats.retry();
                    tokio::time::sleep(delay).await;
                }
                None => {
                    return Err(ErrorKind::RetriesExhausted {
                        attempts: retry.attempts(),
                        elapsed: retry.elapsed(),
                        last: problem,
                    });
                }
            }
        }
    }

    /// A GET/HEAD call on `/v2/<name>/...` for `full` (a full repository path).
    pub fn repo_call<'a>(
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
        }
    }

    /// `tags/list` of a repository, following `Link` pagination (pages merged, Google's
    /// `manifest` and `child` included). `None` when the repository does not exist.
    pub async fn list_tags(&self, full: &str) -> Result<Option<TagsList>, RegistryError> {
        let mut call = self.repo_call(
            full,
            Operation::ListTags,
            Method::GET,
            &format!("tags/list?n={PAGE_SIZE}"),
            &["pull"],
        );
        let mut merged: Option<TagsList> = None;
        let mut pages = 0;
        loop {
            let response = self.execute(&call).await?;
            let status = response.status();
            if status == StatusCode::NOT_FOUND {
                return Ok(merged);
            }
            let next = next_page(&response);
            let bytes = self.success_body(&call, response).await?;
            let page = TagsList::parse(&bytes).map_err(|m| {
                self.error(call.host, call.repository, call.operation, ErrorKind::InvalidResponse(m))
            })?;
            merged = Some(match merged {
                None => page,
                Some(acc) => merge_pages(acc, page),
            });
            pages += 1;
            match next {
                Some(target) if pages < 10_000 => call.target = target,
                _ => return Ok(merged),
            }
        }
    }

    /// A pull request for a manifest by tag or digest, accepting every supported media type.
    fn manifest_call<'a>(
        &self,
        full: &'a str,
        operation: Operation,
        method: Method,
        reference: &str,
    ) -> Call<'a> {
        let mut call = self.repo_call(full, operation, method, &format!("manifests/{reference}"), &["pull"]);
        call.headers.insert(header::ACCEPT, HeaderValue::from_static(media::ACCEPT_MANIFESTS));
        call
    }

    /// `HEAD` on a manifest by tag or digest. `None` when absent.
    pub async fn head_manifest(
        &self,
        full: &str,
        reference: &str,
    ) -> Result<Option<ManifestHead>, RegistryError> {
        let call = self.manifest_call(full, Operation::HeadManifest, Method::HEAD, reference);
        let response = self.execute(&call).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            let status = response.status().as_u16();
            return Err(self.error(call.host, call.repository, call.operation, status_kind(status, "")));
        }
        let headers = response.headers();
        let media_type = content_type(headers).unwrap_or_default();
        let size =
            headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let digest = headers.get("docker-content-digest").and_then(|v| v.to_str().ok()).map(str::to_string);
        match (digest, size) {
            (Some(digest), Some(size)) => Ok(Some(ManifestHead { digest, media_type, size })),
            // Some registries omit the digest on HEAD: read the manifest and hash it.
            _ => Ok(self.get_manifest(full, reference).await?.map(|m| ManifestHead {
                digest: m.digest,
                media_type: m.media_type,
                size: m.bytes.len() as u64,
            })),
        }
    }

    /// `GET` a manifest (exact bytes). When `reference` is a digest the bytes are verified
    /// against it. `None` when absent.
    pub async fn get_manifest(
        &self,
        full: &str,
        reference: &str,
    ) -> Result<Option<RawManifest>, RegistryError> {
        let call = self.manifest_call(full, Operation::GetManifest, Method::GET, reference);
        let response = self.execute(&call).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let media_type = content_type(response.headers()).unwrap_or_default();
        let bytes = bytes::Bytes::from(self.success_body(&call, response).await?);
        let digest = sha256_digest(&bytes);
        if reference.starts_with("sha256:") && digest != reference {
            return Err(self.error(
                call.host,
                call.repository,
                call.operation,
                ErrorKind::DigestMismatch { expected: reference.to_string(), actual: digest },
            ));
        }
        Ok(Some(RawManifest { bytes, media_type, digest }))
    }

    /// Repository names under `host` from `_catalog` (pagination followed), as full paths.
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
        };
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let response = self.execute(&call).await?;
            let next = next_page(&response);
            let bytes = self.success_body(&call, response).await?;
            let page: Catalog = serde_json::from_slice(&bytes).map_err(|e| {
                self.error(
                    host,
                    None,
                    Operation::Catalog,
                    ErrorKind::InvalidResponse(format!("_catalog body: {e}")),
                )
            })?;
            out.extend(page.repositories.unwrap_or_default().into_iter().map(|r| format!("{host}/{r}")));
            match next {
                Some(target) => call.target = target,
                None => break,
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The body of a successful response (bounded), or the error its status means.
    pub async fn success_body(
        &self,
        call: &Call<'_>,
        response: reqwest::Response,
    ) -> Result<Vec<u8>, RegistryError> {
        let status = response.status();
        if !status.is_success() {
            let text = body_text(response).await;
            return Err(self.error(
                call.host,
                call.repository,
                call.operation,
                status_kind(status.as_u16(), &text),
            ));
        }
        read_limited(response)
            .await
            .map_err(|kind| self.error(call.host, call.repository, call.operation, kind))
    }
}

/// Docker Hub's official images live under `library/`.
fn name_for(host: &str, name: &str) -> String {
    if matches!(host, "docker.io" | "index.docker.io") && !name.contains('/') {
        format!("library/{name}")
    } else {
        name.to_string()
    }
}

enum PingError {
    /// No HTTP exchange happened (connection or TLS failure): another scheme may work.
    Transport(String),
    /// The registry answered, and the answer is final.
    Kind(ErrorKind),
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

fn next_page(response: &reqwest::Response) -> Option<String> {
    let value = response.headers().get(header::LINK)?.to_str().ok()?;
    let target = link::next_link(value)?;
    if target.starts_with('/') {
        return Some(target);
    }
    // Absolute or relative-to-request targets are resolved against the request URL, and only
    // followed on the same origin (a registry cannot redirect cip's credentials elsewhere).
    let resolved = response.url().join(&target).ok()?;
    (resolved.origin() == response.url().origin()).then(|| {
        let mut path = resolved.path().to_string();
        if let Some(q) = resolved.query() {
            path.push('?');
            path.push_str(q);
        }
        path
    })
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| media::essence(v).to_string())
        .filter(|v| !v.is_empty())
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?;
    retry::parse_retry_after(value, SystemTime::now())
}

/// Reads a whole (small) response body, refusing more than [`MAX_DOCUMENT_BYTES`]. A connection
/// lost mid-body is [`ErrorKind::Interrupted`] (worth another try); an oversized body is not.
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, ErrorKind> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| ErrorKind::Interrupted(request_error(e)))? {
        if out.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(ErrorKind::InvalidResponse(format!("body larger than {MAX_DOCUMENT_BYTES} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A short, single-line excerpt of an error body for messages.
async fn body_text(response: reqwest::Response) -> String {
    let text =
        read_limited(response).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(300).collect()
}

/// The error a final non-success status means.
pub fn status_kind(status: u16, message: &str) -> ErrorKind {
    match status {
        401 => ErrorKind::AuthRefused { status },
        403 => ErrorKind::Denied,
        404 => ErrorKind::NotFound,
        _ => ErrorKind::Status { status, message: message.to_string() },
    }
}

/// A failed request's error chain with the URL's query removed: a redirect target or upload
/// `Location` may be a pre-signed URL whose query is a credential of its own, and error messages
/// must never carry one. The path still says which object failed.
pub fn request_error(mut error: reqwest::Error) -> String {
    if let Some(url) = error.url_mut() {
        url.set_query(None);
    }
    error_chain(&error)
}

/// An error and its causes on one line (reqwest's own message is terse). cip's own URLs never
/// carry secrets (tokens travel in headers only); URLs a registry hands out may, see
/// [`request_error`].
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn looks_like_tls(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    ["certificate", "tls", "handshake", "corrupt message", "invalidcontenttype", "received corrupt"]
        .iter()
        .any(|needle| m.contains(needle))
}

fn looks_like_certificate(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("certificate") || m.contains("unknownissuer") || m.contains("invalid peer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_bytes() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn docker_hub_library() {
        assert_eq!(name_for("docker.io", "alpine"), "library/alpine");
        assert_eq!(name_for("docker.io", "a/b"), "a/b");
        assert_eq!(name_for("gcr.io", "alpine"), "alpine");
    }
}
