//! `/namespaces/{ns}/nodes...`: registered consumers and their heartbeats.

use serde::Deserialize;
use serde_json::{Value, json};

use super::call::Call;
use super::json;
use super::{Handled, Reply};
use crate::events::NodeRegistration;
use crate::storage::Storage;
use crate::{Clock, Store};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    display_name: String,
    #[serde(default)]
    description: String,
    /// A JSON object; `{}` if left out.
    #[serde(default = "json::empty_object")]
    metadata: Value,
    /// Event-type patterns the node handles.
    #[serde(default)]
    subscriptions: Vec<String>,
}

pub fn register<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let body: RegisterBody = call.json()?;
    let registration = NodeRegistration {
        display_name: body.display_name,
        description: body.description,
        metadata: body.metadata.to_string(),
        subscriptions: body.subscriptions,
    };
    let id = store.register_node(ns, &registration)?;
    let node = store.get_node(ns, &id)?;
    Ok(Reply::created(json::node(&node)))
}

pub fn list<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let nodes: Vec<Value> = store.list_nodes(ns)?.iter().map(json::node).collect();
    Ok(Reply::ok(json!({ "namespace": ns, "nodes": nodes })))
}

pub fn get<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let node = store.get_node(call.ns(), call.param("id"))?;
    Ok(Reply::ok(json::node(&node)))
}

/// Records that the node is alive; answers the node as it now is.
pub fn heartbeat<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let (ns, id) = (call.ns(), call.param("id"));
    store.heartbeat(ns, id)?;
    Ok(Reply::ok(json::node(&store.get_node(ns, id)?)))
}

pub fn deregister<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let id = call.param("id");
    store.deregister_node(call.ns(), id)?;
    Ok(Reply::ok(
        json!({ "status": "deregistered", "node_id": id }),
    ))
}
