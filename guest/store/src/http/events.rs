//! `/namespaces/{ns}/events...` and `/subscriptions`: emitting, receiving
//! and settling messages, the event log, queue metrics, the namespace's
//! events settings and its consumer groups.

use serde::Deserialize;
use serde_json::{Value, json};

use super::call::Call;
use super::json;
use super::{Handled, Problem, Reply, WAIT_HEADER, WaitHint, whole};
use crate::events::{EmitOptions, EventDraft, LogQuery, ReceiveRequest};
use crate::storage::Storage;
use crate::{Clock, Store};

/// The consumer name of requests that do not give one. Ack and nack must
/// name the consumer that received, so clients that never name one match.
const DEFAULT_CONSUMER: &str = "http";

fn default_consumer() -> String {
    DEFAULT_CONSUMER.to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmitBody {
    event_type: String,
    /// Any JSON document; `{}` if left out.
    #[serde(default = "json::empty_object")]
    payload: Value,
    #[serde(default, deserialize_with = "whole::de")]
    delay_ms: u64,
    #[serde(default)]
    producer_node_id: Option<String>,
    #[serde(default)]
    broadcast: bool,
}

impl EmitBody {
    fn draft(self) -> EventDraft {
        EventDraft {
            event_type: self.event_type,
            payload: self.payload.to_string(),
            options: EmitOptions {
                delay_ms: self.delay_ms,
                producer_node_id: self.producer_node_id,
                broadcast: self.broadcast,
            },
        }
    }
}

pub fn emit<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let body: EmitBody = call.json()?;
    let id = store.emit(ns, body.draft())?;
    Ok(Reply::created(json!({ "message_id": id, "namespace": ns })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmitBatchBody {
    events: Vec<EmitBody>,
}

/// Up to 100 events in one commit: all are emitted or none.
pub fn emit_batch<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let body: EmitBatchBody = call.json()?;
    let drafts = body.events.into_iter().map(EmitBody::draft).collect();
    let ids = store.emit_batch(ns, drafts)?;
    Ok(Reply::created(
        json!({ "message_ids": ids, "namespace": ns }),
    ))
}

/// Who is settling a message: the consumer group and consumer name.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Consumer {
    group: Option<String>,
    consumer: String,
}

impl Default for Consumer {
    fn default() -> Self {
        Self {
            group: None,
            consumer: default_consumer(),
        }
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ReceiveBody {
    #[serde(deserialize_with = "whole::de")]
    max: u32,
    #[serde(deserialize_with = "whole::de")]
    visibility_timeout_ms: u64,
    #[serde(deserialize_with = "whole::de")]
    wait_ms: u64,
    group: Option<String>,
    consumer: String,
}

impl Default for ReceiveBody {
    fn default() -> Self {
        Self {
            max: 10,
            visibility_timeout_ms: 30_000,
            wait_ms: 0,
            group: None,
            consumer: default_consumer(),
        }
    }
}

/// Leases up to `max` visible messages; each must be acked or nacked
/// before its `visible_until`, or it is delivered again. Empty with a
/// `wait_ms`, the answer carries a [`WaitHint`] for the host to hold it.
pub fn receive<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let body: ReceiveBody = call.json_or_default()?;
    let request = ReceiveRequest {
        group: body.group,
        consumer: body.consumer,
        max: body.max,
        visibility_timeout_ms: body.visibility_timeout_ms,
        wait_ms: body.wait_ms,
    };
    let deliveries = store.receive(ns, &request)?;
    let messages: Vec<Value> = deliveries.iter().map(json::delivery).collect();
    let mut reply = Reply::ok(json!({ "namespace": ns, "messages": messages }));
    if deliveries.is_empty() && request.wait_ms > 0 {
        let hint = WaitHint {
            namespace: ns.to_string(),
            deadline_ms: store.clock().now_ms().saturating_add(request.wait_ms),
            next_visible_ms: store.next_visible_at(ns, request.group.as_deref())?,
        };
        reply
            .headers
            .push((WAIT_HEADER.to_string(), hint.header_value()));
    }
    Ok(reply)
}

pub fn ack<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let id = call.param("id");
    let who: Consumer = call.json_or_default()?;
    store.ack(ns, who.group.as_deref(), &who.consumer, id)?;
    Ok(Reply::ok(json!({ "status": "acked", "message_id": id })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBatchBody {
    message_ids: Vec<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default = "default_consumer")]
    consumer: String,
}

/// Acks up to 100 messages in one commit; each gets its own outcome, and
/// the ones that fail change nothing.
pub fn ack_batch<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let body: AckBatchBody = call.json()?;
    let outcomes = store.ack_batch(ns, body.group.as_deref(), &body.consumer, &body.message_ids)?;
    let results: Vec<Value> = body
        .message_ids
        .iter()
        .zip(outcomes)
        .map(|(id, outcome)| match outcome {
            None => json!({ "message_id": id, "status": "acked" }),
            Some(e) => {
                let problem = Problem::from(e);
                json!({
                    "message_id": id,
                    "status": "failed",
                    "code": problem.status,
                    "detail": problem.detail,
                })
            }
        })
        .collect();
    Ok(Reply::ok(json!({ "results": results })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NackBody {
    reason: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default = "default_consumer")]
    consumer: String,
}

/// Gives a message back: retried after the namespace's backoff, or
/// dead-lettered if that was its last attempt.
pub fn nack<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let id = call.param("id");
    let body: NackBody = call.json()?;
    let outcome = store.nack(
        ns,
        body.group.as_deref(),
        &body.consumer,
        id,
        &body.reason,
        body.error.as_deref(),
    )?;
    Ok(Reply::ok(json::nack(id, &outcome)))
}

/// `?type=&since=&until=&after=&limit=`, in emission order; `next` is the
/// `after` of the following page.
pub fn query_log<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let query = LogQuery {
        event_type: call.query("type").map(str::to_string),
        since: call.query_parsed("since")?,
        until: call.query_parsed("until")?,
        after_id: call.query("after").map(str::to_string),
        limit: call.query_parsed("limit")?.unwrap_or(100),
    };
    let page = store.log_query(ns, &query)?;
    Ok(Reply::ok(json::log_page(ns, &page)))
}

pub fn metrics<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    Ok(Reply::ok(json::metrics(ns, &store.metrics(ns)?)))
}

pub fn get_config<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    Ok(Reply::ok(json::events_config(
        ns,
        &store.events_config(ns)?,
    )))
}

/// A change to the events settings; fields left out keep their value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigChange {
    #[serde(default, deserialize_with = "whole::optional")]
    max_attempts: Option<u32>,
    #[serde(default, deserialize_with = "whole::optional")]
    base_delay_ms: Option<u64>,
    #[serde(default, deserialize_with = "whole::optional")]
    max_delay_ms: Option<u64>,
    #[serde(default, deserialize_with = "whole::optional")]
    node_stale_after_ms: Option<u64>,
    #[serde(default, deserialize_with = "whole::optional")]
    log_retention_ms: Option<u64>,
}

pub fn put_config<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let change: ConfigChange = call.json()?;
    let mut config = store.events_config(ns)?;
    config.max_attempts = change.max_attempts.unwrap_or(config.max_attempts);
    config.base_delay_ms = change.base_delay_ms.unwrap_or(config.base_delay_ms);
    config.max_delay_ms = change.max_delay_ms.unwrap_or(config.max_delay_ms);
    config.node_stale_after_ms = change
        .node_stale_after_ms
        .unwrap_or(config.node_stale_after_ms);
    config.log_retention_ms = change.log_retention_ms.unwrap_or(config.log_retention_ms);
    store.set_events_config(ns, config)?;
    Ok(Reply::ok(json::events_config(ns, &config)))
}

pub fn list_subscriptions<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let subscriptions: Vec<Value> = store
        .list_subscriptions(ns)?
        .iter()
        .map(json::subscription)
        .collect();
    Ok(Reply::ok(
        json!({ "namespace": ns, "subscriptions": subscriptions }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeBody {
    patterns: Vec<String>,
}

/// Creates the consumer group `{name}`, or replaces its patterns.
pub fn subscribe<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let body: SubscribeBody = call.json()?;
    let subscription = store.subscribe(ns, call.param("name"), &body.patterns)?;
    Ok(Reply::ok(json::subscription(&subscription)))
}

pub fn unsubscribe<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let name = call.param("name");
    if !store.unsubscribe(ns, name)? {
        return Err(Problem::not_found(format!(
            "subscription {name:?} does not exist in namespace {ns:?}"
        )));
    }
    Ok(Reply::ok(json!({ "status": "deleted", "name": name })))
}
