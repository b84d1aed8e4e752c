//! `cip apply PLAN [--shard I/N | --shards N]`: executes a plan file (`cip plan --out`) without
//! reading the registries or planning again, so the work done is exactly the plan a reviewer
//! approved. The executor re-checks each action's preconditions just before writing its tags
//! (`tag-move`, `lost`; see `cip::promote::precondition`), as `cip promote --confirm` does.
//!
//! With a shard, only that shard's actions run ([`PlanFile::partition`]), and each host's
//! request rate is divided by the number of shards that reach it, so N workers together stay
//! within one worker's rate. The shard's report (`--report FILE`, or `--format json` on stdout)
//! is what `cip report merge` reads.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail};
use cip::promote::{self, Limits, Observer, PromoteOptions, Quiet};
use cip::registry::RegistryClient;
use cip_core::planfile::shard::{self, Shard};
use cip_core::planfile::{ManifestDigest, PlanFile, PlanFileError};
use cip_core::{Plan, SourceFile};
use sha2::{Digest as _, Sha256};

use super::ExitStatus;
use super::report::ShardReport;
use crate::display;

/// The environment variable a Kubernetes Indexed Job sets to the pod's completion index.
const INDEX_VARIABLE: &str = "JOB_COMPLETION_INDEX";

/// Output formats of `cip apply`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ApplyFormat {
    /// Failures, refusals and a summary table.
    Human,
    /// The shard report (what `--report FILE` writes and `cip report merge` reads).
    Json,
}

/// Arguments of `cip apply`.
#[derive(Debug, clap::Args)]
pub(crate) struct ApplyArgs {
    /// Run only shard I of N (0-based): a deterministic part of the actions (an image's copies
    /// to every mirror together, so destination repositories stay whole), balanced by action
    /// count; each host's rate is divided by the number of shards that reach it.
    #[arg(long, value_name = "I/N", conflicts_with = "shards")]
    shard: Option<Shard>,
    /// Run one of N shards, the index read from $JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs).
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
    /// Refuse the plan unless these manifest files and thin directories are exactly those it
    /// was made from, byte for byte (sha256), as given to `cip plan`.
    #[arg(long = "check", value_name = "PATH")]
    check: Vec<String>,
    /// Also write the shard's JSON report to FILE (for `cip report merge`).
    #[arg(long, value_name = "FILE")]
    report: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: ApplyFormat,
    /// Images promoted in parallel.
    #[arg(long, default_value_t = 16, value_name = "N")]
    jobs: usize,
    /// Blob transfers in parallel per destination registry.
    #[arg(long, default_value_t = 12, value_name = "N")]
    blob_jobs: usize,
    /// When source and destination are one registry, read and hash every blob from the source
    /// before mounting it.
    #[arg(long)]
    verify_mounts: bool,
    /// How registries are reached: credentials, insecure hosts, rates, timeouts, verbosity.
    #[command(flatten)]
    online: super::online::OnlineArgs,
    /// The plan file written by `cip plan --out FILE`.
    #[arg(value_name = "PLAN")]
    plan: String,
}

/// `sha256:<hex>` of some bytes.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut text = String::with_capacity(71);
    text.push_str("sha256:");
    for byte in digest {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// The digests of manifest files as a plan file records them.
pub(crate) fn manifest_digests<'a>(files: impl IntoIterator<Item = &'a SourceFile>) -> Vec<ManifestDigest> {
    files
        .into_iter()
        .map(|f| ManifestDigest { path: f.path.clone(), sha256: sha256(f.text.as_bytes()) })
        .collect()
}

/// Reads a plan file; errors name the file (and line and column for JSON errors).
fn read_plan_file(path: &str) -> anyhow::Result<(PlanFile, String)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read plan file {path}"))?;
    match PlanFile::from_json(&text) {
        Ok(file) => Ok((file, sha256(text.as_bytes()))),
        Err(error @ PlanFileError::Syntax { .. }) => bail!("{path}:{error}"),
        Err(error) => bail!("{path}: {error}"),
    }
}

/// This worker's shard: `--shard`, or `--shards` with the index from the environment.
fn which_shard(args: &ApplyArgs) -> anyhow::Result<Shard> {
    if let Some(shard) = args.shard {
        return Ok(shard);
    }
    let Some(count) = args.shards else { return Ok(Shard::ALL) };
    let index = std::env::var(INDEX_VARIABLE).with_context(|| {
        format!("--shards {count}: ${INDEX_VARIABLE} is not set (set by Kubernetes Indexed Jobs; elsewhere use --shard I/{count})")
    })?;
    let index: usize = index
        .trim()
        .parse()
        .with_context(|| format!("--shards {count}: ${INDEX_VARIABLE}={index:?} is not a number"))?;
    Shard::new(index, count)
        .with_context(|| format!("--shards {count}: ${INDEX_VARIABLE}={index} must be below {count}"))
}

/// Runs `cip apply`.
pub(crate) fn run(args: ApplyArgs) -> anyhow::Result<ExitStatus> {
    args.online.init_tracing();
    let (file, plan_sha256) = read_plan_file(&args.plan)?;
    if !args.check.is_empty() {
        let input = crate::input::read_paths(&args.check).context("reading the --check manifests")?;
        if let Err(mismatch) = file.check_manifests(&manifest_digests(&input.files)) {
            bail!("{}: {mismatch}", args.plan);
        }
    }
    let shard = which_shard(&args)?;
    let shards = file.partition(shard.count);
    let indexes = shards[shard.index].clone();
    let plan =
        Plan { actions: indexes.iter().map(|&i| file.plan.actions[i].clone()).collect(), ..Plan::default() };

    let mut config = args.online.registry_options()?.client_config(None)?;
    for registry in &file.registries {
        if let Some(account) = &registry.service_account {
            config.service_accounts.insert(registry.name.clone(), account.clone());
        }
    }
    if shard.count > 1 {
        config.rate_shared_by = shard::shards_per_host(&file.plan.actions, &shards);
    }
    let client =
        RegistryClient::new(config).map_err(anyhow::Error::msg).context("configuring the registry client")?;
    let names = file.registries.iter().map(|r| r.name.clone()).collect();
    let connection = cip::Connection::with_client(names, client);
    let options = PromoteOptions {
        confirm: true,
        limits: Limits { jobs: args.jobs, blob_jobs: args.blob_jobs, ..Limits::default() },
        progress_every: Duration::from_millis(200),
        verify_mounts: args.verify_mounts,
        ..PromoteOptions::default()
    };
    let human = args.format == ApplyFormat::Human;
    let observer: &dyn Observer = if human && display::wanted() { &display::PromoteDisplay } else { &Quiet };
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let report = runtime.block_on(promote::execute_plan(&connection, &plan, &options, observer));
    let shard_report = ShardReport::new(plan_sha256, shard, indexes, report);
    let json = cip_core::wire::pretty_json(&shard_report);
    if let Some(path) = &args.report {
        std::fs::write(path, &json).with_context(|| format!("writing the report {path}"))?;
    }
    let out = match args.format {
        ApplyFormat::Json => json,
        ApplyFormat::Human => {
            format!(
                "shard {shard}: {} actions\n{}",
                shard_report.actions.len(),
                shard_report.report.to_human()
            )
        }
    };
    std::io::stdout().lock().write_all(out.as_bytes()).context("writing output")?;
    Ok(if shard_report.report.has_failures() { ExitStatus::Findings } else { ExitStatus::Clean })
}
