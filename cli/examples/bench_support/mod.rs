//! What the `bench-*` examples share: their arguments, the `cip` binary they measure, the
//! deterministic image set they push, the destination registries they start, the cip manifest
//! and `skopeo sync` configuration naming it, and running a command under `/usr/bin/time`.
//! Included by each example with `#[path = "bench_support/mod.rs"]` (a folder without `main.rs`,
//! so cargo does not take it for an example of its own).

#![allow(dead_code, reason = "each bench example uses a part of this module")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::str::FromStr;
use std::time::Instant;

use cip_testkit::{MediaKind, Registry, Signer, random_layer};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// repo -> [(digest, tag)]
pub type Images = Vec<(String, Vec<(String, String)>)>;

/// Positional argument `i` (1-based), or `default` when absent or not a number.
pub fn arg<T: FromStr>(i: usize, default: T) -> T {
    std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

/// Positional argument `i` (1-based) as a comma-separated list of counts, or `default` (such a
/// list) when absent; entries that are not numbers are skipped.
pub fn arg_counts(i: usize, default: &str) -> Vec<usize> {
    std::env::args()
        .nth(i)
        .unwrap_or_else(|| default.into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

/// The `cip` binary measured: `CIP_BIN`, else the workspace's release build (which must exist).
pub fn cip_binary() -> Result<PathBuf, Error> {
    let cip = std::env::var_os("CIP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/cip"));
    if !cip.exists() {
        return Err("build cip first: cargo build --release -p cip".into());
    }
    Ok(cip)
}

#[derive(Clone, Copy)]
pub struct Shape {
    pub repos: usize,
    pub tags: usize,
    pub layer_kib: usize,
    pub layers: usize,
}

/// How an image set shares layers: for `in_ten` of ten (repository, tag, layer) triples the layer
/// is one of `pool` layers seeded from `pool_seed`, else it is unique.
pub struct Sharing {
    /// Repositories are named `{prefix}/app{r:03}`.
    pub prefix: &'static str,
    pub in_ten: usize,
    pub pool_seed: u64,
    pub pool: u64,
}

/// `n` empty registries (the destinations of one measured run).
pub async fn start_registries(n: usize) -> Result<Vec<Registry>, Error> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(Registry::start().await?);
    }
    Ok(out)
}

/// Deterministic images: every fifth repository a two-platform OCI index, the others Docker
/// images; with `signer`, every pushed digest also gets a cosign `.sig`.
pub async fn push_images(
    source: &Registry,
    shape: Shape,
    sharing: &Sharing,
    signer: Option<&Signer>,
) -> Result<Images, Error> {
    let client = source.client();
    let size = shape.layer_kib * 1024;
    let mut images = Vec::new();
    for r in 0..shape.repos {
        let repo = format!("{}/app{r:03}", sharing.prefix);
        let mut tags = Vec::new();
        for t in 0..shape.tags {
            let layers: Vec<Vec<u8>> = (0..shape.layers)
                .map(|l| {
                    let shared = (r * 31 + t * 7 + l * 3) % 10 < sharing.in_ten;
                    let seed = if shared {
                        sharing.pool_seed + ((r + t + l) as u64 % sharing.pool)
                    } else {
                        ((r * 100 + t) * 10 + l) as u64 + 1
                    };
                    random_layer(seed, size)
                })
                .collect();
            let tag = format!("v{t}");
            let pushed = if r % 5 == 0 {
                client
                    .push_multi_arch(&repo, Some(&tag), &layers, &["amd64", "arm64"], MediaKind::Oci)
                    .await?
            } else {
                client.push_image(&repo, Some(&tag), &layers, MediaKind::Docker).await?
            };
            if let Some(signer) = signer {
                client.push_cosign_signature(&repo, &pushed.digest, signer, &repo, "bench").await?;
            }
            tags.push((pushed.digest.to_string(), tag));
        }
        images.push((repo, tags));
    }
    Ok(images)
}

/// The cip manifest promoting `images` from `src` to every one of `dests`.
pub fn cip_manifest(src: &str, dests: &[String], images: &Images) -> String {
    let mut out = format!("registries:\n- name: {src}\n  src: true\n");
    for d in dests {
        let _ = writeln!(out, "- name: {d}");
    }
    out.push_str("images:\n");
    for (repo, tags) in images {
        let _ = writeln!(out, "- name: {repo}\n  dmap:");
        for (digest, tag) in tags {
            let _ = writeln!(out, "    \"{digest}\": [\"{tag}\"]");
        }
    }
    out
}

/// The `skopeo sync --src yaml` configuration copying the same tags from `src`.
pub fn skopeo_config(src: &str, images: &Images) -> String {
    let mut out = format!("{src}:\n  tls-verify: false\n  images:\n");
    for (repo, tags) in images {
        let list: Vec<&str> = tags.iter().map(|(_, t)| t.as_str()).collect();
        let _ = writeln!(out, "    {repo}: [{}]", list.join(", "));
    }
    out
}

/// One command's run under `/usr/bin/time`.
pub struct Timed {
    pub status: ExitStatus,
    /// Wall time of the command alone.
    pub seconds: f64,
    /// What `/usr/bin/time -f FORMAT` wrote.
    pub time: String,
}

/// Runs `program` under `/usr/bin/time -f format`; a failure is told on stderr with its stderr and
/// up to `tail` lines of its stdout that start with `failed` or hold `error`.
pub fn run_timed(program: &Path, args: &[String], format: &str, tail: usize) -> Result<Timed, Error> {
    let time_file = tempfile::NamedTempFile::new()?;
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg(format)
        .arg("-o")
        .arg(time_file.path())
        .arg(program)
        .args(args)
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    if !out.status.success() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> =
            stdout.lines().filter(|l| l.starts_with("failed") || l.contains("error")).take(tail).collect();
        eprintln!(
            "{} failed ({}): {}\n{}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr),
            lines.join("\n")
        );
    }
    let time = std::fs::read_to_string(time_file.path())?;
    Ok(Timed { status: out.status, seconds, time })
}
