//! `nexus events log`.

use clap::Args;
use nexus_host::events::{Envelope, LogQuery};
use nexus_store::http::json;

use super::LogFilter;
use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, page_table, timestamp};

/// One page of the event log in emission order, and the cursor of the next.
#[derive(Debug, Args)]
pub struct Log {
    #[command(flatten)]
    filter: LogFilter,
    /// Only events emitted before this time (ms since the epoch).
    #[arg(long, value_name = "MS")]
    until: Option<u64>,
    /// Continue after this message id (the cursor printed with the previous page).
    #[arg(long, value_name = "ID")]
    after: Option<String>,
    /// At most N events (1-1000).
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: u32,
}

impl Log {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.filter.ns.open(ctx)?;
        let page = ns.log_query(&LogQuery {
            event_type: self.filter.event_type.clone(),
            since: self.filter.since,
            until: self.until,
            after_id: self.after.clone(),
            limit: self.limit,
        })?;
        let rows: Vec<Vec<String>> = page.events.iter().map(row).collect();
        let human = page_table(
            "(no events)",
            &["ID", "EMITTED", "TYPE", "PAYLOAD"],
            &rows,
            page.next.as_ref().map(|next| format!("--after {next}")),
        );
        Ok(Out::new(json::log_page(ns.name(), &page), human))
    }
}

fn row(e: &Envelope) -> Vec<String> {
    vec![
        e.message_id.clone(),
        timestamp(e.emitted_at),
        e.event_type.clone(),
        e.payload.clone(),
    ]
}
