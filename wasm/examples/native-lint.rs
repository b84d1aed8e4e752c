//! Native reference for the browser benchmark (web/bench/bench.mjs): lints a thin manifest
//! directory in-process with the same core call the wasm shell makes, `RUNS` times, and prints
//! one JSON line `{"ms": [...], "summary": {...}}` (file reading is outside the timing, as in the
//! browser, where the page holds the texts already).
//!
//! ```text
//! cargo run -p cip-wasm --release --example native-lint -- DIR [RUNS]
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::time::Instant;

use cip_core::{Input, SourceFile};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: native-lint DIR [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7);
    let root = Path::new(&dir);
    let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut files = Vec::new();
    read(root, &name, &mut files);
    let mut times = Vec::new();
    let mut summary = None;
    for _ in 0..runs {
        let input = Input { files: files.clone(), thin_dirs: None };
        let start = Instant::now();
        let report = cip_core::lint(input);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        summary = Some(report.summary);
    }
    let summary = serde_json::to_string(&summary).expect("summary serializes");
    println!("{{\"ms\": {times:?}, \"summary\": {summary}}}");
}

/// Every file under `dir`, sorted, with paths shown as `<name>/<relative path>`.
fn read(dir: &Path, shown: &str, out: &mut Vec<SourceFile>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        let child = format!("{shown}/{}", path.file_name().expect("name").to_string_lossy());
        if path.is_dir() {
            read(&path, &child, out);
        } else {
            out.push(SourceFile::new(child, std::fs::read_to_string(&path).expect("read file")));
        }
    }
}
