//! Reachability and the authentication challenge: `GET /v2/` once per host and run. Tries HTTPS,
//! and plain HTTP or unverified TLS only for loopback hosts and hosts marked
//! `--insecure-registry`. The answer (or the failure) is remembered, so a dead registry is not
//! pinged again for every repository.

use reqwest::StatusCode;
use reqwest::header;

use super::auth::{self, Challenge};
use super::client::{Endpoint, RegistryClient};
use super::error::{ErrorKind, Operation, RegistryError};
use super::host;
use super::response::{body_text, looks_like_certificate, looks_like_tls, status_kind};
use super::send::{SendError, SendSpec};

/// Why one scheme failed.
enum PingError {
    /// No HTTP exchange happened (connection or TLS failure): another scheme may work.
    Transport(String),
    /// The registry answered, and the answer is final.
    Kind(ErrorKind),
}

impl RegistryClient {
    /// Learns (once) how to reach `host` and what authentication it wants.
    pub(crate) async fn endpoint(&self, host: &str) -> Result<Endpoint, RegistryError> {
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
        let https_error = match self.ping(host, &format!("https://{api}"), false, secure_only).await {
            Ok(challenge) => {
                return Ok(Endpoint { base: format!("https://{api}"), unverified: false, challenge });
            }
            Err(PingError::Kind(kind)) => return Err(fail(kind)),
            Err(PingError::Transport(message)) => message,
        };
        if secure_only {
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

    /// `GET /v2/` on one base URL through the send loop. A failed connection on a scheme that is
    /// not the `last` to try (or a failed TLS handshake) returns at once: it is an answer about
    /// the scheme.
    async fn ping(
        &self,
        host: &str,
        base: &str,
        unverified: bool,
        last: bool,
    ) -> Result<Challenge, PingError> {
        let client = if unverified { &self.inner.http_unverified } else { &self.inner.http };
        let url = format!("{base}/v2/");
        let give_up = move |e: &reqwest::Error| {
            e.is_connect() && (!last || looks_like_tls(&super::response::error_chain(e)))
        };
        let what = format!("ping {url}");
        let how = SendSpec { host, what: &what, once: false, give_up: &give_up };
        let timeout = self.inner.config.timeout;
        let response = match self.send(&how, || client.get(&url).timeout(timeout)).await {
            Ok(response) => response,
            Err(SendError::Unsent(message)) => return Err(PingError::Transport(message)),
            Err(other) => return Err(PingError::Kind(other.into_kind(timeout))),
        };
        let status = response.status();
        if status.is_success() {
            return Ok(Challenge::Anonymous);
        }
        if status == StatusCode::UNAUTHORIZED {
            let challenge = response
                .headers()
                .get_all(header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .filter_map(auth::challenge::parse)
                .max_by_key(|c| matches!(c, Challenge::Bearer { .. }));
            return challenge.ok_or_else(|| {
                PingError::Kind(ErrorKind::Credentials(
                    "the registry asks for an authentication scheme cip does not support".into(),
                ))
            });
        }
        Err(PingError::Kind(if status == StatusCode::NOT_FOUND {
            ErrorKind::NotARegistry(format!("{url} answered HTTP 404"))
        } else {
            status_kind(status.as_u16(), &body_text(response).await)
        }))
    }
}
