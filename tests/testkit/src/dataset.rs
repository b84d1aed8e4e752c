//! Realistic, deterministic image sets for promotion tests and benchmarks, and the manifest that
//! promotes them.
//!
//! A [`Dataset`] is N repositories x T tags, each tag its own image of L layers. A share of the layer
//! slots draws from a small pool common to all images (shared layers exercise blob dedup and
//! cross-repository mounts); every `multi_arch_every`-th image is an index over amd64 and arm64; media
//! types alternate between Docker and OCI by repository. Everything follows from `seed`.

use crate::client::{Client, MediaKind};
use crate::data::{Digest, random_layer, splitmix64};
use crate::error::Error;
use std::fmt::Write as _;

/// Shape of an image set.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Seed of every byte.
    pub seed: u64,
    /// Number of repositories (`img-000`, `img-001`...).
    pub repos: usize,
    /// Tags per repository (`v0`, `v1`...), each a distinct image.
    pub tags_per_repo: usize,
    /// Layers per image.
    pub layers_per_image: usize,
    /// Bytes per layer.
    pub layer_size: usize,
    /// Percentage (0..=100) of layer slots taken from the shared pool.
    pub shared_percent: u64,
    /// Every n-th image (counting across repositories) is a two-platform index; 0 = none.
    pub multi_arch_every: usize,
    /// Distinct layers in the shared pool. Keep it when shrinking `repos` to get a prefix of the same set.
    pub pool: u64,
}

impl Dataset {
    /// A small CI-sized set: `repos` x 2 tags x 2 layers of 2 KiB, 30% shared, every 3rd image multi-arch.
    pub fn small(seed: u64, repos: usize) -> Dataset {
        Dataset {
            seed,
            repos,
            tags_per_repo: 2,
            layers_per_image: 2,
            layer_size: 2048,
            shared_percent: 30,
            multi_arch_every: 3,
            pool: (repos as u64 / 2).max(4),
        }
    }
}

/// One pushed image of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetImage {
    /// Image name relative to the prefix (`img-007`): the `name` in a promoter manifest.
    pub name: String,
    /// Full repository path in the registry (`<prefix>/img-007`).
    pub repo: String,
    /// Top-level manifest digest (index or image).
    pub digest: Digest,
    /// Tags pointing at it.
    pub tags: Vec<String>,
    /// Whether it is an index.
    pub multi_arch: bool,
}

/// Pushes the dataset under `prefix` (e.g. `staging`), tagging every image. A dataset with fewer
/// `repos` but the same other fields pushes exactly the first repositories of the larger one.
pub async fn populate(client: &Client, prefix: &str, dataset: &Dataset) -> Result<Vec<DatasetImage>, Error> {
    let mut images = Vec::new();
    let mut counter = 0usize;
    for r in 0..dataset.repos {
        let name = format!("img-{r:03}");
        let repo = format!("{prefix}/{name}");
        let kind = if r % 2 == 0 { MediaKind::Docker } else { MediaKind::Oci };
        for t in 0..dataset.tags_per_repo {
            counter += 1;
            let tag = format!("v{t}");
            let layers = image_layers(dataset, r as u64, t as u64);
            let multi_arch = dataset.multi_arch_every > 0 && counter.is_multiple_of(dataset.multi_arch_every);
            let pushed = if multi_arch {
                client.push_multi_arch(&repo, Some(&tag), &layers, &["amd64", "arm64"], kind).await?
            } else {
                client.push_image(&repo, Some(&tag), &layers, kind).await?
            };
            images.push(DatasetImage {
                name: name.clone(),
                repo: repo.clone(),
                digest: pushed.digest,
                tags: vec![tag],
                multi_arch,
            });
        }
    }
    Ok(images)
}

/// The layers of image (`repo`, `tag`): pool layers or unique ones, per the shared percentage.
fn image_layers(dataset: &Dataset, repo: u64, tag: u64) -> Vec<Vec<u8>> {
    let mut state = dataset.seed ^ (repo << 32) ^ (tag << 16);
    (0..dataset.layers_per_image as u64)
        .map(|slot| {
            let draw = splitmix64(&mut state);
            let layer_seed = if draw % 100 < dataset.shared_percent {
                // Pool seeds live in their own range so they never collide with unique ones.
                dataset.seed.wrapping_add(1 << 48).wrapping_add(splitmix64(&mut state) % dataset.pool.max(1))
            } else {
                dataset.seed ^ (repo << 40) ^ (tag << 24) ^ (slot << 8) ^ 0xff
            };
            random_layer(layer_seed, dataset.layer_size)
        })
        .collect()
}

/// A promoter manifest promoting `images` from the registry name `source` (e.g. `127.0.0.1:5000/staging`)
/// to each of `destinations`. Output is deterministic (images in the given order).
pub fn promotion_manifest(source: &str, destinations: &[&str], images: &[DatasetImage]) -> String {
    let mut yaml = String::from("registries:\n");
    let _ = writeln!(yaml, "- name: {source}\n  src: true");
    for destination in destinations {
        let _ = writeln!(yaml, "- name: {destination}");
    }
    yaml.push_str("images:\n");
    let mut names: Vec<&str> = images.iter().map(|i| i.name.as_str()).collect();
    names.dedup();
    for name in names {
        let _ = writeln!(yaml, "- name: {name}\n  dmap:");
        for image in images.iter().filter(|i| i.name == name) {
            let tags: Vec<String> = image.tags.iter().map(|t| format!("\"{t}\"")).collect();
            let _ = writeln!(yaml, "    \"{}\": [{}]", image.digest, tags.join(", "));
        }
    }
    yaml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_share_and_repeat() {
        let dataset = Dataset { shared_percent: 100, ..Dataset::small(1, 4) };
        let a = image_layers(&dataset, 0, 0);
        assert_eq!(a, image_layers(&dataset, 0, 0));
        let none = Dataset { shared_percent: 0, ..Dataset::small(1, 4) };
        assert_ne!(image_layers(&none, 0, 0), image_layers(&none, 1, 0));
    }

    #[test]
    fn manifest_lists_every_digest() {
        let image = |name: &str, d: &str, tag: &str| DatasetImage {
            name: name.into(),
            repo: format!("staging/{name}"),
            digest: Digest(d.into()),
            tags: vec![tag.into()],
            multi_arch: false,
        };
        let yaml = promotion_manifest(
            "127.0.0.1:1/staging",
            &["127.0.0.1:2/prod"],
            &[image("a", "sha256:1", "v0"), image("a", "sha256:2", "v1")],
        );
        assert_eq!(
            yaml,
            "registries:\n- name: 127.0.0.1:1/staging\n  src: true\n- name: 127.0.0.1:2/prod\nimages:\n\
             - name: a\n  dmap:\n    \"sha256:1\": [\"v0\"]\n    \"sha256:2\": [\"v1\"]\n"
        );
    }
}
