//! `nexus kv ...`: key commands on one namespace.

use clap::Subcommand;
use nexus_host::types::{ListOptions, SetOptions};
use nexus_host::{Namespace, Nexus};
use serde_json::{Value, json};

use super::NsArg;
use super::failure::Failure;
use super::output::{Out, bytes_json, entry_json, lossy, table, timestamp};

#[derive(Debug, Subcommand)]
pub enum KvCommand {
    /// Store a value; prints its new version.
    Set {
        /// The key (UTF-8 text).
        #[arg(allow_hyphen_values = true)]
        key: String,
        /// The value (UTF-8 text).
        #[arg(allow_hyphen_values = true)]
        value: String,
        #[command(flatten)]
        ns: NsArg,
        /// Expire after this many milliseconds.
        #[arg(long, value_name = "N", conflicts_with = "ttl")]
        ttl_ms: Option<u64>,
        /// Expire after this many seconds.
        #[arg(long, value_name = "SECONDS",
              value_parser = clap::value_parser!(u64).range(..=u64::MAX / 1000))]
        ttl: Option<u64>,
        /// Fail (condition failed) if the key already holds a value.
        #[arg(long)]
        if_absent: bool,
        /// Fail (condition failed) unless the key's current version is V.
        #[arg(long, value_name = "V")]
        if_version: Option<u64>,
    },
    /// Print a value (exit code 1 if the key does not exist).
    Get {
        /// The key (UTF-8 text).
        #[arg(allow_hyphen_values = true)]
        key: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// Delete a key; says whether it existed.
    Del {
        /// The key (UTF-8 text).
        #[arg(allow_hyphen_values = true)]
        key: String,
        #[command(flatten)]
        ns: NsArg,
    },
    /// List keys in ascending order, a page at a time.
    List {
        #[command(flatten)]
        ns: NsArg,
        /// Only keys starting with P.
        #[arg(long, value_name = "P", default_value = "", hide_default_value = true)]
        prefix: String,
        /// At most N keys (1-1000).
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: u32,
        /// Continue after this key (the cursor printed with the previous page).
        #[arg(long, value_name = "C")]
        cursor: Option<String>,
    },
    /// Add to a decimal integer value (a missing key counts as 0); prints the result.
    Incr {
        /// The key (UTF-8 text).
        #[arg(allow_hyphen_values = true)]
        key: String,
        /// The amount to add (may be negative).
        #[arg(
            long,
            value_name = "N",
            default_value_t = 1,
            allow_negative_numbers = true
        )]
        by: i64,
        #[command(flatten)]
        ns: NsArg,
    },
}

/// Runs one `nexus kv` command.
pub fn run(nexus: &Nexus, cmd: KvCommand) -> Result<Out, Failure> {
    match cmd {
        KvCommand::Set {
            key,
            value,
            ns,
            ttl_ms,
            ttl,
            if_absent,
            if_version,
        } => {
            let options = SetOptions {
                // --ttl is capped by clap so that this cannot overflow.
                ttl_ms: ttl_ms.or(ttl.map(|s| s * 1000)),
                only_if_absent: if_absent,
                only_if_version: if_version,
            };
            set(&nexus.namespace(&ns.namespace)?, &key, &value, &options)
        }
        KvCommand::Get { key, ns } => get(&nexus.namespace(&ns.namespace)?, &key),
        KvCommand::Del { key, ns } => del(&nexus.namespace(&ns.namespace)?, &key),
        KvCommand::List {
            ns,
            prefix,
            limit,
            cursor,
        } => list(
            &nexus.namespace(&ns.namespace)?,
            &prefix,
            limit,
            cursor.as_deref(),
        ),
        KvCommand::Incr { key, by, ns } => incr(&nexus.namespace(&ns.namespace)?, &key, by),
    }
}

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
