//! `nexus dlq list`.

use clap::Args;
use nexus_host::events::DeadLetter;
use nexus_store::http::json;

use crate::cli::failure::Failure;
use crate::cli::output::{Out, page_table, timestamp};
use crate::cli::{Ctx, NsArg};

/// Dead letters in message-id order, a page at a time.
#[derive(Debug, Args)]
pub struct List {
    #[command(flatten)]
    ns: NsArg,
    /// Continue after this letter id (the cursor printed with the previous page).
    #[arg(long, value_name = "ID")]
    after: Option<String>,
    /// At most N letters (1-1000).
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: u32,
}

impl List {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let page = ns.dlq_list(self.after.as_deref(), self.limit)?;
        let rows: Vec<Vec<String>> = page.letters.iter().map(row).collect();
        let human = page_table(
            "(no dead letters)",
            &["ID", "TYPE", "FAILED", "REASON"],
            &rows,
            page.next.as_ref().map(|next| format!("--after {next}")),
        );
        Ok(Out::new(json::dead_letter_page(ns.name(), &page), human))
    }
}

fn row(l: &DeadLetter) -> Vec<String> {
    vec![
        l.id.clone(),
        l.original_event.event_type.clone(),
        timestamp(l.failed_at),
        l.reason.clone(),
    ]
}
