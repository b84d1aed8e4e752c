//! The `cip` binary reading real registries (CNCF distribution, on loopback): `cip plan PATH`
//! without `--inventory`, `cip snapshot REGISTRY/PREFIX`, `cip audit PATH`, and the exit code 2
//! with one clear line when a registry cannot be read at all.

use std::process::{Command, Output};

use cip_testkit::{MediaKind, Registry, random_layer};

const USER: &str = "promoter";
const PASSWORD: &str = "pw-CLI-SECRET-4417";

fn cip(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cip"));
    command.args(args).env_remove("DOCKER_CONFIG").env("HOME", "/nonexistent-cip-test-home");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("cip runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn staging(registry: &Registry) -> (String, String) {
    let c = registry.client();
    let app =
        c.push_image("staging/app", Some("v1"), &[random_layer(11, 1024)], MediaKind::Docker).await.unwrap();
    let multi = c
        .push_multi_arch(
            "staging/multi",
            Some("1.0"),
            &[random_layer(12, 1024)],
            &["amd64", "arm64"],
            MediaKind::Oci,
        )
        .await
        .unwrap();
    (app.digest.as_str().to_string(), multi.digest.as_str().to_string())
}

fn write_manifest(dir: &std::path::Path, src: &str, dst: &str, app: &str, multi: &str) -> String {
    let path = dir.join("promoter.yaml");
    let text = format!(
        "registries:\n- name: {src}/staging\n  src: true\n- name: {dst}/prod\nimages:\n\
         - name: app\n  dmap:\n    \"{app}\": [\"v1\"]\n\
         - name: multi\n  dmap:\n    \"{multi}\": [\"1.0\"]\n"
    );
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test]
async fn plan_snapshot_and_audit_read_registries() {
    let src = Registry::start().await.unwrap();
    let dst = Registry::start_basic(USER, PASSWORD).await.unwrap();
    let (app, multi) = staging(&src).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), &src.host(), &dst.host(), &app, &multi);
    let auth = format!("{}=CIP_TEST_DST", dst.host());
    let creds = format!("{USER}:{PASSWORD}");
    let env = [("CIP_TEST_DST", creds.as_str())];

    let out = cip(&["plan", "--format", "json", "--auth-env", &auth, &manifest], &env);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["copy"], 2, "{plan}");
    assert_eq!(plan["actions"][0]["action"], "copy");

    let target = format!("{}/staging", src.host());
    let out = cip(&["snapshot", &target], &[]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert!(yaml.contains("- name: app") && yaml.contains(&app) && yaml.contains("- name: multi"), "{yaml}");

    let out = cip(&["audit", "--format", "json", "--auth-env", &auth, &manifest], &env);
    assert!(matches!(out.status.code(), Some(0 | 1)), "stderr: {}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["drift"].as_array().unwrap().is_empty(), "{report}");
}

#[tokio::test]
async fn unreadable_registries_exit_2_with_one_line_and_no_secrets() {
    let src = Registry::start().await.unwrap();
    let dst = Registry::start_basic(USER, PASSWORD).await.unwrap();
    let (app, multi) = staging(&src).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), &src.host(), &dst.host(), &app, &multi);
    let auth = format!("{}=CIP_TEST_DST", dst.host());
    let wrong = format!("{USER}:{PASSWORD}-wrong");
    let before = dst.request_log().len();
    let out = cip(&["plan", "-vvv", "--auth-env", &auth, &manifest], &[("CIP_TEST_DST", wrong.as_str())]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("cip: error:")
            && last.contains(&dst.host())
            && last.contains("authentication refused"),
        "{last}"
    );
    assert!(!stderr.contains(PASSWORD) && !text(&out.stdout).contains(PASSWORD), "secret leaked");
    assert!(dst.request_log().len() - before <= 4, "no retry storm");

    // Nothing listens on this port: one line naming the registry.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let target = format!("{closed}/x");
    let out = cip(&["snapshot", &target], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&closed.to_string()) && stderr.contains("cannot connect"), "{stderr}");
}

#[tokio::test]
async fn docker_credential_helpers_are_used() {
    use std::os::unix::fs::PermissionsExt;
    let src = Registry::start_basic(USER, PASSWORD).await.unwrap();
    let dst = Registry::start().await.unwrap();
    let (app, multi) = staging(&src).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), &src.host(), &dst.host(), &app, &multi);
    // A credential helper (the `docker-credential-<name> get` protocol) answering for the source.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let helper = bin.join("docker-credential-ciptest");
    std::fs::write(
        &helper,
        format!("#!/bin/sh\nread server\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.path().join("docker");
    std::fs::create_dir(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        serde_json::json!({ "credHelpers": { src.host(): "ciptest" } }).to_string(),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let docker_config = config.to_string_lossy().into_owned();
    let out =
        cip(&["plan", "--format", "json", &manifest], &[("DOCKER_CONFIG", &docker_config), ("PATH", &path)]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["summary"]["copy"], 2, "{plan}");
}
