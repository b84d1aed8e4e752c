//! `cip audit`: tags and digests in production that no manifest declares (drift); with
//! `--attachments`, the attachments of every declared digest compared with the source's.

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
    /// Also compare the attachments (signatures, attestations, SBOMs, referrers) of every
    /// declared digest in every destination with the source's: missing ones are errors
    /// (`attachment-missing`), extra ones information. Reads the source repositories too.
    #[arg(long)]
    attachments: bool,
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
        None => {
            let mut inventory = super::online::read(&args.online, super::online::Read::Audit(&set))?;
            if args.attachments {
                // The sources too: attachments are compared with theirs.
                let planned = super::online::read(
                    &args.online,
                    super::online::Read::Plan(&set, &cip::read::Discovery::default()),
                )?;
                for (repo, manifests) in planned.repositories {
                    inventory.repositories.entry(repo).or_insert(manifests);
                }
            }
            inventory
        }
    };
    let report = if args.attachments {
        cip_core::audit::audit_attachments(&set, &inventory)
    } else {
        cip_core::audit::audit(&set, &inventory)
    };
    let text = match args.format {
        PlanFormat::Json => report.to_json(),
        PlanFormat::Human => crate::render::tables::audit_human(&report, &set.files, color(true)),
    };
    std::io::stdout().lock().write_all(text.as_bytes()).context("writing output")?;
    // A missing attachment is an `attachment-missing` error finding; extra ones are information.
    let problems = !report.drift.is_empty() || report.diagnostics.iter().any(|d| d.is_error());
    Ok(if problems { ExitStatus::Findings } else { ExitStatus::Clean })
}
