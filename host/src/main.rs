//! The `nexus` command-line tool: the typed Rust API of `nexus-host` behind
//! `nexus kv`, `ns`, `events`, `dlq`, `nodes`, `tasks` and `tick` subcommands.
//! See `nexus --help`.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // Usage errors and --help are handled (and exited on) by clap.
    cli::main(cli::Cli::parse())
}
