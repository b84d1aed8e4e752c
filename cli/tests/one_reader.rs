//! The one inventory reader, through the `cip` binary: `cip plan`, `cip promote` (dry run),
//! `cip audit` and `cip snapshot` read `oci:` layouts and HTTP registries alike, and `cip plan`
//! and `cip promote`'s dry run print identical plans for the same manifests. Before the engine
//! had one reader, `cip plan examples/promote.yaml` blocked every edge as `inventory-missing`,
//! `cip audit` on an `oci:` manifest said "0 drift in 0 repositories", and `cip snapshot oci:DIR`
//! failed building a URL. Real components: layouts on disk, the CNCF distribution registry.

use std::path::Path;
use std::process::{Command, Output};

use cip_testkit::{MediaKind, Registry, copy_dir, random_layer};
use serde_json::Value;

fn cip(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cip"))
        .args(args)
        .current_dir(dir)
        .env_remove("DOCKER_CONFIG")
        .env("HOME", "/nonexistent-cip-test-home")
        .output()
        .expect("cip runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
    })
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// `cip plan --format json` and `cip promote --format json` (dry run) for the same manifests.
fn plans(dir: &Path, manifest: &str, extra: &[&str]) -> (Value, Value) {
    let mut args = vec!["plan", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(manifest);
    let plan = cip(dir, &args);
    args[0] = "promote";
    let promote = cip(dir, &args);
    assert_eq!(plan.status.code(), promote.status.code(), "{}\n{}", text(&plan), text(&promote));
    (json(&plan), json(&promote)["plan"].clone())
}

#[test]
fn plan_promote_audit_and_snapshot_read_oci_layouts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    copy_dir(&examples.join("staging"), &dir.path().join("examples/staging"));
    std::fs::copy(examples.join("promote.yaml"), dir.path().join("examples/promote.yaml")).expect("copy");
    let manifest = "examples/promote.yaml";

    // Before anything is promoted: two copies, nothing blocked, the same plan both ways.
    let (plan, promote) = plans(dir.path(), manifest, &[]);
    assert_eq!(plan, promote, "cip plan and cip promote's dry run print identical plans");
    assert_eq!(plan["summary"]["copy"], 3, "{plan:#}");
    assert_eq!(plan["blocked"].as_array().map(Vec::len), Some(0), "{plan:#}");

    let done = cip(dir.path(), &["promote", "--confirm", manifest]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done));

    // After: nothing to do, both ways, and the production layout is what the manifests say.
    let (plan, promote) = plans(dir.path(), manifest, &[]);
    assert_eq!(plan, promote);
    assert_eq!(plan["actions"].as_array().map(Vec::len), Some(0), "{plan:#}");
    assert_eq!(plan["summary"]["present"], 3, "{plan:#}");

    let audit = cip(dir.path(), &["audit", "--format", "json", manifest]);
    assert_eq!(audit.status.code(), Some(0), "{}", text(&audit));
    let report = json(&audit);
    assert_eq!(report["drift"].as_array().map(Vec::len), Some(0), "{report:#}");
    assert_eq!(report["summary"]["repositories"], 2, "both production repositories are audited: {report:#}");

    let snapshot = cip(dir.path(), &["snapshot", "--output", "csv", "oci:examples/production"]);
    assert_eq!(snapshot.status.code(), Some(0), "{}", text(&snapshot));
    let csv = String::from_utf8_lossy(&snapshot.stdout);
    for line in [
        "hello@sha256:3a869696c650e2e7921884dd6203f6a3f668a1a7bc5a4bca37bf67eb7d80b27a,hello:v1",
        "plain:1.0",
    ] {
        assert!(csv.contains(line), "{line} in\n{csv}");
    }

    // Drift: a tag in production that no manifest gives.
    let extra = "registries:\n- name: oci:examples/staging\n  src: true\n- name: oci:examples/production\n\
                 images:\n- name: plain\n  dmap:\n    \"sha256:92803563d151254bd5409d3aaa94ddc1607e496e8df47e5c09e1852fd252fa5f\": [\"extra\"]\n";
    std::fs::write(dir.path().join("extra.yaml"), extra).expect("write");
    assert_eq!(cip(dir.path(), &["promote", "--confirm", "extra.yaml"]).status.code(), Some(0));
    let audit = cip(dir.path(), &["audit", "--format", "json", manifest]);
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit));
    assert!(text(&audit).contains("extra"), "{}", text(&audit));

    // A layout that is not there is an error naming it, not an empty registry.
    let missing = cip(dir.path(), &["snapshot", "oci:no-such-dir"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    let message = text(&missing);
    assert!(message.contains("oci:no-such-dir") && message.contains("index.json"), "{message}");
    assert_eq!(message.matches("not found").count(), 1, "the cause is said once: {message}");
}

#[tokio::test]
async fn plan_and_promote_dry_run_agree_on_http_registries() {
    let src = Registry::start().await.expect("source");
    let dst = Registry::start().await.expect("destination");
    let c = src.client();
    let app =
        c.push_image("staging/app", Some("v1"), &[random_layer(21, 2048)], MediaKind::Docker).await.unwrap();
    let multi = c
        .push_multi_arch(
            "staging/multi",
            Some("1.0"),
            &[random_layer(22, 1024)],
            &["amd64", "arm64"],
            MediaKind::Oci,
        )
        .await
        .unwrap();
    // The destination already has `app` under another tag: a tag addition, not a copy.
    dst.client()
        .push_image("prod/app", Some("old"), &[random_layer(21, 2048)], MediaKind::Docker)
        .await
        .unwrap();
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = format!(
        "registries:\n- name: {}/staging\n  src: true\n- name: {}/prod\nimages:\n\
         - name: app\n  dmap:\n    \"{}\": [\"v1\"]\n- name: multi\n  dmap:\n    \"{}\": [\"1.0\"]\n",
        src.host(),
        dst.host(),
        app.digest.as_str(),
        multi.digest.as_str()
    );
    std::fs::write(dir.path().join("m.yaml"), manifest).expect("write");
    let dir_path = dir.path().to_path_buf();
    let (plan, promote) =
        tokio::task::spawn_blocking(move || plans(&dir_path, "m.yaml", &[])).await.expect("join");
    assert_eq!(plan, promote, "cip plan and cip promote's dry run print identical plans");
    let mut kinds: Vec<&str> =
        plan["actions"].as_array().expect("actions").iter().filter_map(|a| a["action"].as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["copy", "tag"], "{plan:#}");
}
