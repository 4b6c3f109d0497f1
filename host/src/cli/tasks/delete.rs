//! `nexus tasks delete`.

use clap::Args;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Remove a task.
#[derive(Debug, Args)]
pub struct Delete {
    /// The task's name.
    name: String,
    #[command(flatten)]
    ns: NsArg,
}

impl Delete {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let name = &self.name;
        self.ns.open(ctx)?.delete_task(name)?;
        Ok(Out::new(
            json!({ "name": name, "deleted": true }),
            format!("deleted {name}"),
        ))
    }
}
