//! `nexus ns ...`: namespace commands.

use clap::{Args, Subcommand, ValueEnum};
use nexus_host::types::{EvictionPolicy, Stats};
use nexus_host::{Namespace, Nexus};
use serde_json::{Value, json};

use super::failure::Failure;
use super::output::{
    Out, info_json, limits_json, limits_rows, metadata_json, pairs, stats_rows, table, timestamp,
};

#[derive(Debug, Subcommand)]
pub enum NsCommand {
    /// Every namespace, with its key count, creation time and metadata.
    List,
    /// Everything about one namespace (exit code 1 if it does not exist).
    Info {
        /// Namespace name.
        ns: String,
    },
    /// Live keys in a namespace.
    Size {
        /// Namespace name.
        ns: String,
    },
    /// Delete every key of a namespace (it keeps its metadata and limits).
    Clear {
        /// Namespace name.
        ns: String,
    },
    /// Delete a namespace with everything in it.
    Drop {
        /// Namespace name.
        ns: String,
    },
    /// Hit, miss, write and key counts; of every namespace together if NS is omitted.
    Stats {
        /// Namespace name.
        ns: Option<String>,
    },
    /// Print a namespace's metadata, or replace it with --set.
    Meta {
        /// Namespace name.
        ns: String,
        /// New metadata: a JSON object.
        #[arg(long, value_name = "JSON")]
        set: Option<String>,
    },
    /// Print a namespace's limits, or change the ones given (the rest stay).
    Limits {
        /// Namespace name.
        ns: String,
        #[command(flatten)]
        change: LimitsArgs,
    },
}

#[derive(Debug, Args)]
pub struct LimitsArgs {
    /// At most N live keys.
    #[arg(long, value_name = "N", conflicts_with = "unlimited")]
    max_keys: Option<u64>,
    /// No limit on the number of keys.
    #[arg(long)]
    unlimited: bool,
    /// Longest key, in bytes.
    #[arg(long, value_name = "N")]
    max_key_bytes: Option<u32>,
    /// Largest value, in bytes.
    #[arg(long, value_name = "N")]
    max_value_bytes: Option<u32>,
    /// What a write beyond max-keys does.
    #[arg(long)]
    policy: Option<Policy>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Policy {
    /// The write fails (quota exceeded).
    Reject,
    /// The least recently written keys are evicted.
    EvictLru,
}

/// Runs one `nexus ns` command.
pub fn run(nexus: &Nexus, cmd: NsCommand) -> Result<Out, Failure> {
    match cmd {
        NsCommand::List => list(nexus),
        NsCommand::Info { ns } => info(&nexus.namespace(&ns)?),
        NsCommand::Size { ns } => size(&nexus.namespace(&ns)?),
        NsCommand::Clear { ns } => clear(&nexus.namespace(&ns)?),
        NsCommand::Drop { ns } => drop_namespace(&nexus.namespace(&ns)?),
        NsCommand::Stats { ns: None } => global_stats(nexus),
        NsCommand::Stats { ns: Some(ns) } => stats(&nexus.namespace(&ns)?),
        NsCommand::Meta { ns, set } => meta(&nexus.namespace(&ns)?, set.as_deref()),
        NsCommand::Limits { ns, change } => {
            let change = LimitsChange {
                max_keys: if change.unlimited {
                    Some(None)
                } else {
                    change.max_keys.map(Some)
                },
                max_key_bytes: change.max_key_bytes,
                max_value_bytes: change.max_value_bytes,
                policy: change.policy.map(|p| match p {
                    Policy::Reject => EvictionPolicy::Reject,
                    Policy::EvictLru => EvictionPolicy::EvictLru,
                }),
            };
            limits(&nexus.namespace(&ns)?, &change)
        }
    }
}

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
fn stats_out(namespace: Option<&str>, stats: &Stats) -> Out {
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
