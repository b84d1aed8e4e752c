//! `cip man`: the man page (roff, section 1), rendered by `clap_mangen` from the clap definition:
//! the main page followed by one section per subcommand with its options, so `man -l` shows every
//! flag the binary accepts.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use super::{Cli, ExitStatus};

/// Arguments of `cip man`.
#[derive(Debug, clap::Args)]
pub(crate) struct ManArgs {}

/// Prints the man page on stdout.
pub(crate) fn run(_args: ManArgs) -> anyhow::Result<ExitStatus> {
    let page = render().context("rendering the man page")?;
    std::io::stdout().lock().write_all(&page).context("writing output")?;
    Ok(ExitStatus::Clean)
}

/// The whole page: `cip(1)`'s header, synopsis, description, options and subcommand list, then
/// one section per subcommand with its synopsis, description and options. clap_mangen renders one
/// page per command; one file keeps `man -l cip.1` and packaging simple, so the subcommand pages'
/// section headings (`.SH`) become subsections (`.SS`) under a `CIP <NAME>` section.
fn render() -> std::io::Result<Vec<u8>> {
    let mut command = Cli::command();
    command.build();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        let name = sub.get_name();
        writeln!(page, ".SH \"CIP {}\"", name.to_uppercase())?;
        let man = clap_mangen::Man::new(sub.clone());
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        man.render_description_section(&mut part)?;
        man.render_options_section(&mut part)?;
        let part = String::from_utf8_lossy(&part);
        for line in part.lines() {
            match line.strip_prefix(".SH ") {
                Some(heading) => writeln!(page, ".SS {heading}")?,
                None => writeln!(page, "{line}")?,
            }
        }
    }
    Ok(page)
}
