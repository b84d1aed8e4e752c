//! Faults a real registry cannot be made to produce on demand, from in-process servers on
//! loopback: 429 with both `Retry-After` forms, 503 bursts, connection resets, slow responses,
//! wrong credentials (one clear error, no retry storm), pagination, insecure hosts, and a check
//! that secrets never reach logs or errors at the highest verbosity.

mod registry_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use cip::Credential;
use cip::read::RepoNeeds;
use cip::registry::{ErrorKind, Operation, RegistryClient, Secret};
use registry_support::{client, config, global_capture, host_of};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

async fn open_registry() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

fn tags_body(name: &str, tags: &[&str]) -> serde_json::Value {
    serde_json::json!({ "name": name, "tags": tags })
}

fn count(server_requests: &[Request], p: &str) -> usize {
    server_requests.iter().filter(|r| r.url.path() == p).count()
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let server = open_registry().await;
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tags_body("a", &["v1"])))
        .mount(&server)
        .await;
    let client = client();
    let started = Instant::now();
    let list = client.list_tags(&format!("{}/a", host_of(&server))).await.unwrap().unwrap();
    assert_eq!(list.tag_names(), ["v1"]);
    assert!(started.elapsed() >= Duration::from_millis(950), "waited {:?}", started.elapsed());
    assert_eq!(client.stats().snapshot().retries, 1);
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let server = open_registry().await;
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", at.as_str()))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tags_body("a", &["v1"])))
        .mount(&server)
        .await;
    let client = client();
    let started = Instant::now();
    client.list_tags(&format!("{}/a", host_of(&server))).await.unwrap().unwrap();
    // HTTP dates have one-second resolution: at least one second, at most the two asked for.
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(4), "waited {waited:?}");
}

#[tokio::test]
async fn a_burst_of_503_is_ridden_out() {
    let server = open_registry().await;
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tags_body("a", &["v1"])))
        .mount(&server)
        .await;
    let client = client();
    client.list_tags(&format!("{}/a", host_of(&server))).await.unwrap().unwrap();
    assert_eq!(client.stats().snapshot().retries, 3);
}

#[tokio::test]
async fn persistent_503_gives_up_with_a_clear_error() {
    let server = open_registry().await;
    Mock::given(path("/v2/team/a/tags/list")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let mut cfg = config();
    cfg.retry.budget = Duration::from_secs(1);
    let client = RegistryClient::new(cfg).unwrap();
    let started = Instant::now();
    let error = client.list_tags(&format!("{}/team/a", host_of(&server))).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.operation, Operation::ListTags);
    assert_eq!(error.repository.as_deref(), Some("team/a"));
    assert!(matches!(error.kind, ErrorKind::RetriesExhausted { .. }), "{error:?}");
    // The registry answered its ping, so its outage gets the host's whole budget (1 s here, 90 s
    // by default), however many attempts fit, and not more.
    assert!(elapsed >= Duration::from_millis(800) && elapsed < Duration::from_secs(3), "{elapsed:?}");
    let message = error.to_string();
    assert!(
        message.contains(&host_of(&server)) && message.contains("team/a") && message.contains("list tags"),
        "{message}"
    );
    let requests = server.received_requests().await.unwrap();
    assert!(count(&requests, "/v2/team/a/tags/list") > 5, "bounded by the budget, not by max_attempts");
}

#[tokio::test]
async fn an_unreachable_registry_is_not_pinged_again_for_every_repository() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut cfg = config();
    cfg.retry.max_attempts = 2;
    let client = RegistryClient::new(cfg).unwrap();
    let request: BTreeMap<String, RepoNeeds> = (0..30)
        .map(|i| {
            (format!("{closed}/r{i}"), RepoNeeds { tags: ["v1".to_string()].into(), ..RepoNeeds::default() })
        })
        .collect();
    let started = Instant::now();
    let outcome = registry_support::read(&client, &request).await;
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert!(outcome.errors[0].to_string().contains("cannot connect"), "{}", outcome.errors[0]);
    let again = client.head_manifest(&format!("{closed}/r1"), "v1").await.unwrap_err();
    assert!(again.is_registry_wide());
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn slow_responses_hit_the_timeout() {
    let server = open_registry().await;
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(tags_body("a", &[])).set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let mut cfg = config();
    cfg.timeout = Duration::from_millis(300);
    cfg.retry.budget = Duration::from_secs(1);
    let client = RegistryClient::new(cfg).unwrap();
    let started = Instant::now();
    let error = client.list_tags(&format!("{}/a", host_of(&server))).await.unwrap_err();
    assert!(error.to_string().contains("no response within"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

/// A raw HTTP/1.1 server that resets the first `resets` connections asking for a tag list and
/// answers everything else (one request per connection).
async fn resetting_server(resets: usize) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let left = Arc::new(AtomicUsize::new(resets));
    let done = Arc::new(AtomicUsize::new(0));
    let (left2, done2) = (left.clone(), done.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (left, done) = (left2.clone(), done2.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut have = 0;
                while !buf[..have].windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf[have..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => have += n,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..have]).to_string();
                if head.contains("tags/list")
                    && left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
                {
                    // Abortive close: the client sees a reset, not a clean end of stream.
                    let _ = socket.set_zero_linger();
                    drop(socket);
                    return;
                }
                let body = if head.contains("tags/list") { r#"{"name":"a","tags":["v1"]}"# } else { "{}" };
                if head.contains("tags/list") {
                    done.fetch_add(1, Ordering::SeqCst);
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (host, done)
}

#[tokio::test]
async fn connection_resets_are_retried() {
    let (host, served) = resetting_server(2).await;
    let client = client();
    let list = client.list_tags(&format!("{host}/a")).await.unwrap().unwrap();
    assert_eq!(list.tag_names(), ["v1"]);
    assert_eq!(served.load(Ordering::SeqCst), 1);
    assert!(client.stats().snapshot().retries >= 2);
}

#[tokio::test]
async fn wrong_basic_credentials_fail_once_without_a_retry_storm() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", r#"Basic realm="test""#))
        .mount(&server)
        .await;
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", r#"Basic realm="test""#))
        .mount(&server)
        .await;
    let mut cfg = config();
    let host = host_of(&server);
    cfg.credentials
        .insert(host.clone(), Credential::Basic { username: "bob".into(), password: Secret::new("wrong") });
    let client = RegistryClient::new(cfg).unwrap();
    let error = client.list_tags(&format!("{host}/a")).await.unwrap_err();
    assert!(matches!(error.kind, ErrorKind::AuthRefused { status: 401 }), "{error:?}");
    assert!(error.is_registry_wide());
    assert!(error.to_string().contains("authentication refused"), "{error}");
    // Later calls fail at once: the refusal is remembered for the run.
    for _ in 0..10 {
        let again = client.list_tags(&format!("{host}/a")).await.unwrap_err();
        assert!(matches!(again.kind, ErrorKind::AuthRefused { .. }), "{again:?}");
    }
    let requests = server.received_requests().await.unwrap();
    assert!(
        count(&requests, "/v2/a/tags/list") <= 2,
        "no retry storm: {}",
        count(&requests, "/v2/a/tags/list")
    );
}

#[tokio::test]
async fn reading_many_repositories_stops_after_an_auth_refusal() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", r#"Basic realm="test""#))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", r#"Basic realm="test""#))
        .mount(&server)
        .await;
    let host = host_of(&server);
    let mut cfg = config();
    cfg.credentials
        .insert(host.clone(), Credential::Basic { username: "bob".into(), password: Secret::new("wrong") });
    let client = RegistryClient::new(cfg).unwrap();
    let request: BTreeMap<String, RepoNeeds> = (0..50)
        .map(|i| {
            (format!("{host}/r{i}"), RepoNeeds { tags: ["v1".to_string()].into(), ..RepoNeeds::default() })
        })
        .collect();
    let outcome = registry_support::read(&client, &request).await;
    assert_eq!(outcome.errors.len(), 1, "one error for the registry: {:?}", outcome.errors);
    assert!(server.received_requests().await.unwrap().len() <= 4);
}

#[tokio::test]
async fn token_flow_caches_tokens_per_scope() {
    let server = MockServer::start().await;
    let host = host_of(&server);
    let realm = format!("http://{host}/token");
    let challenge = format!(r#"Bearer realm="{realm}",service="test-registry""#);
    Mock::given(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", challenge.as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/token"))
        .and(query_param("service", "test-registry"))
        .and(query_param("scope", "repository:a:pull"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"token": "tok-a", "expires_in": 300})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v2/a/tags/list"))
        .and(header("Authorization", "Bearer tok-a"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tags_body("a", &["v1"])))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", challenge.as_str()))
        .mount(&server)
        .await;
    let client = client();
    for _ in 0..3 {
        client.list_tags(&format!("{host}/a")).await.unwrap().unwrap();
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(count(&requests, "/token"), 1, "one token for three requests");
    assert_eq!(count(&requests, "/v2/a/tags/list"), 3);
}

#[tokio::test]
async fn a_refusing_token_endpoint_is_asked_once() {
    let server = MockServer::start().await;
    let host = host_of(&server);
    let challenge = format!(r#"Bearer realm="http://{host}/token",service="s""#);
    Mock::given(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", challenge.as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/token")).respond_with(ResponseTemplate::new(401)).mount(&server).await;
    let client = client();
    let error = client.list_tags(&format!("{host}/a")).await.unwrap_err();
    assert_eq!(error.operation, Operation::Authenticate);
    assert!(matches!(error.kind, ErrorKind::AuthRefused { .. }), "{error:?}");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(count(&requests, "/token"), 1);
}

#[tokio::test]
async fn secrets_never_reach_logs_or_errors() {
    const PASSWORD: &str = "pw-SUPERSECRET-81723";
    const TOKEN: &str = "tok-SUPERSECRET-55120";
    let server = MockServer::start().await;
    let host = host_of(&server);
    let challenge = format!(r#"Bearer realm="http://{host}/token",service="s""#);
    Mock::given(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", challenge.as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({ "token": TOKEN })))
        .mount(&server)
        .await;
    // Every registry call is refused: the error path is exercised too.
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", challenge.as_str()))
        .mount(&server)
        .await;
    let capture = global_capture();
    let mut cfg = config();
    cfg.credentials
        .insert(host.clone(), Credential::Basic { username: "bob".into(), password: Secret::new(PASSWORD) });
    let client = RegistryClient::new(cfg.clone()).unwrap();
    let error = client.list_tags(&format!("{host}/a")).await.unwrap_err();
    let everything = format!("{}\n{error}\n{error:?}\n{cfg:?}\n{client:?}", capture.text());
    assert!(everything.contains("request"), "the capture works: {everything}");
    for secret in [PASSWORD, TOKEN, "Ym9iOnB3LVNVUEVSU0VDUkVULTgxNzIz"] {
        assert!(!everything.contains(secret), "{secret} leaked:\n{everything}");
    }
    // The server did receive them: the redaction is in cip's output, not a missing header.
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .any(|r| r.headers.get("authorization").is_some_and(|v| v.to_str().unwrap().contains(TOKEN)))
    );
}

#[tokio::test]
async fn tag_and_catalog_pagination_is_followed() {
    let server = open_registry().await;
    Mock::given(path("/v2/a/tags/list"))
        .and(query_param("last", "v2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tags_body("a", &["v3"])))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(tags_body("a", &["v1", "v2"]))
                .insert_header("Link", r#"</v2/a/tags/list?last=v2&n=2>; rel="next""#),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v2/_catalog"))
        .and(query_param("last", "b"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"repositories": ["c"]})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/_catalog"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"repositories": ["a", "b"]}))
                .insert_header("Link", r#"</v2/_catalog?last=b&n=2>; rel="next""#),
        )
        .mount(&server)
        .await;
    let client = client();
    let host = host_of(&server);
    let list = client.list_tags(&format!("{host}/a")).await.unwrap().unwrap();
    assert_eq!(list.tag_names(), ["v1", "v2", "v3"]);
    let repos = client.catalog(&host).await.unwrap();
    assert_eq!(repos, ["a", "b", "c"], "paths inside the host, every page");
}

#[tokio::test]
async fn a_missing_repository_reads_as_empty_and_heads_are_only_for_needed_tags() {
    let server = open_registry().await;
    Mock::given(path("/v2/gone/tags/list")).respond_with(ResponseTemplate::new(404)).mount(&server).await;
    Mock::given(path("/v2/gone/manifests/v1")).respond_with(ResponseTemplate::new(404)).mount(&server).await;
    Mock::given(path("/v2/app/tags/list"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(tags_body("app", &["v1", "v2", "v3", "other"])),
        )
        .mount(&server)
        .await;
    Mock::given(method("HEAD"))
        .and(path("/v2/app/manifests/v1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Docker-Content-Digest", DIGEST)
                .insert_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .insert_header("Content-Length", "100"),
        )
        .mount(&server)
        .await;
    let host = host_of(&server);
    let client = client();
    let needs = RepoNeeds { tags: ["v1".to_string(), "v9".to_string()].into(), ..RepoNeeds::default() };
    let request: BTreeMap<String, RepoNeeds> =
        [(format!("{host}/gone"), needs.clone()), (format!("{host}/app"), needs)].into();
    let outcome = registry_support::read(&client, &request).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let inv = &outcome.inventory.repositories;
    assert!(inv[&format!("{host}/gone")].is_empty());
    let app = &inv[&format!("{host}/app")];
    assert_eq!(app[DIGEST].tags, ["v1"]);
    assert_eq!(app[DIGEST].media_type.as_deref(), Some("application/vnd.oci.image.manifest.v1+json"));
    let requests = server.received_requests().await.unwrap();
    let heads = requests.iter().filter(|r| r.method.as_str() == "HEAD").count();
    // `app` is read first (sorted): its listing teaches the host's style and shows v9 absent,
    // so one HEAD (v1). `gone` is then read without a listing: one HEAD per needed tag (404s).
    assert_eq!(heads, 3);
    assert_eq!(count(&requests, "/v2/gone/tags/list"), 0);
}

#[tokio::test]
async fn plain_http_is_refused_unless_marked_insecure() {
    let server = open_registry().await;
    Mock::given(path("/v2/a/tags/list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tags_body("a", &["v1"])))
        .mount(&server)
        .await;
    let port = server.address().port();
    let name = "registry.cip-test.invalid";
    let mut cfg = config();
    cfg.resolve = vec![(name.to_string(), *server.address())];
    let refused = RegistryClient::new(cfg.clone()).unwrap();
    let error = refused.list_tags(&format!("{name}:{port}/a")).await.unwrap_err();
    assert!(error.is_registry_wide());
    assert!(error.to_string().contains("--insecure-registry"), "{error}");
    cfg.insecure.insert(format!("{name}:{port}"));
    let allowed = RegistryClient::new(cfg).unwrap();
    assert!(allowed.list_tags(&format!("{name}:{port}/a")).await.unwrap().is_some());
}

#[tokio::test]
async fn reading_many_repositories_batches_token_scopes() {
    let server = MockServer::start().await;
    let host = host_of(&server);
    let challenge = format!(r#"Bearer realm="http://{host}/token",service="s""#);
    Mock::given(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", challenge.as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "t", "expires_in": 600})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex("/tags/list$"))
        .and(header("Authorization", "Bearer t"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"name": "x", "tags": ["v1"], "manifest": {}})),
        )
        .mount(&server)
        .await;
    let request: BTreeMap<String, RepoNeeds> = (0..120)
        .map(|i| {
            (
                format!("{host}/team/r{i:03}"),
                RepoNeeds { tags: ["v1".to_string()].into(), ..RepoNeeds::default() },
            )
        })
        .collect();
    let client = client();
    let outcome = registry_support::read(&client, &request).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let requests = server.received_requests().await.unwrap();
    let tokens: Vec<&Request> = requests.iter().filter(|r| r.url.path() == "/token").collect();
    // One for the first repository (it teaches the listing style), then batches of 50.
    assert_eq!(tokens.len(), 1 + 3, "token requests");
    let scopes = tokens[1].url.query_pairs().filter(|(k, _)| k == "scope").count();
    assert_eq!(scopes, 50);
    assert_eq!(requests.iter().filter(|r| r.url.path().ends_with("/tags/list")).count(), 120);
}
