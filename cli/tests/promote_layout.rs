//! Promotion between OCI image layouts (no server): the shipped staging layout is promoted into a
//! fresh layout, which skopeo must be able to read; a re-run does nothing; tampered bytes are
//! refused without blocking other images; a tag move is refused without blocking other images.

use std::path::{Path, PathBuf};
use std::process::Command;

use cip::promote::{self, PromoteOptions, Quiet, Report};
use cip::{Connection, Layout, RegistryOptions, Store};
use cip_core::{Input, Plan, SourceFile};
use cip_testkit::{copy_dir, layout_promotion, staging_layout};

const HELLO: &str = cip_testkit::STAGING_HELLO;
const PLAIN: &str = cip_testkit::STAGING_PLAIN;

/// A temporary directory holding a copy of `examples/staging` and a manifest promoting it.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(hello_tags: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        staging_layout(dir.path());
        let yaml = layout_promotion(dir.path(), hello_tags);
        std::fs::write(dir.path().join("promote.yaml"), yaml).expect("write manifest");
        Fixture { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn prod(&self) -> Layout {
        Layout::open(&format!("oci:{}", self.path("prod").display())).expect("layout")
    }

    /// Plans and (with `confirm`) executes, like `cip promote`.
    async fn promote(&self, confirm: bool) -> (Plan, Option<Report>) {
        let path = self.path("promote.yaml").display().to_string();
        let text = std::fs::read_to_string(&path).expect("manifest");
        let set = cip_core::load(Input { files: vec![SourceFile::new(path, text)], thin_dirs: None });
        assert!(!set.has_errors(), "{:?}", set.diagnostics);
        let names = set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect();
        let connection =
            Connection::open(names, Some(&set), &RegistryOptions::default()).expect("connection");
        let options = PromoteOptions { confirm, ..PromoteOptions::default() };
        let outcome = promote::run_on(&connection, set, &options, &Quiet).await.expect("promotion");
        assert!(outcome.read_errors.is_empty(), "{:?}", outcome.read_errors);
        (outcome.plan, outcome.report)
    }
}

#[allow(clippy::print_stderr)]
fn skopeo(args: &[&str]) -> Option<String> {
    if !Path::new("/usr/bin/skopeo").exists() {
        eprintln!("skopeo not installed (apt-get install skopeo): skipping the skopeo check");
        return None;
    }
    let out = Command::new("/usr/bin/skopeo").args(args).output().expect("run skopeo");
    assert!(out.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).expect("utf8"))
}

#[tokio::test]
async fn staging_promotes_into_a_fresh_layout_that_skopeo_reads() {
    let fx = Fixture::new("\"v1\", \"latest\"");
    let (plan, _) = fx.promote(false).await;
    assert_eq!(plan.actions.len(), 2);
    assert!(!fx.path("prod").exists(), "a dry run writes nothing");

    let (_, report) = fx.promote(true).await;
    let report = report.expect("report");
    assert!(!report.has_failures(), "{}", report.to_human());
    assert_eq!(report.summary.tags, 3);
    assert_eq!(report.summary.manifests, 4, "index, two children, plain image");
    assert_eq!(report.summary.blobs_uploaded, 7, "the shared layer is transferred once");

    let prod = fx.prod();
    for (repo, tag, digest) in [("hello", "v1", HELLO), ("hello", "latest", HELLO), ("plain", "1.0", PLAIN)] {
        let manifest = prod.get_manifest(repo, tag).await.expect("tagged manifest");
        assert_eq!(manifest.digest, digest);
    }
    let cip::store::Listing::Full(hello) = prod.list("hello").await.expect("listing") else {
        panic!("hello is listed")
    };
    assert_eq!(hello[HELLO].tags, ["latest", "v1"]);

    let dir = fx.path("prod").display().to_string();
    if let Some(raw) = skopeo(&["inspect", "--raw", &format!("oci:{dir}:hello:v1")]) {
        assert_eq!(
            format!("sha256:{:x}", <sha2::Sha256 as sha2::Digest>::digest(raw.as_bytes())),
            HELLO,
            "byte-exact index"
        );
        let digest = skopeo(&["inspect", "--format", "{{.Digest}}", &format!("oci:{dir}:plain:1.0")]);
        assert_eq!(digest.as_deref().map(str::trim), Some(PLAIN));
        let copy = fx.path("skopeo-copy").display().to_string();
        skopeo(&["copy", "--all", &format!("oci:{dir}:hello:v1"), &format!("oci:{copy}:hello")]);
    }

    let (again, _) = fx.promote(true).await;
    assert!(again.actions.is_empty(), "a re-run has nothing to do: {:?}", again.actions);
    assert_eq!(again.summary.present, 3);
}

#[tokio::test]
async fn tampered_blob_is_refused_and_other_images_still_promote() {
    let fx = Fixture::new("\"v1\"");
    // The arm64 image's own layer: change its bytes but keep its name (digest).
    let staging = Layout::open(&format!("oci:{}", fx.path("staging").display())).expect("layout");
    let index = staging.get_manifest("hello", "v1").await.expect("index");
    let index: serde_json::Value = serde_json::from_slice(&index.bytes).expect("json");
    let arm = index["manifests"][1]["digest"].as_str().expect("child").to_owned();
    let arm = staging.get_manifest("hello", &arm).await.expect("arm64 manifest");
    let arm: serde_json::Value = serde_json::from_slice(&arm.bytes).expect("json");
    let layer = arm["layers"][1]["digest"].as_str().expect("layer").to_owned();
    let blob = fx.path("staging/blobs/sha256").join(&layer["sha256:".len()..]);
    let mut bytes = std::fs::read(&blob).expect("blob");
    bytes[600] ^= 0xff;
    std::fs::write(&blob, bytes).expect("tamper");

    let (_, report) = fx.promote(true).await;
    let report = report.expect("report");
    assert_eq!(report.summary.failed, 1);
    let failed = report.actions.iter().find(|a| a.error.is_some()).expect("failure");
    assert!(failed.dst.ends_with("/hello"));
    assert!(failed.error.as_deref().unwrap_or("").contains("integrity: blob "), "{failed:?}");

    let prod = fx.prod();
    assert!(prod.head_manifest("hello", "v1").await.expect("head").is_none(), "no tag for a refused image");
    assert!(prod.head_manifest("hello", HELLO).await.expect("head").is_none(), "no index either");
    assert!(!prod.blob_exists("hello", &layer).await.expect("exists"), "the bad blob never lands");
    assert_eq!(prod.get_manifest("plain", "1.0").await.expect("plain").digest, PLAIN);
}

#[tokio::test]
async fn a_tag_move_is_refused_and_nothing_else_is_blocked() {
    let fx = Fixture::new("\"v1\"");
    // Production already has hello:v1 at the plain image's digest.
    let staging = Layout::open(&format!("oci:{}", fx.path("staging").display())).expect("layout");
    let plain = staging.get_manifest("plain", PLAIN).await.expect("plain");
    let prod = fx.prod();
    let data = std::fs::read(fx.path("staging/blobs/sha256").join(&PLAIN["sha256:".len()..])).expect("read");
    assert_eq!(data, plain.bytes);
    // Put the plain image (with its blobs) into prod, then point hello:v1 at it.
    copy_dir(&fx.path("staging/blobs"), &fx.path("prod/blobs"));
    prod.put_manifest("hello", PLAIN, &plain).await.expect("put by digest");
    prod.put_manifest("hello", "v1", &plain).await.expect("put tag");

    let (plan, report) = fx.promote(true).await;
    assert_eq!(plan.blocked.len(), 1, "{:?}", plan.blocked);
    assert!(plan.blocked[0].reasons.iter().any(|r| r == "tag-move"), "{:?}", plan.blocked);
    let report = report.expect("report");
    assert!(!report.has_failures(), "{}", report.to_human());
    assert_eq!(prod.get_manifest("hello", "v1").await.expect("v1").digest, PLAIN, "the tag did not move");
    assert_eq!(prod.get_manifest("plain", "1.0").await.expect("plain").digest, PLAIN);
}

#[test]
fn dest_restricts_a_run_to_one_mirror() {
    let dir = tempfile::tempdir().expect("tempdir");
    staging_layout(dir.path());
    let root = dir.path().display();
    let yaml = format!(
        "registries:\n- name: oci:{root}/staging\n  src: true\n- name: oci:{root}/east\n- name: oci:{root}/west\n\
         images:\n- name: plain\n  dmap:\n    \"{PLAIN}\": [\"1.0\"]\n"
    );
    let manifest = dir.path().join("promote.yaml");
    std::fs::write(&manifest, yaml).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cip"))
        .args(["promote", "--confirm", "--format", "json", "--dest", &format!("oci:{root}/east")])
        .arg(&manifest)
        .output()
        .expect("run cip");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(json["report"]["summary"]["done"], 1);
    assert_eq!(json["report"]["actions"][0]["result"], "done");
    assert!(dir.path().join("east/index.json").exists());
    assert!(!dir.path().join("west").exists(), "the other mirror is another job's");
}

#[tokio::test]
async fn a_digest_left_untagged_by_an_interrupted_run_gets_its_tags() {
    let fx = Fixture::new("\"v1\"");
    // An interrupted run wrote the plain image by digest (with its blobs) but no tag.
    let staging = Layout::open(&format!("oci:{}", fx.path("staging").display())).expect("layout");
    let plain = staging.get_manifest("plain", PLAIN).await.expect("plain");
    copy_dir(&fx.path("staging/blobs"), &fx.path("prod/blobs"));
    fx.prod().put_manifest("plain", PLAIN, &plain).await.expect("put by digest");

    let (plan, report) = fx.promote(true).await;
    assert!(plan.blocked.is_empty(), "{:?}", plan.blocked);
    assert!(plan.actions.iter().any(|a| a.action == cip_core::ActionKind::Tag && a.dst.ends_with("/plain")));
    assert!(!report.expect("report").has_failures());
    assert_eq!(fx.prod().get_manifest("plain", "1.0").await.expect("tagged").digest, PLAIN);
}
