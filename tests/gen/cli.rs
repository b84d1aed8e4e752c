//! The command line shared by the examples that write the synthetic set (`gen-manifests`,
//! `plan-input`): `DIR [FRACTION]`, and writing the generated files below a folder.

use std::path::{Path, PathBuf};

/// `DIR [FRACTION]` from the command line (FRACTION 1.0 when absent); on bad input prints
/// `usage: {usage} [FRACTION]` (`usage` names the program and its DIR) or what FRACTION must be,
/// and exits with status 2.
pub fn dir_and_fraction(usage: &str) -> (PathBuf, f64) {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: {usage} [FRACTION]");
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
    (out, fraction)
}

/// Writes each `(path, text)` below `dir`, creating folders as needed.
pub fn write_files(dir: &Path, files: &[(String, String)]) -> std::io::Result<()> {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("generated paths have a folder"))?;
        std::fs::write(&path, text)?;
    }
    Ok(())
}
