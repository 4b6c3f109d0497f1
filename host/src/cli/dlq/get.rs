//! `nexus dlq get`.

use clap::Args;
use nexus_host::events::DeadLetter;
use nexus_store::http::json;

use crate::cli::failure::Failure;
use crate::cli::output::{Out, pairs, timestamp};
use crate::cli::{Ctx, NsArg};

/// One dead letter: the event, why it failed and when.
#[derive(Debug, Args)]
pub struct Get {
    /// The letter id (the message id, plus `@group` for a subscription's letter).
    id: String,
    #[command(flatten)]
    ns: NsArg,
}

impl Get {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let letter = self.ns.open(ctx)?.dlq_get(&self.id)?;
        Ok(Out::new(json::dead_letter(&letter), pairs(&rows(&letter))))
    }
}

fn rows(l: &DeadLetter) -> Vec<(&'static str, String)> {
    let e = &l.original_event;
    let or_dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".to_string());
    vec![
        ("id", l.id.clone()),
        ("message", e.message_id.clone()),
        ("type", e.event_type.clone()),
        (
            "queue",
            l.group.clone().unwrap_or_else(|| "(namespace)".into()),
        ),
        ("failed", timestamp(l.failed_at)),
        ("reason", l.reason.clone()),
        ("error", or_dash(&l.error)),
        ("emitted", timestamp(e.emitted_at)),
        (
            "deliveries",
            (u64::from(e.redelivery_count) + 1).to_string(),
        ),
        ("producer", or_dash(&e.producer_node_id)),
        ("task", or_dash(&e.scheduled_task_id)),
        ("replay_of", or_dash(&e.replay_of)),
        ("payload", e.payload.clone()),
    ]
}
