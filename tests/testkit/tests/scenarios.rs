//! Issue 8 scenarios on the read path (`cip promote` dry run): rate limit, faults, secrets.
//!
//! They run the `cip` binary (build it first: `cargo build -p cip`; see `cip_testkit::cip_binary`)
//! against real registries, through the fault proxy where the scenario needs it.
#![allow(clippy::print_stderr)] // the scenarios print their measured figures for the report

use cip_testkit::{
    Credentials, Dataset, DatasetImage, FaultKind, FaultProxy, FaultProxyConfig, Registry, cip_binary,
    docker_config, docker_config_entries, max_in_window, populate, promotion_manifest, run_bounded,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TEST_TIMEOUT: Duration = Duration::from_secs(300);
const CIP_TIMEOUT: Duration = Duration::from_secs(240);

/// Writes the manifest and returns its path.
fn write_manifest(dir: &Path, source: &str, destination: &str, images: &[DatasetImage]) -> PathBuf {
    let path = dir.join("promote.yaml");
    std::fs::write(&path, promotion_manifest(source, &[destination], images)).unwrap();
    path
}

/// `cip promote [args] manifest` with a private Docker config, bounded in time.
async fn cip_promote(docker_config_dir: &Path, args: &[&str], manifest: &Path) -> Output {
    let mut command = Command::new(cip_binary().unwrap());
    command
        .arg("promote")
        .args(args)
        .arg(manifest)
        .env("DOCKER_CONFIG", docker_config_dir)
        .env("NO_COLOR", "1");
    run_bounded(command, CIP_TIMEOUT).await.unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn recording_proxy_config(registry: &Registry) -> FaultProxyConfig {
    FaultProxyConfig::new(registry.host(), 0, 0.0)
}

/// Scenario 5: with `--rate R` no registry sees more than R requests in any one-second window.
#[tokio::test]
async fn rate_limit_holds_in_every_window() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let (src, dst) = (Registry::start().await.unwrap(), Registry::start().await.unwrap());
        let images = populate(&src.client(), "staging", &Dataset::small(11, 15)).await.unwrap();
        let src_proxy = FaultProxy::start(recording_proxy_config(&src)).await.unwrap();
        let dst_proxy = FaultProxy::start(recording_proxy_config(&dst)).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_manifest(
            dir.path(),
            &format!("{}/staging", src_proxy.host()),
            &format!("{}/prod", dst_proxy.host()),
            &images,
        );
        let config = docker_config(dir.path(), &[]).unwrap();
        let rate = 10;
        let started = Instant::now();
        let output =
            cip_promote(&config, &["--rate", &rate.to_string(), "--format", "json"], &manifest).await;
        let elapsed = started.elapsed();
        assert!(output.status.success(), "{}", text(&output));
        for (name, proxy) in [("source", &src_proxy), ("destination", &dst_proxy)] {
            let stamps: Vec<u64> = proxy.requests().iter().map(|r| r.at_ms).collect();
            let requests = stamps.len();
            let peak = max_in_window(stamps, Duration::from_secs(1));
            eprintln!(
                "rate {rate}/s, {name}: {requests} requests, peak {peak} in any 1 s window, run {elapsed:?}"
            );
            // A token bucket that starts full with a one-second burst admits up to 2R-1 per window.
            assert!(peak <= rate, "{name}: {peak} requests within one second (limit {rate}): limiter bursts");
        }
    })
    .await
    .expect("test timed out");
}

/// Scenario 1, read half: reading registries through a 20% fault rate yields exactly the fault-free
/// plan. Stalls are excluded: cip's 30 s request timeout is not configurable from the CLI.
#[tokio::test]
async fn plan_is_identical_under_faults() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let (src, dst) = (Registry::start().await.unwrap(), Registry::start().await.unwrap());
        let dataset = Dataset::small(12, 12);
        let images = populate(&src.client(), "staging", &dataset).await.unwrap();
        // Half of the destination already promoted, so the plan mixes copies and no-ops.
        populate(&dst.client(), "prod", &Dataset { repos: 6, ..dataset }).await.unwrap();
        let kinds: Vec<FaultKind> = FaultKind::ALL.into_iter().filter(|k| *k != FaultKind::Stall).collect();
        let src_proxy =
            FaultProxy::start(FaultProxyConfig::new(src.host(), 2024, 0.2).with_kinds(&kinds)).await.unwrap();
        let dst_proxy =
            FaultProxy::start(FaultProxyConfig::new(dst.host(), 2025, 0.2).with_kinds(&kinds)).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_manifest(
            dir.path(),
            &format!("{}/staging", src_proxy.host()),
            &format!("{}/prod", dst_proxy.host()),
            &images,
        );
        let config = docker_config(dir.path(), &[]).unwrap();
        let args = ["--rate", "0", "--format", "json"];

        src_proxy.set_enabled(false);
        dst_proxy.set_enabled(false);
        let started = Instant::now();
        let clean = cip_promote(&config, &args, &manifest).await;
        let clean_time = started.elapsed();
        assert!(clean.status.success(), "{}", text(&clean));
        let clean_requests = src_proxy.requests().len() + dst_proxy.requests().len();

        src_proxy.set_enabled(true);
        dst_proxy.set_enabled(true);
        let started = Instant::now();
        let faulty = cip_promote(&config, &args, &manifest).await;
        let faulty_time = started.elapsed();
        assert!(faulty.status.success(), "{}", text(&faulty));
        assert_eq!(String::from_utf8_lossy(&clean.stdout), String::from_utf8_lossy(&faulty.stdout));

        let faults = src_proxy.total_faults() + dst_proxy.total_faults();
        let faulty_requests = src_proxy.requests().len() + dst_proxy.requests().len() - clean_requests;
        let mut by_kind = src_proxy.fault_counts();
        for (kind, n) in dst_proxy.fault_counts() {
            *by_kind.entry(kind).or_default() += n;
        }
        eprintln!(
            "read path under 20% faults: {faults} faults injected {by_kind:?}; requests {clean_requests} clean vs \
             {faulty_requests} faulty; wall {clean_time:?} clean vs {faulty_time:?} faulty"
        );
        assert!(faults > 0, "the seeded rate injected nothing");
    })
    .await
    .expect("test timed out");
}

/// Scenario 4, read half: with Basic and bearer credentials in use, no secret reaches the output.
#[tokio::test]
async fn no_secret_in_output() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let src_password = "src-Pa55word-SENTINEL";
        let dst_password = "dst-Pa55word-SENTINEL";
        let src = Registry::start_basic("src-user", src_password).await.unwrap();
        let dst = Registry::start_token("dst-user", dst_password).await.unwrap();
        let images = populate(&src.client(), "staging", &Dataset::small(13, 4)).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_manifest(
            dir.path(),
            &format!("{}/staging", src.host()),
            &format!("{}/prod", dst.host()),
            &images,
        );
        let config = docker_config(dir.path(), &[&src, &dst]).unwrap();
        let mut outputs = String::new();
        for format in ["human", "json"] {
            let output = cip_promote(&config, &["--format", format], &manifest).await;
            assert!(output.status.success(), "{}", text(&output));
            outputs.push_str(&text(&output));
        }
        // A wrong password must fail clearly (exit 2), without a retry storm or an echoed secret.
        let wrong_password = "wrong-Pa55word-SENTINEL";
        let wrong = Credentials { user: "src-user".into(), password: wrong_password.into() };
        let wrong_dir = dir.path().join("wrong");
        let wrong_config = docker_config_entries(&wrong_dir, &[(src.host(), wrong)]).unwrap();
        let before = src.request_log().len();
        let refused = cip_promote(&wrong_config, &["--format", "json"], &manifest).await;
        assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
        let refusals = src.request_log()[before..].iter().filter(|r| r.status == 401).count();
        assert!(refusals <= 4, "{refusals} requests answered 401: retry storm");
        outputs.push_str(&text(&refused));

        let tokens = dst.issued_tokens();
        assert!(!tokens.is_empty(), "cip never used the token flow");
        let basic = |user: &str, password: &str| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        };
        let mut secrets: Vec<String> = vec![
            src_password.into(),
            dst_password.into(),
            wrong_password.into(),
            basic("src-user", src_password),
            basic("dst-user", dst_password),
            "SENTINEL".into(),
        ];
        // A JWT's signature part alone is secret enough; headers are shared between tokens.
        secrets.extend(tokens.iter().filter_map(|t| t.rsplit('.').next()).map(String::from));
        for secret in &secrets {
            assert!(!outputs.contains(secret.as_str()), "secret leaked into output: {outputs}");
        }
        eprintln!("secrets: {} checked against {} bytes of output, none found", secrets.len(), outputs.len());
    })
    .await
    .expect("test timed out");
}
