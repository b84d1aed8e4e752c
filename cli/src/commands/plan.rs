//! `cip plan`: what a promotion would do, from manifests and an inventory of the registries.

use std::io::{IsTerminal, Write};

use crate::planning;
use anyhow::Context;
use cip_core::planfile::{PlanFile, RegistryEntry};

use super::ExitStatus;

/// Output formats of `cip plan` and `cip audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PlanFormat {
    /// Findings, actions and a table per destination.
    Human,
    /// The plan as JSON (`{"actions", "blocked", "diagnostics", "summary"}`).
    Json,
}

/// Arguments of `cip plan`.
#[derive(Debug, clap::Args)]
pub(crate) struct PlanArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: PlanFormat,
    #[command(flatten)]
    base: planning::BaseArgs,
    /// Any error blocks every action, not only the edges it concerns.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    attachments: planning::AttachmentArgs,
    #[command(flatten)]
    trust: super::trust_args::TrustArgs,
    /// Also write the plan as a plan file (format version, the plan, the manifests' sha256,
    /// every action's preconditions) for `cip apply FILE`.
    #[arg(long, value_name = "FILE")]
    out: Option<String>,
    /// Registry state as an inventory JSON document. Without it the registries are read.
    #[arg(long, value_name = "FILE")]
    inventory: Option<String>,
    #[command(flatten)]
    online: super::online::OnlineArgs,
    /// Manifest files and thin manifest directories, planned together.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

/// True when human output goes to a terminal that accepts colour.
pub(crate) fn color(human: bool) -> bool {
    human && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The plan file of `plan`, made from the manifests of `set`.
fn plan_file(set: &cip_core::ManifestSet, plan: cip_core::Plan) -> PlanFile {
    let manifests = super::apply::manifest_digests(set.files.iter().map(|(_, f)| f));
    let registries = set
        .manifests
        .iter()
        .flat_map(|m| &m.registries)
        .map(|r| RegistryEntry {
            name: r.name.value.clone(),
            service_account: r.service_account.as_ref().map(|a| a.value.clone()),
        })
        .collect();
    PlanFile::new(plan, manifests, registries)
}

/// Runs `cip plan`.
pub(crate) fn run(args: PlanArgs) -> anyhow::Result<ExitStatus> {
    let options = args.attachments.plan_options(args.strict, args.trust.options()?);
    let set = planning::load_paths(&args.paths);
    let inventory = args.inventory.as_deref().map(planning::read_plan_inventory);
    if args.format == PlanFormat::Json {
        // Tools reading JSON get the plan's shape with the error in it, never nothing; the exit
        // code stays 2.
        let failed = [set.as_ref().err(), inventory.as_ref().and_then(|i| i.as_ref().err())];
        if let Some(error) = failed.into_iter().flatten().next() {
            let mut plan = cip_core::Plan::default();
            plan.diagnostics.push(crate::render::read_error(&error.to_string(), error.path()));
            std::io::stdout().lock().write_all(plan.to_json().as_bytes()).context("writing output")?;
        }
    }
    let set = set.context("reading manifests")?;
    let base = args.base.load(&args.paths)?;
    let inventory = match inventory {
        Some(read) => read?,
        None => cip_core::inventory::CompactInventory::from(&super::online::read(
            &args.online,
            super::online::Read::Plan(&set, &cip::read::Discovery::of(&options)),
        )?),
    };
    let plan = cip_core::plan::plan_delta(&set, base.as_ref(), &inventory, &options);
    let text = match args.format {
        PlanFormat::Json => plan.to_json(),
        PlanFormat::Human => crate::render::tables::plan_human(&plan, &set.files, color(true)),
    };
    std::io::stdout().lock().write_all(text.as_bytes()).context("writing output")?;
    if let Some(path) = &args.out {
        let file = plan_file(&set, plan.clone());
        std::fs::write(path, file.to_json()).with_context(|| format!("writing the plan file {path}"))?;
    }
    Ok(if plan.has_problems() { ExitStatus::Findings } else { ExitStatus::Clean })
}
