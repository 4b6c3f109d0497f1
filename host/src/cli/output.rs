//! What a command prints: both renderings of its result (JSON for
//! `--json`, text for people), and the helpers that build them.

use std::io::Write as _;

use nexus_host::types::{Entry, EvictionPolicy, Limits, NamespaceInfo, Stats};
use serde::Serialize;
use serde_json::{Value, json};

/// A command's result, rendered both ways; `--json` picks which one is printed.
#[derive(Debug)]
pub struct Out {
    /// `None` prints nothing with `--json`.
    pub json: Option<Value>,
    /// Printed as is, plus a final newline if missing; `None` prints nothing.
    pub human: Option<String>,
}

impl Out {
    pub fn new(json: Value, human: impl Into<String>) -> Self {
        Self {
            json: Some(json),
            human: Some(human.into()),
        }
    }

    /// Prints nothing without `--json`.
    pub fn json_only(json: Value) -> Self {
        Self {
            json: Some(json),
            human: None,
        }
    }

    /// Prints nothing either way (the command printed as it went).
    pub fn nothing() -> Self {
        Self {
            json: None,
            human: None,
        }
    }

    /// Writes the chosen rendering to stdout. A closed pipe (`nexus kv list | head`)
    /// is not an error.
    pub fn print(&self, json: bool) -> std::io::Result<()> {
        let rendered = if json {
            self.json.as_ref().map(Value::to_string)
        } else {
            self.human.clone()
        };
        let Some(mut text) = rendered else {
            return Ok(());
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let mut stdout = std::io::stdout().lock();
        match stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// A value of one of the store's serializable types (events records) as JSON,
/// with its fields as they are named in Rust. Payloads and metadata, which
/// the records hold as JSON text, are shown as JSON (as the REST API does),
/// so `nexus --json events receive | jq '.[0].envelope.payload.id'` works.
pub fn to_json(value: &impl Serialize) -> Value {
    let mut json = serde_json::to_value(value).expect("plain records always serialize");
    embed_json_text(&mut json);
    json
}

/// Fields that hold JSON text in the store's records.
const JSON_TEXT_FIELDS: [&str; 2] = ["payload", "metadata"];

fn embed_json_text(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                if let Value::String(text) = field
                    && JSON_TEXT_FIELDS.contains(&name.as_str())
                    && let Ok(parsed) = serde_json::from_str::<Value>(text)
                {
                    *field = parsed;
                } else {
                    embed_json_text(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(embed_json_text),
        _ => {}
    }
}

/// An optional time: `-` when there is none.
pub fn maybe_timestamp(ms: Option<u64>) -> String {
    ms.map_or_else(|| "-".to_string(), timestamp)
}

/// Bytes as a JSON string if they are UTF-8, else as an array of numbers.
pub fn bytes_json(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => json!(bytes),
    }
}

/// Bytes for people: UTF-8, invalid sequences replaced.
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn entry_json(key: &[u8], entry: &Entry) -> Value {
    json!({
        "key": bytes_json(key),
        "value": bytes_json(&entry.value),
        "version": entry.version,
        "expires_at": entry.expires_at,
    })
}

pub fn policy_name(policy: EvictionPolicy) -> &'static str {
    match policy {
        EvictionPolicy::Reject => "reject",
        EvictionPolicy::EvictLru => "evict-lru",
    }
}

pub fn limits_json(limits: &Limits) -> Value {
    json!({
        "max_keys": limits.max_keys,
        "max_key_bytes": limits.max_key_bytes,
        "max_value_bytes": limits.max_value_bytes,
        "policy": policy_name(limits.policy),
    })
}

pub fn limits_rows(limits: &Limits) -> Vec<(&'static str, String)> {
    vec![
        (
            "max-keys",
            limits
                .max_keys
                .map_or_else(|| "unlimited".to_string(), |n| n.to_string()),
        ),
        ("max-key-bytes", limits.max_key_bytes.to_string()),
        ("max-value-bytes", limits.max_value_bytes.to_string()),
        ("policy", policy_name(limits.policy).to_string()),
    ]
}

/// The stored metadata text as a JSON value (it is always a JSON object;
/// anything else is passed on as a string rather than lost).
pub fn metadata_json(metadata: &str) -> Value {
    serde_json::from_str(metadata).unwrap_or_else(|_| Value::String(metadata.to_string()))
}

pub fn info_json(info: &NamespaceInfo) -> Value {
    json!({
        "name": info.name,
        "created_at": info.created_at,
        "metadata": metadata_json(&info.metadata),
        "key_count": info.key_count,
        "limits": limits_json(&info.limits),
    })
}

pub fn stats_rows(stats: &Stats) -> Vec<(&'static str, String)> {
    [
        ("hits", stats.hits),
        ("misses", stats.misses),
        ("sets", stats.sets),
        ("deletes", stats.deletes),
        ("expirations", stats.expirations),
        ("evictions", stats.evictions),
        ("total_keys", stats.total_keys),
    ]
    .into_iter()
    .map(|(name, n)| (name, n.to_string()))
    .collect()
}

/// `name  value` lines with the values aligned.
pub fn pairs(rows: &[(&str, String)]) -> String {
    let width = rows
        .iter()
        .map(|(name, _)| name.chars().count())
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(name, value)| format!("{name:<width$}  {value}\n"))
        .collect()
}

/// A table with a header row; columns are padded to align, the last one is not.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let last = row.len().saturating_sub(1);
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                line.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Milliseconds since the epoch as UTC, e.g. `2026-05-01T12:34:56.789Z`.
pub fn timestamp(ms: u64) -> String {
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{millis:03}Z")
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(timestamp(1_777_638_896_789), "2026-05-01T12:34:56.789Z");
    }

    #[test]
    fn tables_align_all_but_the_last_column() {
        let rows = vec![vec!["app1".into(), "3".into(), "{}".into()]];
        assert_eq!(
            table(&["NAME", "KEYS", "META"], &rows),
            "NAME  KEYS  META\napp1  3     {}\n"
        );
    }

    #[test]
    fn bytes_are_strings_when_utf8() {
        assert_eq!(bytes_json(b"ada"), json!("ada"));
        assert_eq!(bytes_json(&[0xff, 1]), json!([255, 1]));
    }
}
