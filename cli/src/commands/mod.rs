//! Command-line arguments (clap) and one module per subcommand. Commands return an
//! [`ExitStatus`]; `main` owns the mapping to process exit codes.

mod audit;
mod lint;
mod online;
mod plan;
mod promote;
pub(crate) mod run;
mod snapshot;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// Nothing to report (exit 0).
    Clean,
    /// Error findings or blocked work (exit 1).
    Findings,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Clean => ExitCode::SUCCESS,
            ExitStatus::Findings => ExitCode::from(1),
        }
    }
}

/// cip: promote container images by digest from staging to production registries.
#[derive(Debug, Parser)]
#[command(name = "cip", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests (files or thin manifest directories) without touching any registry.
    Lint(lint::LintArgs),
    /// Plan a promotion from manifests and an inventory of the registries (offline).
    Plan(plan::PlanArgs),
    /// Print a registry's images list (Go promoter format) from an inventory or from manifests.
    Snapshot(snapshot::SnapshotArgs),
    /// List tags and digests in production that no manifest declares (drift).
    Audit(audit::AuditArgs),
    /// Promote: read the registries, plan, and with --confirm copy images by digest (dry run otherwise).
    Promote(promote::PromoteArgs),
    /// The Go promoter's invocation (`--manifest`, `--thin-manifest-dir`, `--confirm`, `--snapshot`, ...) mapped onto cip.
    Run(run::RunArgs),
}

/// Runs the chosen command.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Lint(args) => lint::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Promote(args) => promote::run(args),
        Command::Run(args) => run::run(args),
    }
}
