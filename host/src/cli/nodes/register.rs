//! `nexus nodes register`.

use clap::Args;
use nexus_host::events::NodeRegistration;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Register a node; prints its id.
#[derive(Debug, Args)]
pub struct Register {
    /// Display name.
    name: String,
    #[command(flatten)]
    ns: NsArg,
    /// What the node does.
    #[arg(long, value_name = "D", default_value = "", hide_default_value = true)]
    description: String,
    /// A JSON object stored with the node.
    #[arg(long, value_name = "JSON", default_value = "{}")]
    metadata: String,
    /// An event-type pattern the node handles (repeat for several).
    #[arg(long = "subscribe", value_name = "PATTERN")]
    subscriptions: Vec<String>,
}

impl Register {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let registration = NodeRegistration {
            display_name: self.name.clone(),
            description: self.description.clone(),
            metadata: self.metadata.clone(),
            subscriptions: self.subscriptions.clone(),
        };
        let id = self.ns.open(ctx)?.register_node(&registration)?;
        Ok(Out::new(json!({ "node_id": id }), id))
    }
}
