//! Authentication on the wire: the `Authorization` header for a call under the host's
//! challenge (anonymous, Basic, or a Docker token fetched from the realm and cached per scope),
//! batched pull tokens for reading many repositories, and the refusal latch (credentials a host
//! refused are not offered again in the run).

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use tracing::debug;

use super::token::TokenResponse;
use super::{Challenge, Credential, Scopes};
use crate::registry::client::{Call, Endpoint, HostState, RegistryClient, name_for};
use crate::registry::error::ErrorKind;
use crate::registry::host;
use crate::registry::response::{body_text, read_limited, status_kind};
use crate::registry::secret::Secret;
use crate::registry::send::SendSpec;

/// Repositories per batched token request (keeps the token URL well under common limits).
pub(crate) const TOKEN_BATCH: usize = 50;

impl RegistryClient {
    pub(crate) fn learn_challenge(&self, state: &HostState, endpoint: &Endpoint, headers: &HeaderMap) {
        let parsed = headers
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(super::challenge::parse)
            .max_by_key(|c| matches!(c, Challenge::Bearer { .. }));
        if let Some(c) = parsed
            && c != endpoint.challenge
        {
            *state.late_challenge.lock().expect("challenge lock") = Some(c);
        }
    }

    /// The `Authorization` value for a call under `challenge`.
    /// Returns the header and the identity of the credential used (for the refusal latch).
    pub(crate) async fn authorization(
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
                    Some(super::basic_header(&username, &password))
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
    pub(crate) async fn prefetch_pull_tokens(&self, host: &str, repositories: &[&str]) {
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
    /// token, POST an OAuth2 refresh grant; through the send loop, under the realm host's limits.
    async fn fetch_token(
        &self,
        host: &str,
        realm: &str,
        service: Option<&str>,
        scopes: &Scopes,
        credential: Option<Credential>,
    ) -> Result<(Secret, Duration), ErrorKind> {
        let realm_url =
            reqwest::Url::parse(realm).map_err(|_| ErrorKind::Invalid(format!("token realm {realm:?}")))?;
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
        let basic = match &credential {
            Some(Credential::Basic { username, password }) => {
                let mut v = HeaderValue::from_str(super::basic_header(username, password).expose())
                    .map_err(|_| ErrorKind::Credentials("credential contains invalid characters".into()))?;
                v.set_sensitive(true);
                Some(v)
            }
            _ => None,
        };
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(s) = service {
            query.push(("service", s.to_string()));
        }
        let timeout = self.inner.config.timeout;
        let build = || match &credential {
            Some(Credential::IdentityToken(refresh)) => {
                let mut form = query.clone();
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", refresh.expose().to_string()));
                form.push(("client_id", "cip".into()));
                form.push(("scope", scopes.to_params().join(" ")));
                self.inner.http.post(realm_url.clone()).form(&form).timeout(timeout)
            }
            _ => {
                let mut query = query.clone();
                query.extend(scopes.to_params().into_iter().map(|s| ("scope", s)));
                let mut r = self.inner.http.get(realm_url.clone()).query(&query).timeout(timeout);
                if let Some(v) = &basic {
                    r = r.header(header::AUTHORIZATION, v.clone());
                }
                r
            }
        };
        let never = |_: &reqwest::Error| false;
        let what = format!("token for {host}");
        let how = SendSpec { host: &realm_host, what: &what, once: false, give_up: &never };
        let response = self.send(&how, build).await.map_err(|e| e.into_kind(timeout))?;
        let status = response.status();
        if status.is_success() {
            let bytes = read_limited(response).await?;
            let parsed: TokenResponse = serde_json::from_slice(&bytes)
                .map_err(|_| ErrorKind::Invalid("token endpoint answered non-JSON".into()))?;
            return parsed
                .into_token()
                .ok_or_else(|| ErrorKind::Invalid("token endpoint answered no token".into()));
        }
        if matches!(status.as_u16(), 401 | 403) {
            return Err(ErrorKind::AuthRefused { status: status.as_u16() });
        }
        Err(status_kind(status.as_u16(), &body_text(response).await))
    }
}
