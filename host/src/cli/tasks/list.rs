//! `nexus tasks list`.

use clap::Args;
use nexus_host::events::Task;
use nexus_store::http::json;

use super::{status, zone};
use crate::cli::failure::Failure;
use crate::cli::output::{Out, maybe_timestamp};
use crate::cli::{Ctx, NsArg};

/// Every task, with its schedule and next run.
#[derive(Debug, Args)]
pub struct List {
    #[command(flatten)]
    ns: NsArg,
}

impl List {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        Ok(Out::list(
            &self.ns.open(ctx)?.list_tasks()?,
            json::task,
            "(no tasks)",
            &["NAME", "STATUS", "CRON", "ZONE", "TYPE", "NEXT RUN", "RUNS"],
            row,
        ))
    }
}

fn row(t: &Task) -> Vec<String> {
    vec![
        t.name.clone(),
        status(t).to_string(),
        t.cron.clone(),
        zone(t).to_string(),
        t.event_type.clone(),
        maybe_timestamp(t.next_run_at),
        t.run_count.to_string(),
    ]
}
