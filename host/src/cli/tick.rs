//! `nexus tick`: one maintenance tick over every namespace, what the Rust
//! API's ticker does every second; the CLI has no ticker of its own.

use clap::Args;
use nexus_store::http::json;

use super::Ctx;
use super::failure::Failure;
use super::output::{Out, pairs};

/// Run one maintenance tick over every namespace: fire due tasks, remove
/// old event-log entries and expired keys; prints what it did.
///
/// Run it from cron or a systemd timer to fire scheduled tasks.
#[derive(Debug, Args)]
pub struct Tick {
    /// Examine at most N old log entries and expired keys (due tasks
    /// always all fire).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    budget: u32,
}

impl Tick {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let report = ctx.nexus.tick(self.budget)?;
        let rows = [
            ("tasks_fired", report.tasks_fired.to_string()),
            (
                "log_entries_removed",
                report.log_entries_removed.to_string(),
            ),
            ("expired_keys", report.expired_keys.to_string()),
            (
                "more",
                if report.more {
                    "yes (run again)".to_string()
                } else {
                    "no".to_string()
                },
            ),
        ];
        Ok(Out::new(json::tick_report(&report), pairs(&rows)))
    }
}
