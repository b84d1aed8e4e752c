//! Fan-out (issue 15): one source, several destination registries in one run. Real CNCF
//! distribution registries on loopback (Debian `docker-registry`, started by the test kit); the
//! source is reached through the test kit's recording proxy, which counts what it served.
//!
//! - every source blob is read once for three destinations, which end up byte-identical;
//! - a destination that refuses every blob upload fails only its own actions, and a re-run
//!   completes it;
//! - `oci:` layouts as source and as destinations;
//! - `--dest` restricts the fan-out to the chosen mirrors.
//!
//! Promotions run through `cip::promote::run` with the default rates (loopback: unlimited).

mod promote_support;

use std::collections::BTreeMap;

use cip::promote::{PromoteOptions, Report};
use cip_testkit::{
    FaultKind, FaultProxy, FaultProxyConfig, MediaKind, Pushed, Registry, STAGING_HELLO, STAGING_PLAIN,
    check_complete, random_layer, staging_layout,
};

/// (repo, pushed, tag)
type Pushes = Vec<(String, Pushed, String)>;

/// An OCI index of two platforms sharing a layer with two plain images.
async fn seed(source: &Registry) -> Pushes {
    let client = source.client();
    let shared = random_layer(7, 96 * 1024);
    let multi = client
        .push_multi_arch(
            "team/multi",
            Some("v1"),
            &[shared.clone(), random_layer(8, 64 * 1024)],
            &["amd64", "arm64"],
            MediaKind::Oci,
        )
        .await
        .expect("index");
    let mut out = vec![("team/multi".to_owned(), multi, "v1".to_owned())];
    for (i, repo) in ["app/a", "app/b"].into_iter().enumerate() {
        let layers = [shared.clone(), random_layer(20 + i as u64, 128 * 1024)];
        let image = client.push_image(repo, Some("v1"), &layers, MediaKind::Docker).await.expect("image");
        out.push((repo.to_owned(), image, "v1".to_owned()));
    }
    out
}

fn yaml(src: &str, dests: &[String], pushes: &Pushes) -> String {
    let mut out = format!("registries:\n- name: {src}\n  src: true\n");
    for d in dests {
        out.push_str(&format!("- name: {d}\n"));
    }
    out.push_str("images:\n");
    for (repo, pushed, tag) in pushes {
        out.push_str(&format!("- name: {repo}\n  dmap:\n    \"{}\": [\"{tag}\"]\n", pushed.digest.as_str()));
    }
    out
}

async fn promote(yaml: &str) -> Report {
    promote_support::run(yaml, &promote_support::options(true)).await.report.expect("something to do")
}

async fn assert_promoted(dest: &Registry, pushes: &Pushes) {
    let client = dest.client();
    for (repo, pushed, tag) in pushes {
        let got =
            client.get_manifest(repo, tag).await.expect("get").unwrap_or_else(|| panic!("{repo}:{tag}"));
        assert_eq!(got.bytes, pushed.bytes, "{}: {repo}:{tag} byte-exact", dest.host());
        check_complete(&client, repo).await.expect("every blob and child present");
    }
}

/// Source blob `GET`s per blob path, as the proxy saw them.
fn blob_reads(proxy: &FaultProxy) -> BTreeMap<String, usize> {
    let mut reads = BTreeMap::new();
    for r in proxy.requests().into_iter().filter(|r| r.method == "GET" && r.path.contains("/blobs/sha256:")) {
        *reads.entry(r.path.split('?').next().unwrap_or_default().to_owned()).or_default() += 1;
    }
    reads
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_source_blob_is_read_once_for_three_registries() {
    let source = Registry::start().await.expect("source");
    let proxy = FaultProxy::start(FaultProxyConfig::transparent(source.host())).await.expect("proxy");
    let dests = [
        Registry::start().await.expect("d1"),
        Registry::start().await.expect("d2"),
        Registry::start().await.expect("d3"),
    ];
    let pushes = seed(&source).await;
    let names: Vec<String> = dests.iter().map(Registry::host).collect();

    let report = promote(&yaml(&proxy.host(), &names, &pushes)).await;
    assert!(!report.has_failures(), "{}", report.to_human());
    for dest in &dests {
        assert_promoted(dest, &pushes).await;
    }
    let mut manifest_gets: BTreeMap<String, usize> = BTreeMap::new();
    for r in proxy.requests().into_iter().filter(|r| r.method == "GET" && r.path.contains("/manifests/")) {
        *manifest_gets.entry(r.path).or_default() += 1;
    }
    // One GET per manifest for the copies, and an index's body once more for the plan (which
    // records its children), however many destinations.
    assert!(manifest_gets.values().all(|&n| n <= 2), "{manifest_gets:#?}");
    let reads = blob_reads(&proxy);
    // 2 index children x (config + 2 layers, one layer shared by all) and 2 images x (config + 2).
    assert!(reads.len() >= 7, "{reads:?}");
    assert!(reads.values().all(|&n| n == 1), "every blob read from the source once: {reads:?}");
    let served = proxy.body_bytes("GET", "/blobs/sha256:");
    assert_eq!(report.summary.bytes, 3 * served, "each destination got every byte the source served once");
    // The report carries each host's rate: loopback hosts are unlimited and never throttled.
    let host = &report.hosts[&proxy.host()];
    assert_eq!(
        (host.limiter.mode.as_str(), host.limiter.rate, host.limiter.throttled),
        ("adaptive", None, 0)
    );
    assert!(host.requests > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dest_restricts_the_fan_out_to_the_chosen_registries() {
    let source = Registry::start().await.expect("source");
    let proxy = FaultProxy::start(FaultProxyConfig::transparent(source.host())).await.expect("proxy");
    let dests = [Registry::start().await.expect("d1"), Registry::start().await.expect("d2")];
    let other = Registry::start().await.expect("d3");
    let pushes = seed(&source).await;
    let mut names: Vec<String> = dests.iter().map(Registry::host).collect();
    names.push(other.host());
    let options = PromoteOptions { dest: names[..2].to_vec(), ..promote_support::options(true) };
    let yaml = yaml(&proxy.host(), &names, &pushes);
    let report = promote_support::run(&yaml, &options).await.report.expect("work");
    assert!(!report.has_failures(), "{}", report.to_human());
    for dest in &dests {
        assert_promoted(dest, &pushes).await;
    }
    // (The test kit's readiness probe is the only `/v2/` request it ever got.)
    let touched: Vec<String> =
        other.request_log().into_iter().filter(|r| r.path != "/v2/").map(|r| r.path).collect();
    assert!(touched.is_empty(), "the mirror not chosen is not touched: {touched:?}");
    let reads = blob_reads(&proxy);
    assert!(!reads.is_empty() && reads.values().all(|&n| n == 1), "{reads:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_destination_fails_alone_and_a_rerun_completes_it() {
    let source = Registry::start().await.expect("source");
    let proxy = FaultProxy::start(FaultProxyConfig::transparent(source.host())).await.expect("proxy");
    let good = [Registry::start().await.expect("d1"), Registry::start().await.expect("d2")];
    let sick_registry = Registry::start().await.expect("d3");
    // Every blob upload to the third destination is answered 500 (reads still work).
    let mut faults = FaultProxyConfig::new(sick_registry.host(), 15, 1.0)
        .with_kinds(&[FaultKind::Status500])
        .with_methods(&["PUT", "PATCH"])
        .with_paths(&["/blobs/"]);
    faults.max_faults_per_request = u32::MAX;
    let sick = FaultProxy::start(faults).await.expect("sick proxy");
    let pushes = seed(&source).await;
    let mut names: Vec<String> = good.iter().map(Registry::host).collect();
    names.push(sick.host());
    let manifest = yaml(&proxy.host(), &names, &pushes);

    let report = promote(&manifest).await;
    let failed: Vec<&str> =
        report.actions.iter().filter(|a| a.error.is_some()).map(|a| a.dst.as_str()).collect();
    assert_eq!(failed.len(), pushes.len(), "{}", report.to_human());
    assert!(
        failed.iter().all(|d| d.starts_with(&sick.host())),
        "only the sick destination fails: {failed:?}"
    );
    for dest in &good {
        assert_promoted(dest, &pushes).await;
    }
    assert!(sick.total_faults() > 0);
    // Its retries were served from the spools: still one source read per blob.
    assert!(blob_reads(&proxy).values().all(|&n| n == 1), "{:?}", blob_reads(&proxy));

    sick.set_enabled(false);
    let again = promote(&manifest).await;
    assert!(!again.has_failures(), "{}", again.to_human());
    assert!(
        again.actions.iter().all(|a| a.dst.starts_with(&sick.host())),
        "only the unfinished mirror has work"
    );
    assert_promoted(&sick_registry, &pushes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layouts_as_source_and_destinations() {
    let dir = tempfile::tempdir().expect("dir");
    staging_layout(dir.path());
    let registry = Registry::start().await.expect("registry");
    let root = dir.path().display();
    let manifest = format!(
        "registries:\n- name: oci:{root}/staging\n  src: true\n- name: oci:{root}/prod-a\n- name: oci:{root}/prod-b\n\
         - name: {}\nimages:\n- name: hello\n  dmap:\n    \"{STAGING_HELLO}\": [\"v1\"]\n\
         - name: plain\n  dmap:\n    \"{STAGING_PLAIN}\": [\"1.0\"]\n",
        registry.host()
    );
    let report = promote(&manifest).await;
    assert!(!report.has_failures(), "{}", report.to_human());
    assert_eq!(report.actions.len(), 6);
    let staging_blobs = dir.path().join("staging/blobs/sha256");
    for prod in ["prod-a", "prod-b"] {
        // Every blob the promotion wrote is the source's, byte for byte.
        let blobs = dir.path().join(prod).join("blobs/sha256");
        let written: Vec<_> = std::fs::read_dir(&blobs).expect("blobs").flatten().collect();
        assert!(!written.is_empty());
        for entry in written {
            let name = entry.file_name();
            assert_eq!(
                std::fs::read(entry.path()).expect("read"),
                std::fs::read(staging_blobs.join(&name)).expect("source blob"),
                "{prod}: {name:?}"
            );
        }
    }
    let client = registry.client();
    for (repo, tag, digest) in [("hello", "v1", STAGING_HELLO), ("plain", "1.0", STAGING_PLAIN)] {
        let got = client.get_manifest(repo, tag).await.expect("get").expect("tagged");
        assert_eq!(got.digest.as_str(), digest);
        check_complete(&client, repo).await.expect("complete");
    }

    // A registry source feeding two layouts: one source read per blob.
    let proxy = FaultProxy::start(FaultProxyConfig::transparent(registry.host())).await.expect("proxy");
    let to_layouts = format!(
        "registries:\n- name: {}\n  src: true\n- name: oci:{root}/mirror-a\n- name: oci:{root}/mirror-b\nimages:\n\
         - name: hello\n  dmap:\n    \"{STAGING_HELLO}\": [\"v1\"]\n",
        proxy.host()
    );
    let report = promote(&to_layouts).await;
    assert!(!report.has_failures(), "{}", report.to_human());
    let reads = blob_reads(&proxy);
    assert!(!reads.is_empty() && reads.values().all(|&n| n == 1), "{reads:?}");
}

/// Request economy at a cold destination: the distribution registry answers `tags/list` of a
/// repository that does not exist exactly as it answers one holding only untagged manifests, so
/// the open registry's catalog proves which repositories hold nothing: no `HEAD` per digest for
/// them, while an untagged-only repository is still found (and its digest is only tagged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_destination_costs_no_head_per_digest() {
    let source = Registry::start().await.expect("source");
    let destination = Registry::start().await.expect("destination");
    let proxy = FaultProxy::start(FaultProxyConfig::transparent(destination.host())).await.expect("proxy");
    let pushes = seed(&source).await;
    // app/a already holds its image, untagged.
    let (_, image_a, _) = &pushes[1];
    let layers_a = [random_layer(7, 96 * 1024), random_layer(20, 128 * 1024)];
    let untagged =
        destination.client().push_image("app/a", None, &layers_a, MediaKind::Docker).await.expect("push");
    assert_eq!(untagged.digest, image_a.digest, "the same image");

    let yaml = yaml(&source.host(), &[proxy.host()], &pushes);
    let plan = promote_support::run(&yaml, &promote_support::options(false)).await.plan;
    let kinds: Vec<(String, cip_core::ActionKind)> =
        plan.actions.iter().map(|a| (a.dst.clone(), a.action)).collect();
    let tagged_only =
        kinds.iter().filter(|(d, k)| d.ends_with("/app/a") && *k == cip_core::ActionKind::Tag).count();
    assert_eq!(tagged_only, 1, "the untagged digest is found, only tagged: {kinds:?}");
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    let requests = proxy.requests();
    let heads: Vec<&str> = requests
        .iter()
        .filter(|r| r.method == "HEAD" && r.path.contains("/manifests/sha256:"))
        .map(|r| r.path.as_str())
        .collect();
    assert!(
        heads.iter().all(|p| p.contains("/app/a/")),
        "only the repository in the catalog is checked: {heads:?}"
    );
    assert_eq!(requests.iter().filter(|r| r.path.starts_with("/v2/_catalog")).count(), 1);
}
