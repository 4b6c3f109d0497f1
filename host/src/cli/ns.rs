//! `nexus ns ...`: namespace commands.

use nexus_host::types::{EvictionPolicy, NamespaceStats};
use nexus_host::{Namespace, Nexus};
use serde_json::{Value, json};

use super::failure::Failure;
use super::output::{
    Out, info_json, limits_json, limits_rows, metadata_json, pairs, stats_rows, table, timestamp,
};

pub fn list(nexus: &Nexus) -> Result<Out, Failure> {
    let infos = nexus.namespaces()?;
    let json = Value::Array(infos.iter().map(info_json).collect());
    let human = if infos.is_empty() {
        "(no namespaces)".to_string()
    } else {
        let rows: Vec<Vec<String>> = infos
            .iter()
            .map(|i| {
                vec![
                    i.name.clone(),
                    i.key_count.to_string(),
                    timestamp(i.created_at),
                    i.metadata.clone(),
                ]
            })
            .collect();
        table(&["NAME", "KEYS", "CREATED", "METADATA"], &rows)
    };
    Ok(Out::new(json, human))
}

/// A namespace that was never written is a not-found failure (`null` with --json).
pub fn info(ns: &Namespace) -> Result<Out, Failure> {
    let Some(info) = ns.info()? else {
        return Err(
            Failure::not_found(format!("namespace {:?} does not exist", ns.name()))
                .printing(Out::json_only(Value::Null)),
        );
    };
    let mut rows = vec![
        ("name", info.name.clone()),
        ("created", timestamp(info.created_at)),
        ("keys", info.key_count.to_string()),
        ("metadata", info.metadata.clone()),
    ];
    rows.extend(limits_rows(&info.limits));
    Ok(Out::new(info_json(&info), pairs(&rows)))
}

pub fn size(ns: &Namespace) -> Result<Out, Failure> {
    let size = ns.size()?;
    Ok(Out::new(
        json!({ "namespace": ns.name(), "size": size }),
        size.to_string(),
    ))
}

pub fn clear(ns: &Namespace) -> Result<Out, Failure> {
    let deleted = ns.clear()?;
    let human = format!(
        "deleted {deleted} key{} from {}",
        plural(deleted),
        ns.name()
    );
    Ok(Out::new(
        json!({ "namespace": ns.name(), "deleted": deleted }),
        human,
    ))
}

/// Dropping a namespace that does not exist is not an error.
pub fn drop_namespace(ns: &Namespace) -> Result<Out, Failure> {
    let dropped = ns.drop_namespace()?;
    let human = if dropped {
        format!("dropped {}", ns.name())
    } else {
        format!("{} does not exist (nothing dropped)", ns.name())
    };
    Ok(Out::new(
        json!({ "namespace": ns.name(), "dropped": dropped }),
        human,
    ))
}

pub fn stats(ns: &Namespace) -> Result<Out, Failure> {
    Ok(stats_out(Some(ns.name()), &ns.stats()?))
}

pub fn global_stats(nexus: &Nexus) -> Result<Out, Failure> {
    Ok(stats_out(None, &nexus.global_stats()?))
}

/// `namespace` is null in JSON for the global statistics.
fn stats_out(namespace: Option<&str>, stats: &NamespaceStats) -> Out {
    let json = json!({
        "namespace": namespace,
        "hits": stats.hits,
        "misses": stats.misses,
        "sets": stats.sets,
        "deletes": stats.deletes,
        "expirations": stats.expirations,
        "evictions": stats.evictions,
        "total_keys": stats.total_keys,
    });
    Out::new(json, pairs(&stats_rows(stats)))
}

/// Prints the metadata object; with `set`, replaces it first and prints what
/// the store kept (it stores JSON compacted).
pub fn meta(ns: &Namespace, set: Option<&str>) -> Result<Out, Failure> {
    if let Some(json) = set {
        ns.set_metadata(json)?;
    }
    let metadata = metadata_json(&ns.metadata()?);
    let human = serde_json::to_string_pretty(&metadata).unwrap_or_else(|_| metadata.to_string());
    Ok(Out::new(metadata, human))
}

/// The limits to change; `None` leaves one as it is. `max_keys: Some(None)`
/// means unlimited.
#[derive(Debug, Default)]
pub struct LimitsChange {
    pub max_keys: Option<Option<u64>>,
    pub max_key_bytes: Option<u32>,
    pub max_value_bytes: Option<u32>,
    pub policy: Option<EvictionPolicy>,
}

impl LimitsChange {
    fn is_empty(&self) -> bool {
        self.max_keys.is_none()
            && self.max_key_bytes.is_none()
            && self.max_value_bytes.is_none()
            && self.policy.is_none()
    }
}

/// Prints the limits; with changes, applies them to the current limits
/// first and prints the result.
pub fn limits(ns: &Namespace, change: &LimitsChange) -> Result<Out, Failure> {
    let mut limits = ns.limits()?;
    if !change.is_empty() {
        if let Some(max_keys) = change.max_keys {
            limits.max_keys = max_keys;
        }
        if let Some(n) = change.max_key_bytes {
            limits.max_key_bytes = n;
        }
        if let Some(n) = change.max_value_bytes {
            limits.max_value_bytes = n;
        }
        if let Some(policy) = change.policy {
            limits.policy = policy;
        }
        ns.set_limits(limits)?;
        limits = ns.limits()?;
    }
    Ok(Out::new(limits_json(&limits), pairs(&limits_rows(&limits))))
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
