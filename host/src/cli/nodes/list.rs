//! `nexus nodes list`.

use clap::Args;
use nexus_host::events::Node;
use nexus_store::http::json;

use super::liveness;
use crate::cli::failure::Failure;
use crate::cli::output::{Out, timestamp};
use crate::cli::{Ctx, NsArg};

/// Every node in registration order, live or stale.
#[derive(Debug, Args)]
pub struct List {
    #[command(flatten)]
    ns: NsArg,
}

impl List {
    pub fn run(&self, ctx: &Ctx) -> Result<Out, Failure> {
        Ok(Out::list(
            &self.ns.open(ctx)?.list_nodes()?,
            json::node,
            "(no nodes)",
            &["ID", "NAME", "STATUS", "LAST HEARTBEAT", "SUBSCRIPTIONS"],
            row,
        ))
    }
}

fn row(n: &Node) -> Vec<String> {
    vec![
        n.node_id.clone(),
        n.display_name.clone(),
        liveness(n).to_string(),
        timestamp(n.last_heartbeat),
        n.subscriptions.join(" "),
    ]
}
