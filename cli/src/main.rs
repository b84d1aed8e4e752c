//! The `cip` binary: parse arguments, run one command, turn its outcome into an exit code
//! (0 clean, 1 findings, 2 errors). Exit codes are decided here and nowhere else.

mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = commands::Cli::parse();
    match commands::run(args) {
        Ok(status) => status.into(),
        Err(error) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("cip: error: {error:#}");
            }
            ExitCode::from(2)
        }
    }
}
