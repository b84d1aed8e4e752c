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

#[path = "../benches/support/plan_inventory.rs"]
mod support;
#[path = "../../tests/gen/synth.rs"]
mod synth;

use std::path::PathBuf;

use cip_core::{Input, SourceFile};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: plan-input DIR [FRACTION]");
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
    for (path, text) in &files {
        let path = out.join("set").join(path);
        std::fs::create_dir_all(path.parent().expect("generated paths have a folder"))?;
        std::fs::write(&path, text)?;
    }
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
