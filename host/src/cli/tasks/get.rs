//! `nexus tasks get`.

use clap::Args;

use super::task_out;
use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Everything about one task.
#[derive(Debug, Args)]
pub struct Get {
    /// The task's name.
    name: String,
    #[command(flatten)]
    ns: NsArg,
}

impl Get {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        Ok(task_out(&self.ns.open(ctx)?.get_task(&self.name)?))
    }
}
