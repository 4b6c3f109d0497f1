//! `/namespaces/{ns}/...`: a namespace's record, metadata, limits, a
//! listing of its keys and atomic increments.

use serde::Deserialize;
use serde_json::{Value, json};

use super::call::Call;
use super::json;
use super::{Handled, Problem, Reply, whole};
use crate::storage::Storage;
use crate::{Clock, EvictionPolicy, ListOptions, Store};

pub fn info<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let info = store
        .namespace_info(ns)?
        .ok_or_else(|| Problem::not_found(format!("namespace {ns:?} does not exist")))?;
    Ok(Reply::ok(json::namespace_info(&info)))
}

pub fn get_metadata<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let metadata = store.get_metadata(ns)?;
    Ok(Reply::ok(
        json!({ "namespace": ns, "metadata": json::parsed(&metadata) }),
    ))
}

/// The body is the new metadata: a JSON object, replacing the old one.
pub fn put_metadata<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let metadata: Value = call.json()?;
    if !metadata.is_object() {
        return Err(Problem::unprocessable(
            "metadata must be a JSON object, like {\"owner\": \"ops\"}",
        ));
    }
    store.set_metadata(ns, &metadata.to_string())?;
    Ok(Reply::ok(json!({ "namespace": ns, "metadata": metadata })))
}

pub fn get_limits<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    Ok(Reply::ok(json::limits(ns, &store.get_limits(ns)?)))
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Policy {
    Reject,
    #[serde(alias = "evict_lru")]
    EvictLru,
}

/// A change to the limits; fields left out keep their value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsChange {
    /// Present-and-null (`"max_keys": null`, no limit) differs from absent (unchanged).
    #[serde(default, deserialize_with = "whole::present")]
    max_keys: Option<Option<u64>>,
    #[serde(default, deserialize_with = "whole::optional")]
    max_key_bytes: Option<u32>,
    #[serde(default, deserialize_with = "whole::optional")]
    max_value_bytes: Option<u32>,
    policy: Option<Policy>,
    #[serde(default, deserialize_with = "whole::optional")]
    idempotency_window_ms: Option<u64>,
}

pub fn put_limits<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let change: LimitsChange = call.json()?;
    let mut limits = store.get_limits(ns)?;
    if let Some(max_keys) = change.max_keys {
        limits.max_keys = max_keys;
    }
    if let Some(n) = change.max_key_bytes {
        limits.max_key_bytes = n;
    }
    if let Some(n) = change.max_value_bytes {
        limits.max_value_bytes = n;
    }
    if let Some(ms) = change.idempotency_window_ms {
        limits.idempotency_window_ms = ms;
    }
    if let Some(policy) = change.policy {
        limits.policy = match policy {
            Policy::Reject => EvictionPolicy::Reject,
            Policy::EvictLru => EvictionPolicy::EvictLru,
        };
    }
    store.set_limits(ns, limits)?;
    Ok(Reply::ok(json::limits(ns, &limits)))
}

pub fn get_key_events<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    Ok(Reply::ok(json::key_events(ns, &store.key_events(ns)?)))
}

/// A change to the key-events setting; fields left out keep their value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEventsChange {
    enabled: Option<bool>,
    include_values: Option<bool>,
}

pub fn put_key_events<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let change: KeyEventsChange = call.json()?;
    let mut setting = store.key_events(ns)?;
    if let Some(enabled) = change.enabled {
        setting.enabled = enabled;
    }
    if let Some(with_values) = change.include_values {
        setting.include_values = with_values;
    }
    store.set_key_events(ns, setting)?;
    Ok(Reply::ok(json::key_events(ns, &setting)))
}

/// Live keys in key order, a page at a time: `?prefix=&cursor=&limit=`.
pub fn list_entries<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let options = ListOptions {
        prefix: call.query("prefix").unwrap_or("").as_bytes().to_vec(),
        cursor: call.query("cursor").map(|c| c.as_bytes().to_vec()),
        limit: call.query_parsed("limit")?.unwrap_or(100),
    };
    let page = store.list(ns, &options)?;
    Ok(Reply::ok(json::key_page(ns, &page)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncrementBody {
    key: String,
    #[serde(default = "one", deserialize_with = "whole::de")]
    by: i64,
}

fn one() -> i64 {
    1
}

/// Adds `by` (default 1) to an integer value, starting from 0.
pub fn increment<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let body: IncrementBody = call.json()?;
    let value = store.increment(ns, body.key.as_bytes(), body.by)?;
    Ok(Reply::ok(
        json!({ "key": body.key, "namespace": ns, "value": value }),
    ))
}
