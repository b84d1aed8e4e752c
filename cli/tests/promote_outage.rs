//! A destination registry that goes away in the middle of a promotion and comes back: the real
//! CNCF distribution registry, killed (SIGKILL) during the copy and restarted on the same port
//! with the same storage, as a registry restart or a short outage looks to cip.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cip::Connection;
use cip::promote::{self, ActionReport, Limits, Observer, Outcome, PromoteOptions};
use cip::registry::{ClientConfig, RegistryClient, RetryPolicy};
use cip_core::{Input, SourceFile};
use cip_testkit::{MediaKind, Pushed, Registry, check_complete, random_layer};
use tokio::sync::{Mutex, Notify};

/// The whole of one test, start to end.
const BOUND: Duration = Duration::from_secs(60);

/// Twelve images in `staging/` of `source`, and the manifest promoting them to `dest`'s `prod/`.
async fn seed(source: &Registry, dest: &Registry) -> (String, Vec<(String, Pushed)>) {
    let client = source.client();
    let mut images = Vec::new();
    for i in 0..12u64 {
        let repo = format!("staging/img{i}");
        let layers = [random_layer(100 + i, 256 * 1024), random_layer(200 + i, 128 * 1024)];
        let pushed = client.push_image(&repo, Some("v1"), &layers, MediaKind::Oci).await.expect("push");
        images.push((format!("img{i}"), pushed));
    }
    let mut yaml = format!(
        "registries:\n- name: {}/staging\n  src: true\n- name: {}/prod\nimages:\n",
        source.host(),
        dest.host()
    );
    for (name, pushed) in &images {
        yaml.push_str(&format!("- name: {name}\n  dmap:\n    \"{}\": [\"v1\"]\n", pushed.digest));
    }
    (yaml, images)
}

/// Every image tagged and complete in `dest`'s `prod/`.
async fn assert_all_promoted(dest: &Registry, images: &[(String, Pushed)]) {
    let d = dest.client();
    for (name, pushed) in images {
        let repo = format!("prod/{name}");
        let got = d.get_manifest(&repo, "v1").await.expect("get").unwrap_or_else(|| panic!("{repo}:v1"));
        assert_eq!(got.digest, pushed.digest, "{repo}");
        check_complete(&d, &repo).await.expect("complete image");
    }
}

/// True once the registry has logged a blob upload (`POST .../blobs/uploads/`).
fn upload_started(registry: &Registry) -> bool {
    let log = std::fs::read_to_string(registry.work_dir().join("access.log")).unwrap_or_default();
    log.lines().any(|l| l.contains("\"POST /v2/") && l.contains("/blobs/uploads/"))
}

/// Proves the README's promise through the binary with its default settings: `cip promote
/// --confirm` of twelve images; as soon as the destination logs the first blob upload it is
/// killed, and restarted on the same port with the same storage 5 s later. The run ends with
/// exit 0 and every image tagged and complete: the images in flight waited for the registry.
/// (With the default settings the per-image retries alone would also span 5 s; the next test
/// isolates the host budget.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cip_promote_waits_for_a_destination_that_restarts() {
    let source = Registry::start().await.expect("source");
    let mut dest = Registry::start().await.expect("destination");
    let (yaml, images) = seed(&source, &dest).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = dir.path().join("promote.yaml");
    std::fs::write(&manifest, yaml).expect("write manifest");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_cip"));
    command
        .args(["promote", "--confirm", "--jobs", "2", "--no-docker-config"])
        .arg(&manifest)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let cip = command.spawn().expect("spawn cip");
    while !upload_started(&dest) {
        assert!(started.elapsed() < BOUND, "no upload started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    dest.stop().expect("stop the destination");
    tokio::time::sleep(Duration::from_secs(5)).await;
    dest.restart().await.expect("restart on the same port");
    let output = tokio::time::timeout(BOUND, cip.wait_with_output()).await.expect("bounded").expect("cip");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("actions failed") && !text.contains("failed:"), "{text}");
    assert_all_promoted(&dest, &images).await;
}

/// Stops the destination registry when the first image is done (from the executor's own task,
/// so the next request already meets the outage).
struct StopAfterFirstImage {
    dest: Arc<Mutex<Registry>>,
    stopped_at: OnceLock<Instant>,
    stopped: Notify,
}

impl Observer for StopAfterFirstImage {
    fn action(&self, _index: usize, report: &ActionReport) {
        if report.result == Outcome::Done && self.stopped_at.get().is_none() {
            let mut dest = self.dest.try_lock().expect("nobody else holds the registry while it runs");
            dest.stop().expect("stop the destination");
            let _ = self.stopped_at.set(Instant::now());
            self.stopped.notify_one();
        }
    }
}

/// Proves that it is the host's outage budget that carries requests across an outage, not the
/// attempt count: the client allows only 2 attempts per request, 200 ms apart at most, and the
/// executor's own per-image retries span about 3 to 6 s; the destination is killed when the
/// first of twelve images is done and restarted on the same port 8 s later. With the budget,
/// requests to a host that answered before keep waiting for it and no image fails; with retries
/// bounded by attempts (as before the budget) the images in flight fail and this test fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_budget_carries_requests_across_the_outage() {
    tokio::time::timeout(BOUND, budget_run()).await.expect("bounded: the promotion ends well within 60 s");
}

async fn budget_run() {
    const OUTAGE: Duration = Duration::from_secs(8);
    let source = Registry::start().await.expect("source");
    let dest = Registry::start().await.expect("destination");
    let (yaml, images) = seed(&source, &dest).await;
    let set = cip_core::load(Input { files: vec![SourceFile::new("promote.yaml", yaml)], thin_dirs: None });
    assert!(!set.has_errors(), "{:?}", set.diagnostics);
    let names = set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect();
    let retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(200),
        budget: Duration::from_secs(90),
    };
    let config =
        ClientConfig { default_rate: Some(0.0), docker_config_dir: None, retry, ..ClientConfig::default() };
    let connection = Connection::with_client(names, RegistryClient::new(config).expect("client"));

    let dest = Arc::new(Mutex::new(dest));
    let observer =
        StopAfterFirstImage { dest: dest.clone(), stopped_at: OnceLock::new(), stopped: Notify::new() };
    let options = PromoteOptions {
        confirm: true,
        limits: Limits { jobs: 2, blob_jobs: 2, ..Limits::default() },
        ..PromoteOptions::default()
    };
    let promotion = promote::run_on(&connection, set, &options, &observer);
    let outage = async {
        observer.stopped.notified().await;
        tokio::time::sleep(OUTAGE).await;
        dest.lock().await.restart().await.expect("restart on the same port");
        Instant::now()
    };
    let (outcome, restarted) = tokio::join!(promotion, outage);
    let outcome = outcome.expect("promotion runs");
    let stopped_at = *observer.stopped_at.get().expect("stopped");

    let report = outcome.report.expect("executed");
    assert!(!outcome.plan.has_problems(), "{:?}", outcome.plan);
    assert!(!report.has_failures(), "no image fails because of the restart:\n{}", report.to_human());
    assert_eq!(report.summary.done, images.len());
    assert!(restarted.duration_since(stopped_at) >= OUTAGE, "the registry was down for the whole outage");
    let stats = connection.counters().snapshot();
    assert!(stats.retries > 0, "requests met the outage and were retried: {stats:?}");
    assert_all_promoted(&*dest.lock().await, &images).await;
}
