//! `nexus ns stats`.

use clap::Args;
use nexus_store::http::json;

use crate::cli::Ctx;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, pairs};

/// Hit, miss, write and key counts; of every namespace together if NS is omitted.
#[derive(Debug, Args)]
pub struct Stats {
    /// Namespace name.
    ns: Option<String>,
}

impl Stats {
    /// `GET /stats`' counters, with `namespace` (null for every namespace
    /// together); the CLI has no uptime, and no per-namespace breakdown.
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let (namespace, stats) = match &self.ns {
            Some(name) => {
                let ns = ctx.nexus.namespace(name)?;
                (Some(ns.name().to_string()), ns.stats()?)
            }
            None => (None, ctx.nexus.global_stats()?),
        };
        let mut json = json::stats(&stats);
        json["namespace"] = namespace.into();
        let rows: Vec<(&str, String)> = [
            ("hits", stats.hits),
            ("misses", stats.misses),
            ("sets", stats.sets),
            ("deletes", stats.deletes),
            ("expirations", stats.expirations),
            ("evictions", stats.evictions),
            ("total_keys", stats.total_keys),
        ]
        .into_iter()
        .map(|(name, n)| (name, n.to_string()))
        .collect();
        Ok(Out::new(json, pairs(&rows)))
    }
}
