//! `nexus events ack`.

use clap::Args;
use serde_json::json;

use super::ConsumerArgs;
use crate::cli::failure::Failure;
use crate::cli::output::Out;
use nexus_host::batch::{AckIn, Operation, Outcome};

use crate::cli::{Ctx, NsArg, OnceArg};

/// Acknowledge a received message: it is done and removed from the queue.
#[derive(Debug, Args)]
pub struct Ack {
    /// The message id.
    id: String,
    #[command(flatten)]
    ns: NsArg,
    #[command(flatten)]
    consumer: ConsumerArgs,
    #[command(flatten)]
    once: OnceArg,
}

impl Ack {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let ns = self.ns.open(ctx)?;
        self.once.run(
            ctx,
            || {
                Operation::Ack(AckIn {
                    ns: ns.name().to_string(),
                    group: self.consumer.group.clone(),
                    consumer: self.consumer.consumer.clone(),
                    message_id: self.id.clone(),
                })
            },
            |o| matches!(o, Outcome::Done).then_some(()),
            || {
                Ok(ns.ack(
                    self.consumer.group.as_deref(),
                    &self.consumer.consumer,
                    &self.id,
                )?)
            },
        )?;
        Ok(Out::new(
            json!({ "message_id": self.id, "acked": true }),
            "acked",
        ))
    }
}
