//! Reading what the commands plan from: the manifests at the PATH arguments (loaded and linted
//! once per command) and an inventory document (`--inventory FILE`). Online commands build the
//! inventory with the engine's reader instead; both then call the same core functions.

use std::fs;

use cip_core::{Inventory, ManifestSet};

use crate::input::{InputError, read_paths};

/// Why planning could not start (a caller error, exit 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanningError {
    /// The manifests could not be read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The inventory file could not be read.
    #[error("cannot read inventory {path}: {source}")]
    Read {
        /// The path as given.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The inventory file is not a valid inventory document.
    #[error(
        "{path}:{line}:{column}: invalid inventory: {message} (expected {{\"repositories\": {{\"<registry>/<image>\": {{\"sha256:...\": {{\"tags\": [...]}}}}}}}})"
    )]
    Inventory {
        /// The path as given.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// Reads an inventory JSON document; a syntax or shape error names the file, line and column.
pub(crate) fn read_inventory(path: &str) -> Result<Inventory, PlanningError> {
    let text =
        fs::read_to_string(path).map_err(|source| PlanningError::Read { path: path.to_owned(), source })?;
    Inventory::from_json(&text).map_err(|e| PlanningError::Inventory {
        path: path.to_owned(),
        line: e.line,
        column: e.column,
        message: e.message,
    })
}

/// Reads and validates manifest files and thin directories together.
pub(crate) fn load_paths<P: AsRef<str>>(paths: &[P]) -> Result<ManifestSet, PlanningError> {
    Ok(cip_core::load(read_paths(paths)?))
}
