//! `nexus tokens ...`: the bearer tokens `nexus serve` checks, one module
//! per command. The CLI itself needs none: it holds the data directory (or
//! the database URL).

mod create;
mod list;
mod revoke;

use clap::Subcommand;

use super::Ctx;
use super::failure::Failure;
use super::output::Out;

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    Create(create::Create),
    List(list::List),
    Revoke(revoke::Revoke),
}

impl TokensCommand {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        match self {
            Self::Create(cmd) => cmd.run(ctx),
            Self::List(cmd) => cmd.run(ctx),
            Self::Revoke(cmd) => cmd.run(ctx),
        }
    }
}
