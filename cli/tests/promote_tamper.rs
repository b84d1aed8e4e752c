//! Tamper test: an in-process source registry (wiremock; a real registry cannot be made to serve
//! wrong bytes) serves a blob, or a manifest, whose bytes do not match its digest. The promoter
//! refuses the image, the real destination registry never receives the bad bytes nor any manifest
//! or tag for it, and a good image in the same run is promoted anyway.

use cip::Connection;
use cip::promote::{self, PromoteOptions, Quiet};
use cip::registry::{ClientConfig, RegistryClient};
use cip_core::{Input, SourceFile};
use cip_testkit::{Digest, Registry, random_layer};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// An image served by the mock: (manifest digest, manifest bytes, [(blob digest, bytes served)]).
struct Served {
    digest: String,
    manifest: Vec<u8>,
    blobs: Vec<(String, Vec<u8>)>,
}

/// An image whose layer is served with one byte flipped (when `tamper_blob`).
fn image(seed: u64, tamper_blob: bool) -> Served {
    let layer = random_layer(seed, 40_000);
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
    let mut served_layer = layer;
    if tamper_blob {
        served_layer[20_000] ^= 0x55;
    }
    Served {
        digest: Digest::of(&manifest).to_string(),
        manifest,
        blobs: vec![(ld, served_layer), (cd, config)],
    }
}

async fn serve(server: &MockServer, repo: &str, image: &Served, manifest_bytes: &[u8]) {
    let manifest_path = format!("/v2/{repo}/manifests/{}", image.digest);
    for verb in ["GET", "HEAD"] {
        let response = ResponseTemplate::new(200)
            .insert_header("Content-Type", MANIFEST)
            .insert_header("Docker-Content-Digest", image.digest.as_str())
            .set_body_bytes(manifest_bytes.to_vec());
        Mock::given(method(verb)).and(path(manifest_path.clone())).respond_with(response).mount(server).await;
    }
    for (digest, bytes) in &image.blobs {
        let response = ResponseTemplate::new(200)
            .insert_header("Content-Type", "application/octet-stream")
            .insert_header("Docker-Content-Digest", digest.as_str())
            .set_body_bytes(bytes.clone());
        Mock::given(method("GET"))
            .and(path(format!("/v2/{repo}/blobs/{digest}")))
            .respond_with(response)
            .mount(server)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mismatching_bytes_are_refused_and_never_reach_the_destination() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let good = image(1, false);
    let bad_blob = image(2, true);
    let bad_manifest = image(3, false);
    serve(&server, "good", &good, &good.manifest).await;
    serve(&server, "badblob", &bad_blob, &bad_blob.manifest).await;
    let mut forged = bad_manifest.manifest.clone();
    forged.extend_from_slice(b" ");
    serve(&server, "badmanifest", &bad_manifest, &forged).await;

    let dest = Registry::start().await.expect("destination");
    let src = server.address().to_string();
    let yaml = format!(
        "registries:\n- name: {src}\n  src: true\n- name: {}\nimages:\n\
         - name: good\n  dmap:\n    \"{}\": [\"v1\"]\n\
         - name: badblob\n  dmap:\n    \"{}\": [\"v1\"]\n\
         - name: badmanifest\n  dmap:\n    \"{}\": [\"v1\"]\n",
        dest.host(),
        good.digest,
        bad_blob.digest,
        bad_manifest.digest
    );
    let set = cip_core::load(Input { files: vec![SourceFile::new("promote.yaml", yaml)], thin_dirs: None });
    assert!(!set.has_errors(), "{:?}", set.diagnostics);
    let names = set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone());
    let client = RegistryClient::new(ClientConfig {
        default_rate: Some(0.0),
        docker_config_dir: None,
        ..ClientConfig::default()
    })
    .expect("client");
    let connection = Connection::with_client(names.collect(), client);
    let options = PromoteOptions { confirm: true, ..PromoteOptions::default() };
    let outcome = promote::run_on(&connection, set, &options, &Quiet).await.expect("promotion");
    assert_eq!(outcome.plan.actions.len(), 3, "{:?}", outcome.plan);
    let report = outcome.report.expect("executed");
    assert_eq!(report.summary.failed, 2, "{}", report.to_human());
    assert_eq!(report.summary.done, 1);
    for a in report.actions.iter().filter(|a| a.error.is_some()) {
        assert!(a.error.as_deref().unwrap_or("").contains("integrity"), "{a:?}");
    }

    let d = dest.client();
    assert_eq!(
        d.get_manifest("good", "v1").await.expect("get").expect("good").digest.to_string(),
        good.digest
    );
    for (repo, img) in [("badblob", &bad_blob), ("badmanifest", &bad_manifest)] {
        assert!(!d.manifest_exists(repo, "v1").await.expect("head"), "{repo}: no tag");
        assert!(!d.manifest_exists(repo, &img.digest).await.expect("head"), "{repo}: no manifest");
    }
    let tampered_layer = Digest(bad_blob.blobs[0].0.clone());
    assert!(!d.blob_exists("badblob", &tampered_layer).await.expect("head blob"), "bad bytes never stored");
    let uploads = dest
        .request_log()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.contains(tampered_layer.as_str()));
    assert!(uploads.filter(|r| r.status < 300).count() == 0, "no completed upload of the tampered blob");
}
