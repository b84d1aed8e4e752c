//! Issue 8 scenarios 1 and 2 on the write path: `cip promote --confirm` through a 20% fault rate, and
//! kill -9 at seeded moments with the completeness invariant checked after every kill.
//!
//! They run the `cip` binary (build it first: `cargo build -p cip`).
#![allow(clippy::print_stderr)] // the scenarios print their measured figures for the report

use cip_testkit::{
    Client, Dataset, DatasetImage, FaultKind, FaultProxy, FaultProxyConfig, Registry, check_complete,
    cip_binary, docker_config, kill_after, populate, promotion_manifest, run_bounded,
};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TEST_TIMEOUT: Duration = Duration::from_secs(480);
const CIP_TIMEOUT: Duration = Duration::from_secs(300);

fn promote_command(docker_config_dir: &Path, args: &[&str], manifest: &Path) -> Command {
    let mut command = Command::new(cip_binary().unwrap());
    command
        .arg("promote")
        .args(args)
        .arg(manifest)
        .env("DOCKER_CONFIG", docker_config_dir)
        .env("NO_COLOR", "1");
    command
}

async fn promote(docker_config_dir: &Path, args: &[&str], manifest: &Path) -> Output {
    run_bounded(promote_command(docker_config_dir, args, manifest), CIP_TIMEOUT).await.unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn write_manifest(
    dir: &Path,
    source: &str,
    destination: &str,
    images: &[DatasetImage],
) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("promote.yaml");
    std::fs::write(&path, promotion_manifest(source, &[destination], images)).unwrap();
    path
}

/// The destination holds exactly the promoted set: every tag at its digest, every image complete,
/// no other repository or tag.
async fn assert_exact_copy(dst: &Client, images: &[DatasetImage]) {
    let mut expected_repos: Vec<String> = images.iter().map(|i| format!("prod/{}", i.name)).collect();
    expected_repos.dedup();
    assert_eq!(dst.catalog().await.unwrap(), expected_repos, "repositories in the destination");
    for repo in &expected_repos {
        let mut expected_tags: Vec<String> = images
            .iter()
            .filter(|i| format!("prod/{}", i.name) == *repo)
            .flat_map(|i| i.tags.clone())
            .collect();
        expected_tags.sort();
        assert_eq!(dst.list_tags(repo).await.unwrap(), expected_tags, "tags of {repo}");
        check_complete(dst, repo).await.unwrap();
    }
    for image in images {
        for tag in &image.tags {
            let got = dst.get_manifest(&format!("prod/{}", image.name), tag).await.unwrap().unwrap();
            assert_eq!(got.digest, image.digest, "prod/{}:{tag}", image.name);
        }
    }
}

/// Every tag already in the destination points at a complete image.
async fn assert_invariant(dst: &Client) -> Result<(), String> {
    for repo in dst.catalog().await.map_err(|e| e.to_string())? {
        check_complete(dst, &repo).await?;
    }
    Ok(())
}

/// Scenario 1: 50 repositories (multi-arch, shared layers) promoted through 20% faults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_through_faults_is_exact_and_rerun_is_a_no_op() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let src = Registry::start().await.unwrap();
        let images = populate(&src.client(), "staging", &Dataset::small(21, 50)).await.unwrap();
        // Stalls are left out: cip's 30 s request timeout is not settable from the command line.
        let kinds: Vec<FaultKind> = FaultKind::ALL.into_iter().filter(|k| *k != FaultKind::Stall).collect();
        let dir = tempfile::tempdir().unwrap();
        let config = docker_config(dir.path(), &[]).unwrap();

        // Fault-free baseline on its own destination, for the time overhead.
        let clean_dst = Registry::start().await.unwrap();
        let manifest = write_manifest(
            &dir.path().join("clean"),
            &format!("{}/staging", src.host()),
            &format!("{}/prod", clean_dst.host()),
            &images,
        );
        let started = Instant::now();
        let clean = promote(&config, &["--confirm", "--format", "json"], &manifest).await;
        let clean_time = started.elapsed();
        assert!(clean.status.success(), "{}", text(&clean));
        let clean_requests = clean_dst.request_log().len();

        let dst = Registry::start().await.unwrap();
        let src_proxy = FaultProxy::start(FaultProxyConfig::new(src.host(), 801, 0.2).with_kinds(&kinds)).await;
        let dst_proxy = FaultProxy::start(FaultProxyConfig::new(dst.host(), 802, 0.2).with_kinds(&kinds)).await;
        let (src_proxy, dst_proxy) = (src_proxy.unwrap(), dst_proxy.unwrap());
        let manifest = write_manifest(
            &dir.path().join("faulty"),
            &format!("{}/staging", src_proxy.host()),
            &format!("{}/prod", dst_proxy.host()),
            &images,
        );
        let started = Instant::now();
        let faulty = promote(&config, &["--confirm", "--format", "json"], &manifest).await;
        let faulty_time = started.elapsed();
        let mut by_kind = src_proxy.fault_counts();
        for (kind, n) in dst_proxy.fault_counts() {
            *by_kind.entry(kind).or_default() += n;
        }
        let faults: u64 = by_kind.values().sum();
        let requests = src_proxy.requests().len() + dst_proxy.requests().len();
        eprintln!(
            "scenario 1: {} images in {} repos; {faults} faults injected {by_kind:?}; {requests} requests through \
             the proxies; wall {clean_time:?} without faults vs {faulty_time:?} with 20% faults; destination \
             requests {clean_requests} clean",
            images.len(),
            50
        );
        assert!(faults > 0);
        let report: serde_json::Value = serde_json::from_slice(&faulty.stdout).unwrap_or_default();
        eprintln!("scenario 1 report summary: {}", report["report"]["summary"]);
        assert!(faulty.status.success(), "{}", text(&faulty));
        assert_exact_copy(&dst.client(), &images).await;

        // Re-run through the same faults: nothing to do, nothing written.
        let before = dst.request_log().iter().filter(|r| r.method != "GET" && r.method != "HEAD").count();
        let rerun = promote(&config, &["--confirm", "--format", "json"], &manifest).await;
        assert!(rerun.status.success(), "{}", text(&rerun));
        let plan: serde_json::Value = serde_json::from_slice(&rerun.stdout).unwrap();
        assert_eq!(plan["plan"]["actions"].as_array().map(Vec::len), Some(0), "{}", text(&rerun));
        let after = dst.request_log().iter().filter(|r| r.method != "GET" && r.method != "HEAD").count();
        assert_eq!(before, after, "the re-run wrote to the destination");
        assert_exact_copy(&dst.client(), &images).await;
    })
    .await
    .expect("test timed out");
}

/// Control for scenario 1: with injection off the proxy is transparent to cip's real traffic
/// (streamed uploads, mounts, manifests), so failures under faults are cip's, not the proxy's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_through_transparent_proxy_is_exact() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let src = Registry::start().await.unwrap();
        let dst = Registry::start().await.unwrap();
        let images = populate(&src.client(), "staging", &Dataset::small(41, 10)).await.unwrap();
        let src_proxy = FaultProxy::start(FaultProxyConfig::new(src.host(), 1, 1.0)).await.unwrap();
        let dst_proxy = FaultProxy::start(FaultProxyConfig::new(dst.host(), 2, 1.0)).await.unwrap();
        src_proxy.set_enabled(false);
        dst_proxy.set_enabled(false);
        let dir = tempfile::tempdir().unwrap();
        let config = docker_config(dir.path(), &[]).unwrap();
        let manifest = write_manifest(
            &dir.path().join("m"),
            &format!("{}/staging", src_proxy.host()),
            &format!("{}/prod", dst_proxy.host()),
            &images,
        );
        let output = promote(&config, &["--confirm", "--format", "json"], &manifest).await;
        assert!(output.status.success(), "{}", text(&output));
        assert_exact_copy(&dst.client(), &images).await;
        assert_eq!(src_proxy.total_faults() + dst_proxy.total_faults(), 0);
    })
    .await
    .expect("test timed out");
}

/// Scenario 2: kill -9 at 10 seeded moments; after each, every destination tag is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_never_exposes_an_incomplete_image() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let src = Registry::start().await.unwrap();
        let dataset = Dataset { layer_size: 64 * 1024, ..Dataset::small(31, 20) };
        let images = populate(&src.client(), "staging", &dataset).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config = docker_config(dir.path(), &[]).unwrap();

        // Measure one full promotion to place the kill moments inside it.
        let probe = Registry::start().await.unwrap();
        let manifest = write_manifest(
            &dir.path().join("probe"),
            &format!("{}/staging", src.host()),
            &format!("{}/prod", probe.host()),
            &images,
        );
        let started = Instant::now();
        assert!(promote(&config, &["--confirm"], &manifest).await.status.success());
        let full = started.elapsed().as_millis() as u64;

        let dst = Registry::start().await.unwrap();
        let manifest = write_manifest(
            &dir.path().join("crash"),
            &format!("{}/staging", src.host()),
            &format!("{}/prod", dst.host()),
            &images,
        );
        let mut state = 0x0c1a_5afe_u64;
        let mut killed = 0;
        let mut moments = Vec::new();
        for _ in 0..10 {
            // Seeded draw in [10 ms, full/5): ten runs then share about one full run of work, so most
            // of them are killed mid-way and each makes some progress.
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let at = 10 + (state >> 33) % (full / 5).max(1);
            moments.push(at);
            let command = promote_command(&config, &["--confirm"], &manifest);
            if kill_after(command, Duration::from_millis(at)).await.unwrap() {
                killed += 1;
            }
            assert_invariant(&dst.client()).await.unwrap_or_else(|e| panic!("after a kill at {at} ms: {e}"));
        }
        let last = promote(&config, &["--confirm"], &manifest).await;
        assert!(last.status.success(), "{}", text(&last));
        assert_exact_copy(&dst.client(), &images).await;
        eprintln!(
            "scenario 2: full run {full} ms; kill moments {moments:?} ms; {killed} of 10 runs killed mid-way; \
             invariant held after each; final re-run completed"
        );
    })
    .await
    .expect("test timed out");
}
