//! `nexus kv watch`.

use clap::Args;
use nexus_host::types::Entry;
use nexus_store::http::json;

use crate::cli::failure::Failure;
use crate::cli::output::{Out, print_line};
use crate::cli::{Ctx, NsArg};

/// Print the keys' values now, then a line each time one of them changes
/// (a write by any process sharing the store: another CLI or a server on
/// PostgreSQL), until interrupted. Intermediate values may be skipped; the
/// latest never is. With --json, one object per line.
#[derive(Debug, Args)]
pub struct Watch {
    /// The keys (UTF-8 text; 1-64; after `--` for keys that start with `-`).
    #[arg(required = true)]
    keys: Vec<String>,
    #[command(flatten)]
    ns: NsArg,
    /// Stop after printing N lines (the first one included).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
}

impl Watch {
    /// Never returns before `--count` lines unless it fails, the store
    /// shuts down or stdout is closed: it prints the lines itself.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let keys: Vec<Vec<u8>> = self.keys.iter().map(|k| k.as_bytes().to_vec()).collect();
        for (printed, entries) in (1..).zip(ns.watch(&keys)?) {
            let entries = entries?;
            let text = if ctx.json {
                json::watched(ns.name(), &keys, &entries).to_string()
            } else {
                line(&self.keys, &entries)
            };
            if !print_line(&text)? || self.count.is_some_and(|n| printed >= n) {
                break;
            }
        }
        Ok(Out::nothing())
    }
}

/// `a=1 b=(none)`: each key and its value, in the order asked.
fn line(keys: &[String], entries: &[Option<Entry>]) -> String {
    keys.iter()
        .zip(entries)
        .map(|(key, entry)| match entry {
            Some(e) => format!("{key}={}", json::text(&e.value)),
            None => format!("{key}=(none)"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
