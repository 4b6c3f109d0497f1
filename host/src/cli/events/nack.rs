//! `nexus events nack`.

use clap::Args;
use nexus_host::events::NackOutcome;
use nexus_store::http::json;

use super::ConsumerArgs;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, timestamp};
use crate::cli::{Ctx, NsArg};

/// Give a received message back: it is retried after a backoff, or
/// dead-lettered if that was its last attempt.
#[derive(Debug, Args)]
pub struct Nack {
    /// The message id.
    id: String,
    /// Why it failed (kept with a dead letter).
    #[arg(long, value_name = "R")]
    reason: String,
    /// The error it failed with.
    #[arg(long, value_name = "E")]
    error: Option<String>,
    #[command(flatten)]
    ns: NsArg,
    #[command(flatten)]
    consumer: ConsumerArgs,
}

impl Nack {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let outcome = self.ns.open(ctx)?.nack(
            self.consumer.group.as_deref(),
            &self.consumer.consumer,
            &self.id,
            &self.reason,
            self.error.as_deref(),
        )?;
        let human = match outcome {
            NackOutcome::Retry { visible_at } => format!("retry at {}", timestamp(visible_at)),
            NackOutcome::DeadLettered => "dead-lettered".to_string(),
        };
        Ok(Out::new(json::nack(&self.id, &outcome), human))
    }
}
