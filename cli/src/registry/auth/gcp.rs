//! Google credentials for Google registry hosts only: an access token from gcp_auth (service
//! account key, application default credentials, gcloud, or the platform's metadata service),
//! optionally exchanged for a declared service account's token through IAM Credentials
//! `generateAccessToken` (impersonation), so each registry is accessed as the account its
//! manifest names.
//!
//! The caller guarantees the host is a Google host; gcp_auth is never initialised otherwise.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gcp_auth::TokenProvider;
use serde::Deserialize;
use tokio::sync::{Mutex, OnceCell};

use super::super::secret::Secret;

/// OAuth scope for registry access.
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Default IAM Credentials API endpoint.
pub(crate) const DEFAULT_IAM_ENDPOINT: &str = "https://iamcredentials.googleapis.com";
/// Lifetime requested for impersonated tokens; cached a little shorter so a token is never used
/// right at its expiry (this avoids parsing the RFC 3339 `expireTime`).
const IMPERSONATED_LIFETIME: Duration = Duration::from_secs(3600);
const IMPERSONATED_REUSE: Duration = Duration::from_secs(3000);

/// Google token source.
pub(crate) struct GoogleAuth {
    key_file: Option<PathBuf>,
    iam_endpoint: String,
    http: reqwest::Client,
    provider: OnceCell<Arc<dyn TokenProvider>>,
    impersonated: Mutex<HashMap<String, (Secret, Instant)>>,
}

impl std::fmt::Debug for GoogleAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleAuth").field("key_file", &self.key_file).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateAccessTokenResponse {
    access_token: String,
}

impl GoogleAuth {
    /// `key_file`: a service-account key to use instead of gcp_auth's discovery;
    /// `iam_endpoint`: base URL of the IAM Credentials API.
    pub(crate) fn new(key_file: Option<PathBuf>, iam_endpoint: String, http: reqwest::Client) -> Self {
        Self {
            key_file,
            iam_endpoint,
            http,
            provider: OnceCell::new(),
            impersonated: Mutex::new(HashMap::new()),
        }
    }

    async fn provider(&self) -> Result<&Arc<dyn TokenProvider>, String> {
        self.provider
            .get_or_try_init(|| async {
                let key = self
                    .key_file
                    .clone()
                    .or_else(|| std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").map(PathBuf::from));
                match key {
                    Some(path) => gcp_auth::CustomServiceAccount::from_file(&path)
                        .map(|p| Arc::new(p) as Arc<dyn TokenProvider>)
                        .map_err(|e| format!("Google service-account key {}: {e}", path.display())),
                    None => {
                        gcp_auth::provider().await.map_err(|e| format!("no Google credentials found: {e}"))
                    }
                }
            })
            .await
    }

    /// The caller's own access token.
    pub(crate) async fn source_token(&self) -> Result<Secret, String> {
        let token = self
            .provider()
            .await?
            .token(&[CLOUD_PLATFORM])
            .await
            .map_err(|e| format!("Google token request failed: {e}"))?;
        Ok(Secret::new(token.as_str()))
    }

    /// An access token for `service_account` (impersonated) or for the caller.
    pub(crate) async fn access_token(&self, service_account: Option<&str>) -> Result<Secret, String> {
        let Some(account) = service_account else { return self.source_token().await };
        if let Some((token, at)) = self.impersonated.lock().await.get(account)
            && at.elapsed() < IMPERSONATED_REUSE
        {
            return Ok(token.clone());
        }
        let source = self.source_token().await?;
        let url = format!(
            "{}/v1/projects/-/serviceAccounts/{account}:generateAccessToken",
            self.iam_endpoint.trim_end_matches('/')
        );
        let body = serde_json::json!({
            "scope": [CLOUD_PLATFORM],
            "lifetime": format!("{}s", IMPERSONATED_LIFETIME.as_secs()),
        });
        let response = self
            .http
            .post(&url)
            .bearer_auth(source.expose())
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("impersonating {account}: {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "impersonating {account}: IAM Credentials generateAccessToken answered HTTP {}; the caller \
                 needs roles/iam.serviceAccountTokenCreator on that account",
                status.as_u16()
            ));
        }
        let parsed: GenerateAccessTokenResponse = response
            .json()
            .await
            .map_err(|e| format!("impersonating {account}: invalid response: {}", e.without_url()))?;
        let token = Secret::new(parsed.access_token);
        self.impersonated.lock().await.insert(account.to_string(), (token.clone(), Instant::now()));
        Ok(token)
    }
}
