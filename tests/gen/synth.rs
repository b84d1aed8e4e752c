//! A deterministic generator of a Kubernetes-scale thin manifest set, for benchmarks and load
//! tests: `manifests/<x>/promoter-manifest.yaml` (1 source + 20 destination registries) paired
//! with `images/<x>/images.yaml`, digest entries spread over the manifests the way the real
//! `registry.k8s.io` set is (a few very large projects, many small ones), with realistic tags
//! (semver with and without `v`, release candidates, per-architecture images, tagless children).
//!
//! It depends on nothing but `std`, so the benchmark, the example binary and any test can include
//! it with `#[path]`. The random numbers come from a fixed-seed SplitMix64 (a few lines; a crate
//! would add a dependency for no gain), so the same parameters always give the same bytes.

// Included by several benchmarks and examples, each using part of it.
#![allow(dead_code)]

use std::fmt::Write as _;

/// The 20 Artifact Registry regions the production manifests promote to.
pub const REGIONS: [&str; 20] = [
    "asia-east1",
    "asia-northeast1",
    "asia-northeast2",
    "asia-south1",
    "australia-southeast1",
    "europe-north1",
    "europe-southwest1",
    "europe-west1",
    "europe-west2",
    "europe-west4",
    "europe-west8",
    "europe-west9",
    "me-central1",
    "me-west1",
    "southamerica-west1",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-west1",
];

const WORDS: [&str; 24] = [
    "kubernetes",
    "autoscaling",
    "cluster-api",
    "kops",
    "etcd",
    "dns",
    "ingress",
    "metrics",
    "csi",
    "node",
    "gateway",
    "scheduler",
    "storage",
    "network",
    "provider",
    "build",
    "release",
    "kueue",
    "descheduler",
    "kwok",
    "jobset",
    "sig",
    "infra",
    "driver",
];

const COMPONENTS: [&str; 16] = [
    "controller",
    "manager",
    "agent",
    "operator",
    "webhook",
    "server",
    "proxy",
    "plugin",
    "exporter",
    "sidecar",
    "installer",
    "runner",
    "cli",
    "provisioner",
    "resizer",
    "snapshotter",
];

const ARCHES: [&str; 5] = ["amd64", "arm", "arm64", "ppc64le", "s390x"];

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Number of thin manifest pairs.
    pub manifests: usize,
    /// Digest entries over all images files.
    pub digests: usize,
    /// Seed of the random numbers.
    pub seed: u64,
}

impl Params {
    /// The full Kubernetes-scale set: 100 manifests, 45,000 digest entries.
    pub const FULL: Params = Params { manifests: 100, digests: 45_000, seed: 0x5eed_c1b0 };

    /// The full set scaled by `fraction` (manifests and digests alike).
    pub fn scaled(fraction: f64) -> Params {
        let scale = |n: usize| ((n as f64 * fraction).round() as usize).max(1);
        Params { manifests: scale(Self::FULL.manifests), digests: scale(Self::FULL.digests), ..Self::FULL }
    }
}

/// SplitMix64: tiny, fast and good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn digest(&mut self) -> String {
        let mut s = String::with_capacity(71);
        s.push_str("sha256:");
        for _ in 0..4 {
            let _ = write!(s, "{:016x}", self.next());
        }
        s
    }
}

/// Generates the set: `(path relative to the set's root, text)` pairs, sorted by path.
pub fn generate(params: Params) -> Vec<(String, String)> {
    let mut rng = Rng(params.seed);
    let sizes = manifest_sizes(params.manifests, params.digests);
    let mut files = Vec::with_capacity(2 * params.manifests);
    for (i, &digests) in sizes.iter().enumerate() {
        let project = project_name(i);
        // Every tenth project also promotes to the shared root-level path, as the biggest
        // Kubernetes projects do; that gives the cross-manifest overlap check real work.
        let root_level = i % 10 == 0;
        files.push((
            format!("manifests/{project}/promoter-manifest.yaml"),
            registries_yaml(&project, root_level, &mut rng),
        ));
        files.push((format!("images/{project}/images.yaml"), images_yaml(&project, digests, &mut rng)));
    }
    files.sort();
    files
}

/// Splits `total` digests over `n` manifests with a Zipf-like skew (weight 1/rank), so the
/// largest holds about a fifth of all digests, like `k8s-staging-kubernetes` does.
fn manifest_sizes(n: usize, total: usize) -> Vec<usize> {
    let weights: Vec<f64> = (1..=n).map(|rank| 1.0 / rank as f64).collect();
    let sum: f64 = weights.iter().sum();
    let mut sizes: Vec<usize> = weights.iter().map(|w| ((w / sum) * total as f64) as usize).collect();
    let mut missing = total - sizes.iter().sum::<usize>();
    // Hand out the rounding remainder from the smallest upwards, so nothing is left empty.
    for size in sizes.iter_mut().rev() {
        if missing == 0 {
            break;
        }
        *size += 1;
        missing -= 1;
    }
    // Interleave big and small projects alphabetically, like real names do.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (i * 37) % n.max(1));
    order.into_iter().map(|i| sizes[i]).collect()
}

fn project_name(i: usize) -> String {
    let a = WORDS[i % WORDS.len()];
    match i / WORDS.len() {
        0 => format!("k8s-staging-{a}"),
        round => format!("k8s-staging-{a}-{}", WORDS[(i + round * 7) % WORDS.len()]),
    }
}

fn registries_yaml(project: &str, root_level: bool, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(4096);
    let _ = writeln!(out, "# google group for {project} is k8s-infra-staging@kubernetes.io");
    let _ = writeln!(out, "registries:");
    let short = project.trim_start_matches("k8s-staging-");
    if rng.chance(40) {
        let _ = writeln!(out, "- name: us-central1-docker.pkg.dev/k8s-staging-images/{short}\n  src: true");
    } else {
        let _ = writeln!(out, "- name: gcr.io/{project}\n  src: true");
    }
    let suffix = if root_level { String::new() } else { format!("/{short}") };
    for region in REGIONS {
        let _ = writeln!(
            out,
            "- name: {region}-docker.pkg.dev/k8s-artifacts-prod/images{suffix}\n  service-account: k8s-infra-gcr-promoter@k8s-artifacts-prod.iam.gserviceaccount.com"
        );
    }
    out
}

/// One image of a project: its name, whether it ships per-architecture children, the tag style.
struct ImagePlan {
    name: String,
    arches: bool,
    v_prefix: bool,
    digests: usize,
}

fn images_yaml(project: &str, digests: usize, rng: &mut Rng) -> String {
    let short = project.trim_start_matches("k8s-staging-");
    let plans = image_plans(short, digests, rng);
    let mut out = String::with_capacity(digests * 96);
    for plan in &plans {
        let releases = if plan.arches { plan.digests / (ARCHES.len() + 1) } else { plan.digests };
        let versions = versions(releases, plan.v_prefix, rng);
        write_image(&mut out, &plan.name, &versions, rng);
        if plan.arches {
            for arch in ARCHES {
                write_image(&mut out, &format!("{}-{arch}", plan.name), &versions, rng);
            }
        }
    }
    out
}

fn image_plans(short: &str, digests: usize, rng: &mut Rng) -> Vec<ImagePlan> {
    let count = (digests / 60).clamp(1, 40);
    let mut plans = Vec::with_capacity(count);
    let mut left = digests;
    for i in 0..count {
        let name = match i {
            0 => short.to_owned(),
            _ if i % 9 == 0 => format!("charts/{short}-{}", COMPONENTS[i % COMPONENTS.len()]),
            _ => format!(
                "{short}-{}{}",
                COMPONENTS[i % COMPONENTS.len()],
                if i >= 16 { i.to_string() } else { String::new() }
            ),
        };
        let share = if i + 1 == count { left } else { (left / (count - i)).max(1).min(left) };
        let arches = i > 0 && share >= 12 && rng.chance(20);
        // Per-arch sets need their digest count to be a multiple of 6; the rest goes to the base image.
        let share = if arches { share - share % (ARCHES.len() + 1) } else { share };
        left -= share;
        plans.push(ImagePlan { name, arches, v_prefix: !rng.chance(25), digests: share });
    }
    // Whatever the per-arch rounding left over goes to the first image (never a per-arch one).
    plans[0].digests += left;
    plans.retain(|p| p.digests > 0);
    // A real images.yaml is sorted by image name.
    plans.sort_by(|a, b| a.name.cmp(&b.name));
    plans
}

/// `n` distinct, increasing release versions: `v1.2.3`, `v1.3.0-rc.1`, `1.18.2`, …
fn versions(n: usize, v_prefix: bool, rng: &mut Rng) -> Vec<Vec<String>> {
    let prefix = if v_prefix { "v" } else { "" };
    let (mut major, mut minor, mut patch) = (rng.below(2), rng.below(10), 0);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let tags = match rng.below(20) {
            0 => vec![format!("{prefix}{major}.{minor}.{patch}-rc.{}", rng.below(4))],
            1 if v_prefix => vec![format!("v{major}.{minor}.{patch}"), format!("{major}.{minor}.{patch}")],
            2 => Vec::new(), // a tagless digest, e.g. a child of a manifest list
            _ => vec![format!("{prefix}{major}.{minor}.{patch}")],
        };
        out.push(tags);
        patch += 1;
        if rng.chance(15) {
            minor += 1;
            patch = 0;
        }
        if rng.chance(1) {
            major += 1;
            minor = 0;
        }
    }
    // Newest first, as promoter files are usually written.
    out.reverse();
    out
}

fn write_image(out: &mut String, name: &str, versions: &[Vec<String>], rng: &mut Rng) {
    let _ = writeln!(out, "- name: {name}\n  dmap:");
    for tags in versions {
        let list: Vec<String> = tags.iter().map(|t| format!("\"{t}\"")).collect();
        let _ = writeln!(out, "    \"{}\": [{}]", rng.digest(), list.join(", "));
    }
}

/// Number of digest entries in generated images files (for checks and reports).
pub fn count_digests(files: &[(String, String)]) -> usize {
    files
        .iter()
        .filter(|(p, _)| p.ends_with("images.yaml"))
        .map(|(_, t)| t.lines().filter(|l| l.trim_start().starts_with("\"sha256:")).count())
        .sum()
}
