//! `nexus tasks ...`: cron-scheduled tasks, one module per command (pause
//! and resume together). `nexus tick`, which fires the due ones, is
//! [`super::tick`].

mod active;
mod create;
mod delete;
mod get;
mod list;

use clap::Subcommand;
use nexus_host::events::Task;
use nexus_store::http::json;

use super::Ctx;
use super::failure::Failure;
use super::output::{Out, maybe_timestamp, pairs, timestamp};

#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    Create(create::Create),
    List(list::List),
    Get(get::Get),
    Pause(active::Pause),
    Resume(active::Resume),
    Delete(delete::Delete),
}

impl TasksCommand {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        match self {
            Self::Create(cmd) => cmd.run(ctx),
            Self::List(cmd) => cmd.run(ctx),
            Self::Get(cmd) => cmd.run(ctx),
            Self::Pause(cmd) => cmd.run(ctx),
            Self::Resume(cmd) => cmd.run(ctx),
            Self::Delete(cmd) => cmd.run(ctx),
        }
    }
}

/// One task, as `create`, `get`, `pause` and `resume` print it.
fn task_out(t: &Task) -> Out {
    let rows = [
        ("name", t.name.clone()),
        ("id", t.task_id.clone()),
        ("status", status(t).to_string()),
        ("cron", t.cron.clone()),
        ("zone", zone(t).to_string()),
        ("type", t.event_type.clone()),
        ("payload", t.payload.clone()),
        ("created", timestamp(t.created_at)),
        ("next run", maybe_timestamp(t.next_run_at)),
        ("last run", maybe_timestamp(t.last_run_at)),
        ("runs", t.run_count.to_string()),
    ];
    Out::new(json::task(t), pairs(&rows))
}

fn status(t: &Task) -> &'static str {
    if t.active { "active" } else { "paused" }
}

fn zone(t: &Task) -> &str {
    t.timezone.as_deref().unwrap_or("UTC")
}
