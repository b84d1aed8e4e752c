//! `cip audit`: tags and digests in production that no manifest declares (drift).

use std::io::Write;

use crate::planning;
use anyhow::Context;

use super::ExitStatus;
use super::plan::{PlanFormat, color};

/// Arguments of `cip audit`.
#[derive(Debug, clap::Args)]
pub(crate) struct AuditArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: PlanFormat,
    /// State of the destination registries as an inventory JSON document. Without it the
    /// destination registries are read.
    #[arg(long, value_name = "FILE")]
    inventory: Option<String>,
    #[command(flatten)]
    online: super::online::OnlineArgs,
    /// Manifest files and thin manifest directories.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

/// Runs `cip audit`.
pub(crate) fn run(args: AuditArgs) -> anyhow::Result<ExitStatus> {
    let set = match planning::load_paths(&args.paths) {
        Ok(set) => set,
        Err(error) if args.format == PlanFormat::Json => {
            // Tools reading JSON get the audit's shape with the error in it, never nothing; exit 2.
            let mut report = cip_core::audit::AuditReport::default();
            report.diagnostics.push(crate::render::read_error(&error.to_string(), error.path()));
            std::io::stdout().lock().write_all(report.to_json().as_bytes()).context("writing output")?;
            return Err(error).context("reading manifests");
        }
        Err(error) => return Err(error).context("reading manifests"),
    };
    let inventory = match &args.inventory {
        Some(file) => planning::read_inventory(file)?,
        None => super::online::read(&args.online, super::online::Read::Audit(&set))?,
    };
    let report = cip_core::audit::audit(&set, &inventory);
    let text = match args.format {
        PlanFormat::Json => report.to_json(),
        PlanFormat::Human => crate::render::tables::audit_human(&report, &set.files, color(true)),
    };
    std::io::stdout().lock().write_all(text.as_bytes()).context("writing output")?;
    let problems = !report.drift.is_empty() || report.diagnostics.iter().any(|d| d.is_error());
    Ok(if problems { ExitStatus::Findings } else { ExitStatus::Clean })
}
