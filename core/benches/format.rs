//! `cip fmt` and `cip lint --fix` speed on the synthetic Kubernetes-scale thin set
//! (`tests/gen/synth.rs`: 100 thin manifests, 45,000 digest entries), in memory:
//! - `format/full`: `cip_core::format::format` on every file of the set (what `cip fmt --check`
//!   does after reading);
//! - `format/largest`: the largest images file alone (what an editor's "format document" costs);
//! - `fix/full-clean`: `cip_core::fix::fix` on the clean set (one lint, nothing to apply: the cost
//!   `--fix` adds when there is nothing to fix);
//! - `fix/full-unquoted`: the set with an unquoted number-like tag (`7.0`) added to every tag
//!   list of the largest file, each a `tag-unquoted` finding with a fix (lint, apply, lint).
//!
//! ```text
//! cargo bench -p cip-core --bench format
//! ```

#![allow(missing_docs)] // criterion's macros generate undocumented items

#[path = "../../tests/gen/synth.rs"]
mod synth;

use std::time::Duration;

use cip_core::fix::Applicability;
use cip_core::{Input, SourceFile};
use criterion::{BatchSize, Criterion, Throughput};

fn main() {
    let files: Vec<SourceFile> = synth::generate(synth::Params::scaled(1.0))
        .into_iter()
        .map(|(path, text)| SourceFile::new(format!("synth/{path}"), text))
        .collect();
    let digests =
        synth::count_digests(&files.iter().map(|f| (f.path.clone(), f.text.clone())).collect::<Vec<_>>())
            as u64;
    let largest = files.iter().max_by_key(|f| f.text.len()).expect("files").clone();
    // Sanity: every file formats (the set is valid).
    assert!(files.iter().all(|f| cip_core::format::format(f).is_ok()));

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("format");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(digests));
    group.bench_function("full", |b| {
        b.iter(|| {
            files.iter().map(|f| cip_core::format::format(f).map(|t| t.len()).unwrap_or(0)).sum::<usize>()
        })
    });
    group.throughput(Throughput::Bytes(largest.text.len() as u64));
    group.bench_function("largest", |b| b.iter(|| cip_core::format::format(&largest).expect("formats")));
    group.finish();

    let clean = Input { files: files.clone(), thin_dirs: None };
    let mut unquoted = clean.clone();
    let big = unquoted.files.iter_mut().max_by_key(|f| f.text.len()).expect("files");
    let tags = big.text.matches("[\"").count();
    // `N.0` reads as the number N to a YAML reader, so it is tag-unquoted; one N per list, so no
    // tag is given to two digests.
    let mut n = 0;
    big.text = big
        .text
        .split("[\"")
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_owned()
            } else {
                n += 1;
                format!("[{n}.0, \"{part}")
            }
        })
        .collect();
    let mut group = c.benchmark_group("fix");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(digests));
    group.bench_function("full-clean", |b| {
        b.iter_batched(
            || clean.clone(),
            |i| cip_core::fix::fix(i, Applicability::Safe),
            BatchSize::LargeInput,
        )
    });
    let outcome = cip_core::fix::fix(unquoted.clone(), Applicability::Safe);
    assert_eq!(outcome.applied, tags, "every unquoted tag is quoted in one pass");
    group.bench_function("full-unquoted", |b| {
        b.iter_batched(
            || unquoted.clone(),
            |i| cip_core::fix::fix(i, Applicability::Safe),
            BatchSize::LargeInput,
        )
    });
    group.finish();
    c.final_summary();
}
