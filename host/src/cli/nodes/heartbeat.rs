//! `nexus nodes heartbeat`.

use clap::Args;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Record that a node is alive.
#[derive(Debug, Args)]
pub struct Heartbeat {
    /// The node id.
    id: String,
    #[command(flatten)]
    ns: NsArg,
}

impl Heartbeat {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        self.ns.open(ctx)?.heartbeat(&self.id)?;
        Ok(Out::new(
            json!({ "node_id": self.id, "heartbeat": true }),
            "OK",
        ))
    }
}
