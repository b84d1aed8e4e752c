//! `cip report merge REPORT...`: one summary of the shard reports of a sharded `cip apply`
//! (totals, and every failure or refusal with its shard). Exit 1 when a shard failed, a
//! precondition was refused, or a shard's report is missing; exit 2 when the reports are not of
//! one plan file.
//!
//! A shard that failed is re-run with the same command; its new report replaces the old one
//! (pass the new file).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use anyhow::{Context, bail};
use cip::promote::{Outcome, Report, ReportSummary};
use cip_core::planfile::shard::Shard;
use serde::{Deserialize, Serialize};

use super::ExitStatus;

/// The `format` of a shard report.
const FORMAT: &str = "cip-apply-report";

/// What `cip apply` writes for its shard.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ShardReport {
    /// Always `cip-apply-report`.
    pub format: String,
    /// `sha256:` of the plan file's bytes: reports of different plans never merge.
    pub plan_sha256: String,
    /// 0-based shard index.
    pub shard: usize,
    /// Number of shards.
    pub shards: usize,
    /// The indexes (into the plan file's actions) of this shard's actions, in order.
    pub actions: Vec<usize>,
    /// What the executor did, one record per action of `actions`.
    pub report: Report,
}

impl ShardReport {
    /// The report of `shard` of the plan file with digest `plan_sha256`.
    pub(crate) fn new(plan_sha256: String, shard: Shard, actions: Vec<usize>, report: Report) -> Self {
        ShardReport {
            format: FORMAT.to_owned(),
            plan_sha256,
            shard: shard.index,
            shards: shard.count,
            actions,
            report,
        }
    }
}

/// Output formats of `cip report merge`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum MergeFormat {
    /// Failures with their shard, then the totals.
    Human,
    /// `{"shards", "missing", "summary", "failures"}`.
    Json,
}

/// Arguments of `cip report`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ReportCommand {
    /// One summary of the shard reports of `cip apply --shard` (exit 1 if any shard failed or is missing).
    Merge(MergeArgs),
}

/// Arguments of `cip report merge`.
#[derive(Debug, clap::Args)]
pub(crate) struct MergeArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: MergeFormat,
    /// Shard reports (`cip apply --report FILE`), one per shard.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<String>,
}

/// One failed or refused action, with its shard.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Failure {
    shard: String,
    /// Index into the plan file's actions.
    action: usize,
    #[serde(flatten)]
    record: cip::promote::ActionReport,
}

/// The merged summary.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Merged {
    shards: usize,
    /// Shard indexes with no report.
    missing: Vec<usize>,
    summary: ReportSummary,
    failures: Vec<Failure>,
}

/// Runs `cip report`.
pub(crate) fn run(args: ReportArgs) -> anyhow::Result<ExitStatus> {
    let ReportCommand::Merge(args) = args.command;
    let mut reports: BTreeMap<usize, ShardReport> = BTreeMap::new();
    let mut first: Option<(String, usize, String)> = None;
    for path in &args.reports {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read report {path}"))?;
        let report: ShardReport = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{path}:{}:{}: not a `cip apply` report: {e} (write one with `cip apply --report FILE`)",
                e.line(),
                e.column()
            )
        })?;
        if report.format != FORMAT {
            bail!("{path}: not a `cip apply` report (format {:?})", report.format);
        }
        match &first {
            None => first = Some((report.plan_sha256.clone(), report.shards, path.clone())),
            Some((sha, count, other)) if *sha != report.plan_sha256 || *count != report.shards => bail!(
                "{path} and {other} are reports of different plans or shard counts ({} of {} vs {sha} of {count}); merge the reports of one `cip apply` run",
                report.plan_sha256,
                report.shards
            ),
            Some(_) => {}
        }
        if reports.contains_key(&report.shard) {
            bail!(
                "{path}: shard {}/{} given twice (pass only the latest report of a re-run shard)",
                report.shard,
                report.shards
            );
        }
        reports.insert(report.shard, report);
    }
    let shards = first.map_or(0, |(_, count, _)| count);
    let merged = merge(&reports, shards);
    let out = match args.format {
        MergeFormat::Json => cip_core::wire::pretty_json(&merged),
        MergeFormat::Human => human(&merged, &reports),
    };
    std::io::stdout().lock().write_all(out.as_bytes()).context("writing output")?;
    let s = &merged.summary;
    Ok(if s.failed > 0 || s.refused > 0 || !merged.missing.is_empty() {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

fn merge(reports: &BTreeMap<usize, ShardReport>, shards: usize) -> Merged {
    let mut summary = ReportSummary::default();
    let mut failures = Vec::new();
    for (index, shard) in reports {
        let s = &shard.report.summary;
        summary.done += s.done;
        summary.failed += s.failed;
        summary.refused += s.refused;
        summary.tags += s.tags;
        summary.manifests += s.manifests;
        summary.blobs_uploaded += s.blobs_uploaded;
        summary.blobs_mounted += s.blobs_mounted;
        summary.blobs_present += s.blobs_present;
        summary.bytes += s.bytes;
        // Shards run side by side: the job took as long as the slowest.
        summary.millis = summary.millis.max(s.millis);
        for (position, record) in shard.report.actions.iter().enumerate() {
            if record.result != Outcome::Done {
                let action = shard.actions.get(position).copied().unwrap_or(position);
                failures.push(Failure { shard: format!("{index}/{shards}"), action, record: record.clone() });
            }
        }
    }
    let missing = (0..shards).filter(|i| !reports.contains_key(i)).collect();
    Merged { shards, missing, summary, failures }
}

fn human(merged: &Merged, reports: &BTreeMap<usize, ShardReport>) -> String {
    let mut out = String::new();
    for f in &merged.failures {
        let r = &f.record;
        match r.result {
            Outcome::Failed => {
                let cause = r.error.as_deref().unwrap_or("unknown cause");
                let _ = writeln!(out, "shard {}: failed: {}@{}: {cause}", f.shard, r.dst, r.digest);
            }
            _ => {
                for refusal in &r.refused {
                    let line = r.refusal_line(refusal);
                    let _ = writeln!(out, "shard {}: refused: {line}", f.shard);
                }
            }
        }
    }
    for missing in &merged.missing {
        let _ = writeln!(out, "shard {missing}/{}: no report (not run, or still running)", merged.shards);
    }
    let _ = writeln!(out, "{} of {} shard reports", reports.len(), merged.shards);
    let report = Report { summary: merged.summary.clone(), ..Report::default() };
    out.push_str(&report.to_human());
    out
}
