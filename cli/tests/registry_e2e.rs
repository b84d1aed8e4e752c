//! End to end against the real CNCF distribution registry (Debian package `docker-registry`),
//! started on 127.0.0.1 by cip-testkit: open, htpasswd Basic and token-auth instances. Images
//! are pushed by the test kit (Docker and OCI media types, multi-arch indexes); cip's readings
//! (inventory for a plan, snapshot, the store used by the copy executor) are checked against
//! what was pushed and against the registries' access logs.

mod registry_support;

use std::collections::BTreeMap;

use cip::Credential;
use cip::read::RepoNeeds;
use cip::registry::{ErrorKind, RegistryClient, Secret};
use cip::store::{Listing, MountOutcome};
use cip_core::{Input, PlanOptions, SourceFile};
use cip_testkit::{MediaKind, Pushed, Registry, random_layer};
use futures_util::StreamExt;
use registry_support::{client, config};

const USER: &str = "promoter";
const PASSWORD: &str = "correct-horse-battery";

struct Staging {
    app: Pushed,
    multi: Pushed,
    untagged: Pushed,
}

/// Pushes a Docker image (tags v1, latest), an OCI multi-arch index (tag 1.0) and an untagged
/// OCI image.
async fn push_staging(registry: &Registry) -> Staging {
    let c = registry.client();
    let app =
        c.push_image("staging/app", Some("v1"), &[random_layer(1, 2048)], MediaKind::Docker).await.unwrap();
    c.tag("staging/app", &app.digest, "latest").await.unwrap();
    let multi = c
        .push_multi_arch(
            "staging/multi",
            Some("1.0"),
            &[random_layer(2, 2048)],
            &["amd64", "arm64"],
            MediaKind::Oci,
        )
        .await
        .unwrap();
    let untagged =
        c.push_image("staging/untagged", None, &[random_layer(3, 512)], MediaKind::Oci).await.unwrap();
    Staging { app, multi, untagged }
}

#[tokio::test]
async fn inventory_matches_what_was_pushed() {
    let registry = Registry::start().await.unwrap();
    let pushed = push_staging(&registry).await;
    let host = registry.host();
    let multi_digest = pushed.multi.digest.as_str().to_string();
    let request: BTreeMap<String, RepoNeeds> = [
        (
            format!("{host}/staging/app"),
            RepoNeeds { tags: ["v1".into(), "latest".into(), "nope".into()].into(), ..RepoNeeds::default() },
        ),
        (
            format!("{host}/staging/multi"),
            RepoNeeds {
                tags: ["1.0".into()].into(),
                children_of: [multi_digest.clone()].into(),
                ..RepoNeeds::default()
            },
        ),
        (
            format!("{host}/staging/untagged"),
            RepoNeeds {
                digests: [pushed.untagged.digest.as_str().to_string()].into(),
                ..RepoNeeds::default()
            },
        ),
        (format!("{host}/staging/missing"), RepoNeeds { tags: ["v1".into()].into(), ..RepoNeeds::default() }),
    ]
    .into();
    let client = client();
    let outcome = registry_support::read(&client, &request).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let repos = &outcome.inventory.repositories;
    let app = &repos[&format!("{host}/staging/app")];
    assert_eq!(app.len(), 1);
    let app_info = &app[pushed.app.digest.as_str()];
    assert_eq!(app_info.tags, ["latest", "v1"]);
    assert_eq!(app_info.media_type.as_deref(), Some(MediaKind::Docker.manifest()));
    let multi = &repos[&format!("{host}/staging/multi")];
    let index = &multi[&multi_digest];
    assert_eq!(index.tags, ["1.0"]);
    assert_eq!(index.media_type.as_deref(), Some(MediaKind::Oci.index()));
    let fetched = registry.client().get_manifest("staging/multi", &multi_digest).await.unwrap().unwrap();
    let mut children: Vec<String> = fetched.children().iter().map(|d| d.as_str().to_string()).collect();
    children.sort();
    assert_eq!(index.children, children);
    let untagged = &repos[&format!("{host}/staging/untagged")];
    assert!(untagged[pushed.untagged.digest.as_str()].tags.is_empty());
    assert!(repos[&format!("{host}/staging/missing")].is_empty());
}

#[tokio::test]
async fn snapshot_uses_the_catalog_and_reads_every_tag() {
    let registry = Registry::start().await.unwrap();
    let pushed = push_staging(&registry).await;
    let host = registry.host();
    registry
        .client()
        .push_image("other/thing", Some("x"), &[random_layer(9, 64)], MediaKind::Oci)
        .await
        .unwrap();
    let client = client();
    let outcome = registry_support::read_prefix(&client, &format!("{host}/staging")).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let names: Vec<&String> = outcome.inventory.repositories.keys().collect();
    assert_eq!(
        names,
        [
            &format!("{host}/staging/app"),
            &format!("{host}/staging/multi"),
            &format!("{host}/staging/untagged")
        ]
    );
    let app = &outcome.inventory.repositories[&format!("{host}/staging/app")];
    assert_eq!(app[pushed.app.digest.as_str()].tags, ["latest", "v1"]);
    let multi = &outcome.inventory.repositories[&format!("{host}/staging/multi")];
    assert_eq!(multi[pushed.multi.digest.as_str()].children.len(), 2);
    assert!(outcome.notes.iter().any(|n| n.contains("untagged digests")), "{:?}", outcome.notes);
}

#[tokio::test]
async fn basic_auth_with_flags_docker_config_and_wrong_password() {
    let registry = Registry::start_basic(USER, PASSWORD).await.unwrap();
    let pushed = push_staging(&registry).await;
    let host = registry.host();
    let repo = format!("{host}/staging/app");

    let mut cfg = config();
    cfg.credentials
        .insert(host.clone(), Credential::Basic { username: USER.into(), password: Secret::new(PASSWORD) });
    let with_flags = RegistryClient::new(cfg).unwrap();
    let head = with_flags.head_manifest(&repo, "v1").await.unwrap().unwrap();
    assert_eq!(head.digest, pushed.app.digest.as_str());

    let docker_dir = tempfile::tempdir().unwrap();
    let auth =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{USER}:{PASSWORD}"));
    std::fs::write(
        docker_dir.path().join("config.json"),
        serde_json::json!({ "auths": { host.clone(): { "auth": auth } } }).to_string(),
    )
    .unwrap();
    let mut cfg = config();
    cfg.docker_config_dir = Some(docker_dir.path().to_path_buf());
    let with_docker_config = RegistryClient::new(cfg).unwrap();
    assert!(with_docker_config.head_manifest(&repo, "v1").await.unwrap().is_some());

    let before = registry.request_log().len();
    let mut cfg = config();
    cfg.credentials
        .insert(host.clone(), Credential::Basic { username: USER.into(), password: Secret::new("wrong") });
    let wrong = RegistryClient::new(cfg).unwrap();
    let request: BTreeMap<String, RepoNeeds> = (0..20)
        .map(|i| {
            (format!("{host}/staging/r{i}"), RepoNeeds { tags: ["v1".into()].into(), ..RepoNeeds::default() })
        })
        .collect();
    let outcome = registry_support::read(&wrong, &request).await;
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert!(matches!(outcome.errors[0].kind, ErrorKind::AuthRefused { .. }));
    assert!(!outcome.errors[0].to_string().contains("wrong"));
    let spent = registry.request_log().len() - before;
    assert!(spent <= 4, "no retry storm on 401: {spent} requests");
}

#[tokio::test]
async fn token_auth_reads_with_one_token_per_repository_scope() {
    let registry = Registry::start_token(USER, PASSWORD).await.unwrap();
    let pushed = push_staging(&registry).await;
    let host = registry.host();
    let issued_before = registry.issued_tokens().len();
    let mut cfg = config();
    cfg.credentials
        .insert(host.clone(), Credential::Basic { username: USER.into(), password: Secret::new(PASSWORD) });
    let client = RegistryClient::new(cfg).unwrap();
    let repo = format!("{host}/staging/app");
    for _ in 0..3 {
        let head = client.head_manifest(&repo, "v1").await.unwrap().unwrap();
        assert_eq!(head.digest, pushed.app.digest.as_str());
    }
    assert_eq!(registry.issued_tokens().len() - issued_before, 1, "the token is cached for its scope");
}

#[tokio::test]
async fn registry_store_copies_blobs_and_manifests_and_mounts_within_a_host() {
    let src = Registry::start().await.unwrap();
    let dst = Registry::start_basic(USER, PASSWORD).await.unwrap();
    let pushed = push_staging(&src).await;
    let mut cfg = config();
    cfg.credentials
        .insert(dst.host(), Credential::Basic { username: USER.into(), password: Secret::new(PASSWORD) });
    let client = RegistryClient::new(cfg).unwrap();
    let from = cip::store::opener(client.clone())(&src.host()).unwrap();
    let to = cip::store::opener(client.clone())(&dst.host()).unwrap();
    let manifest = from.get_manifest("staging/app", pushed.app.digest.as_str()).await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&manifest.bytes).unwrap();
    let mut blobs: Vec<String> =
        doc["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap().to_string()).collect();
    blobs.push(doc["config"]["digest"].as_str().unwrap().to_string());
    for blob in &blobs {
        assert!(!to.blob_exists("prod/app", blob).await.unwrap());
        let stream = from.get_blob("staging/app", blob).await.unwrap();
        to.put_blob("prod/app", blob, stream).await.unwrap();
        assert!(to.blob_exists("prod/app", blob).await.unwrap());
    }
    to.put_manifest("prod/app", &manifest.digest, &manifest).await.unwrap();
    to.put_manifest("prod/app", "v1", &manifest).await.unwrap();
    let head = to.head_manifest("prod/app", "v1").await.unwrap().unwrap();
    assert_eq!(head.digest, pushed.app.digest.as_str());
    assert_eq!(to.list("prod/app").await.unwrap(), Listing::Tags(vec!["v1".into()]));
    // Within one host, blobs mount across repositories.
    for blob in &blobs {
        assert_eq!(to.mount_blob("mirror/app", "prod/app", blob).await.unwrap(), MountOutcome::Mounted);
    }
    let mut body = from.get_blob("staging/app", &blobs[0]).await.unwrap();
    let mut n = 0;
    while let Some(chunk) = body.stream.next().await {
        n += chunk.unwrap().len();
    }
    assert_eq!(n as u64, body.size);
    let absent = from
        .get_manifest(
            "staging/app",
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        )
        .await;
    assert!(absent.unwrap_err().is_not_found());
}

fn manifest_set(src: &str, dst: &str, pushed: &Staging) -> cip_core::ManifestSet {
    let text = format!(
        "registries:\n- name: {src}/staging\n  src: true\n- name: {dst}/prod\nimages:\n\
         - name: app\n  dmap:\n    \"{}\": [\"v1\", \"latest\"]\n\
         - name: multi\n  dmap:\n    \"{}\": [\"1.0\"]\n\
         - name: untagged\n  dmap:\n    \"{}\": []\n",
        pushed.app.digest.as_str(),
        pushed.multi.digest.as_str(),
        pushed.untagged.digest.as_str()
    );
    cip_core::load(Input { files: vec![SourceFile::new("promoter.yaml", text)], thin_dirs: None })
}

#[tokio::test]
async fn plan_reads_sources_only_for_what_is_missing() {
    let src = Registry::start().await.unwrap();
    let dst = Registry::start().await.unwrap();
    let pushed = push_staging(&src).await;
    let set = manifest_set(&src.host(), &dst.host(), &pushed);
    assert!(set.diagnostics.iter().all(|d| !d.is_error()), "{:?}", set.diagnostics);
    let options = PlanOptions::default();

    // Nothing promoted yet: everything is a copy, and index children are known.
    let client = client();
    let outcome = registry_support::read_for_plan(&client, &set).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let plan = cip_core::plan::plan(&set, &outcome.inventory, &options);
    assert_eq!(plan.actions.len(), 3, "{plan:?}");
    assert!(!plan.has_problems(), "{plan:?}");
    let src_multi = &outcome.inventory.repositories[&format!("{}/staging/multi", src.host())];
    assert_eq!(src_multi[pushed.multi.digest.as_str()].children.len(), 2);

    // Promote by pushing the same content to the destination, then re-plan: a no-op that
    // never touches the source.
    let d = dst.client();
    let app =
        d.push_image("prod/app", Some("v1"), &[random_layer(1, 2048)], MediaKind::Docker).await.unwrap();
    d.tag("prod/app", &app.digest, "latest").await.unwrap();
    d.push_multi_arch(
        "prod/multi",
        Some("1.0"),
        &[random_layer(2, 2048)],
        &["amd64", "arm64"],
        MediaKind::Oci,
    )
    .await
    .unwrap();
    d.push_image("prod/untagged", None, &[random_layer(3, 512)], MediaKind::Oci).await.unwrap();
    let src_before = src.request_log().len();
    let dst_before = dst.request_log().len();
    let client = registry_support::client();
    // Without attachments (`--attachments none`): today's floor.
    let names = set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect();
    let off = cip::read::Discovery { attachments: false, artifact_types: Vec::new() };
    let outcome = cip::Connection::with_client(names, client.clone()).read_for_plan_with(&set, &off).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let plan = cip_core::plan::plan(&set, &outcome.inventory, &options);
    assert!(plan.actions.is_empty(), "{plan:?}");
    assert_eq!(plan.summary.present, 4);
    assert_eq!(src.request_log().len() - src_before, 0, "the source is not read on a no-op");
    // Destination: ping, one listing (learns the style), then one HEAD per needed tag and per
    // untagged digest.
    let dst_requests = dst.request_log().len() - dst_before;
    assert!(dst_requests <= 1 + 1 + 4 + 1, "{dst_requests} requests at the destination");

    // With attachments (the default): each repository is listed once more where it was not
    // (for its attachment tags); with no attachment anywhere nothing else is read.
    let (src_before, dst_before) = (src.request_log().len(), dst.request_log().len());
    let outcome = registry_support::read_for_plan(&registry_support::client(), &set).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(cip_core::plan::plan(&set, &outcome.inventory, &options).actions.is_empty());
    let src_log = &src.request_log()[src_before..];
    assert!(src_log.iter().all(|r| r.path.contains("/tags/list") || r.path == "/v2/"), "{src_log:?}");
    assert!(src_log.iter().filter(|r| r.path.contains("/tags/list")).count() <= 3, "{src_log:?}");
    let dst_requests = dst.request_log().len() - dst_before;
    assert!(dst_requests <= 1 + 3 + 4 + 1, "{dst_requests} requests at the destination");
}

/// The distribution registry answers 404 to the tag listing of a repository that holds only
/// untagged manifests; the digest is still there, so promoting it again is a tag, not a copy.
#[tokio::test]
async fn an_untagged_digest_at_the_destination_is_tagged_not_copied() {
    let src = Registry::start().await.unwrap();
    let dst = Registry::start().await.unwrap();
    let layer = random_layer(7, 1024);
    let app = src
        .client()
        .push_image("staging/app", Some("v1"), std::slice::from_ref(&layer), MediaKind::Oci)
        .await
        .unwrap();
    dst.client().push_image("prod/app", None, &[layer], MediaKind::Oci).await.unwrap();
    let text = format!(
        "registries:\n- name: {}/staging\n  src: true\n- name: {}/prod\nimages:\n\
         - name: app\n  dmap:\n    \"{}\": [\"v1\"]\n",
        src.host(),
        dst.host(),
        app.digest.as_str()
    );
    let set = cip_core::load(Input { files: vec![SourceFile::new("promoter.yaml", text)], thin_dirs: None });
    let options = PlanOptions::default();
    let outcome = registry_support::read_for_plan(&client(), &set).await;
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let plan = cip_core::plan::plan(&set, &outcome.inventory, &options);
    assert_eq!(plan.actions.len(), 1, "{plan:?}");
    assert_eq!(plan.actions[0].action, cip_core::plan::ActionKind::Tag, "{plan:?}");
}
