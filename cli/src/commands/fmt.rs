//! `cip fmt`: rewrite manifests in the canonical layout of [`cip_core::format`] (the Go
//! promoter's snapshot layout, comments kept). `--check` writes nothing and lists the files that
//! would change (exit 1), for CI; `--diff` prints the changes as a unified diff.

use std::io::Write;

use anyhow::Context;

use crate::render;

use super::ExitStatus;

/// Arguments of `cip fmt`.
#[derive(Debug, clap::Args)]
pub(crate) struct FmtArgs {
    /// Write nothing; list the files that are not formatted and exit 1 if there is any.
    #[arg(long)]
    check: bool,
    /// Write nothing; print the changes as a unified diff and exit 1 if there is any.
    #[arg(long)]
    diff: bool,
    /// Manifest files and thin manifest directories (their `promoter-manifest.yaml` and
    /// `images.yaml` files are formatted).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

/// Runs `cip fmt`. A file with YAML or shape errors is left as it is: its findings are printed on
/// stderr and the exit code is 1.
pub(crate) fn run(args: FmtArgs) -> anyhow::Result<ExitStatus> {
    let input = crate::input::read_paths(&args.paths).context("reading manifests")?;
    let (mut stdout, mut stderr) = (std::io::stdout().lock(), std::io::stderr().lock());
    let mut refused = Vec::new();
    let mut changed = 0usize;
    for file in &input.files {
        let formatted = match cip_core::format::format(file) {
            Ok(text) => text,
            Err(findings) => {
                refused.extend(findings);
                continue;
            }
        };
        if formatted == file.text {
            continue;
        }
        changed += 1;
        if args.diff {
            stdout.write_all(render::unified_diff(&file.path, &file.text, &formatted).as_bytes())?;
        } else if args.check {
            writeln!(stdout, "{}", file.path)?;
        } else {
            std::fs::write(&file.path, &formatted).with_context(|| format!("writing {}", file.path))?;
        }
    }
    if !refused.is_empty() {
        let files = cip_core::Files::new(input.files);
        let text = render::diagnostics_human(&refused, &files, false);
        stderr.write_all(text.as_bytes())?;
        let count = refused.iter().map(|d| &d.location.file).collect::<std::collections::BTreeSet<_>>().len();
        writeln!(stderr, "cip: {count} file{} not formatted: fix the errors above first", plural(count))?;
    }
    if args.check && changed > 0 {
        writeln!(stderr, "cip: {changed} file{} would be reformatted (run `cip fmt`)", plural(changed))?;
    }
    let failed = !refused.is_empty() || ((args.check || args.diff) && changed > 0);
    Ok(if failed { ExitStatus::Findings } else { ExitStatus::Clean })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
