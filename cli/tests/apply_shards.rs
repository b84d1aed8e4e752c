//! Sharded `cip apply` against real registries: the CNCF distribution registry on loopback
//! (test kit), the `cip` binary run as separate processes, the commands exactly those of the
//! shipped examples (`apply_support`), with `--registry-rate` added where the rate is checked.
//!
//! - 4 shards of a plan run as concurrent processes; shard 0 is killed with SIGKILL mid-run and
//!   run again; the union is complete and verified tag by tag; every tag is written by exactly
//!   one `PUT` across all processes (counted in the destination's access log); the merged report
//!   has the totals of a single-process run of the same plan; requests to the shared hosts per
//!   one-second window stay under the job-wide rate (access-log seconds, with slack).
//! - The GitHub workflow's commands (plan, 4 matrix shards with `--check`, merge) promote
//!   completely.
//!
//! Needs `/usr/bin/docker-registry` and a built binary (`cargo build -p cip`).

mod apply_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use apply_support::{GH_APPLY, GH_MERGE, GH_PLAN, K8S_APPLY, K8S_MERGE, SHARDS, gh_args, k8s_args};
use cip_testkit::{
    Dataset, DatasetImage, Registry, check_complete, cip_binary, kill_after, max_in_window, populate,
    promotion_manifest, run_bounded,
};
use serde_json::Value;

/// The job-wide rate per host for the rate check (requests per second).
const RATE: u32 = 40;

fn cip(dir: &Path, args: &[String]) -> Command {
    let mut command = Command::new(cip_binary().expect("cip binary"));
    command.args(args).current_dir(dir);
    // The Secret-mounted Docker config of the examples: here an empty one (open registries).
    let docker = dir.join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(docker.join("config.json"), "{}").unwrap();
    command.env("DOCKER_CONFIG", docker).env_remove("JOB_COMPLETION_INDEX");
    command
}

fn ok(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Writes `promote.yaml` promoting `images` to `<dst>/a` and `<dst>/b`.
fn manifests(dir: &Path, src: &Registry, dst: &Registry, images: &[DatasetImage]) {
    let yaml = promotion_manifest(
        &format!("{}/staging", src.host()),
        &[&format!("{}/a", dst.host()), &format!("{}/b", dst.host())],
        images,
    );
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("promote.yaml"), yaml).unwrap();
}

/// Every tag of every image in both destination prefixes points at its digest and is complete.
async fn verify_union(dst: &Registry, images: &[DatasetImage]) {
    let client = dst.client();
    for prefix in ["a", "b"] {
        for image in images {
            let repo = format!("{prefix}/{}", image.name);
            for tag in &image.tags {
                let got = client
                    .get_manifest(&repo, tag)
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("{repo}:{tag} missing"));
                assert_eq!(got.digest, image.digest, "{repo}:{tag}");
            }
            check_complete(&client, &repo).await.unwrap();
        }
    }
}

/// Tag `PUT`s (manifests by tag, not by digest) in a registry's access log, per `repo:tag`.
fn tag_puts(registry: &Registry) -> BTreeMap<String, usize> {
    let mut puts = BTreeMap::new();
    for r in registry.request_log() {
        let Some((repo, reference)) = r.path.strip_prefix("/v2/").and_then(|p| p.split_once("/manifests/"))
        else {
            continue;
        };
        if r.method == "PUT" && !reference.starts_with("sha256:") && r.status < 300 {
            *puts.entry(format!("{repo}:{reference}")).or_default() += 1;
        }
    }
    puts
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_shards_kill_rerun_merge_and_share_the_rate() {
    let src = Registry::start().await.unwrap();
    let dst = Registry::start().await.unwrap();
    let single = Registry::start().await.unwrap();
    let images = populate(&src.client(), "staging", &Dataset::small(16, 12)).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let (job, alone) = (work.path().join("job"), work.path().join("alone"));
    manifests(&job, &src, &dst, &images);
    manifests(&alone, &src, &single, &images);
    for dir in [&job, &alone] {
        ok(&run_bounded(cip(dir, &gh_args(GH_PLAN, None)), Duration::from_secs(60)).await.unwrap(), "plan");
    }
    let plan = json(&job.join("plan.json"));
    let actions = plan["plan"]["actions"].as_array().unwrap().len();
    assert_eq!(actions, images.len() * 2, "one copy per image and destination");

    // The Kubernetes layout: the plan where the ConfigMap is mounted, reports on the claim.
    let (plan_dir, reports) = (job.clone(), job.join("reports"));
    std::fs::create_dir_all(&reports).unwrap();
    let rate = ["--registry-rate".to_owned(), RATE.to_string()];
    let pod = |index: usize| {
        let mut args = k8s_args(K8S_APPLY, Some(index), &plan_dir, &reports);
        args.extend(rate.iter().cloned());
        let mut command = cip(&job, &args);
        command.env("JOB_COMPLETION_INDEX", index.to_string());
        command
    };
    // Requests of the setup (pushes, the plan's read) end a second before the shards start.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (killed, one, two, three) = tokio::join!(
        kill_after(pod(0), Duration::from_millis(2500)),
        run_bounded(pod(1), Duration::from_secs(180)),
        run_bounded(pod(2), Duration::from_secs(180)),
        run_bounded(pod(3), Duration::from_secs(180)),
    );
    assert!(killed.unwrap(), "shard 0 finished before it could be killed: make the data set larger");
    for (i, out) in [(1, one), (2, two), (3, three)] {
        ok(&out.unwrap(), &format!("shard {i}"));
    }
    assert!(!reports.join("shard-0.json").exists(), "a killed shard writes no report");
    // The Job controller runs the failed index again: it finishes the shard.
    ok(&run_bounded(pod(0), Duration::from_secs(180)).await.unwrap(), "shard 0 re-run");

    // Together under the job-wide rate in every one-second window (access-log seconds: slack
    // for the window edges). Before anything else reads the registries.
    for registry in [&dst, &src] {
        let log = registry.request_log();
        let stamps: Vec<u64> =
            log.iter().map(|r| r.unix_second as u64).filter(|&s| s >= started).map(|s| s * 1000).collect();
        assert!(stamps.len() > 2 * RATE as usize, "the shards ran long enough to test the rate");
        let busiest = max_in_window(stamps, Duration::from_secs(1));
        assert!(
            busiest <= (RATE as usize) * 5 / 4 + 2,
            "{busiest} requests in one second at {}",
            registry.host()
        );
    }

    verify_union(&dst, &images).await;
    let puts = tag_puts(&dst);
    let tags: usize = images.iter().map(|i| i.tags.len()).sum::<usize>() * 2;
    assert_eq!(puts.len(), tags, "every tag written: {puts:?}");
    assert!(puts.values().all(|&n| n == 1), "a tag written twice: {puts:?}");

    // Each shard took its share of every host's rate.
    for i in 0..SHARDS {
        let report = json(&reports.join(format!("shard-{i}.json")));
        for host in [dst.host(), src.host()] {
            let rate = &report["report"]["hosts"][&host]["rate"];
            assert_eq!(rate.as_f64(), Some(f64::from(RATE) / SHARDS as f64), "shard {i} {host}");
        }
    }
    // The merge step; and a single process applying the same plan (to a fresh registry).
    let merge =
        run_bounded(cip(&job, &k8s_args(K8S_MERGE, None, &plan_dir, &reports)), Duration::from_secs(30))
            .await
            .unwrap();
    ok(&merge, "merge");
    let mut merge_json = k8s_args(K8S_MERGE, None, &plan_dir, &reports);
    merge_json.extend(["--format".to_owned(), "json".to_owned()]);
    let merged: Value = serde_json::from_slice(
        &run_bounded(cip(&job, &merge_json), Duration::from_secs(30)).await.unwrap().stdout,
    )
    .unwrap();
    let args: Vec<String> = ["apply", "plan.json", "--report", "single.json"].map(str::to_owned).to_vec();
    ok(&run_bounded(cip(&alone, &args), Duration::from_secs(180)).await.unwrap(), "single-process apply");
    let single_report = json(&alone.join("single.json"));
    for total in ["done", "failed", "refused", "tags"] {
        assert_eq!(merged["summary"][total], single_report["report"]["summary"][total], "{total}");
    }
    assert_eq!(merged["summary"]["done"], actions);
    assert_eq!(merged["missing"], serde_json::json!([]));
    verify_union(&single, &images).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_workflow_commands_promote_completely() {
    let src = Registry::start().await.unwrap();
    let dst = Registry::start().await.unwrap();
    let images = populate(&src.client(), "staging", &Dataset::small(17, 6)).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let checkout = work.path();
    manifests(checkout, &src, &dst, &images);
    ok(&run_bounded(cip(checkout, &gh_args(GH_PLAN, None)), Duration::from_secs(60)).await.unwrap(), "plan");
    let shard = |i: usize| run_bounded(cip(checkout, &gh_args(GH_APPLY, Some(i))), Duration::from_secs(120));
    let (a, b, c, d) = tokio::join!(shard(0), shard(1), shard(2), shard(3));
    for (i, out) in [a, b, c, d].into_iter().enumerate() {
        ok(&out.unwrap(), &format!("shard {i}"));
    }
    ok(
        &run_bounded(cip(checkout, &gh_args(GH_MERGE, None)), Duration::from_secs(30)).await.unwrap(),
        "merge",
    );
    verify_union(&dst, &images).await;
    // A merge missing a shard's report says so and fails.
    std::fs::remove_file(checkout.join("report-2.json")).unwrap();
    let partial: Vec<String> =
        ["report", "merge", "report-0.json", "report-1.json", "report-3.json"].map(str::to_owned).to_vec();
    let out = run_bounded(cip(checkout, &partial), Duration::from_secs(30)).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("shard 2/4: no report"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// What one worker sustains on loopback (README "Scaling out"): `cip apply` of a cold plan to two
/// destination registries, requests and bytes from the report. Run with
/// `cargo test -p cip --test apply_shards -- --ignored --nocapture` (set `CIP_BIN` to a release
/// build for release figures).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test"]
#[allow(clippy::print_stdout)] // a measurement prints its figures
async fn measure_one_worker() {
    let src = Registry::start().await.unwrap();
    let (us, eu) = (Registry::start().await.unwrap(), Registry::start().await.unwrap());
    let dataset =
        Dataset { layers_per_image: 4, layer_size: 1 << 20, multi_arch_every: 5, ..Dataset::small(21, 40) };
    let images = populate(&src.client(), "staging", &dataset).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let yaml = promotion_manifest(
        &format!("{}/staging", src.host()),
        &[&format!("{}/prod", us.host()), &format!("{}/prod", eu.host())],
        &images,
    );
    std::fs::write(work.path().join("promote.yaml"), yaml).unwrap();
    ok(
        &run_bounded(cip(work.path(), &gh_args(GH_PLAN, None)), Duration::from_secs(60)).await.unwrap(),
        "plan",
    );
    let args: Vec<String> = ["apply", "plan.json", "--report", "one.json"].map(str::to_owned).to_vec();
    ok(&run_bounded(cip(work.path(), &args), Duration::from_secs(600)).await.unwrap(), "apply");
    let report = json(&work.path().join("one.json"));
    let summary = &report["report"]["summary"];
    let seconds = summary["millis"].as_f64().unwrap() / 1000.0;
    let requests: u64 = report["report"]["hosts"]
        .as_object()
        .unwrap()
        .values()
        .map(|h| h["requests"].as_u64().unwrap())
        .sum();
    let mib = summary["bytes"].as_f64().unwrap() / (1024.0 * 1024.0);
    for (name, registry) in [("source", &src), ("destination 1", &us), ("destination 2", &eu)] {
        let host = &report["report"]["hosts"][registry.host()];
        println!("  {name}: {} requests", host["requests"]);
    }
    println!(
        "one worker: {} actions ({} images x 2 registries), {requests} requests, {mib:.1} MiB uploaded in {seconds:.2} s: {:.0} requests/s, {:.1} MiB/s, {:.1} requests per action",
        summary["done"],
        images.len(),
        requests as f64 / seconds,
        mib / seconds,
        requests as f64 / summary["done"].as_f64().unwrap()
    );
}
