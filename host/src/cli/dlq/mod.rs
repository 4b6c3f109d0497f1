//! `nexus dlq ...`: the dead-letter queue of one namespace, one module per
//! command.

mod get;
mod list;
mod purge;
mod replay;

use clap::Subcommand;

use super::Ctx;
use super::failure::Failure;
use super::output::Out;

#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    List(list::List),
    Get(get::Get),
    Replay(replay::Replay),
    Purge(purge::Purge),
}

impl DlqCommand {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        match self {
            Self::List(cmd) => cmd.run(ctx),
            Self::Get(cmd) => cmd.run(ctx),
            Self::Replay(cmd) => cmd.run(ctx),
            Self::Purge(cmd) => cmd.run(ctx),
        }
    }
}
