//! The PyKV-compatible routes. Their paths, bodies and answers are a
//! contract with existing clients: values are strings, TTL is in seconds,
//! no namespace means `default`.

use serde::Deserialize;
use serde_json::{Map, Number, Value, json};

use super::call::Call;
use super::json::{self, text};
use super::{Handled, Problem, Reply};
use crate::storage::Storage;
use crate::{Clock, SetOptions, Stats, Store, validate};

/// Longest TTL (or token lifetime) the API accepts: a hundred years, in seconds.
const MAX_SECONDS: f64 = 100.0 * 365.0 * 86_400.0;

#[derive(Deserialize)]
struct SetBody {
    key: String,
    value: String,
    #[serde(default)]
    ttl: Option<Number>,
    #[serde(default)]
    namespace: Option<String>,
}

/// Seconds (PyKV's unit, any positive number) to milliseconds, rounded up
/// so a TTL never ends early: the body field `field` (`ttl`, `expires_in`).
pub(super) fn seconds_to_ms(field: &str, seconds: &Number) -> Result<u64, Problem> {
    match seconds.as_f64() {
        Some(s) if s > 0.0 && s <= MAX_SECONDS => Ok((s * 1000.0).ceil() as u64),
        _ => Err(Problem::unprocessable(format!(
            "{field} must be a number of seconds greater than 0 and at most {MAX_SECONDS}, got {seconds}"
        ))),
    }
}

pub fn set<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let body: SetBody = call.json()?;
    // A bad name in the body is refused even when `?ns=` overrides it: a
    // typo there would otherwise go unnoticed.
    if let Some(named) = body.namespace.as_deref().filter(|ns| !ns.is_empty()) {
        validate(named)?;
    }
    let ns = call.kv_namespace(body.namespace.as_deref());
    let options = SetOptions {
        ttl_ms: body
            .ttl
            .as_ref()
            .map(|t| seconds_to_ms("ttl", t))
            .transpose()?,
        ..SetOptions::default()
    };
    store.set(ns, body.key.as_bytes(), body.value.as_bytes(), &options)?;
    Ok(Reply::ok(
        json!({ "status": "success", "key": body.key, "namespace": ns }),
    ))
}

fn key_not_found() -> Problem {
    Problem::not_found("Key not found")
}

pub fn get<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let key = call.param("key");
    let ns = call.kv_namespace(None);
    let entry = store.get(ns, key.as_bytes())?.ok_or_else(key_not_found)?;
    Ok(Reply::ok(
        json!({ "key": key, "value": text(&entry.value), "namespace": ns }),
    ))
}

pub fn delete<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let key = call.param("key");
    let ns = call.kv_namespace(None);
    if !store.delete(ns, key.as_bytes())? {
        return Err(key_not_found());
    }
    Ok(Reply::ok(
        json!({ "status": "deleted", "key": key, "namespace": ns }),
    ))
}

/// Only the namespaces the caller may read.
pub fn list_namespaces<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let names: Vec<String> = store
        .list_namespaces()?
        .into_iter()
        .map(|info| info.name)
        .filter(|ns| call.viewer.sees(ns))
        .collect();
    Ok(Reply::ok(
        json!({ "count": names.len(), "namespaces": names }),
    ))
}

pub fn key_count<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let total = store.size(ns)?;
    Ok(Reply::ok(json!({ "namespace": ns, "total_keys": total })))
}

pub fn clear<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let deleted = store.clear(ns)?;
    Ok(Reply::ok(
        json!({ "status": "cleared", "namespace": ns, "keys_deleted": deleted }),
    ))
}

/// Whole-store statistics with a breakdown per namespace, or (with `?ns=`)
/// one namespace's. A token sees the namespaces it administers, and totals
/// over those.
pub fn stats<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let uptime = call.started_at_ms.map_or(0.0, |start| {
        store.clock().now_ms().saturating_sub(start) as f64 / 1000.0
    });
    let mut body = Map::new();
    let mut per_namespace = Map::new();
    let total = match call.query("ns") {
        Some(ns) => {
            let stats = store.stats(ns)?;
            body.insert("namespace".into(), ns.into());
            per_namespace.insert(ns.to_string(), json::namespace_stats(&stats));
            stats
        }
        None => {
            // The totals are the sum of the breakdown: each namespace is read once.
            let mut total = Stats::default();
            let visible = store
                .list_namespaces()?
                .into_iter()
                .filter(|info| call.viewer.sees(&info.name));
            for info in visible {
                let stats = store.stats(&info.name)?;
                per_namespace.insert(info.name, json::namespace_stats(&stats));
                total += stats;
            }
            total
        }
    };
    if let Value::Object(totals) = json::stats(&total) {
        body.extend(totals);
    }
    body.insert("uptime_seconds".into(), uptime.into());
    body.insert("namespaces".into(), Value::Object(per_namespace));
    Ok(Reply::ok(Value::Object(body)))
}

/// `store_size` is the live keys of every namespace, which the namespace
/// list already counts, or with `?ns=` (as PyKV's) that namespace's.
pub fn health<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    if let Some(ns) = call.query("ns") {
        let size = store.size(ns)?;
        return Ok(Reply::ok(
            json!({ "status": "healthy", "namespace": ns, "store_size": size }),
        ));
    }
    let size: u64 = store
        .list_namespaces()?
        .iter()
        .map(|info| info.key_count)
        .sum();
    Ok(Reply::ok(
        json!({ "status": "healthy", "store_size": size }),
    ))
}
