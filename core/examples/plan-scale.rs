//! Prints time and peak memory of planning at Kubernetes scale (the setting of the `plan`
//! benchmark): 45,000 digest entries x 20 destinations with 1% missing from the inventory.
//! Peak memory is the process high-water mark (`VmHWM` in `/proc/self/status`), read before and
//! after planning, so the table shows both the whole process and what planning added. Planning
//! from a typed [`cip_core::Inventory`] first makes it compact (as the CLI reads inventory files
//! straight into that form, `bench/plan-memory.sh` measures that process): the two steps are
//! timed apart.
//!
//! ```text
//! cargo run --release -p cip-core --example plan-scale
//! ```

#![allow(clippy::print_stdout)]

#[path = "../benches/support/plan_inventory.rs"]
mod support;
#[path = "../../tests/gen/synth.rs"]
mod synth;

use std::time::Instant;

use cip_core::inventory::CompactInventory;
use cip_core::{Input, PlanOptions, SourceFile};

/// The process's peak resident set size in KiB (Linux), or 0 where unknown.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time of this thread in milliseconds (user + system, from `/proc/thread-self/stat`, in
/// clock ticks of 10 ms): on a shared machine wall time also counts other processes' turns.
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) * 10
}

fn main() {
    let files = synth::generate(synth::Params::FULL);
    let files: Vec<SourceFile> =
        files.into_iter().map(|(path, text)| SourceFile::new(format!("synth/{path}"), text)).collect();
    let started = Instant::now();
    let set = cip_core::load(Input { files, thin_dirs: None });
    let load = started.elapsed();
    let inventory = support::inventory(&set);
    let before = peak_kib();
    let cpu = cpu_ms();
    let compact = CompactInventory::from(&inventory);
    let compact_cpu = cpu_ms() - cpu;
    let cpu = cpu_ms();
    let started = Instant::now();
    let plan = cip_core::plan::plan(&set, &compact, &PlanOptions::default());
    let planned = started.elapsed();
    let plan_cpu = cpu_ms() - cpu;
    let after = peak_kib();
    let s = plan.summary;
    let edges = s.copy + s.tag + s.present + s.blocked;
    println!("| measure | value |");
    println!("|---|---|");
    println!("| edges | {edges} |");
    println!(
        "| actions | {} (copy edges {}, tag edges {}, present {}, blocked {}) |",
        plan.actions.len(),
        s.copy,
        s.tag,
        s.present,
        s.blocked
    );
    println!("| load + lint | {:.0} ms |", load.as_secs_f64() * 1e3);
    println!("| make the typed inventory compact (CPU of this thread) | {compact_cpu} ms |");
    println!("| plan from the compact inventory (wall) | {:.0} ms |", planned.as_secs_f64() * 1e3);
    println!("| plan from the compact inventory (CPU of this thread) | {plan_cpu} ms |");
    println!("| peak RSS before plan (inputs + inventory) | {:.0} MiB |", before as f64 / 1024.0);
    println!("| peak RSS after plan | {:.0} MiB |", after as f64 / 1024.0);
    println!(
        "| added by the compact inventory and planning | {:.0} MiB |",
        after.saturating_sub(before) as f64 / 1024.0
    );
}
