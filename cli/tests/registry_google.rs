//! Google's `tags/list` extension and Google credentials, against an in-process server on
//! loopback serving bodies of the documented shape: one request per repository, `child`
//! recursion for snapshots, and the credential chain (service-account key -> access token ->
//! impersonated token -> registry token as `oauth2accesstoken`).
//!
//! The Google host name (`*.gcr.io`) is resolved to the loopback server, and the service-account
//! key's `token_uri` points at it too, so gcp_auth never looks for other credentials.

mod registry_support;

use std::collections::BTreeMap;

use base64::Engine;
use cip::read::RepoNeeds;
use registry_support::{client, config, global_capture, host_of, service_account_key};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn digest(n: u8) -> String {
    format!("sha256:{}", format!("{n:x}").repeat(64).chars().take(64).collect::<String>())
}

/// A `tags/list` body with Google's extension.
fn google_body(name: &str, images: &[(u8, &[&str], &str)], children: &[&str]) -> serde_json::Value {
    let mut manifest = serde_json::Map::new();
    let mut tags = Vec::new();
    for (n, image_tags, media_type) in images {
        tags.extend(image_tags.iter().map(|t| t.to_string()));
        manifest.insert(
            digest(*n),
            serde_json::json!({
                "imageSizeBytes": "1024",
                "layerId": "",
                "mediaType": media_type,
                "tag": image_tags,
                "timeCreatedMs": "1700000000000",
                "timeUploadedMs": "1700000000001"
            }),
        );
    }
    serde_json::json!({ "child": children, "manifest": manifest, "name": name, "tags": tags })
}

const DOCKER: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

async fn serve_list(server: &MockServer, repo: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(format!("/v2/{repo}/tags/list")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn extension_reads_each_repository_with_one_request() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    for i in 0..5u8 {
        let name = format!("prod/img{i}");
        serve_list(
            &server,
            &name,
            google_body(&name, &[(i + 1, &["v1", "latest"], DOCKER), (i + 6, &[], OCI_INDEX)], &[]),
        )
        .await;
    }
    let host = host_of(&server);
    let request: BTreeMap<String, RepoNeeds> = (0..5u8)
        .map(|i| {
            let needs = RepoNeeds {
                tags: ["v1".to_string(), "v2".to_string()].into(),
                digests: [digest(i + 1), digest(99)].into(),
                ..RepoNeeds::default()
            };
            (format!("{host}/prod/img{i}"), needs)
        })
        .collect();
    let client = client();
    let outcome = registry_support::read(&client, &request).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    for i in 0..5u8 {
        let repo = &outcome.inventory.repositories[&format!("{host}/prod/img{i}")];
        assert_eq!(repo.len(), 2);
        assert_eq!(repo[&digest(i + 1)].tags, ["latest", "v1"]);
        assert_eq!(repo[&digest(i + 6)].media_type.as_deref(), Some(OCI_INDEX));
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1 + 5, "one ping, then one request per repository");
    assert_eq!(client.stats().snapshot().requests, 6);
}

#[tokio::test]
async fn snapshot_follows_child_lists() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    serve_list(&server, "proj", google_body("proj", &[], &["b", "a"])).await;
    serve_list(&server, "proj/a", google_body("proj/a", &[(1, &["v1"], DOCKER)], &["deep"])).await;
    serve_list(&server, "proj/a/deep", google_body("proj/a/deep", &[(2, &["x"], DOCKER)], &[])).await;
    serve_list(&server, "proj/b", google_body("proj/b", &[(3, &[], DOCKER), (4, &["t"], DOCKER)], &[])).await;
    let host = host_of(&server);
    let client = client();
    let outcome = registry_support::read_prefix(&client, &format!("{host}/proj")).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let repos: Vec<&String> = outcome.inventory.repositories.keys().collect();
    assert_eq!(repos, [&format!("{host}/proj/a"), &format!("{host}/proj/a/deep"), &format!("{host}/proj/b")]);
    let b = &outcome.inventory.repositories[&format!("{host}/proj/b")];
    assert!(b[&digest(3)].tags.is_empty(), "untagged digests are visible with the extension");
    let requests = server.received_requests().await.unwrap();
    let catalog = requests.iter().filter(|r| r.url.path().contains("_catalog")).count();
    assert_eq!(catalog, 0, "no catalog with the extension");
}

#[tokio::test]
async fn google_hosts_use_impersonated_tokens_as_oauth2accesstoken() {
    let server = MockServer::start().await;
    let port = server.address().port();
    let registry_host = format!("fake.gcr.io:{port}");
    let base = format!("http://{}", host_of(&server));
    // Registry: token flow.
    let challenge = format!(r#"Bearer realm="http://{registry_host}/v2/token",service="fake.gcr.io""#);
    Mock::given(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", challenge.as_str()))
        .mount(&server)
        .await;
    // Google OAuth: the service-account key is exchanged (JWT bearer grant) for a source token.
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(body_string_contains("grant_type=urn"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"access_token": "source-token", "expires_in": 3600, "token_type": "Bearer"}),
        ))
        .mount(&server)
        .await;
    // IAM Credentials: the source token buys the declared account's token.
    Mock::given(method("POST"))
        .and(path(
            "/v1/projects/-/serviceAccounts/prod-writer@cip-test.iam.gserviceaccount.com:generateAccessToken",
        ))
        .and(header("authorization", "Bearer source-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"accessToken": "impersonated-token", "expireTime": "2099-01-01T00:00:00Z"}),
        ))
        .mount(&server)
        .await;
    // Registry token endpoint: wants the impersonated token as the oauth2accesstoken password.
    let basic = base64::engine::general_purpose::STANDARD.encode("oauth2accesstoken:impersonated-token");
    Mock::given(path("/v2/token"))
        .and(header("authorization", format!("Basic {basic}").as_str()))
        .and(query_param("scope", "repository:prod/app:pull"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "registry-token"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v2/prod/app/tags/list"))
        .and(header("authorization", "Bearer registry-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(google_body(
            "prod/app",
            &[(1, &["v1"], DOCKER)],
            &[],
        )))
        .mount(&server)
        .await;

    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("sa.json");
    std::fs::write(&key_path, service_account_key(&format!("{base}/oauth2/token"))).unwrap();
    let mut cfg = config();
    cfg.resolve = vec![("fake.gcr.io".to_string(), *server.address())];
    cfg.insecure.insert(registry_host.clone());
    cfg.google_key_file = Some(key_path.clone());
    cfg.iam_endpoint = base.clone();
    cfg.service_accounts
        .insert(format!("{registry_host}/prod"), "prod-writer@cip-test.iam.gserviceaccount.com".to_string());
    // Everything cip logs at the highest verbosity is captured for the secrets check below.
    let capture = global_capture();
    let client = cip::registry::RegistryClient::new(cfg.clone()).unwrap();
    let list = client.list_tags(&format!("{registry_host}/prod/app")).await.unwrap().unwrap();
    assert!(list.has_extension());
    assert_eq!(list.to_repository()[&digest(1)].tags, ["v1"]);
    // A refused read exercises the error path with the same credentials.
    let refused = client.list_tags(&format!("{registry_host}/prod/missing")).await;
    let everything = format!("{}\n{refused:?}\n{cfg:?}\n{client:?}", capture.text());
    assert!(everything.contains("tags"), "the capture works: {everything}");
    let key = std::fs::read_to_string(&key_path).unwrap();
    let key_body =
        key.split("-----").nth(2).unwrap_or_default().trim().lines().next().unwrap_or_default().to_owned();
    for secret in ["source-token", "impersonated-token", "registry-token", basic.as_str(), key_body.as_str()]
    {
        assert!(!secret.is_empty());
        assert!(!everything.contains(secret), "{secret} leaked:\n{everything}");
    }
}

#[tokio::test]
async fn non_google_hosts_never_ask_for_google_credentials() {
    // Anonymous registry with a token flow: no credentials at all must be looked up, so the
    // token request carries no Authorization header.
    let server = MockServer::start().await;
    let host = host_of(&server);
    let challenge = format!(r#"Bearer realm="http://{host}/token",service="s""#);
    Mock::given(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", challenge.as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "anon"})))
        .mount(&server)
        .await;
    serve_list(&server, "a", serde_json::json!({"name": "a", "tags": ["v1"]})).await;
    let client = client();
    client.list_tags(&format!("{host}/a")).await.unwrap().unwrap();
    let requests = server.received_requests().await.unwrap();
    let token = requests.iter().find(|r| r.url.path() == "/token").unwrap();
    assert!(token.headers.get("authorization").is_none());
}
