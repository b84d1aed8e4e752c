//! Authentication: the `/v2/` challenge decides between anonymous access, HTTP Basic and the
//! Docker token flow. Credentials come from explicit settings, Docker's config, or (Google hosts
//! only) Google credentials sent as `oauth2accesstoken`, impersonating the registry's declared
//! service account when the manifest names one.

pub(crate) mod challenge;
pub(crate) mod credentials;
mod flow;
pub(crate) mod gcp;
pub(crate) mod token;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use tokio::sync::Mutex;

pub use challenge::Challenge;
pub use credentials::Credential;
pub(crate) use token::{Scopes, TokenCache};

use super::host;
use super::secret::Secret;

/// Google's fixed user name for access tokens used as registry passwords.
const GOOGLE_USER: &str = "oauth2accesstoken";

/// Resolves credentials per host (and, for Google, per repository's service account).
#[derive(Debug)]
pub(crate) struct Credentials {
    explicit: BTreeMap<String, Credential>,
    docker_config_dir: Option<PathBuf>,
    docker_cache: Mutex<HashMap<String, Option<Credential>>>,
    google: gcp::GoogleAuth,
    service_accounts: BTreeMap<String, String>,
}

impl Credentials {
    /// `explicit`: host -> credential; `service_accounts`: registry name -> account e-mail.
    pub(crate) fn new(
        explicit: BTreeMap<String, Credential>,
        docker_config_dir: Option<PathBuf>,
        google: gcp::GoogleAuth,
        service_accounts: BTreeMap<String, String>,
    ) -> Self {
        Self {
            explicit,
            docker_config_dir,
            docker_cache: Mutex::new(HashMap::new()),
            google,
            service_accounts,
        }
    }

    /// The Google token source (signing asks it for the caller's own token to call IAM
    /// `generateIdToken` with; see `crate::sign::token`).
    pub(crate) fn google(&self) -> &gcp::GoogleAuth {
        &self.google
    }

    /// The service account declared for the registry containing `full_repository`
    /// (longest matching registry name).
    pub(crate) fn service_account_for(&self, full_repository: &str) -> Option<&str> {
        self.service_accounts
            .iter()
            .filter(|(registry, _)| {
                full_repository == registry.as_str()
                    || full_repository
                        .strip_prefix(registry.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|(registry, _)| registry.len())
            .map(|(_, account)| account.as_str())
    }

    /// The credential for a request to `host` about `full_repository`, with an identity label
    /// that keys the token cache (so different accounts never share tokens).
    pub(crate) async fn resolve(
        &self,
        host: &str,
        full_repository: &str,
    ) -> Result<Option<(Credential, String)>, String> {
        if let Some(c) = self.explicit.get(host) {
            return Ok(Some((c.clone(), "explicit".into())));
        }
        if let Some(found) = self.docker_config(host).await? {
            return Ok(Some((found, "docker-config".into())));
        }
        if host::is_google(host) {
            let account = self.service_account_for(full_repository);
            let token = self.google.access_token(account).await?;
            let identity = format!("google:{}", account.unwrap_or("default"));
            return Ok(Some((Credential::Basic { username: GOOGLE_USER.into(), password: token }, identity)));
        }
        Ok(None)
    }

    async fn docker_config(&self, host: &str) -> Result<Option<Credential>, String> {
        let Some(dir) = &self.docker_config_dir else { return Ok(None) };
        let mut cache = self.docker_cache.lock().await;
        if let Some(hit) = cache.get(host) {
            return Ok(hit.clone());
        }
        let found = credentials::from_docker_config(dir, host)?;
        cache.insert(host.to_string(), found.clone());
        Ok(found)
    }
}

/// `Authorization` value for HTTP Basic.
pub(crate) fn basic_header(username: &str, password: &Secret) -> Secret {
    use base64::Engine;
    let raw = format!("{username}:{}", password.expose());
    Secret::new(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(accounts: &[(&str, &str)]) -> Credentials {
        let google = gcp::GoogleAuth::new(None, gcp::DEFAULT_IAM_ENDPOINT.into(), reqwest::Client::new());
        let sa = accounts.iter().map(|(r, a)| (r.to_string(), a.to_string())).collect();
        Credentials::new(BTreeMap::new(), None, google, sa)
    }

    #[test]
    fn service_account_longest_prefix() {
        let c = creds(&[("gcr.io/staging", "a@x"), ("gcr.io/staging/deep", "b@x")]);
        assert_eq!(c.service_account_for("gcr.io/staging/img"), Some("a@x"));
        assert_eq!(c.service_account_for("gcr.io/staging/deep/img"), Some("b@x"));
        assert_eq!(c.service_account_for("gcr.io/staging-other/img"), None);
    }

    #[tokio::test]
    async fn non_google_host_without_config_is_anonymous() {
        let c = creds(&[]);
        assert!(c.resolve("127.0.0.1:5000", "127.0.0.1:5000/a").await.unwrap().is_none());
    }

    #[test]
    fn basic_header_is_redacted() {
        let h = basic_header("u", &Secret::new("p"));
        assert_eq!(h.expose(), "Basic dTpw");
        assert!(!format!("{h:?}").contains("dTpw"));
    }
}
