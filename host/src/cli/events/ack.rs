//! `nexus events ack`.

use clap::Args;
use serde_json::json;

use super::ConsumerArgs;
use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Acknowledge a received message: it is done and removed from the queue.
#[derive(Debug, Args)]
pub struct Ack {
    /// The message id.
    id: String,
    #[command(flatten)]
    ns: NsArg,
    #[command(flatten)]
    consumer: ConsumerArgs,
}

impl Ack {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        self.ns.open(ctx)?.ack(
            self.consumer.group.as_deref(),
            &self.consumer.consumer,
            &self.id,
        )?;
        Ok(Out::new(
            json!({ "message_id": self.id, "acked": true }),
            "acked",
        ))
    }
}
