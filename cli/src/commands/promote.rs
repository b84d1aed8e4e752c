//! `cip promote`: read the registries the manifests name, plan, print the plan, and with
//! `--confirm` execute it (dry run otherwise).

use std::io::{IsTerminal, Write};

use anyhow::Context;
use cip::planning;
use cip::promote::{self, Limits, Report, Stores};
use cip::registry::{ClientConfig, RegistryClient};
use cip_core::{ManifestSet, Plan, PlanOptions};
use serde::Serialize;

use super::ExitStatus;

/// Output formats of `cip promote`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PromoteFormat {
    /// The plan, failures and a summary table.
    Human,
    /// `{"plan": ..., "report": ...}`: every action with its result and timing.
    Json,
}

/// Arguments of `cip promote`.
#[derive(Debug, clap::Args)]
pub struct PromoteArgs {
    /// Execute the plan. Without it nothing is written (dry run).
    #[arg(long)]
    pub confirm: bool,
    /// Only these destination registries (repeatable): split a promotion to many mirrors across
    /// parallel jobs, one per mirror.
    #[arg(long = "dest", value_name = "REGISTRY")]
    pub dest: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: PromoteFormat,
    /// Any error blocks every action, not only the edges it concerns.
    #[arg(long)]
    pub strict: bool,
    /// Images promoted in parallel.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub jobs: usize,
    /// Blob transfers in parallel per destination registry.
    #[arg(long, default_value_t = 12, value_name = "N")]
    pub blob_jobs: usize,
    /// Requests per second per registry host (0: unlimited).
    #[arg(long, default_value_t = 50.0, value_name = "N")]
    pub rate: f64,
    /// Manifest files and thin manifest directories, promoted together.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
}

#[derive(Serialize)]
struct JsonOutput<'a> {
    plan: &'a Plan,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a Report>,
}

/// Registry names of every manifest of the set.
fn registry_names(set: &ManifestSet) -> Vec<String> {
    set.manifests.iter().flat_map(|m| &m.registries).map(|r| r.name.value.clone()).collect()
}

/// The registry client of the run; each registry's `service-account` is impersonated.
fn client(set: &ManifestSet, args: &PromoteArgs) -> anyhow::Result<RegistryClient> {
    let mut config = ClientConfig { default_rate: args.rate, ..ClientConfig::default() };
    for registry in set.manifests.iter().flat_map(|m| &m.registries) {
        if let Some(account) = &registry.service_account {
            config.service_accounts.insert(registry.name.value.clone(), account.value.clone());
        }
    }
    RegistryClient::new(config).map_err(anyhow::Error::msg).context("configuring the registry client")
}

/// Drops the destination registries not named by `--dest`, so that only the chosen mirrors are
/// read and planned (the other mirrors are another job's business, not blocked edges).
fn restrict(set: &mut ManifestSet, dest: &[String]) {
    if dest.is_empty() {
        return;
    }
    for manifest in &mut set.manifests {
        manifest.registries.retain(|r| r.src || dest.contains(&r.name.value));
    }
}

/// Runs `cip promote`.
pub fn run(args: PromoteArgs) -> anyhow::Result<ExitStatus> {
    let mut set = planning::load_paths(&args.paths).context("reading manifests")?;
    let names = registry_names(&set);
    if let Some(unknown) = args.dest.iter().find(|d| !names.contains(d)) {
        anyhow::bail!("--dest {unknown}: no manifest names this registry");
    }
    let stores = Stores::new(names, promote::opener(client(&set, &args)?));
    restrict(&mut set, &args.dest);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let keep = |registry: &str| args.dest.is_empty() || args.dest.iter().any(|d| d == registry);
    let inventory =
        runtime.block_on(promote::inventory::read(&set, &stores, &keep)).context("reading the registries")?;
    let plan = cip_core::plan::plan(&set, &inventory, &PlanOptions { strict: args.strict });
    let human = args.format == PromoteFormat::Human;
    let mut out = String::new();
    if human {
        out.push_str(&cip::render_plan::plan_human(&plan, &set.files, super::plan::color(true)));
    }
    let report = if args.confirm && !plan.actions.is_empty() {
        let limits = Limits { images: args.jobs, blobs_per_registry: args.blob_jobs, ..Limits::default() };
        let display = human && std::io::stderr().is_terminal();
        Some(runtime.block_on(promote::execute(&plan.actions, &stores, limits, display)))
    } else {
        None
    };
    match args.format {
        PromoteFormat::Human => match &report {
            Some(report) => out.push_str(&report.to_human()),
            None if !args.confirm => out.push_str("dry run: nothing written (add --confirm to promote)\n"),
            None => out.push_str("nothing to do\n"),
        },
        PromoteFormat::Json => {
            out = serde_json::to_string_pretty(&JsonOutput { plan: &plan, report: report.as_ref() })
                .context("encoding the report")?;
            out.push('\n');
        }
    }
    std::io::stdout().lock().write_all(out.as_bytes()).context("writing output")?;
    let failed = report.as_ref().is_some_and(Report::has_failures);
    Ok(if failed || plan.has_problems() { ExitStatus::Findings } else { ExitStatus::Clean })
}
