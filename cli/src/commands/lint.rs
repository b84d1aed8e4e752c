//! `cip lint`: read manifests, run every rule, print the findings.

use std::io::{IsTerminal, Write};

use crate::render::{self, Format};
use anyhow::Context;

use super::ExitStatus;

/// Arguments of `cip lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct LintArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Manifest files and thin manifest directories, validated together.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

/// Runs `cip lint`.
pub(crate) fn run(args: LintArgs) -> anyhow::Result<ExitStatus> {
    let input = match crate::input::read_paths(&args.paths) {
        Ok(input) => input,
        Err(error) if args.format == Format::Json => {
            // Tools reading JSON get the report's shape with the error in it, never nothing;
            // the exit code stays 2.
            let text = render::read_error_json(&error.to_string(), error.path());
            std::io::stdout().lock().write_all(text.as_bytes()).context("writing output")?;
            return Err(error).context("reading manifests");
        }
        Err(error) => return Err(error).context("reading manifests"),
    };
    let set = cip_core::load(input);
    let summary = set.summary();
    let failed = set.has_errors();
    let report = cip_core::LintReport { diagnostics: set.diagnostics, summary };
    let color = args.format == Format::Human
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let text = render::lint_report(&report, &set.files, args.format, color);
    std::io::stdout().lock().write_all(text.as_bytes()).context("writing output")?;
    Ok(if failed { ExitStatus::Findings } else { ExitStatus::Clean })
}
