//! Push and read-back helper speaking the OCI Distribution API (reqwest).
//!
//! Deliberately simple and independent of cip's own engine, so tests never check cip with cip: blobs
//! are pushed monolithically (POST, then PUT with `?digest=`), manifests as raw bytes with their media
//! type. Authentication follows the `/v2/` challenge: Basic credentials are sent up front; on a
//! `Bearer` challenge a token is fetched from the realm for the needed scope and cached per scope.

use crate::data::Digest;
use crate::error::Error;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Every manifest media type the helper pushes, used as `Accept` when reading back.
const ACCEPT_ALL: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// User name and password for Basic auth or for the token realm.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    // Never print the password, even in test failure output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials {{ user: {:?}, password: <redacted> }}", self.user)
    }
}

/// Which media-type family a pushed image or index uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// Docker schema2 manifest / Docker manifest list.
    Docker,
    /// OCI image manifest / OCI image index.
    Oci,
}

impl MediaKind {
    /// Image manifest media type.
    pub fn manifest(self) -> &'static str {
        match self {
            MediaKind::Docker => "application/vnd.docker.distribution.manifest.v2+json",
            MediaKind::Oci => "application/vnd.oci.image.manifest.v1+json",
        }
    }

    /// Index / manifest list media type.
    pub fn index(self) -> &'static str {
        match self {
            MediaKind::Docker => "application/vnd.docker.distribution.manifest.list.v2+json",
            MediaKind::Oci => "application/vnd.oci.image.index.v1+json",
        }
    }

    /// Config blob media type.
    pub fn config(self) -> &'static str {
        match self {
            MediaKind::Docker => "application/vnd.docker.container.image.v1+json",
            MediaKind::Oci => "application/vnd.oci.image.config.v1+json",
        }
    }

    /// Layer media type.
    pub fn layer(self) -> &'static str {
        match self {
            MediaKind::Docker => "application/vnd.docker.image.rootfs.diff.tar.gzip",
            MediaKind::Oci => "application/vnd.oci.image.layer.v1.tar+gzip",
        }
    }
}

/// Target platform of an image (goes into its config and its index entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`, `windows`...
    pub os: String,
    /// `amd64`, `arm64`...
    pub architecture: String,
}

impl Platform {
    /// `linux/<architecture>`.
    pub fn linux(architecture: &str) -> Platform {
        Platform { os: "linux".into(), architecture: architecture.into() }
    }
}

/// What a push produced: enough to reference it from an index or to check it later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Manifest digest.
    pub digest: Digest,
    /// Manifest size in bytes.
    pub size: u64,
    /// Manifest media type.
    pub media_type: String,
    /// Raw manifest bytes as pushed.
    pub bytes: Vec<u8>,
    /// Platform of an image; `None` for an index.
    pub platform: Option<Platform>,
}

/// A manifest read back from a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    /// Raw bytes as served.
    pub bytes: Vec<u8>,
    /// `Content-Type` as served.
    pub media_type: String,
    /// sha256 of the bytes (computed here, not trusted from headers).
    pub digest: Digest,
}

impl FetchedManifest {
    /// The manifest parsed as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    /// Whether this is an index or manifest list.
    pub fn is_index(&self) -> bool {
        self.json().get("manifests").is_some()
    }

    /// Digests of child manifests (indexes only).
    pub fn children(&self) -> Vec<Digest> {
        descriptor_digests(self.json().get("manifests"))
    }

    /// Digests of the config and layer blobs (image manifests only).
    pub fn blobs(&self) -> Vec<Digest> {
        let json = self.json();
        let mut out = descriptor_digests(json.get("config").map(|c| Value::Array(vec![c.clone()])).as_ref());
        out.extend(descriptor_digests(json.get("layers")));
        out
    }
}

fn descriptor_digests(list: Option<&Value>) -> Vec<Digest> {
    list.and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|d| d["digest"].as_str()).map(|d| Digest(d.into())).collect())
        .unwrap_or_default()
}

/// Client for one registry base URL (a registry or a proxy in front of one).
pub struct Client {
    http: reqwest::Client,
    base: String,
    credentials: Option<Credentials>,
    tokens: Mutex<HashMap<String, String>>,
}

impl Client {
    /// A client for `base_url` (`http://127.0.0.1:PORT`). Env proxies are ignored: traffic stays local.
    pub fn new(base_url: &str, credentials: Option<Credentials>) -> Client {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .expect("reqwest client builds with static settings");
        Client {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            credentials,
            tokens: Mutex::default(),
        }
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Uploads a blob unless the repository already has it; returns its digest.
    pub async fn push_blob(&self, repo: &str, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::of(bytes);
        if self.blob_exists(repo, &digest).await? {
            return Ok(digest);
        }
        let start = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let response = self.send(Method::POST, &start, repo, true, None, &[]).await?;
        expect_status(&response, &[StatusCode::ACCEPTED], "start upload", repo)?;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error(format!("upload to {repo}: no Location header")))?;
        let mut url = self.absolute(location);
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("digest={digest}"));
        let headers = [(CONTENT_TYPE.as_str(), "application/octet-stream")];
        let response = self.send(Method::PUT, &url, repo, true, Some(bytes.to_vec()), &headers).await?;
        expect_status(&response, &[StatusCode::CREATED], "finish upload", repo)?;
        Ok(digest)
    }

    /// Puts raw manifest bytes under `reference` (a tag or the digest) with `media_type`.
    pub async fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Digest, Error> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let headers = [(CONTENT_TYPE.as_str(), media_type)];
        let response = self.send(Method::PUT, &url, repo, true, Some(bytes.to_vec()), &headers).await?;
        expect_status(&response, &[StatusCode::CREATED], "put manifest", &format!("{repo}:{reference}"))?;
        Ok(Digest::of(bytes))
    }

    /// Pushes a linux/amd64 image made of `layers` (plus a generated config); tags it when `tag` is set.
    pub async fn push_image(
        &self,
        repo: &str,
        tag: Option<&str>,
        layers: &[Vec<u8>],
        kind: MediaKind,
    ) -> Result<Pushed, Error> {
        self.push_image_for(repo, tag, layers, kind, Platform::linux("amd64")).await
    }

    /// Pushes an image for `platform`: layers, then config, then the manifest by digest, then the tag.
    pub async fn push_image_for(
        &self,
        repo: &str,
        tag: Option<&str>,
        layers: &[Vec<u8>],
        kind: MediaKind,
        platform: Platform,
    ) -> Result<Pushed, Error> {
        let mut layer_descriptors = Vec::new();
        let mut diff_ids = Vec::new();
        for layer in layers {
            let digest = self.push_blob(repo, layer).await?;
            diff_ids.push(digest.to_string());
            layer_descriptors
                .push(json!({"mediaType": kind.layer(), "size": layer.len(), "digest": digest.as_str()}));
        }
        let config = serde_json::to_vec(&json!({
            "architecture": platform.architecture, "os": platform.os,
            "rootfs": {"type": "layers", "diff_ids": diff_ids}, "config": {},
        }))
        .expect("json");
        let config_digest = self.push_blob(repo, &config).await?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": kind.manifest(),
            "config": {"mediaType": kind.config(), "size": config.len(), "digest": config_digest.as_str()},
            "layers": layer_descriptors,
        }))
        .expect("json");
        let pushed = self.put_then_tag(repo, tag, manifest, kind.manifest()).await?;
        Ok(Pushed { platform: Some(platform), ..pushed })
    }

    /// Pushes an index (OCI) or manifest list (Docker) over `children`, which must already be in `repo`.
    pub async fn push_index(
        &self,
        repo: &str,
        tag: Option<&str>,
        children: &[Pushed],
        kind: MediaKind,
    ) -> Result<Pushed, Error> {
        let manifests: Vec<Value> = children
            .iter()
            .map(|c| {
                let mut entry =
                    json!({"mediaType": c.media_type, "size": c.size, "digest": c.digest.as_str()});
                if let Some(p) = &c.platform {
                    entry["platform"] = json!({"architecture": p.architecture, "os": p.os});
                }
                entry
            })
            .collect();
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": kind.index(), "manifests": manifests,
        }))
        .expect("json");
        self.put_then_tag(repo, tag, index, kind.index()).await
    }

    /// Pushes an index over one image per architecture, each built from `layers` plus a per-arch layer.
    pub async fn push_multi_arch(
        &self,
        repo: &str,
        tag: Option<&str>,
        layers: &[Vec<u8>],
        architectures: &[&str],
        kind: MediaKind,
    ) -> Result<Pushed, Error> {
        let mut children = Vec::new();
        for arch in architectures {
            let mut arch_layers = layers.to_vec();
            arch_layers.push(arch.as_bytes().to_vec());
            children.push(self.push_image_for(repo, None, &arch_layers, kind, Platform::linux(arch)).await?);
        }
        self.push_index(repo, tag, &children, kind).await
    }

    /// Points `tag` at the manifest `digest` already in `repo` (same bytes and media type).
    pub async fn tag(&self, repo: &str, digest: &Digest, tag: &str) -> Result<(), Error> {
        let manifest = self
            .get_manifest(repo, digest.as_str())
            .await?
            .ok_or_else(|| Error(format!("tag {repo}:{tag}: {digest} not found")))?;
        self.push_manifest(repo, tag, &manifest.bytes, &manifest.media_type).await.map(drop)
    }

    async fn put_then_tag(
        &self,
        repo: &str,
        tag: Option<&str>,
        bytes: Vec<u8>,
        media_type: &str,
    ) -> Result<Pushed, Error> {
        let digest = self.push_manifest(repo, &Digest::of(&bytes).0, &bytes, media_type).await?;
        if let Some(tag) = tag {
            self.push_manifest(repo, tag, &bytes, media_type).await?;
        }
        Ok(Pushed { digest, size: bytes.len() as u64, media_type: media_type.into(), bytes, platform: None })
    }

    /// Reads a manifest by tag or digest; `None` when the registry answers 404.
    pub async fn get_manifest(&self, repo: &str, reference: &str) -> Result<Option<FetchedManifest>, Error> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let response =
            self.send(Method::GET, &url, repo, false, None, &[(ACCEPT.as_str(), ACCEPT_ALL)]).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        expect_status(&response, &[StatusCode::OK], "get manifest", &format!("{repo}:{reference}"))?;
        let media_type = header_text(response.headers(), CONTENT_TYPE.as_str());
        let bytes = response.bytes().await?.to_vec();
        Ok(Some(FetchedManifest { digest: Digest::of(&bytes), bytes, media_type }))
    }

    /// Whether a manifest exists (HEAD).
    pub async fn manifest_exists(&self, repo: &str, reference: &str) -> Result<bool, Error> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let response =
            self.send(Method::HEAD, &url, repo, false, None, &[(ACCEPT.as_str(), ACCEPT_ALL)]).await?;
        exists(&response, "head manifest", repo)
    }

    /// Whether a blob exists in `repo` (HEAD).
    pub async fn blob_exists(&self, repo: &str, digest: &Digest) -> Result<bool, Error> {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        let response = self.send(Method::HEAD, &url, repo, false, None, &[]).await?;
        exists(&response, "head blob", repo)
    }

    /// Downloads a blob (for byte-level checks); `None` on 404.
    pub async fn get_blob(&self, repo: &str, digest: &Digest) -> Result<Option<Vec<u8>>, Error> {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        let response = self.send(Method::GET, &url, repo, false, None, &[]).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        expect_status(&response, &[StatusCode::OK], "get blob", repo)?;
        Ok(Some(response.bytes().await?.to_vec()))
    }

    /// Sorted tags of `repo`; empty when the repository does not exist.
    pub async fn list_tags(&self, repo: &str) -> Result<Vec<String>, Error> {
        let url = format!("{}/v2/{repo}/tags/list", self.base);
        let response = self.send(Method::GET, &url, repo, false, None, &[]).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        expect_status(&response, &[StatusCode::OK], "list tags", repo)?;
        let body: Value = response.json().await?;
        let mut tags: Vec<String> = body["tags"]
            .as_array()
            .map(|t| t.iter().filter_map(Value::as_str).map(String::from).collect())
            .unwrap_or_default();
        tags.sort();
        Ok(tags)
    }

    /// Sorted repository names from `/v2/_catalog` (open or Basic registries), following `Link` pages.
    pub async fn catalog(&self) -> Result<Vec<String>, Error> {
        // 1000 is distribution's default `catalog.maxentries`; larger `n` is refused with 400.
        let mut next = Some(format!("{}/v2/_catalog?n=1000", self.base));
        let mut repos = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 1000 {
                return Err(Error(format!("catalog {}: more than 1000 pages", self.base)));
            }
            let response = self.send_scoped(Method::GET, &url, "registry:catalog:*", None, &[]).await?;
            expect_status(&response, &[StatusCode::OK], "catalog", &self.base)?;
            next = next_link(response.headers()).map(|link| self.absolute(&link));
            let body: Value = response.json().await?;
            if let Some(page) = body["repositories"].as_array() {
                repos.extend(page.iter().filter_map(Value::as_str).map(String::from));
            }
        }
        repos.sort();
        Ok(repos)
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        repo: &str,
        push: bool,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Result<reqwest::Response, Error> {
        let scope = format!("repository:{repo}:{}", if push { "pull,push" } else { "pull" });
        self.send_scoped(method, url, &scope, body, headers).await
    }

    /// Sends once with the best known auth; on a Bearer challenge fetches a token and sends again.
    async fn send_scoped(
        &self,
        method: Method,
        url: &str,
        scope: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Result<reqwest::Response, Error> {
        let token = self.tokens.lock().expect("token cache").get(scope).cloned();
        let response = self.attempt(method.clone(), url, token.as_deref(), body.clone(), headers).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = header_text(response.headers(), WWW_AUTHENTICATE.as_str());
        let Some(params) = challenge.strip_prefix("Bearer ") else { return Ok(response) };
        let token = self.fetch_token(params, scope).await?;
        self.tokens.lock().expect("token cache").insert(scope.to_string(), token.clone());
        self.attempt(method, url, Some(&token), body, headers).await
    }

    async fn attempt(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Result<reqwest::Response, Error> {
        let mut request = self.http.request(method.clone(), url);
        request = match (token, &self.credentials) {
            (Some(token), _) => request.bearer_auth(token),
            (None, Some(c)) => request.basic_auth(&c.user, Some(&c.password)),
            (None, None) => request,
        };
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        request.send().await.map_err(|e| Error(format!("{method} {url}: {}", without_url(e))))
    }

    async fn fetch_token(&self, challenge: &str, scope: &str) -> Result<String, Error> {
        let params = parse_challenge(challenge);
        let realm = params.get("realm").ok_or_else(|| Error::msg("Bearer challenge without realm"))?;
        // Built by hand: reqwest's `query` needs a feature the team does not enable.
        let mut url = format!("{realm}?scope={}", query_escape(scope));
        if let Some(service) = params.get("service") {
            url.push_str(&format!("&service={}", query_escape(service)));
        }
        let mut request = self.http.get(&url);
        if let Some(c) = &self.credentials {
            request = request.basic_auth(&c.user, Some(&c.password));
        }
        let response = request.send().await.map_err(|e| Error(format!("token: {}", without_url(e))))?;
        if !response.status().is_success() {
            return Err(Error(format!("token realm {realm} answered {}", response.status())));
        }
        let body: Value = response.json().await?;
        body["token"]
            .as_str()
            .or(body["access_token"].as_str())
            .map(String::from)
            .ok_or_else(|| Error(format!("token realm {realm}: no token in response")))
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}{location}", self.base)
        }
    }
}

/// The target of a `Link: <...>; rel="next"` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    let (target, params) = link.split_once(';')?;
    params
        .contains("rel=\"next\"")
        .then(|| target.trim().trim_start_matches('<').trim_end_matches('>').to_string())
}

/// Escapes the few characters that would break a query value (scopes hold `:`, `/`, `,`, which are legal).
fn query_escape(value: &str) -> String {
    value.replace('%', "%25").replace(' ', "%20").replace('&', "%26").replace('+', "%2B").replace('#', "%23")
}

/// `realm="...",service="..."` to a map.
fn parse_challenge(params: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = params.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key.trim().trim_start_matches(',').trim().to_string();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            quoted.split_once('"').unwrap_or((quoted, ""))
        } else {
            after.split_once(',').unwrap_or((after, ""))
        };
        out.insert(key, value.to_string());
        rest = tail;
    }
    out
}

/// The error and its causes on one line; the URL is dropped because callers name it themselves.
fn without_url(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

fn exists(response: &reqwest::Response, what: &str, repo: &str) -> Result<bool, Error> {
    match response.status() {
        StatusCode::OK => Ok(true),
        StatusCode::NOT_FOUND => Ok(false),
        status => Err(Error(format!("{what} in {repo}: unexpected {status}"))),
    }
}

fn expect_status(
    response: &reqwest::Response,
    expected: &[StatusCode],
    what: &str,
    subject: &str,
) -> Result<(), Error> {
    if expected.contains(&response.status()) {
        Ok(())
    } else {
        Err(Error(format!("{what} {subject}: unexpected {}", response.status())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenge() {
        let p =
            parse_challenge(r#"realm="http://127.0.0.1:1/token",service="reg",scope="repository:a:pull""#);
        assert_eq!(p["realm"], "http://127.0.0.1:1/token");
        assert_eq!(p["service"], "reg");
        assert_eq!(p["scope"], "repository:a:pull");
    }
}
