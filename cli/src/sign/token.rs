//! OIDC identity tokens for keyless signing, from one of three sources:
//!
//! - given (`--identity-token FILE|-`): the front end reads it;
//! - GitHub Actions' ambient token: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore` with
//!   `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN` answers `{"value": "<jwt>"}` (the
//!   job needs `permissions: id-token: write`);
//! - Google IAM Credentials `generateIdToken` for a signer service account (`--signer-account`,
//!   what the Kubernetes promotion jobs use): the caller's own Google token (the registry
//!   client's Google credentials) asks for an ID token with audience `sigstore` and the account's
//!   e-mail in it. Asked for only when `--signer-account` is given.
//!
//! Tokens are [`Secret`]s: never in a message, a log line or a report.

use reqwest::Method;
use serde::Deserialize;

use super::sigstore::call;
use crate::registry::{RegistryClient, Secret};

/// The audience Sigstore's Fulcio expects.
pub const AUDIENCE: &str = "sigstore";
/// The Google IAM Credentials API (`generateIdToken`).
pub const DEFAULT_IAM_ENDPOINT: &str = "https://iamcredentials.googleapis.com";

/// Where a keyless signer's identity token comes from.
#[derive(Clone, Debug)]
pub enum TokenSource {
    /// A token given as is (`--identity-token`).
    Given(Secret),
    /// GitHub Actions' token service (`ACTIONS_ID_TOKEN_REQUEST_URL`, `..._TOKEN`).
    GitHubActions {
        /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
        request_url: String,
        /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
        request_token: Secret,
    },
    /// Google IAM `generateIdToken` for this service account.
    GoogleAccount {
        /// The signer account's e-mail.
        account: String,
        /// The IAM Credentials API base URL.
        iam_endpoint: String,
    },
}

impl TokenSource {
    /// GitHub Actions' ambient token source, when the job may request one (both variables set).
    pub fn github_actions_from_env() -> Option<TokenSource> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        Some(TokenSource::GitHubActions {
            request_url: var("ACTIONS_ID_TOKEN_REQUEST_URL")?,
            request_token: Secret::new(var("ACTIONS_ID_TOKEN_REQUEST_TOKEN")?),
        })
    }

    /// What the source is, for messages (never the token).
    pub fn describe(&self) -> String {
        match self {
            TokenSource::Given(_) => "the given identity token".into(),
            TokenSource::GitHubActions { .. } => "GitHub Actions' ID token".into(),
            TokenSource::GoogleAccount { account, .. } => format!("Google IAM generateIdToken for {account}"),
        }
    }

    /// Obtains the token.
    pub(crate) async fn fetch(&self, client: &RegistryClient) -> Result<Secret, String> {
        match self {
            TokenSource::Given(token) => Ok(token.clone()),
            TokenSource::GitHubActions { request_url, request_token } => {
                github(client, request_url, request_token).await
            }
            TokenSource::GoogleAccount { account, iam_endpoint } => {
                let source = client.inner.credentials.google().source_token().await?;
                google(client, &source, iam_endpoint, account).await
            }
        }
    }
}

#[derive(Deserialize)]
struct GitHubAnswer {
    value: String,
}

#[derive(Deserialize)]
struct GoogleAnswer {
    token: String,
}

async fn github(
    client: &RegistryClient,
    request_url: &str,
    request_token: &Secret,
) -> Result<Secret, String> {
    let mut url = reqwest::Url::parse(request_url)
        .map_err(|e| format!("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL ({e})"))?;
    url.query_pairs_mut().append_pair("audience", AUDIENCE);
    let what = "GitHub Actions ID token";
    let answer = call(client, what, Method::GET, url.as_str(), Some(request_token), None).await?;
    if !answer.status.is_success() {
        return Err(format!(
            "{what}: HTTP {} (the job needs `permissions: id-token: write`)",
            answer.status.as_u16()
        ));
    }
    let parsed: GitHubAnswer =
        serde_json::from_slice(&answer.body).map_err(|e| format!("{what}: unexpected answer ({e})"))?;
    Ok(Secret::new(parsed.value))
}

/// Asks IAM Credentials for an ID token of `account` with audience `sigstore`, as `source`.
pub(crate) async fn google(
    client: &RegistryClient,
    source: &Secret,
    iam_endpoint: &str,
    account: &str,
) -> Result<Secret, String> {
    let url = format!(
        "{}/v1/projects/-/serviceAccounts/{account}:generateIdToken",
        iam_endpoint.trim_end_matches('/')
    );
    let body = serde_json::to_vec(&serde_json::json!({"audience": AUDIENCE, "includeEmail": true}))
        .map_err(|e| e.to_string())?;
    let what = format!("Google IAM generateIdToken for {account}");
    let answer = call(client, &what, Method::POST, &url, Some(source), Some(body)).await?;
    if !answer.status.is_success() {
        return Err(format!(
            "{what}: HTTP {} ({}); the caller needs roles/iam.serviceAccountTokenCreator on that account",
            answer.status.as_u16(),
            answer.excerpt()
        ));
    }
    let parsed: GoogleAnswer =
        serde_json::from_slice(&answer.body).map_err(|e| format!("{what}: unexpected answer ({e})"))?;
    Ok(Secret::new(parsed.token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::ClientConfig;
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn github_and_google_tokens_are_asked_for_with_the_sigstore_audience() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/token"))
            .and(query_param("api-version", "2.0"))
            .and(query_param("audience", "sigstore"))
            .and(header("authorization", "Bearer request-secret"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": "gh-jwt"})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/projects/-/serviceAccounts/signer@p.iam.gserviceaccount.com:generateIdToken"))
            .and(header("authorization", "Bearer access-secret"))
            .and(body_json(serde_json::json!({"audience": "sigstore", "includeEmail": true})))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "g-jwt"})))
            .mount(&server)
            .await;
        let client = RegistryClient::new(ClientConfig::default()).unwrap();
        let gh = TokenSource::GitHubActions {
            request_url: format!("{}/token?api-version=2.0", server.uri()),
            request_token: Secret::new("request-secret"),
        };
        assert_eq!(gh.fetch(&client).await.unwrap().expose(), "gh-jwt");
        let token =
            google(&client, &Secret::new("access-secret"), &server.uri(), "signer@p.iam.gserviceaccount.com")
                .await
                .unwrap();
        assert_eq!(token.expose(), "g-jwt");
        let refused =
            google(&client, &Secret::new("access-secret"), &server.uri(), "other@p").await.unwrap_err();
        assert!(refused.contains("HTTP 404") && !refused.contains("access-secret"), "{refused}");
    }

    #[tokio::test]
    async fn plain_http_to_another_machine_is_refused() {
        let client = RegistryClient::new(ClientConfig::default()).unwrap();
        let gh = TokenSource::GitHubActions {
            request_url: "http://tokens.example.com/t".into(),
            request_token: Secret::new("s"),
        };
        let error = gh.fetch(&client).await.unwrap_err();
        assert!(error.contains("plain HTTP"), "{error}");
    }
}
