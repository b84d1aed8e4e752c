//! Plan files (`cip plan --out`) and `cip apply`'s checks: deterministic bytes, refusal of
//! another format version, a changed manifest (`--check`) or something that is not a plan file;
//! and the write-time re-checks against real stores: a tag moved behind cip's back after
//! planning is refused as `tag-move` and left alone (CNCF distribution registry on loopback),
//! a source digest that vanished is `lost` (an `oci:` layout, where removing a manifest is a
//! file deletion; the test registries never delete).

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use cip_testkit::{MediaKind, Registry, cip_binary, random_layer, run_bounded};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

const DIGEST_A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const DIGEST_B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn cip(dir: &Path, args: &[&str]) -> Output {
    Command::new(cip_binary().expect("cip binary"))
        .args(args)
        .current_dir(dir)
        .env("DOCKER_CONFIG", dir.join("no-docker-config"))
        .output()
        .expect("run cip")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Two manifests and an inventory where both digests are in the source and missing downstream.
fn offline_inputs(dir: &Path) {
    for (name, image, digest) in [("a.yaml", "foo", DIGEST_A), ("b.yaml", "bar", DIGEST_B)] {
        let yaml = format!(
            "registries:\n- name: src.example/stage\n  src: true\n- name: dst.example/prod\n  service-account: p@x.iam.gserviceaccount.com\nimages:\n- name: {image}\n  dmap:\n    \"{digest}\": [\"1.0\", \"latest\"]\n"
        );
        std::fs::write(dir.join(name), yaml).unwrap();
    }
    let inventory = serde_json::json!({"repositories": {
        "src.example/stage/foo": {DIGEST_A: {"tags": []}},
        "src.example/stage/bar": {DIGEST_B: {"tags": []}},
        "dst.example/prod/foo": {},
        "dst.example/prod/bar": {DIGEST_B: {"tags": ["1.0"]}},
    }});
    std::fs::write(dir.join("inventory.json"), inventory.to_string()).unwrap();
}

#[test]
fn plan_file_is_self_describing_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    offline_inputs(dir.path());
    let first =
        cip(dir.path(), &["plan", "--inventory", "inventory.json", "--out", "one.json", "a.yaml", "b.yaml"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let second =
        cip(dir.path(), &["plan", "--inventory", "inventory.json", "--out", "two.json", "b.yaml", "a.yaml"]);
    assert_eq!(second.status.code(), Some(0));
    let one = std::fs::read(dir.path().join("one.json")).unwrap();
    assert_eq!(one, std::fs::read(dir.path().join("two.json")).unwrap(), "same inputs, same bytes");

    let file: Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(file["format"], "cip-plan");
    assert_eq!(file["version"], 1);
    // The plan inside is exactly `cip plan --format json`'s.
    let plan =
        cip(dir.path(), &["plan", "--inventory", "inventory.json", "--format", "json", "a.yaml", "b.yaml"]);
    assert_eq!(file["plan"], serde_json::from_slice::<Value>(&plan.stdout).unwrap());
    for (i, name) in ["a.yaml", "b.yaml"].into_iter().enumerate() {
        let bytes = std::fs::read(dir.path().join(name)).unwrap();
        let sha = format!("sha256:{:x}", Sha256::digest(&bytes));
        assert_eq!(file["manifests"][i], serde_json::json!({"path": name, "sha256": sha}));
    }
    assert_eq!(
        file["registries"][0],
        serde_json::json!({"name": "dst.example/prod", "serviceAccount": "p@x.iam.gserviceaccount.com"})
    );
    // Plan order (by destination): bar's digest is there, `latest` missing -> a tag action;
    // foo is a copy with both tags.
    let actions = file["plan"]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(
        file["preconditions"],
        serde_json::json!([
            {"sourcePresent": null, "destinationPresent": format!("dst.example/prod/bar@{DIGEST_B}"), "tagsAbsentOrAtDigest": ["latest"]},
            {"sourcePresent": format!("src.example/stage/foo@{DIGEST_A}"), "destinationPresent": null, "tagsAbsentOrAtDigest": ["1.0", "latest"]},
        ])
    );
}

#[test]
fn apply_refuses_another_version_changed_manifests_and_other_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    offline_inputs(d);
    assert!(
        cip(d, &["plan", "--inventory", "inventory.json", "--out", "plan.json", "a.yaml", "b.yaml"])
            .status
            .success()
    );
    let plan = std::fs::read_to_string(d.join("plan.json")).unwrap();

    std::fs::write(d.join("v2.json"), plan.replace("\"version\": 1", "\"version\": 2")).unwrap();
    let out = cip(d, &["apply", "v2.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("v2.json: plan file format version 2, this cip reads version 1"),
        "{}",
        text(&out.stderr)
    );

    std::fs::write(
        d.join("b.yaml"),
        std::fs::read_to_string(d.join("b.yaml")).unwrap().replace("latest", "stable"),
    )
    .unwrap();
    let out = cip(d, &["apply", "plan.json", "--check", "a.yaml", "--check", "b.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("changed since planning: b.yaml"), "{}", text(&out.stderr));
    let out = cip(d, &["apply", "plan.json", "--check", "a.yaml"]);
    assert!(text(&out.stderr).contains("missing: b.yaml"), "{}", text(&out.stderr));

    let plain = cip(d, &["plan", "--inventory", "inventory.json", "--format", "json", "a.yaml"]);
    std::fs::write(d.join("plain.json"), &plain.stdout).unwrap();
    let out = cip(d, &["apply", "plain.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("plain.json: not a cip plan file"), "{}", text(&out.stderr));

    std::fs::write(d.join("broken.json"), plan.replacen("\"plan\": {", "\"plan\": {,", 1)).unwrap();
    let out = cip(d, &["apply", "broken.json"]);
    assert_eq!(out.status.code(), Some(2));
    let line = plan.lines().position(|l| l.starts_with("  \"plan\": {")).unwrap() + 1;
    assert!(text(&out.stderr).contains(&format!("broken.json:{line}:")), "{}", text(&out.stderr));

    let out = cip(d, &["apply", "plan.json", "--shard", "4/4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected I/N with 0 <= I < N"), "{}", text(&out.stderr));
}

/// A source registry holding `stage/app:v1` (one layer), an empty destination, the pushed image
/// and the manifest promoting its digest from `stage/app` to `prod/app` under `tags` (the items
/// of a YAML flow list).
async fn stage_app(tags: &str) -> (Registry, Registry, cip_testkit::Pushed, String) {
    let src = Registry::start().await.unwrap();
    let dst = Registry::start().await.unwrap();
    let wanted = src
        .client()
        .push_image("stage/app", Some("v1"), &[random_layer(1, 4096)], MediaKind::Oci)
        .await
        .unwrap();
    let yaml = format!(
        "registries:\n- name: {}/stage\n  src: true\n- name: {}/prod\nimages:\n- name: app\n  dmap:\n    \"{}\": [{tags}]\n",
        src.host(),
        dst.host(),
        wanted.digest
    );
    (src, dst, wanted, yaml)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_moved_after_planning_is_refused_and_left_alone() {
    let (src, dst, wanted, yaml) = stage_app(r#""v1", "stable""#).await;
    let other =
        src.client().push_image("stage/app", None, &[random_layer(2, 4096)], MediaKind::Oci).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("promote.yaml"), yaml).unwrap();
    let plan = cip(dir.path(), &["plan", "--out", "plan.json", "promote.yaml"]);
    assert!(plan.status.success(), "{}", text(&plan.stderr));

    // Behind cip's back: someone pushes another image to prod/app:v1 after the review.
    let layers = [random_layer(2, 4096)];
    let moved = dst.client().push_image("prod/app", Some("v1"), &layers, MediaKind::Oci).await.unwrap();
    assert_eq!(moved.digest, other.digest);

    let mut command = Command::new(cip_binary().unwrap());
    command
        .args(["apply", "plan.json", "--report", "report.json"])
        .current_dir(dir.path())
        .env("DOCKER_CONFIG", dir.path());
    let out = run_bounded(command, Duration::from_secs(60)).await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("refused: tag-move {}/prod/app:v1 points at {}", dst.host(), other.digest)),
        "{stdout}"
    );
    // v1 was not moved; the rest of the action (the digest, the other tag) was done.
    let client = dst.client();
    assert_eq!(client.get_manifest("prod/app", "v1").await.unwrap().unwrap().digest, other.digest);
    assert_eq!(client.get_manifest("prod/app", "stable").await.unwrap().unwrap().digest, wanted.digest);
    let puts = dst
        .request_log()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/manifests/v1"))
        .count();
    assert_eq!(puts, 1, "only the push behind cip's back wrote v1");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    let action = &report["report"]["actions"][0];
    assert_eq!(action["result"], "refused");
    assert_eq!(
        action["refused"],
        serde_json::json!([{"code": "tag-move", "tag": "v1", "found": other.digest.to_string()}])
    );
    assert_eq!(report["report"]["summary"]["refused"], 1);
}

#[test]
fn a_source_digest_gone_after_planning_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    cip_testkit::staging_layout(d);
    std::fs::write(d.join("promote.yaml"), cip_testkit::layout_promotion(d, "\"v1\"")).unwrap();
    let plan = cip(d, &["plan", "--out", "plan.json", "promote.yaml"]);
    assert!(plan.status.success(), "{}{}", text(&plan.stdout), text(&plan.stderr));
    let file: Value = serde_json::from_str(&std::fs::read_to_string(d.join("plan.json")).unwrap()).unwrap();
    let plain = file["plan"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["dst"].as_str().unwrap().ends_with("/plain"))
        .unwrap();
    let hex = plain["digest"].as_str().unwrap().trim_start_matches("sha256:");
    std::fs::remove_file(d.join("staging/blobs/sha256").join(hex)).unwrap();

    let out = cip(d, &["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(1), "{}{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("refused: lost ") && stdout.contains("is no longer in "), "{stdout}");
    assert!(stdout.contains("/prod/plain@") && stdout.contains("/staging/plain: nothing tagged"), "{stdout}");
    let done = stdout.lines().find(|l| l.trim_start().starts_with("actions done")).unwrap();
    assert!(done.trim_end().ends_with(" 1"), "hello is still promoted: {stdout}");
}

/// Moves `prod/app:v1` to another image the moment the plan is known, before anything is written.
struct MoveTagAfterPlanning {
    dst: cip_testkit::Client,
    layers: Vec<Vec<u8>>,
}

impl cip::Observer for MoveTagAfterPlanning {
    fn plan(&self, plan: &cip_core::Plan) {
        assert_eq!(plan.actions.len(), 1, "the planner saw v1 absent: one copy");
        let push = self.dst.push_image("prod/app", Some("v1"), &self.layers, MediaKind::Oci);
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(push)).unwrap();
    }
}

/// `cip promote --confirm` (the library's `promote::run`, which the binary and the Node addon
/// call) re-checks like `cip apply`: a tag moved between planning and writing is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_confirm_re_checks_a_tag_moved_after_planning() {
    let (_src, dst, wanted, yaml) = stage_app(r#""v1""#).await;
    let input =
        cip_core::Input { files: vec![cip_core::SourceFile::new("promote.yaml", yaml)], thin_dirs: None };
    let options = cip::PromoteOptions {
        confirm: true,
        registry: cip::RegistryOptions { no_docker_config: true, ..cip::RegistryOptions::default() },
        ..cip::PromoteOptions::default()
    };
    let observer = MoveTagAfterPlanning { dst: dst.client(), layers: vec![random_layer(2, 4096)] };
    let outcome = cip::promote::run(input, &options, &observer).await.unwrap();
    let report = outcome.report.expect("executed");
    assert_eq!(report.summary.refused, 1);
    assert_eq!(report.actions[0].refused[0].code, "tag-move");
    let now = dst.client().get_manifest("prod/app", "v1").await.unwrap().unwrap();
    assert_ne!(now.digest, wanted.digest, "v1 was not moved back");
}
