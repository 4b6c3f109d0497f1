//! `nexus nodes ...`: registered nodes and their heartbeats.

use clap::Subcommand;
use nexus_host::events::{Node, NodeRegistration};
use nexus_host::{Namespace, Nexus};
use serde_json::{Value, json};

use super::NsArg;
use super::failure::Failure;
use super::output::{Out, pairs, table, timestamp, to_json};

#[derive(Debug, Subcommand)]
pub enum NodesCommand {
    /// Register a node; prints its id.
    Register {
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
    },
    /// Record that a node is alive.
    Heartbeat {
        /// The node id.
        id: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Every node in registration order, live or stale.
    List {
        #[command(flatten)]
        ns: NsArg,
    },
    /// Everything about one node.
    Get {
        /// The node id.
        id: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Remove a node.
    Deregister {
        /// The node id.
        id: String,
        #[command(flatten)]
        ns: NsArg,
    },
}

/// Runs one `nexus nodes` command.
pub fn run(nexus: &Nexus, cmd: NodesCommand) -> Result<Out, Failure> {
    match cmd {
        NodesCommand::Register {
            name,
            ns,
            description,
            metadata,
            subscriptions,
        } => {
            let registration = NodeRegistration {
                display_name: name,
                description,
                metadata,
                subscriptions,
            };
            register(&nexus.namespace(&ns.namespace)?, &registration)
        }
        NodesCommand::Heartbeat { id, ns } => heartbeat(&nexus.namespace(&ns.namespace)?, &id),
        NodesCommand::List { ns } => list(&nexus.namespace(&ns.namespace)?),
        NodesCommand::Get { id, ns } => get(&nexus.namespace(&ns.namespace)?, &id),
        NodesCommand::Deregister { id, ns } => deregister(&nexus.namespace(&ns.namespace)?, &id),
    }
}

pub fn register(ns: &Namespace, registration: &NodeRegistration) -> Result<Out, Failure> {
    let id = ns.register_node(registration)?;
    Ok(Out::new(json!({ "node_id": id }), id))
}

pub fn heartbeat(ns: &Namespace, id: &str) -> Result<Out, Failure> {
    ns.heartbeat(id)?;
    Ok(Out::new(json!({ "node_id": id, "heartbeat": true }), "OK"))
}

pub fn list(ns: &Namespace) -> Result<Out, Failure> {
    let nodes = ns.list_nodes()?;
    let json = Value::Array(nodes.iter().map(to_json).collect());
    let human = if nodes.is_empty() {
        "(no nodes)".to_string()
    } else {
        let rows: Vec<Vec<String>> = nodes
            .iter()
            .map(|n| {
                vec![
                    n.node_id.clone(),
                    n.display_name.clone(),
                    liveness(n).to_string(),
                    timestamp(n.last_heartbeat),
                    n.subscriptions.join(" "),
                ]
            })
            .collect();
        table(
            &["ID", "NAME", "STATUS", "LAST HEARTBEAT", "SUBSCRIPTIONS"],
            &rows,
        )
    };
    Ok(Out::new(json, human))
}

pub fn get(ns: &Namespace, id: &str) -> Result<Out, Failure> {
    let n = ns.get_node(id)?;
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
    Ok(Out::new(to_json(&n), pairs(&rows)))
}

pub fn deregister(ns: &Namespace, id: &str) -> Result<Out, Failure> {
    ns.deregister_node(id)?;
    Ok(Out::new(
        json!({ "node_id": id, "deregistered": true }),
        format!("deregistered {id}"),
    ))
}

fn liveness(n: &Node) -> &'static str {
    if n.live { "live" } else { "stale" }
}
