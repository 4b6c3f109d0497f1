//! `nexus nodes get`.

use clap::Args;
use nexus_store::http::json;

use super::liveness;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, pairs, timestamp};
use crate::cli::{Ctx, NsArg};

/// Everything about one node.
#[derive(Debug, Args)]
pub struct Get {
    /// The node id.
    id: String,
    #[command(flatten)]
    ns: NsArg,
}

impl Get {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        let n = self.ns.open(ctx)?.get_node(&self.id)?;
        let rows = [
            ("id", n.node_id.clone()),
            ("name", n.display_name.clone()),
            ("description", n.description.clone()),
            ("status", liveness(&n).to_string()),
            ("registered", timestamp(n.registered_at)),
            ("last heartbeat", timestamp(n.last_heartbeat)),
            ("subscriptions", n.subscriptions.join(" ")),
            ("metadata", n.metadata.clone()),
        ];
        Ok(Out::new(json::node(&n), pairs(&rows)))
    }
}
