//! Chunked blob uploads (`--chunk-size`), for registries or proxies that limit request sizes:
//! a promotion between two real distribution registries where every layer crosses in 1 MiB
//! `PATCH` requests, and the destination holds exactly the source's digests afterwards.

use std::process::Command;

use cip_testkit::{MediaKind, Registry, check_complete, random_layer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_cross_in_chunks_and_verify() {
    let src = Registry::start().await.unwrap();
    let dst = Registry::start().await.unwrap();
    // 2.5 MiB: three chunks of at most 1 MiB.
    let layer = random_layer(42, 5 * 512 * 1024);
    let image = src.client().push_image("staging/big", Some("v1"), &[layer], MediaKind::Oci).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("promote.yaml");
    std::fs::write(
        &manifest,
        format!(
            "registries:\n- name: {}/staging\n  src: true\n- name: {}/prod\nimages:\n\
             - name: big\n  dmap:\n    \"{}\": [\"v1\"]\n",
            src.host(),
            dst.host(),
            image.digest.as_str()
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_cip"))
        .args(["promote", "--confirm", "--no-docker-config", "--chunk-size", "1"])
        .arg(&manifest)
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{text}");

    let patches = dst.request_log().iter().filter(|r| r.method == "PATCH" && r.status == 202).count();
    assert!(patches >= 3, "{patches} chunk uploads, expected at least 3:\n{text}");
    let copied = dst.client().get_manifest("prod/big", "v1").await.unwrap().expect("tag v1 exists");
    assert_eq!(copied.digest, image.digest);
    check_complete(&dst.client(), "prod/big").await.unwrap();
}
