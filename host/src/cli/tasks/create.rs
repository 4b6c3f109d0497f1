//! `nexus tasks create`.

use clap::Args;
use nexus_host::events::TaskSpec;

use super::task_out;
use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Create a task that emits an event at every occurrence of a cron schedule.
#[derive(Debug, Args)]
pub struct Create {
    /// The task's name, unique in the namespace.
    name: String,
    #[command(flatten)]
    ns: NsArg,
    /// 5-field cron expression: minute hour day-of-month month day-of-week.
    #[arg(long, value_name = "EXPR")]
    cron: String,
    /// The type of the events it emits.
    #[arg(long = "type", value_name = "T")]
    event_type: String,
    /// The payload of the events it emits: a JSON document.
    #[arg(
        long,
        value_name = "JSON",
        default_value = "{}",
        allow_hyphen_values = true
    )]
    payload: String,
    /// IANA time zone of the schedule, e.g. Europe/Paris (default UTC).
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
}

impl Create {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let spec = TaskSpec {
            name: self.name.clone(),
            cron: self.cron.clone(),
            timezone: self.tz.clone(),
            event_type: self.event_type.clone(),
            payload: self.payload.clone(),
        };
        Ok(task_out(&self.ns.open(ctx)?.create_task(&spec)?))
    }
}
