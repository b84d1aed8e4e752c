//! `cip lint`: read manifests, run every rule, print the findings. With `--fix` it applies the
//! findings' safe fixes in place (and the unsafe ones with `--unsafe-fixes`), in passes until none
//! is left, then reports what remains; `--diff` prints the fixes as a unified diff instead.

use std::io::{IsTerminal, Write};

use crate::render::{self, Format};
use anyhow::Context;
use cip_core::fix::{self, Applicability};

use super::ExitStatus;

/// Arguments of `cip lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct LintArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Apply the safe fixes in place (comments and layout outside the edited text are kept), then
    /// report what is left.
    #[arg(long)]
    fix: bool,
    /// With --fix or --diff: apply the unsafe fixes too (they may change what is promoted).
    #[arg(long)]
    unsafe_fixes: bool,
    /// Print the fixes as a unified diff instead of writing them; exit 1 when there is any.
    #[arg(long, conflicts_with = "fix")]
    diff: bool,
    /// Manifest files and thin manifest directories, validated together.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

/// Runs `cip lint`.
pub(crate) fn run(args: LintArgs) -> anyhow::Result<ExitStatus> {
    if args.unsafe_fixes && !(args.fix || args.diff) {
        anyhow::bail!("--unsafe-fixes applies fixes: add --fix (write them) or --diff (show them)");
    }
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
    let allow = if args.unsafe_fixes { Applicability::Unsafe } else { Applicability::Safe };
    if args.diff {
        return diff(input, allow);
    }
    let input = if args.fix { fix_in_place(input, allow)? } else { input };
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

/// Applies the fixes, writes the changed files (over the originals, so their permissions and
/// links stay), says what it did on stderr, and returns the fixed input for the final report.
fn fix_in_place(input: cip_core::Input, allow: Applicability) -> anyhow::Result<cip_core::Input> {
    let thin_dirs = input.thin_dirs.clone();
    let outcome = fix::fix(input, allow);
    for file in outcome.files.iter().filter(|f| outcome.changed.contains(&f.path)) {
        std::fs::write(&file.path, &file.text).with_context(|| format!("writing the fixed {}", file.path))?;
    }
    let files = outcome.changed.len();
    let message = format!(
        "cip: applied {} fix{} to {files} file{}\n",
        outcome.applied,
        if outcome.applied == 1 { "" } else { "es" },
        if files == 1 { "" } else { "s" }
    );
    std::io::stderr().lock().write_all(message.as_bytes()).context("writing output")?;
    Ok(cip_core::Input { files: outcome.files, thin_dirs })
}

/// `--diff`: the fixes as a unified diff (`a/PATH`, `b/PATH`, as `git apply` and `patch -p1`
/// read it); nothing is written.
fn diff(input: cip_core::Input, allow: Applicability) -> anyhow::Result<ExitStatus> {
    let originals = input.files.clone();
    let outcome = fix::fix(input, allow);
    let mut out = String::new();
    for (before, after) in originals.iter().zip(&outcome.files) {
        out.push_str(&render::unified_diff(&before.path, &before.text, &after.text));
    }
    std::io::stdout().lock().write_all(out.as_bytes()).context("writing output")?;
    Ok(if outcome.changed.is_empty() { ExitStatus::Clean } else { ExitStatus::Findings })
}
