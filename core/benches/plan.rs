//! Planning benchmark at Kubernetes scale: the synthetic thin set of `tests/gen/synth.rs`
//! (45,000 digest entries, 20 destinations each: about a million edges) against an inventory in
//! which 1% of the (digest, destination) pairs are missing. Target: a plan in under 1 s. Planned
//! from the compact inventory (what `cip plan --inventory` reads a file into) and from the typed
//! one (made compact first). Peak memory is measured by the `plan-scale` example
//! (`/proc/self/status` VmHWM) and, for the whole `cip plan` process, `bench/plan-memory.sh`.
//!
//! ```text
//! cargo bench -p cip-core --bench plan
//! cargo run --release -p cip-core --example plan-scale
//! ```

#![allow(missing_docs)] // criterion_group! generates undocumented items

#[path = "support/plan_inventory.rs"]
mod support;
#[path = "../../tests/gen/synth.rs"]
mod synth;

use std::time::Duration;

use cip_core::inventory::CompactInventory;
use cip_core::{Input, PlanOptions, SourceFile};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn plan(c: &mut Criterion) {
    let files = synth::generate(synth::Params::FULL);
    let files =
        files.into_iter().map(|(path, text)| SourceFile::new(format!("synth/{path}"), text)).collect();
    let set = cip_core::load(Input { files, thin_dirs: None });
    let inventory = support::inventory(&set);
    let compact = CompactInventory::from(&inventory);
    let plan = cip_core::plan::plan(&set, &compact, &PlanOptions::default());
    let s = plan.summary;
    let edges = s.copy + s.tag + s.present + s.blocked;
    assert!(edges > 800_000 && s.copy > 0, "unexpected synthetic plan: {s:?}");
    let mut group = c.benchmark_group("plan");
    group.sample_size(10).measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(edges as u64));
    group.bench_function("k8s-scale-1pct-missing", |b| {
        b.iter(|| cip_core::plan::plan(&set, &compact, &PlanOptions::default()));
    });
    group.bench_function("k8s-scale-1pct-missing-typed-inventory", |b| {
        b.iter(|| cip_core::plan::plan(&set, &inventory, &PlanOptions::default()));
    });
    group.finish();
}

criterion_group!(benches, plan);
criterion_main!(benches);
