//! `nexus nodes deregister`.

use clap::Args;
use serde_json::json;

use crate::cli::failure::Failure;
use crate::cli::output::Out;
use crate::cli::{Ctx, NsArg};

/// Remove a node.
#[derive(Debug, Args)]
pub struct Deregister {
    /// The node id.
    id: String,
    #[command(flatten)]
    ns: NsArg,
}

impl Deregister {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let id = &self.id;
        self.ns.open(ctx)?.deregister_node(id)?;
        Ok(Out::new(
            json!({ "node_id": id, "deregistered": true }),
            format!("deregistered {id}"),
        ))
    }
}
