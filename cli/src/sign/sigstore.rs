//! Calls to the services signing needs besides registries: Fulcio (`POST
//! /api/v2/signingCert`), Rekor (`POST /api/v1/log/entries`) and the identity-token endpoints
//! (GitHub Actions, Google IAM). Every request goes through the registry client's one send loop
//! ([`RegistryClient::send`]): the service host's rate limit, retries of transient trouble with
//! backoff and `Retry-After`, counting in the run's host report. Plain `http://` is allowed only
//! for hosts the client allows it for (loopback, `--insecure-registry`), so a token never
//! travels in clear to another machine.

use reqwest::header::{self, HeaderValue};
use reqwest::{Method, StatusCode};

use crate::registry::RegistryClient;
use crate::registry::Secret;
use crate::registry::response::read_limited;
use crate::registry::send::SendSpec;

/// A service's answer: status and body.
pub(crate) struct Answer {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// The body (bounded).
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// A short one-line excerpt of the body, for error messages (services answer JSON errors;
    /// none of them echo the bearer token).
    pub(crate) fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(300).collect()
    }
}

/// Sends one request to a service at `url` (with `bearer` as `Authorization: Bearer`, and a JSON
/// `body`), through the send loop. Errors name `what` and the URL without its query, never the
/// token.
pub(crate) async fn call(
    client: &RegistryClient,
    what: &str,
    method: Method,
    url: &str,
    bearer: Option<&Secret>,
    body: Option<Vec<u8>>,
) -> Result<Answer, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{what}: {url:?} is not a URL ({e})"))?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => return Err(format!("{what}: {url:?} has no host")),
    };
    let shown = format!("{}://{host}{}", parsed.scheme(), parsed.path());
    match parsed.scheme() {
        "https" => {}
        "http" if client.insecure_allowed(&host) => {}
        "http" => {
            return Err(format!(
                "{what}: {shown} is plain HTTP; only loopback and --insecure-registry hosts may be reached \
                 without TLS (a token would travel in clear)"
            ));
        }
        other => return Err(format!("{what}: unsupported scheme {other} in {shown}")),
    }
    let authorization = match bearer {
        Some(token) => {
            let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| format!("{what}: the token contains characters not allowed in a header"))?;
            v.set_sensitive(true);
            Some(v)
        }
        None => None,
    };
    let never = |_: &reqwest::Error| false;
    let label = format!("{what} {method} {shown}");
    let how = SendSpec { host: &host, what: &label, once: false, give_up: &never };
    let http = &client.inner.http;
    let timeout = client.config().timeout;
    let body = body.map(bytes::Bytes::from);
    let build = || {
        let mut request = http.request(method.clone(), parsed.clone()).timeout(timeout);
        if let Some(v) = &authorization {
            request = request.header(header::AUTHORIZATION, v.clone());
        }
        if let Some(b) = &body {
            request = request.header(header::CONTENT_TYPE, "application/json").body(b.clone());
        }
        request.header(header::ACCEPT, "application/json")
    };
    let response =
        client.send(&how, build).await.map_err(|e| format!("{label}: {}", e.into_kind(timeout)))?;
    let status = response.status();
    let body = read_limited(response).await.map_err(|e| format!("{label}: {e}"))?;
    Ok(Answer { status, body })
}
