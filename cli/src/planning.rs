//! Reading what the commands plan from: the manifests at the PATH arguments (loaded and linted
//! once per command) and an inventory document (`--inventory FILE`). Online commands build the
//! inventory with the engine's reader instead; both then call the same core functions.

use std::fs;
use std::io::BufReader;

use cip_core::inventory::{CompactInventory, InventoryError};
use cip_core::plan::AttachmentFilter;
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

impl PlanningError {
    /// The file the error is about.
    pub(crate) fn path(&self) -> &str {
        match self {
            PlanningError::Input(error) => error.path(),
            PlanningError::Read { path, .. } | PlanningError::Inventory { path, .. } => path,
        }
    }
}

/// Reads an inventory JSON document; a syntax or shape error names the file, line and column.
pub(crate) fn read_inventory(path: &str) -> Result<Inventory, PlanningError> {
    parse_inventory(path, Inventory::from_json)
}

/// Reads an inventory JSON document for planning into the compact form, as it streams from the
/// file: at Kubernetes scale the text is over 100 MiB, and neither it nor the typed tree is held.
/// Errors are [`read_inventory`]'s, to the column.
pub(crate) fn read_plan_inventory(path: &str) -> Result<CompactInventory, PlanningError> {
    let file =
        fs::File::open(path).map_err(|source| PlanningError::Read { path: path.to_owned(), source })?;
    CompactInventory::from_json_reader(BufReader::with_capacity(1 << 16, file))
        // Only when it fails is the text read whole, and parsed by the in-memory reader: a file
        // that cannot be read gets the same IO error as `read_inventory`'s, and a bad document
        // the same column (serde_json's streaming reader can count a byte it only peeked at).
        .or_else(|_| parse_inventory(path, CompactInventory::from_json))
}

/// Reads the file at `path` and parses it with `parse`.
fn parse_inventory<T>(path: &str, parse: fn(&str) -> Result<T, InventoryError>) -> Result<T, PlanningError> {
    let text =
        fs::read_to_string(path).map_err(|source| PlanningError::Read { path: path.to_owned(), source })?;
    parse(&text).map_err(|e| PlanningError::Inventory {
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

/// Which attachments travel with the digests a plan places (`cip plan`, `cip promote`).
#[derive(Debug, clap::Args)]
pub(crate) struct AttachmentArgs {
    /// Attachments that follow every promoted digest: `all` (cosign `.sig`, `.att`, `.sbom` tags
    /// and OCI 1.1 referrers, recursively), `signatures` (`.sig` and Sigstore bundle or cosign
    /// signature referrers) or `none`.
    #[arg(long, value_name = "WHICH", default_value = "all", value_parser = parse_attachments)]
    pub attachments: AttachmentFilter,
    /// Only referrers with this `artifactType` follow (repeatable); tag-scheme attachments are
    /// not filtered by it.
    #[arg(long = "attachment-type", value_name = "TYPE")]
    pub attachment_type: Vec<String>,
}

fn parse_attachments(text: &str) -> Result<AttachmentFilter, String> {
    text.parse()
}

impl AttachmentArgs {
    /// The plan options with these attachments, `strict` and the trust gate's options.
    pub(crate) fn plan_options(
        &self,
        strict: bool,
        trust: cip_core::trust::TrustOptions,
    ) -> cip_core::PlanOptions {
        cip_core::PlanOptions {
            strict,
            attachments: self.attachments,
            attachment_types: self.attachment_type.clone(),
            trust,
        }
    }
}

/// The delta base of `cip plan` and `cip promote`: manifests from files (`--base PATH`) or as
/// of a git revision of the repository holding the manifests (`--base-rev REV`).
#[derive(Debug, clap::Args)]
pub(crate) struct BaseArgs {
    /// Manifests as of the last promotion (file or thin directory; repeatable): plan only the
    /// digests added or whose tags changed since then.
    #[arg(long, value_name = "PATH", conflicts_with = "base_rev")]
    pub base: Vec<String>,
    /// The manifests as of git revision REV of the repository holding them are the base (as
    /// --base, read with `git show REV:PATH`); a path that did not exist at REV has an empty
    /// base. Needs `git`.
    #[arg(long, value_name = "REV")]
    pub base_rev: Option<String>,
}

impl BaseArgs {
    /// The base manifest set, if any, for the manifests at `paths`.
    pub(crate) fn load<P: AsRef<str>>(&self, paths: &[P]) -> anyhow::Result<Option<ManifestSet>> {
        use anyhow::Context;
        if let Some(rev) = &self.base_rev {
            let input = crate::git::read_paths_at(rev, paths)
                .with_context(|| format!("reading the base manifests at revision {rev}"))?;
            return Ok(Some(cip_core::load(input)));
        }
        if self.base.is_empty() {
            return Ok(None);
        }
        Ok(Some(load_paths(&self.base).context("reading the --base manifests")?))
    }
}
