//! `nexus tokens list`.

use clap::Args;
use nexus_host::tokens::TokenInfo;
use nexus_store::http::json;

use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, timestamp};

/// Every token: name, namespaces, scope, created, expiry, last use
/// (never a secret).
#[derive(Debug, Args)]
pub struct List;

impl List {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        Ok(Out::list(
            &ctx.nexus.tokens()?,
            json::token_info,
            "(no tokens: `nexus serve` on a loopback address serves everyone)",
            &[
                "NAME",
                "SCOPE",
                "NAMESPACES",
                "CREATED",
                "EXPIRES",
                "LAST USED",
            ],
            row,
        ))
    }
}

fn row(t: &TokenInfo) -> Vec<String> {
    let or_never = |ms: Option<u64>| ms.map_or_else(|| "never".into(), timestamp);
    vec![
        t.name.clone(),
        t.scope.as_str().to_string(),
        t.namespaces.join(" "),
        timestamp(t.created_at),
        or_never(t.expires_at),
        or_never(t.last_used_at),
    ]
}
