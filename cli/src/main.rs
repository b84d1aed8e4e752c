//! The `cip` binary: parse arguments, run one command, turn its outcome into an exit code
//! (0 clean, 1 findings, 2 errors). Exit codes are decided here and nowhere else.
//!
//! Everything terminal-facing lives in the binary's own modules: [`commands`] (clap arguments,
//! one module per subcommand), [`input`] and [`planning`] (reading manifest paths and inventory
//! files from disk), [`render`] (human, JSON, SARIF and GitHub output) and [`display`] (progress
//! lines on a terminal). The engine is the `cip` library.

mod commands;
mod display;
mod git;
mod input;
mod lsp;
mod planning;
mod render;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = commands::Cli::parse_from(go_style(std::env::args_os().collect()));
    match commands::run(args) {
        Ok(status) => status.into(),
        Err(error) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("cip: error: {}", render::error_chain(&error));
            }
            ExitCode::from(2)
        }
    }
}

/// The Go promoter's documented invocation has no subcommand (`cip -verbosity=3
/// -manifest=path/to/manifest.yaml`): a first argument starting with `-` that names one of its
/// flags makes the command line `cip run ...`, so it works unchanged.
fn go_style(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    if args.get(1).and_then(|a| a.to_str()).is_some_and(commands::run::is_go_flag) {
        args.insert(1, "run".into());
    }
    args
}
