//! Command-line arguments (clap) and one module per subcommand. Commands return an
//! [`ExitStatus`]; `main` owns the mapping to process exit codes.

mod apply;
mod audit;
mod completions;
mod fmt;
mod lint;
mod lsp;
mod man;
mod online;
mod plan;
mod promote;
mod report;
pub(crate) mod run;
mod schema;
pub(crate) mod sign_args;
mod snapshot;
pub(crate) mod trust_args;

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
    /// Rewrite manifests in the canonical layout (sorted, tags quoted, comments kept); --check for CI.
    Fmt(fmt::FmtArgs),
    /// Plan a promotion from manifests and an inventory of the registries (offline).
    Plan(plan::PlanArgs),
    /// Print a registry's images list (Go promoter format) from an inventory or from manifests.
    Snapshot(snapshot::SnapshotArgs),
    /// List tags and digests in production that no manifest declares (drift).
    Audit(audit::AuditArgs),
    /// Promote: read the registries, plan, and with --confirm copy images by digest (dry run otherwise).
    Promote(promote::PromoteArgs),
    /// Execute a plan file (`cip plan --out`) without planning again, whole or one shard (--shard I/N).
    Apply(apply::ApplyArgs),
    /// Merge the shard reports of `cip apply` into one summary.
    Report(report::ReportArgs),
    /// The Go promoter's invocation (`--manifest`, `--thin-manifest-dir`, `--confirm`, `--snapshot`, ...) mapped onto cip.
    Run(run::RunArgs),
    /// Language server for editors (LSP over stdio): findings as you type, fixes, hover, symbols, formatting.
    Lsp(lsp::LspArgs),
    /// Print the JSON Schema (draft 2020-12) of a manifest file kind, for editors and SchemaStore.
    Schema(schema::SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) for `man -l`.
    Man(man::ManArgs),
}

/// Runs the chosen command.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Lint(args) => lint::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Promote(args) => promote::run(args),
        Command::Apply(args) => apply::run(args),
        Command::Report(args) => report::run(args),
        Command::Run(args) => run::run(args),
        Command::Lsp(args) => lsp::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    }
}
