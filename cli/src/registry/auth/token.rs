//! Token scopes and the token cache of the Docker token flow. Scopes for the same repository are
//! accumulated (pull, then pull+push) so one token covers everything a repository needs, and a
//! cached token is reused for any request whose scopes it covers until shortly before expiry.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::super::secret::Secret;

/// A set of scopes: resource (`repository:a/b`, `registry:catalog`) -> actions.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Scopes(BTreeMap<String, BTreeSet<String>>);

impl Scopes {
    /// No scopes (the `/v2/` ping).
    pub(crate) fn none() -> Self {
        Self::default()
    }

    /// `repository:<name>:<actions>`.
    pub(crate) fn repository(name: &str, actions: &[&str]) -> Self {
        let mut s = Self::default();
        s.add(&format!("repository:{name}"), actions);
        s
    }

    /// `registry:catalog:*`.
    pub(crate) fn catalog() -> Self {
        let mut s = Self::default();
        s.add("registry:catalog", &["*"]);
        s
    }

    /// Adds actions on a resource.
    pub(crate) fn add(&mut self, resource: &str, actions: &[&str]) {
        self.0.entry(resource.to_string()).or_default().extend(actions.iter().map(|a| a.to_string()));
    }

    /// True when every scope in `other` is covered.
    pub(crate) fn covers(&self, other: &Scopes) -> bool {
        other.0.iter().all(|(r, a)| self.0.get(r).is_some_and(|have| a.is_subset(have)))
    }

    /// The `scope` query values, one per resource.
    pub(crate) fn to_params(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(r, a)| format!("{r}:{}", a.iter().cloned().collect::<Vec<_>>().join(",")))
            .collect()
    }

    /// The scopes of `earlier` on resources that `self` also names: what accumulates.
    fn accumulate_from(&mut self, earlier: &Scopes) {
        for (resource, actions) in &earlier.0 {
            if let Some(mine) = self.0.get_mut(resource) {
                mine.extend(actions.iter().cloned());
            }
        }
    }
}

/// A token endpoint's answer.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    /// Docker's field.
    #[serde(default)]
    pub token: Option<String>,
    /// OAuth2's field (some registries send both).
    #[serde(default)]
    pub access_token: Option<String>,
    /// Lifetime in seconds (default 60 per the token spec).
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl TokenResponse {
    /// The token and how long to reuse it.
    pub(crate) fn into_token(self) -> Option<(Secret, Duration)> {
        let token = self.token.filter(|t| !t.is_empty()).or(self.access_token)?;
        let life = Duration::from_secs(self.expires_in.unwrap_or(60).max(1));
        // Stop using a token a little before it expires: requests take time to arrive.
        let margin = (life / 5).min(Duration::from_secs(30));
        Some((Secret::new(token), life - margin))
    }
}

#[derive(Debug)]
struct Entry {
    scopes: Scopes,
    token: Secret,
    until: Instant,
}

/// Tokens per (host, identity), each with the scopes it was granted.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    entries: Mutex<BTreeMap<(String, String), Vec<Entry>>>,
}

impl TokenCache {
    /// A live token covering `scopes`.
    pub(crate) async fn get(&self, host: &str, identity: &str, scopes: &Scopes) -> Option<Secret> {
        let entries = self.entries.lock().await;
        let now = Instant::now();
        entries
            .get(&(host.to_string(), identity.to_string()))?
            .iter()
            .find(|e| e.until > now && e.scopes.covers(scopes))
            .map(|e| e.token.clone())
    }

    /// The scopes to ask for: `scopes` plus whatever was granted before on the same resources.
    pub(crate) async fn widen(&self, host: &str, identity: &str, scopes: &Scopes) -> Scopes {
        let mut wanted = scopes.clone();
        if let Some(list) = self.entries.lock().await.get(&(host.to_string(), identity.to_string())) {
            for e in list {
                wanted.accumulate_from(&e.scopes);
            }
        }
        wanted
    }

    /// Stores a token; expired entries and entries the new one covers are dropped.
    pub(crate) async fn put(
        &self,
        host: &str,
        identity: &str,
        scopes: Scopes,
        token: Secret,
        life: Duration,
    ) {
        let mut entries = self.entries.lock().await;
        let list = entries.entry((host.to_string(), identity.to_string())).or_default();
        let now = Instant::now();
        list.retain(|e| e.until > now && !scopes.covers(&e.scopes));
        list.push(Entry { scopes, token, until: now + life });
    }

    /// Forgets tokens covering `scopes` (the registry refused one).
    pub(crate) async fn invalidate(&self, host: &str, identity: &str, scopes: &Scopes) {
        if let Some(list) = self.entries.lock().await.get_mut(&(host.to_string(), identity.to_string())) {
            list.retain(|e| !e.scopes.covers(scopes));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cache_covers_and_accumulates() {
        let cache = TokenCache::default();
        let pull = Scopes::repository("a/b", &["pull"]);
        let push = Scopes::repository("a/b", &["push"]);
        assert!(cache.get("h", "anon", &pull).await.is_none());
        cache.put("h", "anon", pull.clone(), Secret::new("t1"), Duration::from_secs(60)).await;
        assert_eq!(cache.get("h", "anon", &pull).await.unwrap().expose(), "t1");
        assert!(cache.get("h", "anon", &push).await.is_none());
        assert!(cache.get("h", "other", &pull).await.is_none());
        let wanted = cache.widen("h", "anon", &push).await;
        assert_eq!(wanted.to_params(), ["repository:a/b:pull,push"]);
        cache.put("h", "anon", wanted, Secret::new("t2"), Duration::from_secs(60)).await;
        assert_eq!(cache.get("h", "anon", &pull).await.unwrap().expose(), "t2");
        cache.invalidate("h", "anon", &pull).await;
        assert!(cache.get("h", "anon", &pull).await.is_none());
    }

    #[tokio::test]
    async fn expired_tokens_are_not_used() {
        let cache = TokenCache::default();
        let pull = Scopes::repository("a", &["pull"]);
        cache.put("h", "i", pull.clone(), Secret::new("t"), Duration::ZERO).await;
        assert!(cache.get("h", "i", &pull).await.is_none());
    }

    #[test]
    fn token_response_forms() {
        let r: TokenResponse = serde_json::from_str(r#"{"token":"abc","expires_in":300}"#).unwrap();
        let (t, life) = r.into_token().unwrap();
        assert_eq!(t.expose(), "abc");
        assert_eq!(life, Duration::from_secs(270));
        let r: TokenResponse = serde_json::from_str(r#"{"access_token":"xyz"}"#).unwrap();
        let (t, life) = r.into_token().unwrap();
        assert_eq!(t.expose(), "xyz");
        assert_eq!(life, Duration::from_secs(48));
        let r: TokenResponse = serde_json::from_str(r#"{}"#).unwrap();
        assert!(r.into_token().is_none());
    }
}
