//! What the promotion tests share: for those running `cip::promote::run` on one manifest
//! (`promote_fanout.rs`, `promote_throttle.rs`), options for loopback registries and a run of one
//! `promote.yaml`; for the signing tests running the `cip` binary (`sign_key.rs`,
//! `sign_keyless.rs`), a source and two mirrors with the `promote.yaml` between them.

#![allow(dead_code, reason = "each test uses a part of this module")]

use std::path::PathBuf;

use cip::connect::RegistryOptions;
use cip::promote::{self, PromoteOptions, PromoteOutcome, Quiet};
use cip_core::{Input, SourceFile};
use cip_testkit::{MediaKind, Pushed, Registry, random_layer};

/// The default options (rates included) without the Docker configuration: the test registries
/// are open. `confirm` writes; without it the run only plans.
pub fn options(confirm: bool) -> PromoteOptions {
    PromoteOptions {
        confirm,
        registry: RegistryOptions { no_docker_config: true, ..RegistryOptions::default() },
        ..PromoteOptions::default()
    }
}

/// Runs `yaml` (as `promote.yaml`) with `options`, observed by nobody.
pub async fn run(yaml: &str, options: &PromoteOptions) -> PromoteOutcome {
    let input = Input { files: vec![SourceFile::new("promote.yaml", yaml)], thin_dirs: None };
    promote::run(input, options, &Quiet).await.expect("promotion runs")
}

/// A source registry with `n` images (`stage/app<i>:v1`, one 16 KiB layer made from seed
/// `seed + i`), two destination registries, and in a temporary directory the `promote.yaml` of the
/// images from `<source>/stage` to `<dest>/prod` of both.
pub struct Mirrored {
    pub source: Registry,
    pub one: Registry,
    pub two: Registry,
    pub images: Vec<Pushed>,
    pub dir: tempfile::TempDir,
    pub manifest: PathBuf,
}

/// Starts and fills a [`Mirrored`] of `n` images, their layers made from seeds `seed..seed + n`.
pub async fn mirrored(n: usize, seed: u64) -> Mirrored {
    let (source, one, two) = (
        Registry::start().await.unwrap(),
        Registry::start().await.unwrap(),
        Registry::start().await.unwrap(),
    );
    let client = source.client();
    let mut images = Vec::new();
    for i in 0..n {
        let layers = [random_layer(seed + i as u64, 16 * 1024)];
        images.push(
            client.push_image(&format!("stage/app{i}"), Some("v1"), &layers, MediaKind::Oci).await.unwrap(),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("promote.yaml");
    let from = format!("{}/stage", source.host());
    std::fs::write(
        &manifest,
        promotion(&from, &[&format!("{}/prod", one.host()), &format!("{}/prod", two.host())], &images),
    )
    .unwrap();
    Mirrored { source, one, two, images, dir, manifest }
}

/// A promotion manifest of `app<i>` (the `images`' digests, tag v1) from `src` to `dests`.
pub fn promotion(src: &str, dests: &[&str], images: &[Pushed]) -> String {
    let mut yaml = format!("registries:\n- name: {src}\n  src: true\n");
    for d in dests {
        yaml.push_str(&format!("- name: {d}\n"));
    }
    yaml.push_str("images:\n");
    for (i, p) in images.iter().enumerate() {
        yaml.push_str(&format!("- name: app{i}\n  dmap:\n    \"{}\": [\"v1\"]\n", p.digest));
    }
    yaml
}
