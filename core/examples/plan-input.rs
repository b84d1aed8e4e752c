//! Writes the input of the plan memory benchmark (`bench/plan-memory.sh`) to a directory: the
//! synthetic Kubernetes-scale thin manifest set of `tests/gen/synth.rs` as the thin directory
//! `DIR/set/` (`manifests/`, `images/`), and `DIR/inventory.json`, the inventory of the `plan` benchmark (every
//! source digest present, 1% of the (digest, destination) pairs missing), written as `cip`
//! writes inventories (pretty JSON).
//!
//! ```text
//! cargo run --release -p cip-core --example plan-input -- DIR [FRACTION]
//! cip plan --inventory DIR/inventory.json DIR/set
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../../tests/gen/cli.rs"]
mod cli;
#[path = "../benches/support/plan_inventory.rs"]
mod support;
#[path = "../../tests/gen/synth.rs"]
mod synth;

use cip_core::{Input, SourceFile};

fn main() -> std::io::Result<()> {
    let (out, fraction) = cli::dir_and_fraction("plan-input DIR");
    let files = synth::generate(synth::Params::scaled(fraction));
    cli::write_files(&out.join("set"), &files)?;
    let sources: Vec<SourceFile> =
        files.into_iter().map(|(path, text)| SourceFile::new(path, text)).collect();
    let set = cip_core::load(Input { files: sources, thin_dirs: None });
    let inventory = support::inventory(&set);
    let json = inventory.to_json();
    std::fs::write(out.join("inventory.json"), &json)?;
    println!(
        "wrote {} manifests (set/) and inventory.json ({} repositories, {} bytes) to {}",
        set.manifests.len(),
        inventory.repositories.len(),
        json.len(),
        out.display()
    );
    Ok(())
}
