//! Registered nodes: who consumes a namespace, with heartbeats so a list
//! can tell live nodes from stale ones.

use serde::{Deserialize, Serialize};

use super::batch::{Batch, Step};
use super::keys::node_key;
use super::pattern;
use super::records::{decode, encode};
use crate::error::{Error, Result};
use crate::keys;
use crate::namespace::{self, normalize_metadata};
use crate::storage::Storage;
use crate::{Clock, Store};

const MAX_SUBSCRIPTIONS: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeRegistration {
    pub display_name: String,
    pub description: String,
    /// A JSON object.
    pub metadata: String,
    /// Event-type patterns the node handles.
    pub subscriptions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub node_id: String,
    pub display_name: String,
    pub description: String,
    pub metadata: String,
    pub subscriptions: Vec<String>,
    pub registered_at: u64,
    pub last_heartbeat: u64,
    /// A heartbeat arrived within the namespace's `node-stale-after-ms`.
    #[serde(skip)]
    pub live: bool,
}

fn validate(reg: &NodeRegistration) -> Result<String> {
    if reg.display_name.trim().is_empty() || reg.display_name.len() > 256 {
        return Err(Error::InvalidArgument(
            "display name must be 1-256 characters and not blank".into(),
        ));
    }
    if reg.description.len() > 4096 {
        return Err(Error::InvalidArgument(
            "description must be at most 4096 characters".into(),
        ));
    }
    if reg.subscriptions.len() > MAX_SUBSCRIPTIONS {
        return Err(Error::InvalidArgument(format!(
            "at most {MAX_SUBSCRIPTIONS} subscriptions"
        )));
    }
    for p in &reg.subscriptions {
        pattern::validate_pattern(p)?;
    }
    let metadata = if reg.metadata.trim().is_empty() {
        "{}"
    } else {
        &reg.metadata
    };
    normalize_metadata(metadata)
}

fn unknown(ns: &str, id: &str) -> Error {
    Error::NotFound(format!("no node {id:?} in namespace {ns:?}"))
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Registers a node; returns its id.
    pub fn register_node(&mut self, ns: &str, reg: &NodeRegistration) -> Result<String> {
        namespace::validate(ns)?;
        let metadata = validate(reg)?;
        self.run_events(ns, |s, now| {
            let mut batch = Batch::default();
            s.guard_namespace(ns, now, &mut batch)?;
            let node_id = format!("node-{}", s.next_message_id(now));
            let node = Node {
                node_id: node_id.clone(),
                display_name: reg.display_name.clone(),
                description: reg.description.clone(),
                metadata: metadata.clone(),
                subscriptions: reg.subscriptions.clone(),
                registered_at: now,
                last_heartbeat: now,
                live: true,
            };
            let key = node_key(ns, &node_id);
            batch.check(key.clone(), None);
            batch.put(key, encode(&node));
            Ok(Step::Commit(batch, node_id))
        })
    }

    pub fn heartbeat(&mut self, ns: &str, node_id: &str) -> Result<()> {
        namespace::validate(ns)?;
        let key = node_key(ns, node_id);
        self.run_events(ns, |s, now| {
            let Some((raw, mut node)) = s.read_record::<Node>(&key, "node")? else {
                return Err(unknown(ns, node_id));
            };
            let mut batch = Batch::default();
            batch.check(key.clone(), Some(raw));
            node.last_heartbeat = node.last_heartbeat.max(now);
            batch.put(key.clone(), encode(&node));
            Ok(Step::Commit(batch, ()))
        })
    }

    pub fn get_node(&mut self, ns: &str, node_id: &str) -> Result<Node> {
        namespace::validate(ns)?;
        let stale_after = self.read_config(ns)?.node_stale_after_ms;
        let now = self.clock.now_ms();
        match self.read_record::<Node>(&node_key(ns, node_id), "node")? {
            Some((_, node)) => Ok(with_liveness(node, now, stale_after)),
            None => Err(unknown(ns, node_id)),
        }
    }

    /// Every node of the namespace, in registration order.
    pub fn list_nodes(&mut self, ns: &str) -> Result<Vec<Node>> {
        namespace::validate(ns)?;
        let stale_after = self.read_config(ns)?.node_stale_after_ms;
        let now = self.clock.now_ms();
        let (start, end) = keys::tag_range(ns, keys::NODE);
        self.scan_all(&start, &end)?
            .iter()
            .map(|(_, raw)| Ok(with_liveness(decode(raw, "node")?, now, stale_after)))
            .collect()
    }

    pub fn deregister_node(&mut self, ns: &str, node_id: &str) -> Result<()> {
        namespace::validate(ns)?;
        let key = node_key(ns, node_id);
        self.run_events(ns, |s, _| {
            let Some(raw) = s.storage.get(&key)? else {
                return Err(unknown(ns, node_id));
            };
            let mut batch = Batch::default();
            batch.check(key.clone(), Some(raw));
            batch.delete(key.clone());
            Ok(Step::Commit(batch, ()))
        })
    }
}

fn with_liveness(mut node: Node, now: u64, stale_after: u64) -> Node {
    node.live = now.saturating_sub(node.last_heartbeat) < stale_after;
    node
}
