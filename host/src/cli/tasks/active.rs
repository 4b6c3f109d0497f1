//! `nexus tasks pause` and `nexus tasks resume`: both print the task as it
//! now is.

use clap::Args;

use super::task_out;
use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Stop a task from firing (it keeps its schedule).
#[derive(Debug, Args)]
pub struct Pause {
    #[command(flatten)]
    task: TaskName,
}

impl Pause {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        self.task.set_active(ctx, false)
    }
}

/// Let a paused task fire again, scheduled from now.
#[derive(Debug, Args)]
pub struct Resume {
    #[command(flatten)]
    task: TaskName,
}

impl Resume {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        self.task.set_active(ctx, true)
    }
}

#[derive(Debug, Args)]
struct TaskName {
    /// The task's name.
    name: String,
    #[command(flatten)]
    ns: NsArg,
}

impl TaskName {
    fn set_active(&self, ctx: &Ctx, active: bool) -> Result<Out, Failure> {
        let task = self.ns.open(ctx)?.set_task_active(&self.name, active)?;
        Ok(task_out(&task))
    }
}
