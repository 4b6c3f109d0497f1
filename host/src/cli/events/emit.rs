//! `nexus events emit`.

use clap::Args;
use nexus_host::events::EmitOptions;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use nexus_host::batch::{EmitIn, Operation, Outcome};
use nexus_host::events::EventDraft;

use crate::cli::{Ctx, NsArg, OnceArg};

/// Emit an event to the namespace queue and matching subscriptions; prints its message id.
#[derive(Debug, Args)]
pub struct Emit {
    /// Event type: dot-separated segments of letters, digits, '-', '_' (e.g. user.created).
    #[arg(value_name = "TYPE", allow_hyphen_values = true)]
    event_type: String,
    /// The payload: a JSON document.
    #[arg(value_name = "PAYLOAD_JSON", allow_hyphen_values = true)]
    payload: String,
    #[command(flatten)]
    ns: NsArg,
    /// Deliver no sooner than N milliseconds from now.
    #[arg(long, value_name = "N", default_value_t = 0)]
    delay_ms: u64,
    /// The id of the node that produced the event.
    #[arg(long, value_name = "NODE_ID")]
    producer: Option<String>,
    /// Deliver to every subscription, whatever its patterns.
    #[arg(long)]
    broadcast: bool,
    #[command(flatten)]
    once: OnceArg,
}

impl Emit {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let options = EmitOptions {
            delay_ms: self.delay_ms,
            producer_node_id: self.producer.clone(),
            broadcast: self.broadcast,
        };
        let ns = self.ns.open(ctx)?;
        let id = self.once.run(
            ctx,
            || {
                Operation::Emit(EmitIn {
                    ns: ns.name().to_string(),
                    draft: EventDraft {
                        event_type: self.event_type.clone(),
                        payload: self.payload.clone(),
                        options: options.clone(),
                    },
                })
            },
            |o| match o {
                Outcome::MessageId(id) => Some(id),
                _ => None,
            },
            || Ok(ns.emit_with(&self.event_type, &self.payload, &options)?),
        )?;
        Ok(Out::new(json!({ "message_id": id }), id))
    }
}
