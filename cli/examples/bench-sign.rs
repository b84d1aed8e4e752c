//! Benchmark (issue 14): the cost of signing N digests promoted to M mirrors, key-based, on
//! loopback (the real CNCF distribution registry, `/usr/bin/docker-registry`). Not a test.
//!
//! ```text
//! bench/sign.sh [DIGESTS] [MIRRORS]   (default 20 1,5,20)
//! ```
//!
//! For each mirror count and each format (`legacy`, `bundle`): the images are promoted first
//! (`cip promote --confirm`, no signing), a no-op `cip promote --confirm` measures the read
//! floor, then `cip promote --confirm --sign --signing-identity ...` signs every digest once
//! for all mirrors, and a second signed run finds everything signed. Requests are counted from
//! the registries' access logs (source and mirrors); the signing columns are the signed run's
//! requests minus the no-op floor's. Prints a table.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "bench_support/mod.rs"]
mod bench_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bench_support::{
    Error, Shape, Sharing, arg, arg_counts, cip_binary, cip_manifest, push_images, start_registries,
};
use cip_testkit::Registry;

const SHARING: Sharing = Sharing { prefix: "sign", in_ten: 0, pool_seed: 7_000_000, pool: 1 };

/// One cip run: wall seconds, registry requests, its JSON output.
struct Run {
    seconds: f64,
    requests: usize,
    json: serde_json::Value,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let digests: usize = arg(1, 20);
    let counts = arg_counts(2, "1,5,20");
    let cip = cip_binary()?;
    let work = tempfile::tempdir()?;
    let key = keypair(work.path())?;
    let source = Registry::start().await?;
    let shape = Shape { repos: digests, tags: 1, layer_kib: 4, layers: 1 };
    eprintln!("pushing {digests} images to {} ...", source.host());
    let images = push_images(&source, shape, &SHARING, None).await?;
    let mut rows = Vec::new();
    for &m in &counts {
        for format in ["legacy", "bundle"] {
            eprintln!("{m} mirror(s), {format} ...");
            let mirrors = start_registries(m).await?;
            let manifest = work.path().join(format!("promote-{m}-{format}.yaml"));
            let names: Vec<String> = mirrors.iter().map(Registry::host).collect();
            std::fs::write(&manifest, cip_manifest(&source.host(), &names, &images))?;
            let registries: Vec<&Registry> = std::iter::once(&source).chain(&mirrors).collect();
            let plain = ["promote", "--confirm", "--format", "json"].map(String::from).to_vec();
            run(&cip, &plain, &manifest, &registries)?;
            let floor = run(&cip, &plain, &manifest, &registries)?;
            let mut signed = plain.clone();
            signed.extend(
                [
                    "--sign",
                    "--sign-key",
                    &key.display().to_string(),
                    "--signature-format",
                    format,
                    "--signing-identity",
                    "registry.example.io",
                ]
                .map(String::from),
            );
            let cold = run(&cip, &signed, &manifest, &registries)?;
            let again = run(&cip, &signed, &manifest, &registries)?;
            rows.push((m, format, floor, cold, again));
        }
    }
    println!("{}", table(digests, &rows));
    Ok(())
}

/// An ECDSA P-256 PKCS#8 key written by Python `cryptography`.
fn keypair(dir: &Path) -> Result<PathBuf, Error> {
    let path = dir.join("bench.key");
    let script = "import sys\nfrom cryptography.hazmat.primitives.asymmetric import ec\n\
        from cryptography.hazmat.primitives import serialization as s\n\
        k = ec.generate_private_key(ec.SECP256R1())\n\
        open(sys.argv[1], 'wb').write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))\n";
    let status = Command::new("python3").arg("-c").arg(script).arg(&path).status()?;
    if !status.success() {
        return Err("python3 with the cryptography package is needed to make the key".into());
    }
    Ok(path)
}

/// Runs cip once and counts the requests the registries logged meanwhile.
fn run(cip: &Path, args: &[String], manifest: &Path, registries: &[&Registry]) -> Result<Run, Error> {
    let count = || registries.iter().map(|r| r.request_log().len()).sum::<usize>();
    let before = count();
    let started = Instant::now();
    let out = Command::new(cip).args(args).arg(manifest).env("NO_COLOR", "1").output()?;
    let seconds = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("cip {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)).into());
    }
    // The access logs are written as requests finish: wait for the count to settle.
    let mut requests = count() - before;
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = count() - before;
        if now == requests {
            break;
        }
        requests = now;
    }
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    Ok(Run { seconds, requests, json })
}

fn table(digests: usize, rows: &[(usize, &str, Run, Run, Run)]) -> String {
    let mut out = format!(
        "signing {digests} digests to M mirrors, key-based, one identity for all mirrors (loopback)\n\
         | format | mirrors | signings | written | signing requests | per signature | signed run wall | no-op floor wall | re-run signing requests | re-run wall |\n\
         |---|---|---|---|---|---|---|---|---|---|\n"
    );
    for (m, format, floor, cold, again) in rows {
        let summary = &cold.json["report"]["signing"]["summary"];
        let written = summary["written"].as_u64().unwrap_or(0);
        let signing = cold.requests.saturating_sub(floor.requests);
        let rerun = again.requests.saturating_sub(floor.requests);
        out.push_str(&format!(
            "| {format} | {m} | {} | {written} | {signing} | {:.1} | {:.2}s | {:.2}s | {rerun} | {:.2}s |\n",
            summary["signings"].as_u64().unwrap_or(0),
            signing as f64 / written.max(1) as f64,
            cold.seconds,
            floor.seconds,
            again.seconds,
        ));
    }
    out
}
