//! `cip lsp`: the language server over stdio (see [`crate::lsp`]).

use super::ExitStatus;

/// Arguments of `cip lsp`.
#[derive(Debug, clap::Args)]
pub(crate) struct LspArgs {
    /// Accepted for clients that pass it (VS Code's generic clients do); stdio is the only transport.
    #[arg(long)]
    stdio: bool,
}

/// Serves one client on stdin/stdout until it sends `exit`.
pub(crate) fn run(_args: LspArgs) -> anyhow::Result<ExitStatus> {
    crate::lsp::serve()?;
    Ok(ExitStatus::Clean)
}
