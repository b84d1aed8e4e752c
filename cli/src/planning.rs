//! Planning from files: read the manifests and an inventory document, call the core planner,
//! snapshot and audit. Offline commands use these with `--inventory FILE`; online commands build
//! the [`Inventory`] with the registry client (reading [`cip_core::plan::required_repositories`])
//! and call the same functions, so both paths plan identically.

use std::fs;

use cip_core::audit::AuditReport;
use cip_core::snapshot::{Snapshot, SnapshotOptions};
use cip_core::{Inventory, ManifestSet, Plan, PlanOptions};

use crate::input::{InputError, read_paths};

/// Why planning could not start (a caller error, exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PlanningError {
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
pub fn read_inventory(path: &str) -> Result<Inventory, PlanningError> {
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
pub fn load_paths<P: AsRef<str>>(paths: &[P]) -> Result<ManifestSet, PlanningError> {
    Ok(cip_core::load(read_paths(paths)?))
}

/// A plan and the manifests it was made from (renderers need their files for snippets).
pub struct PlanRun {
    /// The manifests, with their lint findings.
    pub set: ManifestSet,
    /// The plan.
    pub plan: Plan,
}

/// Plans the manifests at `paths` against `inventory`; with `base` paths, only what changed
/// since those manifests.
pub fn plan_with_inventory<P: AsRef<str>>(
    paths: &[P],
    base: Option<&[P]>,
    inventory: &Inventory,
    options: &PlanOptions,
) -> Result<PlanRun, PlanningError> {
    let set = load_paths(paths)?;
    let base = base.map(load_paths).transpose()?;
    let plan = cip_core::plan::plan_delta(&set, base.as_ref(), inventory, options);
    Ok(PlanRun { set, plan })
}

/// Snapshot of a registry as `inventory` holds it.
pub fn snapshot_inventory(inventory: &Inventory, registry: &str, options: &SnapshotOptions) -> Snapshot {
    cip_core::snapshot::snapshot(inventory, registry, options)
}

/// Audit of the destination repositories in `inventory` against the manifests at `paths`.
pub fn audit_with_inventory<P: AsRef<str>>(
    paths: &[P],
    inventory: &Inventory,
) -> Result<(ManifestSet, AuditReport), PlanningError> {
    let set = load_paths(paths)?;
    let report = cip_core::audit::audit(&set, inventory);
    Ok((set, report))
}
