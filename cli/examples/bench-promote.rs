//! Benchmark: `cip promote --confirm` (no rate flags: the defaults) against `skopeo sync` (Debian
//! package skopeo) on the same image set, each into a fresh destination registry, cold copy and
//! no-op re-run. Prints a table: wall time, HTTP requests served (source and destination access
//! logs), requests per tag next to the floors, bytes stored at the destination, peak RSS
//! (`/usr/bin/time`), and the cip/skopeo ratios. Not a test.
//!
//! ```text
//! cargo build --release -p cip
//! cargo run --release -p cip --example bench-promote -- [REPOS] [TAGS] [LAYER_KIB] [LAYERS]
//! (CIP_BIN=path/to/cip overrides the binary measured)
//! ```
//!
//! Defaults: 200 repositories x 5 tags x 4 layers of 1024 KiB, 30% of layers drawn from a shared
//! pool, every fifth repository multi-arch (amd64 + arm64 index). Everything runs on loopback with
//! the real CNCF distribution registry (`/usr/bin/docker-registry`, Debian `docker-registry`).
//!
//! Attachments (issue 13): the no-op run is measured again with `--attachments none` (the floor
//! without attachment discovery); `BENCH_SIGN=1` gives every promoted digest a cosign `.sig`
//! (ECDSA P-256, from the test kit) first.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "bench_support/mod.rs"]
mod bench_support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bench_support::{
    Error, Images, Shape, Sharing, arg, cip_binary, cip_manifest, push_images, run_timed, skopeo_config,
};
use cip_testkit::Registry;

/// 30% of layers from a pool of 16.
const SHARING: Sharing = Sharing { prefix: "bench", in_ten: 3, pool_seed: 1_000_000, pool: 16 };

/// One measured run.
#[derive(Default, Clone, Copy)]
struct Measure {
    seconds: f64,
    requests: usize,
    source_requests: usize,
    bytes: u64,
    rss_kib: u64,
    /// CPU seconds (user + system) of the tool.
    cpu: f64,
    /// CPU seconds of the two registries during the run.
    registry_cpu: f64,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let shape = Shape { repos: arg(1, 200), tags: arg(2, 5), layer_kib: arg(3, 1024), layers: arg(4, 4) };
    let cip = cip_binary()?;
    let work = tempfile::tempdir()?;
    let source = Registry::start().await?;
    eprintln!("pushing {} repositories x {} tags to {} ...", shape.repos, shape.tags, source.host());
    let sign = std::env::var_os("BENCH_SIGN").is_some_and(|v| v == "1");
    let signer = cip_testkit::Signer::from_seed(13);
    let images = push_images(&source, shape, &SHARING, sign.then_some(&signer)).await?;

    let manifest = work.path().join("promote.yaml");
    let cip_dest = Registry::start().await?;
    std::fs::write(&manifest, cip_manifest(&source.host(), &[cip_dest.host()], &images))?;
    let cip_args: Vec<String> =
        ["promote", "--confirm", manifest.to_str().unwrap_or_default()].map(String::from).to_vec();
    let cip_cold = measure(&cip, &cip_args, &source, &cip_dest)?;
    let cip_noop = measure(&cip, &cip_args, &source, &cip_dest)?;
    let mut off_args = cip_args.clone();
    off_args.insert(2, "--attachments=none".into());
    let cip_noop_off = measure(&cip, &off_args, &source, &cip_dest)?;

    let skopeo_dest = Registry::start().await?;
    let sync = work.path().join("sync.yaml");
    std::fs::write(&sync, skopeo_config(&source.host(), &images))?;
    let skopeo_args: Vec<String> = [
        "sync",
        "--all",
        "--preserve-digests",
        "--src",
        "yaml",
        "--dest",
        "docker",
        "--dest-tls-verify=false",
        sync.to_str().unwrap_or_default(),
        &skopeo_dest.host(),
    ]
    .map(String::from)
    .to_vec();
    let skopeo = PathBuf::from("/usr/bin/skopeo");
    let skopeo_cold = measure(&skopeo, &skopeo_args, &source, &skopeo_dest)?;
    let skopeo_noop = measure(&skopeo, &skopeo_args, &source, &skopeo_dest)?;

    println!("{}", table(shape, &images, [cip_cold, cip_noop, skopeo_cold, skopeo_noop]));
    println!(
        "\ncip no-op requests (source): attachments on (default) {} ({}), --attachments none {} ({})",
        cip_noop.requests, cip_noop.source_requests, cip_noop_off.requests, cip_noop_off.source_requests
    );
    Ok(())
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// Runs one command under `/usr/bin/time` and measures it.
fn measure(program: &Path, args: &[String], source: &Registry, dest: &Registry) -> Result<Measure, Error> {
    let source_before = source.request_log().len();
    let before = source_before + dest.request_log().len();
    let stored_before = dir_bytes(&dest.storage_dir());
    let registries_before = registry_cpu(&[source, dest]);
    let run = run_timed(program, args, "%U %S %M", 10)?;
    let seconds = run.seconds;
    // The access log is flushed asynchronously: give it a moment.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let source_requests = source.request_log().len() - source_before;
    let requests = source_requests + dest.request_log().len() + source_before - before;
    let registry_cpu = registry_cpu(&[source, dest]) - registries_before;
    let times = run.time;
    let fields: Vec<f64> =
        times.lines().last().unwrap_or("").split_whitespace().filter_map(|f| f.parse().ok()).collect();
    let (cpu, rss_kib) = match fields[..] {
        [user, system, rss] => (user + system, rss as u64),
        _ => return Err(format!("unexpected /usr/bin/time output: {times}").into()),
    };
    let bytes = dir_bytes(&dest.storage_dir()).saturating_sub(stored_before);
    Ok(Measure { seconds, requests, source_requests, bytes, rss_kib, cpu, registry_cpu })
}

/// CPU seconds (user + system) used so far by the registry processes serving `registries`, read
/// from `/proc` (the process whose command line names the registry's configuration file).
fn registry_cpu(registries: &[&Registry]) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let mut total = 0.0;
    let Ok(procs) = std::fs::read_dir("/proc") else { return 0.0 };
    for entry in procs.flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !registries.iter().any(|r| cmdline.contains(&*r.work_dir().join("config.yml").to_string_lossy())) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // Fields after the command name (which may hold spaces) : utime and stime are 14 and 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let get = |i: usize| fields.get(i - 3).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        total += (get(14) + get(15)) / ticks;
    }
    total
}

fn table(shape: Shape, images: &Images, [cc, cn, sc, sn]: [Measure; 4]) -> String {
    let tags: usize = images.iter().map(|(_, t)| t.len()).sum();
    let ratio = |a: f64, b: f64| if b > 0.0 { format!("{:.2}x", a / b) } else { "-".into() };
    let mib = |b: u64| format!("{:.1} MiB", b as f64 / 1048576.0);
    let mut out = format!(
        "{} repositories x {} tags ({} tags), {} layers of {} KiB, 30% shared, every 5th repository multi-arch\n\n",
        shape.repos, shape.tags, tags, shape.layers, shape.layer_kib
    );
    let _ = writeln!(
        out,
        "| run | tool | wall time | requests (source) | requests per tag (source) | bytes stored | peak RSS | CPU tool | CPU registries |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (run, tool, m) in
        [("cold", "cip", cc), ("cold", "skopeo", sc), ("no-op", "cip", cn), ("no-op", "skopeo", sn)]
    {
        let _ = writeln!(
            out,
            "| {run} | {tool} | {:.2} s | {} ({}) | {:.2} ({:.2}) | {} | {:.1} MiB | {:.2} s | {:.2} s |",
            m.seconds,
            m.requests,
            m.source_requests,
            m.requests as f64 / tags as f64,
            m.source_requests as f64 / tags as f64,
            mib(m.bytes),
            m.rss_kib as f64 / 1024.0,
            m.cpu,
            m.registry_cpu
        );
    }
    let _ = writeln!(
        out,
        "\nFloor of a no-op run on a registry without Google's extension: 1 request per declared tag \
         ({tags}), 0 at the source (with the extension: 1 per repository)."
    );
    let _ = writeln!(out, "\n| ratio cip/skopeo | wall time | requests | peak RSS |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for (run, c, s) in [("cold", cc, sc), ("no-op", cn, sn)] {
        let _ = writeln!(
            out,
            "| {run} | {} | {} | {} |",
            ratio(c.seconds, s.seconds),
            ratio(c.requests as f64, s.requests as f64),
            ratio(c.rss_kib as f64, s.rss_kib as f64)
        );
    }
    out
}
