//! Benchmark (issue 15): a registry with a request quota. The destination is the real CNCF
//! distribution registry behind the test kit's proxy, which answers `429` (`Retry-After: 1`) to
//! every request beyond N in any one-second window; `cip promote --confirm` runs with no rate
//! flags (a loopback host starts unlimited) and must find the quota by itself. Prints, per second
//! of the run, the requests cip sent to the destination, how many were served and how many were
//! answered `429`, then how long cip took to settle at or under N requests/s, and the report's
//! failures, lowest and final rate. Not a test (the Rust test `cli/tests/promote_throttle.rs`
//! checks the outcome, this measures the convergence).
//!
//! ```text
//! bench/throttle.sh [QUOTA] [IMAGES]   (default 20 40)
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "bench_support/mod.rs"]
mod bench_support;

use std::fmt::Write as _;
use std::process::Command;

use cip_testkit::{FaultProxy, FaultProxyConfig, MediaKind, Registry, random_layer};
use serde_json::Value;

use bench_support::{Error, arg, cip_binary};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (quota, images): (u32, u32) = (arg(1, 20), arg(2, 40));
    let cip = cip_binary()?;
    let work = tempfile::tempdir()?;
    let source = Registry::start().await?;
    let destination = Registry::start().await?;
    let proxy =
        FaultProxy::start(FaultProxyConfig::transparent(destination.host()).with_throttle(quota)).await?;
    let client = source.client();
    let mut yaml =
        format!("registries:\n- name: {}\n  src: true\n- name: {}\nimages:\n", source.host(), proxy.host());
    for i in 0..images as u64 {
        let layers = [random_layer(1000 + i, 8192), random_layer(2000 + i, 4096)];
        let repo = format!("quota/app{i:03}");
        let image = client.push_image(&repo, Some("v1"), &layers, MediaKind::Docker).await?;
        let _ = writeln!(yaml, "- name: {repo}\n  dmap:\n    \"{}\": [\"v1\"]", image.digest.as_str());
    }
    let manifest = work.path().join("promote.yaml");
    std::fs::write(&manifest, yaml)?;

    let args = ["promote", "--confirm", "--format", "json"].map(String::from).to_vec();
    let path = manifest.display().to_string();
    let out = tokio::task::spawn_blocking(move || Command::new(cip).args(args).arg(path).output()).await??;
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let report = &json["report"];
    let host = &report["hosts"][proxy.host()];

    // Per second of the run: requests arriving at the proxy, served, answered 429.
    let requests = proxy.requests();
    let seconds = requests.iter().map(|r| r.at_ms / 1000).max().unwrap_or(0) as usize + 1;
    let mut rows = vec![(0u64, 0u64); seconds];
    for r in &requests {
        let row = &mut rows[(r.at_ms / 1000) as usize];
        if r.status == 429 {
            row.1 += 1;
        } else {
            row.0 += 1;
        }
    }
    let first = rows.iter().position(|(served, throttled)| served + throttled > 0).unwrap_or(0);
    let rows = &rows[first..];
    // Settled: from this second on, cip sent at most the quota in every second.
    let settled = rows.iter().rposition(|(s, t)| s + t > u64::from(quota)).map_or(0, |i| i + 1);
    let mut table = format!(
        "quota {quota} requests/s at the destination; {images} images (2 small layers each); cip with no rate flags\n\n\
         | second | sent by cip | served | 429 |\n|---:|---:|---:|---:|\n"
    );
    for (i, (served, throttled)) in rows.iter().enumerate() {
        let _ = writeln!(table, "| {i} | {} | {served} | {throttled} |", served + throttled);
    }
    let _ = writeln!(
        table,
        "\nsettled at <= {quota} requests/s after {settled} s of {} s; images done {}, failed {}; \
         429s {} (report: {}); rate cuts {}, lowest {} /s, final {} /s",
        rows.len(),
        report["summary"]["done"],
        report["summary"]["failed"],
        proxy.throttled(),
        host["throttled"],
        host["cuts"],
        host["lowest"],
        host["rate"]
    );
    println!("{table}");
    if !out.status.success() {
        eprintln!("cip failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}
