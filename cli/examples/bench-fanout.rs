//! Benchmark (issue 15): one source registry, 1, 5 and 20 destination registries on loopback,
//! `cip promote --confirm` (one run for all destinations, no rate flags) against a `skopeo sync`
//! per destination (Debian package skopeo), each into fresh destination registries. The source
//! is reached through the test kit's recording proxy, which counts the requests and blob bytes it
//! served. Prints a table: wall time, source requests, source blob bytes served / unique blob
//! bytes, destination requests (their access logs), peak RSS (`/usr/bin/time`; for skopeo the
//! largest of its runs). Not a test.
//!
//! ```text
//! bench/fanout.sh [REPOS] [TAGS] [LAYER_KIB] [LAYERS] [DESTS]   (default 20 3 512 3 1,5,20)
//! ```
//!
//! Images: every repository's tags have distinct layers except one layer in ten drawn from a
//! small shared pool; every fifth repository is a two-platform OCI index. Everything runs on
//! loopback with the real CNCF distribution registry (`/usr/bin/docker-registry`).

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "bench_support/mod.rs"]
mod bench_support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bench_support::{
    Error, Images, Shape, Sharing, arg, arg_counts, cip_binary, cip_manifest, push_images, run_timed,
    skopeo_config, start_registries,
};
use cip_testkit::{FaultProxy, FaultProxyConfig, Registry};

/// One layer in ten from a pool of four.
const SHARING: Sharing = Sharing { prefix: "fan", in_ten: 1, pool_seed: 5_000_000, pool: 4 };

/// One measured run (for skopeo: the sum of its per-destination runs, RSS the largest).
#[derive(Default, Clone, Copy)]
struct Measure {
    seconds: f64,
    source_requests: usize,
    source_bytes: u64,
    dest_requests: usize,
    rss_kib: u64,
    failed: bool,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let shape = Shape { repos: arg(1, 20), tags: arg(2, 3), layer_kib: arg(3, 512), layers: arg(4, 3) };
    let counts = arg_counts(5, "1,5,20");
    let cip = cip_binary()?;
    let work = tempfile::tempdir()?;
    let source = Registry::start().await?;
    eprintln!("pushing {} repositories x {} tags to {} ...", shape.repos, shape.tags, source.host());
    let images = push_images(&source, shape, &SHARING, None).await?;
    let unique = unique_blob_bytes(&source, &images).await?;
    let proxy = FaultProxy::start(FaultProxyConfig::transparent(source.host())).await?;

    let mut rows = Vec::new();
    for &n in &counts {
        eprintln!("{n} destination(s): cip ...");
        let dests = start_registries(n).await?;
        let manifest = work.path().join(format!("promote-{n}.yaml"));
        let names: Vec<String> = dests.iter().map(Registry::host).collect();
        std::fs::write(&manifest, cip_manifest(&proxy.host(), &names, &images))?;
        let args = vec!["promote".to_owned(), "--confirm".to_owned(), manifest.display().to_string()];
        let cip_run = measure(&proxy, &dests, vec![(cip.clone(), args)]).await?;
        drop(dests);

        eprintln!("{n} destination(s): skopeo sync x {n} ...");
        let dests = start_registries(n).await?;
        let sync = work.path().join("sync.yaml");
        std::fs::write(&sync, skopeo_config(&proxy.host(), &images))?;
        let runs = dests
            .iter()
            .map(|d| {
                let args = ["sync", "--all", "--preserve-digests", "--src", "yaml", "--dest", "docker"]
                    .into_iter()
                    .map(String::from)
                    .chain(["--dest-tls-verify=false".into(), sync.display().to_string(), d.host()])
                    .collect();
                (PathBuf::from("/usr/bin/skopeo"), args)
            })
            .collect();
        let skopeo_run = measure(&proxy, &dests, runs).await?;
        drop(dests);
        rows.push((n, cip_run, skopeo_run));
    }
    println!("{}", table(shape, &images, unique, &rows));
    Ok(())
}

/// Sizes of the distinct blobs (configs and layers) the images reference, read from the source.
async fn unique_blob_bytes(source: &Registry, images: &Images) -> Result<u64, Error> {
    let client = source.client();
    let mut blobs: BTreeMap<String, u64> = BTreeMap::new();
    for (repo, tags) in images {
        for (digest, _) in tags {
            let mut pending = vec![digest.clone()];
            while let Some(d) = pending.pop() {
                let manifest = client.get_manifest(repo, &d).await?.ok_or("manifest missing")?;
                let json = manifest.json();
                for child in json["manifests"].as_array().into_iter().flatten() {
                    pending.push(child["digest"].as_str().unwrap_or_default().to_owned());
                }
                let descriptors =
                    json["layers"].as_array().into_iter().flatten().chain(Some(&json["config"]));
                for blob in descriptors.filter(|b| !b.is_null()) {
                    let digest = blob["digest"].as_str().unwrap_or_default().to_owned();
                    blobs.insert(digest, blob["size"].as_u64().unwrap_or(0));
                }
            }
        }
    }
    Ok(blobs.values().sum())
}

/// Runs the commands one after the other, each under `/usr/bin/time`, and measures them together.
async fn measure(
    proxy: &FaultProxy,
    dests: &[Registry],
    runs: Vec<(PathBuf, Vec<String>)>,
) -> Result<Measure, Error> {
    let requests_before = proxy.requests().len();
    let bytes_before = proxy.body_bytes("GET", "/blobs/sha256:");
    let started = Instant::now();
    // The proxy serves from this process's runtime: the commands wait on a blocking thread.
    let results = tokio::task::spawn_blocking(move || {
        runs.iter().map(|(program, args)| run_one(program, args)).collect::<Vec<_>>()
    })
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let mut measure = Measure { seconds, ..Measure::default() };
    for result in results {
        let (rss, ok) = result?;
        measure.rss_kib = measure.rss_kib.max(rss);
        measure.failed |= !ok;
    }
    measure.source_requests = proxy.requests().len() - requests_before;
    measure.source_bytes = proxy.body_bytes("GET", "/blobs/sha256:") - bytes_before;
    measure.dest_requests = dests.iter().map(|d| d.request_log().len()).sum();
    Ok(measure)
}

/// One command under `/usr/bin/time`: its peak RSS in KiB and whether it succeeded.
fn run_one(program: &Path, args: &[String]) -> Result<(u64, bool), Error> {
    let run = run_timed(program, args, "%M", 5)?;
    let rss = run.time.lines().last().unwrap_or("0").trim().parse()?;
    Ok((rss, run.status.success()))
}

fn table(shape: Shape, images: &Images, unique: u64, rows: &[(usize, Measure, Measure)]) -> String {
    let tags: usize = images.iter().map(|(_, t)| t.len()).sum();
    let mib = |b: u64| b as f64 / 1048576.0;
    let mut out = format!(
        "{} repositories x {} tags ({tags} tags), {} layers of {} KiB, every 5th repository a 2-platform index; \
         unique blob bytes at the source: {:.1} MiB\n\n",
        shape.repos,
        shape.tags,
        shape.layers,
        shape.layer_kib,
        mib(unique)
    );
    let _ = writeln!(
        out,
        "| destinations | tool | wall time | source requests | source blob bytes / unique | destination requests | peak RSS |"
    );
    let _ = writeln!(out, "|---:|---|---:|---:|---:|---:|---:|");
    for (n, cip, skopeo) in rows {
        for (tool, m) in [("cip", cip), (&format!("skopeo sync x {n}") as &str, skopeo)] {
            let _ = writeln!(
                out,
                "| {n} | {tool}{} | {:.2} s | {} | {:.1} MiB = {:.2}x | {} | {:.1} MiB |",
                if m.failed { " (FAILED)" } else { "" },
                m.seconds,
                m.source_requests,
                mib(m.source_bytes),
                m.source_bytes as f64 / unique.max(1) as f64,
                m.dest_requests,
                m.rss_kib as f64 / 1024.0
            );
        }
    }
    let _ = writeln!(
        out,
        "\n| destinations | wall cip/skopeo | source bytes cip/skopeo | source requests cip/skopeo |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|");
    for (n, c, s) in rows {
        let ratio = |a: f64, b: f64| if b > 0.0 { format!("{:.2}x", a / b) } else { "-".into() };
        let _ = writeln!(
            out,
            "| {n} | {} | {} | {} |",
            ratio(c.seconds, s.seconds),
            ratio(c.source_bytes as f64, s.source_bytes as f64),
            ratio(c.source_requests as f64, s.source_requests as f64)
        );
    }
    out
}
