//! `nexus ns list`.

use clap::Args;
use nexus_host::types::NamespaceInfo;
use nexus_store::http::json;

use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, timestamp};

/// Every namespace, with its key count, creation time and metadata.
#[derive(Debug, Args)]
pub struct List;

impl List {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        Ok(Out::list(
            &ctx.nexus.namespaces()?,
            json::namespace_info,
            "(no namespaces)",
            &["NAME", "KEYS", "CREATED", "METADATA"],
            row,
        ))
    }
}

fn row(i: &NamespaceInfo) -> Vec<String> {
    vec![
        i.name.clone(),
        i.key_count.to_string(),
        timestamp(i.created_at),
        i.metadata.clone(),
    ]
}
