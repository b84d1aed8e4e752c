//! Writes the synthetic Kubernetes-scale thin manifest set (see `synth.rs`) to a directory:
//!
//! ```text
//! cargo run -p cip-core --release --example gen-manifests -- OUT_DIR [FRACTION]
//! ```
//!
//! FRACTION scales the set (default 1.0 = 100 manifests, 45,000 digest entries). The output is
//! deterministic, so `cip lint OUT_DIR` always sees the same bytes.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "cli.rs"]
mod cli;
#[path = "synth.rs"]
mod synth;

fn main() -> std::io::Result<()> {
    let (out, fraction) = cli::dir_and_fraction("gen-manifests OUT_DIR");
    let files = synth::generate(synth::Params::scaled(fraction));
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    cli::write_files(&out, &files)?;
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
