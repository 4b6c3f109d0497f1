//! `nexus events receive`.

use clap::Args;
use nexus_host::events::{Delivery, ReceiveRequest};
use nexus_store::http::json;

use super::ConsumerArgs;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, timestamp};
use crate::cli::{Ctx, NsArg};

/// Lease up to N visible messages and print them; ack or nack each before
/// its visibility timeout, or it is delivered again.
#[derive(Debug, Args)]
pub struct Receive {
    #[command(flatten)]
    ns: NsArg,
    #[command(flatten)]
    consumer: ConsumerArgs,
    /// At most N messages (1-100).
    #[arg(long, value_name = "N", default_value_t = 10)]
    max: u32,
    /// Hold the messages for this many milliseconds.
    #[arg(long, value_name = "N", default_value_t = 30_000)]
    visibility_timeout_ms: u64,
    /// If none is visible, wait up to N ms (at most 20000) for one: an
    /// emit from any process on the same store ends the wait at once.
    #[arg(long, value_name = "N", default_value_t = 0)]
    wait_ms: u64,
}

impl Receive {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let request = ReceiveRequest {
            group: self.consumer.group.clone(),
            consumer: self.consumer.consumer.clone(),
            max: self.max,
            visibility_timeout_ms: self.visibility_timeout_ms,
            wait_ms: self.wait_ms,
        };
        Ok(Out::list(
            &self.ns.open(ctx)?.receive(&request)?,
            json::delivery,
            "(no messages)",
            &["ID", "TYPE", "ATTEMPT", "VISIBLE UNTIL", "PAYLOAD"],
            row,
        ))
    }
}

fn row(d: &Delivery) -> Vec<String> {
    vec![
        d.envelope.message_id.clone(),
        d.envelope.event_type.clone(),
        d.attempt.to_string(),
        timestamp(d.visible_until),
        d.envelope.payload.clone(),
    ]
}
