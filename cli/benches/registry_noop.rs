//! Benchmark: a no-op plan (everything already promoted) over a 200-repository registry pair.
//! Counts HTTP requests and wall time for the read that `cip plan` / `cip promote` do, and
//! prints a table. Not a test: the targets are
//!
//! - registries with Google's `tags/list` extension: at most one request per repository per
//!   registry (plus authentication);
//! - other registries: at most one listing plus one HEAD per needed tag.
//!
//! Two scenarios, both on loopback only:
//!
//! 1. the real CNCF distribution registry (`/usr/bin/docker-registry`, Debian `docker-registry`),
//!    200 repositories x 2 tags (every third image a multi-arch index), pushed by cip-testkit to
//!    a source and a destination; requests counted from the registries' access logs;
//! 2. an in-process server offering Google's extension (bodies of the documented shape) with the
//!    Docker token flow, 200 repositories on each side; requests counted by the server.
//!
//! ```text
//! cargo bench -p cip --bench registry_noop [-- REPOS]
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cip::Connection;
use cip::registry::{ClientConfig, RegistryClient};
use cip_core::{Input, ManifestSet, PlanOptions, SourceFile};
use cip_testkit::{Dataset, Registry, populate, promotion_manifest};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

struct Row {
    scenario: String,
    repos: usize,
    tags: usize,
    src_requests: usize,
    dst_requests: usize,
    auth_requests: usize,
    bound: usize,
    wall: Duration,
    actions: usize,
}

fn load(yaml: String) -> ManifestSet {
    cip_core::load(Input { files: vec![SourceFile::new("promoter.yaml", yaml)], thin_dirs: None })
}

/// A client with a fixed per-host rate (0 = unlimited; `--registry-rate N`). Without one,
/// loopback hosts are unlimited by default.
fn client(rate: f64) -> RegistryClient {
    let config =
        ClientConfig { docker_config_dir: None, default_rate: Some(rate), ..ClientConfig::default() };
    RegistryClient::new(config).expect("client")
}

async fn plan_noop(set: &ManifestSet, rate: f64) -> (Duration, usize, RegistryClient) {
    let client = client(rate);
    let options = PlanOptions::default();
    let started = Instant::now();
    let names = set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect();
    let outcome = Connection::with_client(names, client.clone()).read_for_plan(set).await;
    let plan = cip_core::plan::plan(set, &outcome.inventory, &options);
    let wall = started.elapsed();
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(!plan.has_problems(), "{:?}", plan.blocked);
    (wall, plan.actions.len(), client)
}

async fn distribution(repos: usize) -> Vec<Row> {
    let src = Registry::start().await.expect("source registry");
    let dst = Registry::start().await.expect("destination registry");
    let dataset = Dataset::small(7, repos);
    let images = populate(&src.client(), "staging", &dataset).await.expect("push source");
    let promoted = populate(&dst.client(), "prod", &dataset).await.expect("push destination");
    let digests = |v: &[cip_testkit::DatasetImage]| v.iter().map(|i| i.digest.clone()).collect::<Vec<_>>();
    assert_eq!(digests(&images), digests(&promoted), "same content on both sides");
    let yaml =
        promotion_manifest(&format!("{}/staging", src.host()), &[&format!("{}/prod", dst.host())], &images);
    let set = load(yaml);
    let tags: usize = images.iter().map(|i| i.tags.len()).sum();
    let mut rows = Vec::new();
    for (rate, label) in [(0.0, "unlimited rate"), (50.0, "fixed 50 req/s (--registry-rate 50)")] {
        let (src_before, dst_before) = (src.request_log().len(), dst.request_log().len());
        let (wall, actions, _client) = plan_noop(&set, rate).await;
        rows.push(Row {
            scenario: format!("distribution registry (no extension), {label}"),
            repos,
            tags,
            src_requests: src.request_log().len() - src_before,
            dst_requests: dst.request_log().len() - dst_before,
            auth_requests: 0,
            // One ping and one listing at the destination, one HEAD per needed tag.
            bound: 2 + tags,
            wall,
            actions,
        });
    }
    rows
}

fn digest(repo: usize, tag: usize) -> String {
    format!("sha256:{:064x}", (repo as u128) << 32 | tag as u128)
}

/// Serves Google's extension for `repos` repositories under `prefix`, behind a token flow.
struct GoogleList {
    prefix: String,
}

impl Respond for GoogleList {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorized =
            request.headers.get("authorization").is_some_and(|v| v.as_bytes().starts_with(b"Bearer "));
        if !authorized {
            return ResponseTemplate::new(401);
        }
        let p = request.url.path();
        let name = p.trim_start_matches("/v2/").trim_end_matches("/tags/list");
        let Some(index) =
            name.strip_prefix(&format!("{}/img-", self.prefix)).and_then(|n| n.parse::<usize>().ok())
        else {
            return ResponseTemplate::new(404);
        };
        let mut manifest = serde_json::Map::new();
        for tag in 0..2 {
            manifest.insert(
                digest(index, tag),
                serde_json::json!({
                    "imageSizeBytes": "4096", "layerId": "",
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "tag": [format!("v{tag}")], "timeCreatedMs": "0", "timeUploadedMs": "0"
                }),
            );
        }
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "child": [], "manifest": manifest, "name": name, "tags": ["v0", "v1"]
        }))
    }
}

async fn google_server(prefix: &str) -> MockServer {
    let server = MockServer::start().await;
    let realm = format!("http://{}/v2/token", server.address());
    let challenge = format!(r#"Bearer realm="{realm}",service="bench""#);
    Mock::given(path("/v2/"))
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", challenge.as_str()))
        .mount(&server)
        .await;
    Mock::given(path("/v2/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "t", "expires_in": 3600})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("/tags/list$"))
        .respond_with(GoogleList { prefix: prefix.to_string() })
        .mount(&server)
        .await;
    server
}

async fn google(repos: usize) -> Row {
    let src = google_server("staging").await;
    let dst = google_server("prod").await;
    let mut yaml = format!(
        "registries:\n- name: {}/staging\n  src: true\n- name: {}/prod\nimages:\n",
        src.address(),
        dst.address()
    );
    for r in 0..repos {
        yaml.push_str(&format!("- name: img-{r:03}\n  dmap:\n"));
        for t in 0..2 {
            yaml.push_str(&format!("    \"{}\": [\"v{t}\"]\n", digest(r, t)));
        }
    }
    let set = load(yaml);
    let (wall, actions, _client) = plan_noop(&set, 0.0).await;
    let count = |requests: Vec<Request>| -> (usize, usize) {
        let auth = requests.iter().filter(|r| r.url.path() == "/v2/token").count();
        (requests.len(), auth)
    };
    let (src_requests, src_auth) = count(src.received_requests().await.unwrap_or_default());
    let (dst_requests, dst_auth) = count(dst.received_requests().await.unwrap_or_default());
    Row {
        scenario: "Google tags/list extension + token auth".into(),
        repos,
        tags: repos * 2,
        src_requests,
        dst_requests,
        auth_requests: src_auth + dst_auth,
        // One listing per repository, plus the ping and the token requests.
        bound: repos + 1 + dst_auth,
        wall,
        actions,
    }
}

fn main() {
    let repos: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(200);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let rows = runtime.block_on(async {
        let mut rows = distribution(repos).await;
        rows.push(google(repos).await);
        rows
    });
    let mut table = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        table.insert(i, row);
    }
    println!(
        "| scenario | repos | tags | source requests | destination requests | of which auth | bound (dest) | wall time | actions |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in table.values() {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} ms | {} |",
            row.scenario,
            row.repos,
            row.tags,
            row.src_requests,
            row.dst_requests,
            row.auth_requests,
            row.bound,
            row.wall.as_secs_f64() * 1000.0,
            row.actions
        );
    }
    for row in &rows {
        let ok = row.dst_requests <= row.bound && row.src_requests == 0 && row.actions == 0;
        println!("{}: {}", row.scenario, if ok { "within bound" } else { "OVER BOUND" });
    }
}
