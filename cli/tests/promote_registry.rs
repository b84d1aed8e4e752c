//! End-to-end promotion between real CNCF distribution registries on loopback (Debian package
//! `docker-registry`, started by the testkit): multi-arch indexes and shared layers, an open and a
//! Basic-auth destination, re-run does nothing, lost digests and tag moves are reported without
//! blocking anything else, an interrupted promotion (kill -9 at several points) never leaves a tag
//! pointing at an incomplete image and completes on re-run, and a registry -> layout -> registry
//! round trip keeps every digest. Promotions run through `cip::promote::run`, as `cip promote`
//! runs them.

use std::collections::BTreeMap;
use std::time::Duration;

use cip::Connection;
use cip::Credential;
use cip::connect::RegistryOptions;
use cip::promote::Quiet;
use cip::promote::{self, PromoteOptions, Report};
use cip::registry::Secret;
use cip_core::{ActionKind, Input, Plan, SourceFile};
use cip_testkit::{MediaKind, Pushed, Registry, check_complete, random_layer};

/// (repo, pushed, tags)
type Pushes = Vec<(String, Pushed, Vec<String>)>;

/// Pushes: an OCI multi-arch index, a Docker multi-arch list, and two plain images sharing layers.
async fn seed(source: &Registry, layer_size: usize) -> Pushes {
    let client = source.client();
    let shared = random_layer(1, layer_size);
    let mut out = Vec::new();
    let oci = client
        .push_multi_arch(
            "team/multi",
            Some("v1"),
            &[shared.clone(), random_layer(2, layer_size)],
            &["amd64", "arm64"],
            MediaKind::Oci,
        )
        .await
        .expect("push oci index");
    out.push(("team/multi".to_owned(), oci, vec!["v1".to_owned(), "stable".to_owned()]));
    let docker = client
        .push_multi_arch(
            "team/list",
            Some("1.0"),
            std::slice::from_ref(&shared),
            &["amd64", "s390x"],
            MediaKind::Docker,
        )
        .await
        .expect("push docker list");
    out.push(("team/list".to_owned(), docker, vec!["1.0".to_owned()]));
    for (i, repo) in ["app/a", "app/b"].into_iter().enumerate() {
        let layers = [shared.clone(), random_layer(10 + i as u64, layer_size)];
        let image =
            client.push_image(repo, Some("v1"), &layers, MediaKind::Docker).await.expect("push image");
        out.push((repo.to_owned(), image, vec!["v1".to_owned()]));
    }
    out
}

fn manifest_yaml(src: &str, dests: &[String], pushes: &Pushes, extra: &str) -> String {
    let mut out = format!("registries:\n- name: {src}\n  src: true\n");
    for d in dests {
        out.push_str(&format!("- name: {d}\n"));
    }
    out.push_str("images:\n");
    for (repo, pushed, tags) in pushes {
        let tags: Vec<String> = tags.iter().map(|t| format!("\"{t}\"")).collect();
        out.push_str(&format!(
            "- name: {repo}\n  dmap:\n    \"{}\": [{}]\n",
            pushed.digest.as_str(),
            tags.join(", ")
        ));
    }
    out.push_str(extra);
    out
}

/// Registry options reaching `registries` (with their credentials), unthrottled.
fn client_for(registries: &[&Registry]) -> RegistryOptions {
    let mut credentials = BTreeMap::new();
    for registry in registries {
        if let Some(c) = registry.credentials() {
            credentials.insert(
                registry.host(),
                Credential::Basic { username: c.user, password: Secret::new(c.password) },
            );
        }
    }
    RegistryOptions {
        registry_rate: Some(0.0),
        credentials,
        no_docker_config: true,
        ..RegistryOptions::default()
    }
}

fn input(yaml: &str) -> Input {
    Input { files: vec![SourceFile::new("promote.yaml", yaml)], thin_dirs: None }
}

/// Runs the promotion `cip promote` runs; the report is `None` when nothing was left to do.
async fn promote_yaml(yaml: &str, registry: RegistryOptions, confirm: bool) -> (Plan, Option<Report>) {
    let options = PromoteOptions { confirm, registry, ..PromoteOptions::default() };
    let outcome = promote::run(input(yaml), &options, &Quiet).await.expect("promotion runs");
    (outcome.plan, outcome.report)
}

async fn assert_promoted(dest: &Registry, pushes: &Pushes) {
    let client = dest.client();
    for (repo, pushed, tags) in pushes {
        for tag in tags {
            let got = client
                .get_manifest(repo, tag)
                .await
                .expect("get")
                .unwrap_or_else(|| panic!("{repo}:{tag} missing"));
            assert_eq!(got.digest, pushed.digest, "{repo}:{tag}");
            assert_eq!(got.bytes, pushed.bytes, "{repo}:{tag} byte-exact");
        }
        check_complete(&client, repo).await.expect("complete image");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotes_to_open_and_authenticated_registries_then_does_nothing() {
    let source = Registry::start().await.expect("source");
    let open = Registry::start().await.expect("open destination");
    let basic = Registry::start_basic("promoter", "s3cret-pass").await.expect("basic destination");
    let pushes = seed(&source, 64 * 1024).await;
    let dests = [open.host(), format!("{}/mirror", basic.host())];
    let yaml = manifest_yaml(&source.host(), &dests, &pushes, "");

    let (plan, report) = promote_yaml(&yaml, client_for(&[&source, &open, &basic]), true).await;
    assert_eq!(plan.actions.len(), 8, "{:#?}", plan.actions);
    let report = report.expect("report");
    assert!(!report.has_failures(), "{}", report.to_human());
    assert_promoted(&open, &pushes).await;
    let mirrored: Pushes =
        pushes.iter().map(|(r, p, t)| (format!("mirror/{r}"), p.clone(), t.clone())).collect();
    assert_promoted(&basic, &mirrored).await;
    // The shared layer crossed the wire once per destination registry; other repositories mounted it.
    assert!(report.summary.blobs_mounted >= 3, "{:?}", report.summary);

    let before = source.request_log().len();
    let (again, report) = promote_yaml(&yaml, client_for(&[&source, &open, &basic]), true).await;
    assert!(again.actions.is_empty(), "{:?}", again.actions);
    assert!(report.is_none(), "nothing executed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Attachments (issue 13) can change in the source while its images stay put, so a no-op
    // run lists each source repository once (its attachment tags, here none) and reads nothing
    // else there: no manifest, no blob.
    let source_requests: Vec<String> =
        source.request_log()[before..].iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    let repos: std::collections::BTreeSet<&str> = pushes.iter().map(|(r, _, _)| r.as_str()).collect();
    let listings =
        source_requests.iter().filter(|r| r.starts_with("GET ") && r.contains("/tags/list")).count();
    let other = source_requests.iter().filter(|r| !r.contains("/tags/list") && !r.ends_with(" /v2/")).count();
    assert_eq!((listings, other), (repos.len(), 0), "a no-op run only lists the source: {source_requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_digest_and_tag_move_block_only_their_edges() {
    let source = Registry::start().await.expect("source");
    let dest = Registry::start().await.expect("destination");
    let pushes = seed(&source, 16 * 1024).await;
    // Production already has app/a:v1 pointing elsewhere (the app/b image).
    let (_, b, _) = pushes.iter().find(|(r, _, _)| r == "app/b").expect("app/b").clone();
    let other = dest.client();
    let layers = [random_layer(1, 16 * 1024), random_layer(11, 16 * 1024)];
    let moved = other.push_image("app/a", Some("v1"), &layers, MediaKind::Docker).await.expect("push");
    assert_eq!(moved.digest, b.digest);
    let lost = format!("- name: app/gone\n  dmap:\n    \"sha256:{}\": [\"v9\"]\n", "0".repeat(64));
    let yaml = manifest_yaml(&source.host(), &[dest.host()], &pushes, &lost);

    let (plan, report) = promote_yaml(&yaml, client_for(&[]), true).await;
    let reasons: Vec<&str> = plan.blocked.iter().flat_map(|b| b.reasons.iter().map(String::as_str)).collect();
    assert!(reasons.contains(&"lost") && reasons.contains(&"tag-move"), "{:?}", plan.blocked);
    assert!(plan.has_problems());
    assert!(!report.expect("report").has_failures());
    let a = dest.client().get_manifest("app/a", "v1").await.expect("get").expect("a");
    assert_eq!(a.digest, b.digest, "the tag did not move");
    let rest: Pushes = pushes.into_iter().filter(|(r, _, _)| r != "app/a").collect();
    assert_promoted(&dest, &rest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untagged_digests_get_their_tags_and_index_children_are_known() {
    let source = Registry::start().await.expect("source");
    let dest = Registry::start().await.expect("destination");
    let pushes = seed(&source, 16 * 1024).await;
    // Production already holds team/multi by digest, without tags.
    let untagged: Pushes = pushes
        .iter()
        .filter(|(r, _, _)| r == "team/multi")
        .map(|(r, p, _)| (r.clone(), p.clone(), Vec::new()))
        .collect();
    let (_, report) =
        promote_yaml(&manifest_yaml(&source.host(), &[dest.host()], &untagged, ""), client_for(&[]), true)
            .await;
    let report = report.expect("report");
    assert!(!report.has_failures());
    assert_eq!(report.summary.manifests, 3, "the index and its children, untagged");
    assert!(dest.client().list_tags("team/multi").await.expect("tags").is_empty());

    let yaml = manifest_yaml(&source.host(), &[dest.host()], &pushes, "");
    let set = cip_core::load(input(&yaml));
    let connection = Connection::for_set(&set, &client_for(&[])).expect("connect");
    let read = connection.read_for_plan(&set).await;
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let inventory = read.inventory;
    let (_, list, _) = pushes.iter().find(|(r, _, _)| r == "team/list").expect("team/list");
    let source_list = &inventory.repositories[&format!("{}/team/list", source.host())];
    assert_eq!(source_list[list.digest.as_str()].children.len(), 2, "the index's children are known");

    let (plan, report) = promote_yaml(&yaml, client_for(&[]), true).await;
    let multi: Vec<_> = plan.actions.iter().filter(|a| a.dst.ends_with("/team/multi")).collect();
    assert_eq!(multi.len(), 1, "{multi:?}");
    assert_eq!(
        (multi[0].action, multi[0].tags.clone()),
        (ActionKind::Tag, vec!["stable".into(), "v1".into()])
    );
    assert!(!report.expect("report").has_failures());
    assert_promoted(&dest, &pushes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_to_layout_to_registry_keeps_every_digest() {
    let source = Registry::start().await.expect("source");
    let back = Registry::start().await.expect("destination");
    let pushes = seed(&source, 16 * 1024).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = format!("oci:{}/layout", dir.path().display());
    let to_layout = manifest_yaml(&source.host(), std::slice::from_ref(&layout), &pushes, "");
    let (_, report) = promote_yaml(&to_layout, client_for(&[]), true).await;
    assert!(!report.expect("report").has_failures());
    let from_layout = manifest_yaml(&layout, &[back.host()], &pushes, "");
    let (plan, report) = promote_yaml(&from_layout, client_for(&[]), true).await;
    assert_eq!(plan.actions.len(), 4);
    assert!(!report.expect("report").has_failures());
    assert_promoted(&back, &pushes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_promotions_never_expose_incomplete_images_and_complete_on_rerun() {
    let source = Registry::start().await.expect("source");
    let dest = Registry::start().await.expect("destination");
    let client = source.client();
    let mut pushes = seed(&source, 512 * 1024).await;
    for i in 0..6 {
        let repo = format!("bulk/img{i}");
        let layers: Vec<Vec<u8>> = (0..3).map(|l| random_layer(100 + i * 10 + l, 512 * 1024)).collect();
        let pushed = client.push_image(&repo, Some("v1"), &layers, MediaKind::Oci).await.expect("push");
        pushes.push((repo, pushed, vec!["v1".to_owned()]));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("promote.yaml");
    std::fs::write(&path, manifest_yaml(&source.host(), &[dest.host()], &pushes, "")).expect("write");
    let cip = env!("CARGO_BIN_EXE_cip");
    for kill_after in [30u64, 90, 200, 400] {
        let mut child = std::process::Command::new(cip)
            .args(["promote", "--confirm", "--rate", "0", "--jobs", "2", "--blob-jobs", "2"])
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn cip");
        std::thread::sleep(Duration::from_millis(kill_after));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        for (repo, _, _) in &pushes {
            check_complete(&dest.client(), repo)
                .await
                .unwrap_or_else(|e| panic!("after kill at {kill_after} ms: {e}"));
        }
    }
    let status = std::process::Command::new(cip)
        .args(["promote", "--confirm", "--rate", "0"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("rerun");
    assert!(status.success());
    assert_promoted(&dest, &pushes).await;
    let out = std::process::Command::new(cip)
        .args(["promote", "--format", "json"])
        .arg(&path)
        .output()
        .expect("plan");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["plan"]["actions"].as_array().map(Vec::len), Some(0), "nothing left to do");
}
