//! `nexus events metrics`.

use clap::Args;
use nexus_store::http::json;

use crate::cli::failure::Failure;
use crate::cli::output::{Out, pairs};
use crate::cli::{Ctx, NsArg};

/// Queue depth, in flight, dead letters, message ages and totals.
#[derive(Debug, Args)]
pub struct Metrics {
    #[command(flatten)]
    ns: NsArg,
}

impl Metrics {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        let m = ns.metrics()?;
        let age = |ms: Option<u64>| ms.map_or_else(|| "-".to_string(), |ms| format!("{ms} ms"));
        let rows = [
            ("queue_depth", m.queue_depth.to_string()),
            ("in_flight", m.in_flight.to_string()),
            ("dlq_depth", m.dlq_depth.to_string()),
            ("oldest_message_age", age(m.oldest_message_age_ms)),
            ("newest_message_age", age(m.newest_message_age_ms)),
            ("emitted", m.emitted.to_string()),
            ("acked", m.acked.to_string()),
            ("nacked", m.nacked.to_string()),
            ("dead_lettered", m.dead_lettered.to_string()),
        ];
        Ok(Out::new(json::metrics(ns.name(), &m), pairs(&rows)))
    }
}
