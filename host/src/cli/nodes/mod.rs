//! `nexus nodes ...`: registered nodes and their heartbeats, one module per
//! command.

mod deregister;
mod get;
mod heartbeat;
mod list;
mod register;

use clap::Subcommand;
use nexus_host::events::Node;

use super::Ctx;
use super::failure::Failure;
use super::output::Out;

#[derive(Debug, Subcommand)]
pub enum NodesCommand {
    Register(register::Register),
    Heartbeat(heartbeat::Heartbeat),
    List(list::List),
    Get(get::Get),
    Deregister(deregister::Deregister),
}

impl NodesCommand {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        match self {
            Self::Register(cmd) => cmd.run(ctx),
            Self::Heartbeat(cmd) => cmd.run(ctx),
            Self::List(cmd) => cmd.run(ctx),
            Self::Get(cmd) => cmd.run(ctx),
            Self::Deregister(cmd) => cmd.run(ctx),
        }
    }
}

fn liveness(n: &Node) -> &'static str {
    if n.live { "live" } else { "stale" }
}
