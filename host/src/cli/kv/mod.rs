//! `nexus kv ...`: key commands on one namespace, one module each.

mod del;
mod get;
mod incr;
mod list;
mod set;
mod watch;

use clap::Subcommand;

use super::Ctx;
use super::failure::Failure;
use super::output::Out;

#[derive(Debug, Subcommand)]
pub enum KvCommand {
    Set(set::Set),
    Get(get::Get),
    Del(del::Del),
    List(list::List),
    Incr(incr::Incr),
    Watch(watch::Watch),
}

impl KvCommand {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        match self {
            Self::Set(cmd) => cmd.run(ctx),
            Self::Get(cmd) => cmd.run(ctx),
            Self::Del(cmd) => cmd.run(ctx),
            Self::List(cmd) => cmd.run(ctx),
            Self::Incr(cmd) => cmd.run(ctx),
            Self::Watch(cmd) => cmd.run(ctx),
        }
    }
}
