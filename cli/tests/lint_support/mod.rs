//! What the lint vector tests (`lint_cli.rs`, `fix_cli.rs`) share: the vectors' folder, running
//! the built `cip` in a folder, and a folder's entries in name order.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `tests/vectors/lint/`: one folder per case.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/lint")
}

/// The `cip` binary of this build run in `dir`.
pub fn cip(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cip")).args(args).current_dir(dir).output().expect("run cip")
}

/// The names of `dir`'s entries, sorted.
pub fn sorted_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().into_string().expect("UTF-8 name"))
        .collect();
    names.sort();
    names
}
