//! Hostile source registry (issue 8, scenario 3): an in-process source serves what a real registry
//! never would, and a real promotion to a real destination registry (CNCF distribution, started by
//! cip-testkit) must refuse it with an error naming registry, repository and problem, push nothing
//! for that image, and finish in bounded time.
//!
//! Bytes that do not match their digest are covered by `promote_tamper.rs`. Here: an index listing
//! itself, a cycle of two indexes, a deep honest chain of indexes, a 100 MB manifest, never-ending
//! manifest and blob bodies, a token realm on another host over plain HTTP, redirects of blob
//! downloads and upload `Location`s to another host (followed, without the registry's credentials),
//! a pre-signed upload URL kept out of error messages, repeated index children (ignored until the
//! executor copies each child once), and the same faults through the `cip` binary.
//!
//! Re-run: `apt-get install docker-registry`, then `cargo test -p cip --test hostile_source`
//! (`-- --include-ignored` for the known executor issue). Needs 127.0.0.2 on loopback (Linux has
//! all of 127/8).
//!
//! wiremock serves what it can express; a small hand-written HTTP/1.1 server ([`Wire`]) serves
//! bodies wiremock cannot (streamed 100 MB, never-ending) and forwards to the real destination
//! registry while rewriting upload `Location`s, which needs an async handler.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cip::Connection;
use cip::Credential;
use cip::promote::{self, PromoteOptions, Quiet, Report};
use cip::registry::{ClientConfig, RegistryClient, Secret};
use cip_core::{Input, SourceFile};
use cip_testkit::{Digest, Registry, check_complete, random_layer};
use futures_util::future::BoxFuture;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use wiremock::matchers::{any, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Every promotion here must end well within this (retries with backoff included).
const BOUND: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------------
// A hand-written HTTP/1.1 server: wiremock holds every body in memory and has no streaming or
// never-ending bodies, and its responders cannot forward asynchronously.

/// A response body.
#[derive(Clone)]
enum Body {
    /// These bytes.
    Bytes(bytes::Bytes),
    /// This many zero bytes, generated while sending (announced with `Content-Length`).
    Zeros(u64),
    /// Bytes forever (chunked), until the client goes away.
    Endless,
    /// One byte every 50 ms forever (chunked): never idle long enough for a read timeout.
    Trickle,
}

#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
}

impl Reply {
    fn new(status: u16) -> Self {
        Reply { status, headers: Vec::new(), body: Body::Bytes(bytes::Bytes::new()) }
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }
}

/// A request as received (head and body).
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

type Handler = Arc<dyn Fn(Seen) -> BoxFuture<'static, Reply> + Send + Sync>;

/// The hand-written server: every request is logged, then answered by the handler.
struct Wire {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Body bytes written to clients (to show a client stopped reading early).
    sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Wire {
    async fn start(ip: &str, handler: Handler) -> Wire {
        let listener = TcpListener::bind((ip, 0)).await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let (log, counter) = (seen.clone(), sent.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (handler, log, counter) = (handler.clone(), log.clone(), counter.clone());
                tokio::spawn(async move {
                    let _ = connection(stream, handler, log, counter).await;
                });
            }
        });
        Wire { addr, seen, sent, task }
    }

    /// A server answering from a fixed table of (method, path) -> reply; 404 otherwise.
    async fn routes(ip: &str, table: HashMap<(String, String), Reply>) -> Wire {
        let table = Arc::new(table);
        Wire::start(
            ip,
            Arc::new(move |seen: Seen| {
                let reply = table.get(&(seen.method.clone(), seen.path().to_string())).cloned();
                Box::pin(async move { reply.unwrap_or_else(|| Reply::new(404)) })
            }),
        )
        .await
    }

    fn host(&self) -> String {
        self.addr.to_string()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log lock").clone()
    }
}

async fn connection(
    stream: TcpStream,
    handler: Handler,
    log: Arc<Mutex<Vec<Seen>>>,
    sent: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut words = line.split_whitespace();
        let (method, target) =
            (words.next().unwrap_or("").to_string(), words.next().unwrap_or("").to_string());
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            read.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let mut seen = Seen { method, target, headers, body: Vec::new() };
        if let Some(length) = seen.header("content-length").and_then(|v| v.parse::<usize>().ok()) {
            seen.body = vec![0; length];
            read.read_exact(&mut seen.body).await?;
        } else if seen.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            seen.body = read_chunked(&mut read).await?;
        }
        log.lock().expect("log lock").push(seen.clone());
        let head_only = seen.method == "HEAD";
        let reply = handler(seen).await;
        let mut head = format!("HTTP/1.1 {} Reply\r\n", reply.status);
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        match &reply.body {
            Body::Bytes(b) => head.push_str(&format!("content-length: {}\r\n", b.len())),
            Body::Zeros(n) => head.push_str(&format!("content-length: {n}\r\n")),
            Body::Endless | Body::Trickle => head.push_str("transfer-encoding: chunked\r\n"),
        }
        head.push_str("\r\n");
        write.write_all(head.as_bytes()).await?;
        if !head_only {
            send_body(&mut write, &reply.body, &sent).await?;
        }
        write.flush().await?;
    }
}

async fn read_chunked(read: &mut (impl AsyncBufReadExt + Unpin)) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        read.read_line(&mut size).await?;
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        let mut chunk = vec![0; size + 2];
        read.read_exact(&mut chunk).await?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

async fn send_body(
    write: &mut (impl AsyncWriteExt + Unpin),
    body: &Body,
    sent: &AtomicU64,
) -> std::io::Result<()> {
    const PIECE: usize = 64 * 1024;
    let zeros = vec![0u8; PIECE];
    match body {
        Body::Bytes(b) => {
            write.write_all(b).await?;
            sent.fetch_add(b.len() as u64, Ordering::Relaxed);
        }
        Body::Zeros(n) => {
            let mut left = *n;
            while left > 0 {
                let piece = left.min(PIECE as u64) as usize;
                write.write_all(&zeros[..piece]).await?;
                sent.fetch_add(piece as u64, Ordering::Relaxed);
                left -= piece as u64;
            }
        }
        // Ends only when the client closes the connection (the write fails).
        Body::Endless => loop {
            write.write_all(format!("{PIECE:x}\r\n").as_bytes()).await?;
            write.write_all(&zeros).await?;
            write.write_all(b"\r\n").await?;
            sent.fetch_add(PIECE as u64, Ordering::Relaxed);
        },
        Body::Trickle => loop {
            write.write_all(b"1\r\n \r\n").await?;
            write.flush().await?;
            sent.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(50)).await;
        },
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Content and promotion helpers.

/// An OCI image: (manifest bytes, digest, [(blob digest, blob bytes)]).
struct Image {
    manifest: Vec<u8>,
    digest: String,
    blobs: Vec<(String, Vec<u8>)>,
}

fn image(seed: u64, layer_size: usize) -> Image {
    let layer = random_layer(seed, layer_size);
    let config = serde_json::to_vec(
        &json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}),
    )
    .expect("json");
    let (ld, cd) = (Digest::of(&layer).to_string(), Digest::of(&config).to_string());
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": layer.len()}],
    }))
    .expect("json");
    Image { digest: Digest::of(&manifest).to_string(), manifest, blobs: vec![(ld, layer), (cd, config)] }
}

/// An OCI index listing `children` as indexes of 200 bytes (the sizes matter only where the
/// destination validates them, see [`index_of`]).
fn index(children: &[&str]) -> Vec<u8> {
    let listed: Vec<(&str, usize, &str)> = children.iter().map(|d| (*d, 200, INDEX)).collect();
    index_of(&listed)
}

/// An OCI index listing `children` as (digest, size, media type).
fn index_of(children: &[(&str, usize, &str)]) -> Vec<u8> {
    let manifests: Vec<_> = children
        .iter()
        .map(|(digest, size, media)| {
            let platform = json!({"architecture": "amd64", "os": "linux"});
            json!({"mediaType": media, "digest": digest, "size": size, "platform": platform})
        })
        .collect();
    serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests}))
        .expect("json")
}

/// A digest nobody can serve honest bytes for (it names no known content).
fn made_up(name: &str) -> String {
    Digest::of(name.as_bytes()).to_string()
}

fn yaml(src: &str, dst: &str, images: &[(&str, &str)]) -> String {
    let mut out = format!("registries:\n- name: {src}\n  src: true\n- name: {dst}\nimages:\n");
    for (name, digest) in images {
        out.push_str(&format!("- name: {name}\n  dmap:\n    \"{digest}\": [\"v1\"]\n"));
    }
    out
}

fn config() -> ClientConfig {
    ClientConfig { default_rate: Some(0.0), docker_config_dir: None, ..ClientConfig::default() }
}

/// What a promotion ended with: the reading error, or the execution report.
type Outcome = Result<Report, String>;

/// A real promotion through the library (read, plan, execute), bounded by [`BOUND`].
async fn promote(yaml: &str, config: ClientConfig) -> (Outcome, Duration) {
    let started = Instant::now();
    let run = async {
        let file = SourceFile::new("promote.yaml", yaml.to_string());
        let set = cip_core::load(Input { files: vec![file], thin_dirs: None });
        assert!(!set.has_errors(), "{:?}", set.diagnostics);
        let names = set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect();
        let connection = Connection::with_client(names, RegistryClient::new(config).expect("client"));
        let options = PromoteOptions { confirm: true, ..PromoteOptions::default() };
        let outcome = promote::run_on(&connection, set, &options, &Quiet).await.map_err(|e| e.to_string())?;
        if outcome.plan.actions.is_empty() {
            // Nothing could be planned: the read failed for the repositories involved.
            let errors: Vec<String> = outcome.read_errors.iter().map(ToString::to_string).collect();
            assert!(!errors.is_empty(), "{:?}", outcome.plan);
            return Err(errors.join("; "));
        }
        Ok(outcome.report.expect("a confirmed promotion with actions reports"))
    };
    let outcome = tokio::time::timeout(BOUND, run).await.expect("the promotion ends in bounded time");
    (outcome, started.elapsed())
}

/// The failure of the only action (or the reading error), which must mention every `needle`.
fn failure(outcome: &Outcome, needles: &[&str]) -> String {
    let message = match outcome {
        Err(message) => message.clone(),
        Ok(report) => {
            assert_eq!(report.summary.done, 0, "{}", report.to_human());
            assert!(report.summary.failed >= 1, "{}", report.to_human());
            report.actions.iter().filter_map(|a| a.error.clone()).collect::<Vec<_>>().join("\n")
        }
    };
    for needle in needles {
        assert!(message.contains(needle), "error should mention {needle:?}: {message}");
    }
    message
}

/// Nothing of `repo` reached the destination: no tag, no manifest by digest, no listed tag.
async fn nothing_pushed(dest: &Registry, repo: &str, digests: &[&str]) {
    let d = dest.client();
    assert!(!d.manifest_exists(repo, "v1").await.expect("head tag"), "{repo}: no tag");
    for digest in digests {
        assert!(!d.manifest_exists(repo, digest).await.expect("head"), "{repo}: no manifest {digest}");
    }
    assert!(d.list_tags(repo).await.expect("tags").is_empty(), "{repo}: no tags");
    let puts = dest.request_log().into_iter().filter(|r| r.method == "PUT" && r.path.contains("/manifests/"));
    assert_eq!(puts.count(), 0, "no manifest PUT reached the destination");
}

/// wiremock: serve a manifest (GET and HEAD) at `reference` with `bytes`, claiming `digest`.
async fn serve_manifest(server: &MockServer, repo: &str, reference: &str, bytes: &[u8], media: &str) {
    for verb in ["GET", "HEAD"] {
        let response = ResponseTemplate::new(200)
            .insert_header("Content-Type", media)
            .insert_header("Docker-Content-Digest", reference)
            .set_body_bytes(bytes.to_vec());
        Mock::given(method(verb))
            .and(path(format!("/v2/{repo}/manifests/{reference}")))
            .respond_with(response)
            .mount(server)
            .await;
    }
}

async fn open_source() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

async fn manifest_gets(server: &MockServer, digest: &str) -> usize {
    let requests = server.received_requests().await.expect("recording");
    requests.iter().filter(|r| r.method.as_str() == "GET" && r.url.path().ends_with(digest)).count()
}

// ---------------------------------------------------------------------------------------------
// Case 2: indexes that refer to themselves. With verified digests such an index cannot exist (an
// index would have to contain its own hash), so a source can only claim one by serving bytes that
// do not match; the digest check refuses them before any child is followed, and the executor's
// depth limit bounds even honest nesting.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_listing_itself_is_refused() {
    let server = open_source().await;
    let itself = made_up("self");
    serve_manifest(&server, "selfref", &itself, &index(&[&itself]), INDEX).await;
    let dest = Registry::start().await.expect("destination");
    let src = server.address().to_string();

    let (outcome, elapsed) = promote(&yaml(&src, &dest.host(), &[("selfref", &itself)]), config()).await;
    failure(&outcome, &[&src, "selfref", "integrity", &itself]);
    nothing_pushed(&dest, "selfref", &[&itself]).await;
    // Only retries of the one read, no walk through the "child".
    assert!(manifest_gets(&server, &itself).await <= 6, "bounded reads");
    assert!(elapsed < BOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_of_two_indexes_is_refused() {
    let server = open_source().await;
    // A is honest and lists B; what is served as B lists A, so it cannot hash to B.
    let b = made_up("b");
    let a_bytes = index(&[&b]);
    let a = Digest::of(&a_bytes).to_string();
    serve_manifest(&server, "cycle", &a, &a_bytes, INDEX).await;
    serve_manifest(&server, "cycle", &b, &index(&[&a]), INDEX).await;
    let dest = Registry::start().await.expect("destination");
    let src = server.address().to_string();

    let (outcome, elapsed) = promote(&yaml(&src, &dest.host(), &[("cycle", &a)]), config()).await;
    failure(&outcome, &[&src, "cycle", "integrity", &b]);
    nothing_pushed(&dest, "cycle", &[&a, &b]).await;
    assert!(manifest_gets(&server, &a).await <= 6 && manifest_gets(&server, &b).await <= 6, "no loop");
    assert!(elapsed < BOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_indexes_nested_too_deeply_are_refused() {
    let server = open_source().await;
    // Seven honest levels: index -> index -> ... -> an empty index.
    let mut digest = {
        let leaf = index(&[]);
        let d = Digest::of(&leaf).to_string();
        serve_manifest(&server, "deep", &d, &leaf, INDEX).await;
        d
    };
    for _ in 0..7 {
        let bytes = index(&[&digest]);
        digest = Digest::of(&bytes).to_string();
        serve_manifest(&server, "deep", &digest, &bytes, INDEX).await;
    }
    let dest = Registry::start().await.expect("destination");
    let src = server.address().to_string();

    let (outcome, _) = promote(&yaml(&src, &dest.host(), &[("deep", &digest)]), config()).await;
    failure(&outcome, &[&src, "deep", "nested too deeply"]);
    nothing_pushed(&dest, "deep", &[&digest]).await;
}

// ---------------------------------------------------------------------------------------------
// Cases 3 and 4: oversized and never-ending bodies.

/// Source table entries for a manifest: HEAD with honest-looking headers, GET with `body`.
fn manifest_routes(
    table: &mut HashMap<(String, String), Reply>,
    repo: &str,
    digest: &str,
    length: u64,
    body: Body,
) {
    let path = format!("/v2/{repo}/manifests/{digest}");
    let reply = |body| {
        Reply::new(200).header("content-type", MANIFEST).header("docker-content-digest", digest).body(body)
    };
    table.insert(("HEAD".into(), path.clone()), reply(Body::Zeros(length)));
    table.insert(("GET".into(), path), reply(body));
}

fn open_table() -> HashMap<(String, String), Reply> {
    HashMap::from([(("GET".to_string(), "/v2/".to_string()), Reply::new(200))])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_megabyte_manifest_is_refused() {
    const SIZE: u64 = 100 * 1024 * 1024;
    let digest = made_up("huge");
    let mut table = open_table();
    manifest_routes(&mut table, "huge", &digest, SIZE, Body::Zeros(SIZE));
    let source = Wire::routes("127.0.0.1", table).await;
    let dest = Registry::start().await.expect("destination");

    let (outcome, elapsed) =
        promote(&yaml(&source.host(), &dest.host(), &[("huge", &digest)]), config()).await;
    failure(&outcome, &[&source.host(), "huge", "body larger than"]);
    nothing_pushed(&dest, "huge", &[&digest]).await;
    // cip stopped reading at its limit (16 MiB) instead of taking all 100 MB.
    let sent = source.sent.load(Ordering::Relaxed);
    assert!(sent < SIZE / 2, "the source sent {sent} bytes");
    assert!(elapsed < BOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_ending_manifest_is_refused() {
    let digest = made_up("endless");
    let mut table = open_table();
    manifest_routes(&mut table, "endless", &digest, 1000, Body::Endless);
    let source = Wire::routes("127.0.0.1", table).await;
    let dest = Registry::start().await.expect("destination");

    let (outcome, elapsed) =
        promote(&yaml(&source.host(), &dest.host(), &[("endless", &digest)]), config()).await;
    failure(&outcome, &[&source.host(), "endless", "body larger than"]);
    nothing_pushed(&dest, "endless", &[&digest]).await;
    assert!(elapsed < BOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_never_ending_manifest_times_out() {
    let digest = made_up("trickle");
    let mut table = open_table();
    manifest_routes(&mut table, "trickle", &digest, 1000, Body::Trickle);
    let source = Wire::routes("127.0.0.1", table).await;
    let dest = Registry::start().await.expect("destination");
    // A short request time limit keeps the test short; the default is 30 s per request.
    let cfg = ClientConfig { timeout: Duration::from_secs(1), ..config() };

    let (outcome, elapsed) = promote(&yaml(&source.host(), &dest.host(), &[("trickle", &digest)]), cfg).await;
    failure(&outcome, &[&source.host(), "trickle", "read manifest failed", "timed out"]);
    nothing_pushed(&dest, "trickle", &[&digest]).await;
    assert!(elapsed < BOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_ending_blob_is_refused() {
    let img = image(11, 40_000);
    let mut table = open_table();
    let manifest = bytes::Bytes::from(img.manifest.clone());
    manifest_routes(&mut table, "blob", &img.digest, img.manifest.len() as u64, Body::Bytes(manifest));
    let (layer, config_blob) = (&img.blobs[0], &img.blobs[1]);
    let blob_path = |d: &str| format!("/v2/blob/blobs/{d}");
    table.insert(("GET".into(), blob_path(&layer.0)), Reply::new(200).body(Body::Endless));
    table.insert(
        ("GET".into(), blob_path(&config_blob.0)),
        Reply::new(200).body(Body::Bytes(config_blob.1.clone().into())),
    );
    let source = Wire::routes("127.0.0.1", table).await;
    let dest = Registry::start().await.expect("destination");

    let (outcome, elapsed) =
        promote(&yaml(&source.host(), &dest.host(), &[("blob", &img.digest)]), config()).await;
    let message = failure(&outcome, &[&source.host(), "blob", "more bytes than"]);
    nothing_pushed(&dest, "blob", &[&img.digest]).await;
    let layer_digest = Digest(layer.0.clone());
    assert!(!dest.client().blob_exists("blob", &layer_digest).await.expect("head"), "{message}");
    // Each attempt stops reading shortly after the announced size (40 kB), never streams on.
    let attempts = source.seen().iter().filter(|s| s.path() == blob_path(&layer.0)).count() as u64;
    let sent = source.sent.load(Ordering::Relaxed);
    assert!(sent < attempts.max(1) * 16 * 1024 * 1024, "the source sent {sent} bytes in {attempts} reads");
    assert!(elapsed < BOUND);
}

// ---------------------------------------------------------------------------------------------
// Case 5: a token realm on another host over plain HTTP. Credentials sent to a realm travel in
// clear, so cip sends them over plain HTTP only to a realm that is itself loopback or marked
// insecure (or is the insecure registry's own machine). `auth.test` resolves to loopback (as
// curl's --resolve), but by name it is another, non-loopback host.

async fn bearer_source(realm: &str) -> MockServer {
    let server = MockServer::start().await;
    let challenge = format!(r#"Bearer realm="{realm}",service="hostile""#);
    Mock::given(any())
        .respond_with(ResponseTemplate::new(401).insert_header("WWW-Authenticate", challenge.as_str()))
        .mount(&server)
        .await;
    server
}

/// A token endpoint that grants anything (it must not be asked at all when refused).
async fn realm_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"token": "granted"})))
        .mount(&server)
        .await;
    server
}

fn basic(config: &mut ClientConfig, host: &str) {
    let password = Secret::new("source-password");
    config.credentials.insert(host.to_string(), Credential::Basic { username: "alice".into(), password });
}

fn resolving(names: &[&str]) -> ClientConfig {
    let loopback: SocketAddr = "127.0.0.1:0".parse().expect("address");
    ClientConfig { resolve: names.iter().map(|n| (n.to_string(), loopback)).collect(), ..config() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_token_realm_on_another_host_gets_no_credentials() {
    let realm = realm_server().await;
    let realm_host = format!("auth.test:{}", realm.address().port());
    let source = bearer_source(&format!("http://{realm_host}/token")).await;
    let dest = Registry::start().await.expect("destination");
    let digest = image(21, 1000).digest;

    // A loopback registry (plain HTTP allowed for itself) names a realm on another host.
    let src = source.address().to_string();
    let mut cfg = resolving(&["auth.test"]);
    basic(&mut cfg, &src);
    let (outcome, _) = promote(&yaml(&src, &dest.host(), &[("app", &digest)]), cfg).await;
    failure(&outcome, &[&src, "app", &realm_host, "plain HTTP"]);

    // A registry marked insecure by name does not make another host's realm insecure either.
    let named = format!("registry.test:{}", source.address().port());
    let mut cfg = resolving(&["auth.test", "registry.test"]);
    cfg.insecure.insert(named.clone());
    basic(&mut cfg, &named);
    let (outcome, _) = promote(&yaml(&named, &dest.host(), &[("app", &digest)]), cfg).await;
    failure(&outcome, &[&named, &realm_host, "plain HTTP"]);

    let asked = realm.received_requests().await.expect("recording");
    assert!(asked.is_empty(), "the realm on another host was contacted: {asked:?}");
    nothing_pushed(&dest, "app", &[&digest]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_token_realm_on_loopback_or_the_insecure_registry_itself_is_used() {
    let digest = image(22, 1000).digest;
    for (registry_name, realm_ip, realm_name, insecure) in [
        ("127.0.0.1", "127.0.0.2", "127.0.0.2", false),
        ("registry.test", "127.0.0.1", "registry.test", true),
    ] {
        let grant = Reply::new(200).body(Body::Bytes(r#"{"token": "granted"}"#.into()));
        let realm = Wire::routes(realm_ip, HashMap::from([(("GET".into(), "/token".into()), grant)])).await;
        let realm_url = format!("http://{realm_name}:{}/token", realm.addr.port());
        let source = bearer_source(&realm_url).await;
        let host = format!("{registry_name}:{}", source.address().port());
        let mut cfg = resolving(&["registry.test"]);
        if insecure {
            cfg.insecure.insert(host.clone());
        }
        basic(&mut cfg, &host);
        let client = RegistryClient::new(cfg).expect("client");
        // The source then refuses the token (401 to everything): what matters is where the
        // credentials went.
        let _ = client.head_manifest(&format!("{host}/app"), &digest).await;
        let asked = realm.seen();
        assert!(!asked.is_empty(), "{realm_url}: realm not asked");
        assert!(asked.iter().all(|r| r.header("authorization").is_some()), "{realm_url}: Basic sent");
    }
}

// ---------------------------------------------------------------------------------------------
// Case 6: redirects of blob downloads and upload Locations to another host are followed, and
// the registry's credentials never go with them.

/// The source: wiremock with Basic auth; blob GETs are redirected to `storage`.
async fn redirecting_source(img: &Image, storage: &str) -> MockServer {
    let server = MockServer::start().await;
    let challenge = ResponseTemplate::new(401).insert_header("WWW-Authenticate", r#"Basic realm="source""#);
    Mock::given(any()).respond_with(challenge).with_priority(10).mount(&server).await;
    let source_auth = format!("Basic {}", base64_of("source:source-pw"));
    let authed = || Mock::given(header("authorization", source_auth.as_str()));
    authed()
        .and(method("GET"))
        .and(path("/v2/"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    // The reader lists a host's first repository to learn its listing style.
    authed()
        .and(method("GET"))
        .and(path("/v2/app/tags/list"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"name": "app", "tags": []})),
        )
        .mount(&server)
        .await;
    for verb in ["GET", "HEAD"] {
        let response = ResponseTemplate::new(200)
            .insert_header("Content-Type", MANIFEST)
            .insert_header("Docker-Content-Digest", img.digest.as_str())
            .set_body_bytes(img.manifest.clone());
        authed()
            .and(method(verb))
            .and(path(format!("/v2/app/manifests/{}", img.digest)))
            .respond_with(response)
            .mount(&server)
            .await;
    }
    for (digest, _) in &img.blobs {
        let location = format!("http://{storage}/storage/{digest}?signature=abc");
        authed()
            .and(method("GET"))
            .and(path(format!("/v2/app/blobs/{digest}")))
            .respond_with(ResponseTemplate::new(307).insert_header("Location", location.as_str()))
            .mount(&server)
            .await;
    }
    server
}

/// Sends `seen` to `upstream` (the real registry), with `authorization` if given instead of the
/// client's own header.
async fn forward(http: &reqwest::Client, upstream: &str, seen: &Seen, authorization: Option<&str>) -> Reply {
    let method = reqwest::Method::from_bytes(seen.method.as_bytes()).expect("method");
    let mut request = http.request(method, format!("http://{upstream}{}", seen.target));
    for (k, v) in &seen.headers {
        let skip = ["host", "content-length", "connection", "transfer-encoding", "authorization"];
        if !skip.iter().any(|s| k.eq_ignore_ascii_case(s)) {
            request = request.header(k, v);
        }
    }
    if let Some(value) = authorization.or(seen.header("authorization")) {
        request = request.header("authorization", value);
    }
    let response = request.body(seen.body.clone()).send().await.expect("upstream");
    let mut reply = Reply::new(response.status().as_u16());
    let length = response.content_length();
    for (k, v) in response.headers() {
        let skip = ["content-length", "connection", "transfer-encoding"];
        if !skip.iter().any(|s| k.as_str().eq_ignore_ascii_case(s)) {
            reply = reply.header(k.as_str(), v.to_str().unwrap_or(""));
        }
    }
    if seen.method == "HEAD" {
        return reply.body(Body::Zeros(length.unwrap_or(0)));
    }
    reply.body(Body::Bytes(response.bytes().await.expect("upstream body")))
}

/// The destination as cip sees it: `dest` behind a forwarder that moves upload `Location`s to
/// `upload_host`, with `extra_query` appended (e.g. a signature).
async fn upload_front(dest: &Registry, upload_host: &str, extra_query: &str, http: &reqwest::Client) -> Wire {
    let (upstream, client, upload_host, extra) =
        (dest.host(), http.clone(), upload_host.to_string(), extra_query.to_string());
    Wire::start(
        "127.0.0.1",
        Arc::new(move |seen: Seen| {
            let (upstream, client, upload_host, extra) =
                (upstream.clone(), client.clone(), upload_host.clone(), extra.clone());
            Box::pin(async move {
                let mut reply = forward(&client, &upstream, &seen, None).await;
                for (k, v) in &mut reply.headers {
                    if k.eq_ignore_ascii_case("location") && v.contains("/blobs/uploads/") {
                        let base = reqwest::Url::parse(&format!("http://{upstream}/")).expect("url");
                        let url = base.join(v).expect("Location");
                        let query = url.query().map(|q| format!("?{q}{extra}")).unwrap_or_default();
                        *v = format!("http://{upload_host}{}{query}", url.path());
                    }
                }
                reply
            })
        }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_other_hosts_are_followed_without_credentials() {
    let img = image(31, 50_000);
    let dest = Registry::start_basic("dest", "dest-pw").await.expect("destination");
    let dest_auth = format!("Basic {}", base64_of("dest:dest-pw"));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("http");

    // The storage host of the source's blobs (another address).
    let storage_table: HashMap<_, _> = img
        .blobs
        .iter()
        .map(|(d, b)| {
            (
                ("GET".to_string(), format!("/storage/{d}")),
                Reply::new(200).body(Body::Bytes(b.clone().into())),
            )
        })
        .collect();
    let storage = Wire::routes("127.0.0.2", storage_table).await;
    let source = redirecting_source(&img, &storage.host()).await;

    // The destination's upload host: forwards to the registry with its own authority (as a
    // pre-signed URL would), so cip must not need, nor send, the registry's credentials.
    let (upstream, client, auth) = (dest.host(), http.clone(), dest_auth.clone());
    let uploads = Wire::start(
        "127.0.0.2",
        Arc::new(move |seen: Seen| {
            let (upstream, client, auth) = (upstream.clone(), client.clone(), auth.clone());
            Box::pin(async move { forward(&client, &upstream, &seen, Some(&auth)).await })
        }),
    )
    .await;
    // The destination as cip sees it: the real registry, whose upload Locations name the upload host.
    let front = upload_front(&dest, &uploads.host(), "", &http).await;

    let src = source.address().to_string();
    let mut cfg = config();
    let secret = |p: &str| Secret::new(p);
    cfg.credentials
        .insert(src.clone(), Credential::Basic { username: "source".into(), password: secret("source-pw") });
    cfg.credentials
        .insert(front.host(), Credential::Basic { username: "dest".into(), password: secret("dest-pw") });
    let (outcome, elapsed) = promote(&yaml(&src, &front.host(), &[("app", &img.digest)]), cfg).await;
    let report = outcome.expect("read");
    assert_eq!((report.summary.done, report.summary.failed), (1, 0), "{}", report.to_human());
    assert!(elapsed < BOUND);

    let d = dest.client();
    let got = d.get_manifest("app", "v1").await.expect("get").expect("tag v1");
    assert_eq!(got.digest.to_string(), img.digest);
    check_complete(&d, "app").await.expect("complete image");

    // Credentials were in use where they belong...
    let source_seen = source.received_requests().await.expect("recording");
    assert!(source_seen.iter().any(|r| r.headers.contains_key("authorization")));
    assert!(front.seen().iter().any(|s| s.header("authorization").is_some()));
    // ...and the other hosts were used, never with them.
    let (downloads, puts) = (storage.seen(), uploads.seen());
    assert_eq!(downloads.len(), img.blobs.len(), "every blob fetched from the storage host");
    assert!(puts.iter().any(|s| s.method == "PUT"), "uploads went to the upload host");
    for seen in downloads.iter().chain(&puts) {
        assert!(seen.header("authorization").is_none(), "credentials sent to another host: {seen:?}");
    }
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

// An index may repeat a child: without de-duplication (and one write per run through the
// executor's `manifests` cell) C would be read and written 400 times here (fan-out ^ depth, a
// hostile source's amplification), and the real registry refuses concurrent PUTs of one manifest
// (DIGEST_INVALID / MANIFEST_BLOB_UNKNOWN).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_children_are_copied_once() {
    let server = open_source().await;
    // Honest content: A lists B twenty times, B lists the image C twenty times. Without
    // de-duplication that is 400 reads and writes of C, and fan-out compounds with depth.
    let c = image(41, 1000);
    serve_manifest(&server, "fan", &c.digest, &c.manifest, MANIFEST).await;
    for (digest, bytes) in &c.blobs {
        Mock::given(method("GET"))
            .and(path(format!("/v2/fan/blobs/{digest}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes.clone()))
            .mount(&server)
            .await;
    }
    let b_bytes = index_of(&[(c.digest.as_str(), c.manifest.len(), MANIFEST); 20]);
    let b = Digest::of(&b_bytes).to_string();
    serve_manifest(&server, "fan", &b, &b_bytes, INDEX).await;
    let a_bytes = index_of(&[(b.as_str(), b_bytes.len(), INDEX); 20]);
    let a = Digest::of(&a_bytes).to_string();
    serve_manifest(&server, "fan", &a, &a_bytes, INDEX).await;
    let dest = Registry::start().await.expect("destination");
    let src = server.address().to_string();

    let (outcome, _) = promote(&yaml(&src, &dest.host(), &[("fan", &a)]), config()).await;
    let report = outcome.expect("read");
    assert_eq!(report.summary.done, 1, "{}", report.to_human());
    let reads = manifest_gets(&server, &c.digest).await;
    let writes = dest.request_log().into_iter().filter(|r| r.method == "PUT" && r.path.ends_with(&c.digest));
    let writes = writes.count();
    assert!(reads <= 2 && writes <= 2, "image read {reads} times, written {writes} times");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_upload_host_does_not_leak_its_signed_query() {
    let img = image(51, 2000);
    let source = open_source().await;
    serve_manifest(&source, "app", &img.digest, &img.manifest, MANIFEST).await;
    for (digest, bytes) in &img.blobs {
        Mock::given(method("GET"))
            .and(path(format!("/v2/app/blobs/{digest}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(bytes.clone()))
            .mount(&source)
            .await;
    }
    // The upload host is gone: its port was free a moment ago and nothing listens on it now.
    let gone = TcpListener::bind(("127.0.0.2", 0)).await.expect("bind").local_addr().expect("address");
    let dest = Registry::start().await.expect("destination");
    let http = reqwest::Client::new();
    let front = upload_front(&dest, &gone.to_string(), "&X-Signature=s3cr3t-signature", &http).await;
    let src = source.address().to_string();

    let (outcome, elapsed) = promote(&yaml(&src, &front.host(), &[("app", &img.digest)]), config()).await;
    let message = failure(&outcome, &[&front.host(), "app", &gone.to_string()]);
    assert!(!message.contains("s3cr3t"), "a pre-signed query leaked: {message}");
    nothing_pushed(&dest, "app", &[&img.digest]).await;
    assert!(elapsed < BOUND);
}

/// The same faults through the `cip` binary: one run with a 100 MB manifest, a never-ending blob
/// and a good image. The good image is promoted, the others are reported by registry and
/// repository, the exit status says so, and the run ends in bounded time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_reports_hostile_images_and_promotes_the_rest() {
    const SIZE: u64 = 100 * 1024 * 1024;
    let (huge, endless, good) = (made_up("huge"), image(61, 40_000), image(62, 30_000));
    let mut table = open_table();
    manifest_routes(&mut table, "huge", &huge, SIZE, Body::Zeros(SIZE));
    for (repo, img, endless_layer) in [("endless", &endless, true), ("good", &good, false)] {
        let manifest = Body::Bytes(img.manifest.clone().into());
        manifest_routes(&mut table, repo, &img.digest, img.manifest.len() as u64, manifest);
        for (i, (digest, bytes)) in img.blobs.iter().enumerate() {
            let body =
                if endless_layer && i == 0 { Body::Endless } else { Body::Bytes(bytes.clone().into()) };
            table.insert(("GET".into(), format!("/v2/{repo}/blobs/{digest}")), Reply::new(200).body(body));
        }
    }
    let source = Wire::routes("127.0.0.1", table).await;
    let dest = Registry::start().await.expect("destination");
    let images = [("huge", huge.as_str()), ("endless", &endless.digest), ("good", &good.digest)];
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = dir.path().join("promote.yaml");
    std::fs::write(&manifest, yaml(&source.host(), &dest.host(), &images)).expect("write manifest");

    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cip"));
    command.args(["promote", "--confirm", "--rate", "0"]).arg(&manifest).env("DOCKER_CONFIG", dir.path());
    let started = Instant::now();
    let output = cip_testkit::run_bounded(command, BOUND).await.expect("cip ends in bounded time");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(matches!(output.status.code(), Some(1 | 2)), "exit status {:?}\n{text}", output.status);
    for needle in [source.host().as_str(), "huge", "body larger than", "endless", "more bytes than"] {
        assert!(text.contains(needle), "output should mention {needle:?}:\n{text}");
    }
    assert!(started.elapsed() < BOUND);

    nothing_pushed_except(&dest, &["huge", "endless"], "good").await;
    let d = dest.client();
    let got = d.get_manifest("good", "v1").await.expect("get").expect("good promoted");
    assert_eq!(got.digest.to_string(), good.digest);
    assert!(!d.blob_exists("endless", &Digest(endless.blobs[0].0.clone())).await.expect("head"));
}

/// No tag or manifest of any repository in `bad` (the destination also holds `good`).
async fn nothing_pushed_except(dest: &Registry, bad: &[&str], good: &str) {
    let d = dest.client();
    for repo in bad {
        assert!(d.list_tags(repo).await.expect("tags").is_empty(), "{repo}: no tags");
    }
    let puts = dest.request_log().into_iter().filter(|r| r.method == "PUT" && r.path.contains("/manifests/"));
    for put in puts {
        assert!(put.path.starts_with(&format!("/v2/{good}/")), "unexpected manifest write {}", put.path);
    }
}
