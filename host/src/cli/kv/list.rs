//! `nexus kv list`.

use clap::Args;
use nexus_host::types::{KeyInfo, ListOptions};
use nexus_store::http::json;

use crate::cli::failure::Failure;
use crate::cli::output::{Out, maybe_timestamp, page_table};
use crate::cli::{Ctx, NsArg};

/// List keys in ascending order, a page at a time.
#[derive(Debug, Args)]
pub struct List {
    #[command(flatten)]
    ns: NsArg,
    /// Only keys starting with P.
    #[arg(long, value_name = "P", default_value = "", hide_default_value = true)]
    prefix: String,
    /// At most N keys (1-1000).
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: u32,
    /// Continue after this key (the cursor printed with the previous page).
    #[arg(long, value_name = "C")]
    cursor: Option<String>,
}

impl List {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let options = ListOptions {
            prefix: self.prefix.as_bytes().to_vec(),
            cursor: self.cursor.as_ref().map(|c| c.as_bytes().to_vec()),
            limit: self.limit,
        };
        let page = ns.list(&options)?;
        let rows: Vec<Vec<String>> = page.keys.iter().map(row).collect();
        let more = page.next_cursor.as_deref().map(json::text);
        let human = page_table(
            "(no keys)",
            &["KEY", "VERSION", "BYTES", "EXPIRES"],
            &rows,
            more.map(|cursor| format!("--cursor {cursor}")),
        );
        Ok(Out::new(json::key_page(ns.name(), &page), human))
    }
}

fn row(k: &KeyInfo) -> Vec<String> {
    vec![
        json::text(&k.key),
        k.version.to_string(),
        k.value_len.to_string(),
        maybe_timestamp(k.expires_at),
    ]
}
