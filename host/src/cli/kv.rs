//! `nexus kv ...`: key commands on one namespace.

use nexus_host::Namespace;
use nexus_host::types::{ListOptions, SetOptions};
use serde_json::{Value, json};

use super::failure::Failure;
use super::output::{Out, bytes_json, entry_json, lossy, table, timestamp};

pub fn set(ns: &Namespace, key: &str, value: &str, options: &SetOptions) -> Result<Out, Failure> {
    let version = ns.set_with(key, value, options)?;
    Ok(Out::new(
        json!({ "key": key, "version": version }),
        format!("OK (version {version})"),
    ))
}

/// Prints the value; a missing key is a not-found failure (`null` with --json).
pub fn get(ns: &Namespace, key: &str) -> Result<Out, Failure> {
    match ns.get(key)? {
        Some(entry) => Ok(Out::new(
            entry_json(key.as_bytes(), &entry),
            lossy(&entry.value),
        )),
        None => Err(
            Failure::not_found(format!("key {key:?} in namespace {:?}", ns.name()))
                .printing(Out::json_only(Value::Null)),
        ),
    }
}

/// Deleting a missing key is not an error: the key is gone either way.
pub fn del(ns: &Namespace, key: &str) -> Result<Out, Failure> {
    let deleted = ns.delete(key)?;
    let human = if deleted {
        "deleted"
    } else {
        "not found (nothing deleted)"
    };
    Ok(Out::new(json!({ "key": key, "deleted": deleted }), human))
}

pub fn list(
    ns: &Namespace,
    prefix: &str,
    limit: u32,
    cursor: Option<&str>,
) -> Result<Out, Failure> {
    let options = ListOptions {
        prefix: prefix.as_bytes().to_vec(),
        cursor: cursor.map(|c| c.as_bytes().to_vec()),
        limit,
    };
    let page = ns.list(&options)?;
    let keys: Vec<Value> = page
        .keys
        .iter()
        .map(|k| {
            json!({
                "key": bytes_json(&k.key),
                "version": k.version,
                "expires_at": k.expires_at,
                "value_len": k.value_len,
            })
        })
        .collect();
    let next_cursor = page.next_cursor.as_deref().map(bytes_json);
    let json = json!({ "keys": keys, "next_cursor": next_cursor });

    let mut human = if page.keys.is_empty() {
        "(no keys)\n".to_string()
    } else {
        let rows: Vec<Vec<String>> = page
            .keys
            .iter()
            .map(|k| {
                vec![
                    lossy(&k.key),
                    k.version.to_string(),
                    k.value_len.to_string(),
                    k.expires_at.map_or_else(|| "-".to_string(), timestamp),
                ]
            })
            .collect();
        table(&["KEY", "VERSION", "BYTES", "EXPIRES"], &rows)
    };
    if let Some(cursor) = &page.next_cursor {
        human.push_str(&format!("(more: --cursor {})\n", lossy(cursor)));
    }
    Ok(Out::new(json, human))
}

pub fn incr(ns: &Namespace, key: &str, by: i64) -> Result<Out, Failure> {
    let value = ns.increment(key, by)?;
    Ok(Out::new(
        json!({ "key": key, "value": value }),
        value.to_string(),
    ))
}
