//! Lint benchmark on the synthetic Kubernetes-scale thin set (`tests/gen/synth.rs`): 100 thin
//! manifests, 20 destinations each, 45,000 digest entries, linted in memory; plus the same set at
//! 1/4 and 1/2 size to show that lint time grows linearly. Target: the full set under 150 ms on
//! one core.
//!
//! ```text
//! cargo bench -p cip-core --bench lint
//! ```

#![allow(missing_docs)] // criterion_group! generates undocumented items

#[path = "../../tests/gen/synth.rs"]
mod synth;

use std::time::Duration;

use cip_core::{Input, SourceFile};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn input(fraction: f64) -> (Input, usize) {
    let files = synth::generate(synth::Params::scaled(fraction));
    let digests = synth::count_digests(&files);
    let files =
        files.into_iter().map(|(path, text)| SourceFile::new(format!("synth/{path}"), text)).collect();
    (Input { files, thin_dirs: None }, digests)
}

fn lint(c: &mut Criterion) {
    let mut group = c.benchmark_group("lint");
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    for (label, fraction) in [("quarter", 0.25), ("half", 0.5), ("full", 1.0)] {
        let (input, digests) = input(fraction);
        // Sanity: the generated set is clean, so the benchmark measures the normal path.
        let report = cip_core::lint(input.clone());
        assert_eq!(report.summary.errors, 0, "{:#?}", &report.diagnostics[..report.diagnostics.len().min(5)]);
        assert_eq!(report.summary.digests, digests);
        group.throughput(Throughput::Elements(digests as u64));
        group.bench_with_input(BenchmarkId::new(label, digests), &input, |b, input| {
            b.iter_batched(|| input.clone(), cip_core::lint, BatchSize::LargeInput);
        });
    }
    group.finish();
}

criterion_group!(benches, lint);
criterion_main!(benches);
