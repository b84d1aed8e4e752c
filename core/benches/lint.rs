//! Lint benchmark on the synthetic Kubernetes-scale thin set (`tests/gen/synth.rs`): 100 thin
//! manifests, 20 destinations each, 45,000 digest entries, linted in memory; plus the same set at
//! 1/4 and 1/2 size to show that lint time grows linearly. Target: the full set under 150 ms on
//! one core.
//!
//! ```text
//! cargo bench -p cip-core --bench lint                       # wall-clock time
//! CIP_BENCH_CLOCK=cpu cargo bench -p cip-core --bench lint   # CPU time of the benchmark thread
//! ```
//!
//! The CPU clock (Linux, from `/proc/thread-self/schedstat`) counts only the time the lint itself
//! ran, so it stays meaningful on a machine shared with other jobs, where wall time is inflated by
//! waiting for a core.

#![allow(missing_docs)] // criterion's macros generate undocumented items

#[path = "../../tests/gen/synth.rs"]
mod synth;

use std::time::Duration;

use cip_core::{Input, SourceFile};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};

fn input(fraction: f64) -> (Input, usize) {
    let files = synth::generate(synth::Params::scaled(fraction));
    let digests = synth::count_digests(&files);
    let files =
        files.into_iter().map(|(path, text)| SourceFile::new(format!("synth/{path}"), text)).collect();
    (Input { files, thin_dirs: None }, digests)
}

fn lint<M: Measurement>(c: &mut Criterion<M>) {
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

/// CPU time consumed by the current thread.
struct ThreadCpuTime {
    wall: WallTime,
}

impl ThreadCpuTime {
    fn now() -> u64 {
        // First field: nanoseconds this thread has run on a CPU.
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .expect("/proc/thread-self/schedstat is readable (Linux)")
    }
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = Duration;

    fn start(&self) -> u64 {
        Self::now()
    }
    fn end(&self, start: u64) -> Duration {
        Duration::from_nanos(Self::now().saturating_sub(start))
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Same unit (nanoseconds) as wall time, so the same formatting.
        self.wall.formatter()
    }
}

fn main() {
    if std::env::var("CIP_BENCH_CLOCK").is_ok_and(|c| c == "cpu") {
        let mut c =
            Criterion::default().with_measurement(ThreadCpuTime { wall: WallTime }).configure_from_args();
        lint(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        lint(&mut c);
        c.final_summary();
    }
}
