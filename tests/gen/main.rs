//! Writes the synthetic Kubernetes-scale thin manifest set (see `synth.rs`) to a directory:
//!
//! ```text
//! cargo run -p cip-core --release --example gen-manifests -- OUT_DIR [FRACTION]
//! ```
//!
//! FRACTION scales the set (default 1.0 = 100 manifests, 45,000 digest entries). The output is
//! deterministic, so `cip lint OUT_DIR` always sees the same bytes.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "synth.rs"]
mod synth;

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: gen-manifests OUT_DIR [FRACTION]");
        std::process::exit(2);
    };
    let fraction = match args.next().map(|f| f.parse::<f64>()) {
        None => 1.0,
        Some(Ok(f)) if f > 0.0 => f,
        Some(_) => {
            eprintln!("FRACTION must be a positive number, e.g. 0.25");
            std::process::exit(2);
        }
    };
    let files = synth::generate(synth::Params::scaled(fraction));
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    for (path, text) in &files {
        let path = out.join(path);
        std::fs::create_dir_all(path.parent().expect("generated paths have a folder"))?;
        std::fs::write(&path, text)?;
    }
    println!(
        "wrote {} files ({} manifests, {} digest entries, {} bytes) to {}",
        files.len(),
        files.len() / 2,
        synth::count_digests(&files),
        bytes,
        out.display()
    );
    Ok(())
}
