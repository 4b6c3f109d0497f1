//! The store's records as the API shows them. Payloads and metadata are
//! stored as JSON text and shown as JSON values; times are milliseconds
//! since the epoch; keys and values (bytes in the store) are shown as text.
//! Public so that a host's own outputs (the CLI's `--json`) show the same
//! shapes: one serialisation of each record, so a script can move between
//! the REST API and the CLI.

use serde_json::{Value, json};

use crate::access::{CreatedToken, TokenInfo};
use crate::events::{
    DeadLetter, DeadLetterPage, Delivery, Envelope, EventsConfig, LogPage, Metrics, NackOutcome,
    Node, Subscription, Task,
};
use crate::{
    Entry, EvictionPolicy, KeyEvents, KeyInfo, Limits, ListPage, MAX_KEY_EVENT_VALUE_BYTES,
    NamespaceInfo, Stats, TickReport,
};

/// The default payload and metadata.
pub fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Stored JSON text as a value; text that is not JSON (never written by
/// this store, which validates it) is shown as a string rather than lost.
pub fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Bytes as text; bytes that are not UTF-8 (written through the typed API)
/// are shown with replacement characters.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A key's entry: `GET /get/{key}`'s fields (which PyKV clients expect
/// alone, so that route shows only those) plus its version and expiry.
pub fn entry(ns: &str, key: &[u8], e: &Entry) -> Value {
    json!({
        "key": text(key),
        "namespace": ns,
        "value": text(&e.value),
        "version": e.version,
        "expires_at": e.expires_at,
    })
}

/// A key as listed: its value's size, not the value.
pub fn key_info(k: &KeyInfo) -> Value {
    json!({
        "key": text(&k.key),
        "version": k.version,
        "expires_at": k.expires_at,
        "value_bytes": k.value_len,
    })
}

/// One page of keys; `next_cursor` is the `cursor` of the following page.
pub fn key_page(ns: &str, page: &ListPage) -> Value {
    let keys: Vec<Value> = page.keys.iter().map(key_info).collect();
    json!({
        "namespace": ns,
        "keys": keys,
        "next_cursor": page.next_cursor.as_deref().map(text),
    })
}

pub fn envelope(e: &Envelope) -> Value {
    json!({
        "message_id": e.message_id,
        "namespace": e.namespace,
        "event_type": e.event_type,
        "payload": parsed(&e.payload),
        "emitted_at": e.emitted_at,
        "producer_node_id": e.producer_node_id,
        "redelivery_count": e.redelivery_count,
        "scheduled_task_id": e.scheduled_task_id,
        "replay_of": e.replay_of,
        "broadcast": e.broadcast,
    })
}

/// The envelope's fields plus the lease.
pub fn delivery(d: &Delivery) -> Value {
    let mut v = envelope(&d.envelope);
    if let Value::Object(fields) = &mut v {
        fields.insert("attempt".into(), d.attempt.into());
        fields.insert("visible_until".into(), d.visible_until.into());
        fields.insert("group".into(), d.group.clone().into());
        fields.insert("consumer".into(), d.consumer.clone().into());
    }
    v
}

/// One page of the event log; `next` is the `after` of the following page.
pub fn log_page(ns: &str, page: &LogPage) -> Value {
    let events: Vec<Value> = page.events.iter().map(envelope).collect();
    json!({ "namespace": ns, "events": events, "next": page.next })
}

/// What a nack did: `visible_at` is when the retry is delivered, null once
/// dead-lettered.
pub fn nack(message_id: &str, outcome: &NackOutcome) -> Value {
    let (outcome, visible_at) = match outcome {
        NackOutcome::Retry { visible_at } => ("retry", Some(*visible_at)),
        NackOutcome::DeadLettered => ("dead_lettered", None),
    };
    json!({ "message_id": message_id, "outcome": outcome, "visible_at": visible_at })
}

pub fn dead_letter(l: &DeadLetter) -> Value {
    json!({
        "id": l.id,
        "original_event": envelope(&l.original_event),
        "reason": l.reason,
        "error": l.error,
        "failed_at": l.failed_at,
        "group": l.group,
    })
}

/// One page of dead letters; `next` is the `after` of the following page.
pub fn dead_letter_page(ns: &str, page: &DeadLetterPage) -> Value {
    let letters: Vec<Value> = page.letters.iter().map(dead_letter).collect();
    json!({ "namespace": ns, "letters": letters, "next": page.next })
}

pub fn node(n: &Node) -> Value {
    json!({
        "node_id": n.node_id,
        "display_name": n.display_name,
        "description": n.description,
        "metadata": parsed(&n.metadata),
        "subscriptions": n.subscriptions,
        "registered_at": n.registered_at,
        "last_heartbeat": n.last_heartbeat,
        "live": n.live,
    })
}

pub fn task(t: &Task) -> Value {
    json!({
        "task_id": t.task_id,
        "name": t.name,
        "cron": t.cron,
        "timezone": t.timezone,
        "event_type": t.event_type,
        "payload": parsed(&t.payload),
        "active": t.active,
        "created_at": t.created_at,
        "next_run_at": t.next_run_at,
        "last_run_at": t.last_run_at,
        "run_count": t.run_count,
    })
}

pub fn subscription(s: &Subscription) -> Value {
    json!({ "name": s.name, "patterns": s.patterns, "created_at": s.created_at })
}

pub fn metrics(ns: &str, m: &Metrics) -> Value {
    json!({
        "namespace": ns,
        "queue_depth": m.queue_depth,
        "in_flight": m.in_flight,
        "dlq_depth": m.dlq_depth,
        "oldest_message_age_ms": m.oldest_message_age_ms,
        "newest_message_age_ms": m.newest_message_age_ms,
        "emitted": m.emitted,
        "acked": m.acked,
        "nacked": m.nacked,
        "dead_lettered": m.dead_lettered,
    })
}

pub fn events_config(ns: &str, c: &EventsConfig) -> Value {
    json!({
        "namespace": ns,
        "max_attempts": c.max_attempts,
        "base_delay_ms": c.base_delay_ms,
        "max_delay_ms": c.max_delay_ms,
        "node_stale_after_ms": c.node_stale_after_ms,
        "log_retention_ms": c.log_retention_ms,
    })
}

pub fn policy_name(p: EvictionPolicy) -> &'static str {
    match p {
        EvictionPolicy::Reject => "reject",
        EvictionPolicy::EvictLru => "evict-lru",
    }
}

pub fn limits(ns: &str, l: &Limits) -> Value {
    json!({
        "namespace": ns,
        "max_keys": l.max_keys,
        "max_key_bytes": l.max_key_bytes,
        "max_value_bytes": l.max_value_bytes,
        "policy": policy_name(l.policy),
        "idempotency_window_ms": l.idempotency_window_ms,
    })
}

/// What a watch sees: each key's live entry, or nulls for a key with none.
pub fn watched(ns: &str, keys: &[Vec<u8>], entries: &[Option<Entry>]) -> Value {
    let entries: Vec<Value> = keys
        .iter()
        .zip(entries)
        .map(|(key, entry)| match entry {
            Some(e) => json!({
                "key": text(key),
                "value": text(&e.value),
                "version": e.version,
                "expires_at": e.expires_at,
            }),
            None => json!({ "key": text(key), "value": null, "version": null, "expires_at": null }),
        })
        .collect();
    json!({ "namespace": ns, "entries": entries })
}

pub fn key_events(ns: &str, k: &KeyEvents) -> Value {
    json!({
        "namespace": ns,
        "enabled": k.enabled,
        "include_values": k.include_values,
        "max_value_bytes": MAX_KEY_EVENT_VALUE_BYTES,
    })
}

pub fn namespace_info(i: &NamespaceInfo) -> Value {
    json!({
        "namespace": i.name,
        "created_at": i.created_at,
        "total_keys": i.key_count,
        "metadata": parsed(&i.metadata),
        "limits": limits(&i.name, &i.limits),
    })
}

/// One namespace's entry in `/stats`'s `namespaces`: exactly PyKV's fields.
pub fn namespace_stats(s: &Stats) -> Value {
    json!({ "cache_hits": s.hits, "cache_misses": s.misses, "total_keys": s.total_keys })
}

/// `/stats`' top-level counters: PyKV's, plus the ones it did not have.
pub fn stats(s: &Stats) -> Value {
    json!({
        "cache_hits": s.hits,
        "cache_misses": s.misses,
        "total_keys": s.total_keys,
        "sets": s.sets,
        "deletes": s.deletes,
        "expirations": s.expirations,
        "evictions": s.evictions,
    })
}

/// What one maintenance tick did.
pub fn tick_report(r: &TickReport) -> Value {
    json!({
        "expired_keys": r.expired_keys,
        "tasks_fired": r.tasks_fired,
        "log_entries_removed": r.log_entries_removed,
        "more": r.more,
    })
}

/// A token as listed: never its secret.
pub fn token_info(t: &TokenInfo) -> Value {
    json!({
        "name": t.name,
        "namespaces": t.namespaces,
        "scope": t.scope.as_str(),
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "last_used_at": t.last_used_at,
    })
}

/// A new token: its record and, this once, its secret.
pub fn created_token(c: &CreatedToken) -> Value {
    let mut v = token_info(&c.info);
    v["secret"] = c.secret.clone().into();
    v
}
