//! Key-change events: with a namespace's key events on, every change to its
//! keys is also an event in its queues (`kv.set`, `kv.deleted`,
//! `kv.expired`, `kv.evicted`, `kv.cleared`), staged into the commit that
//! makes the change. A change is never acknowledged without its event, nor
//! an event written for a change that did not happen; consumers use what
//! events already have (subscriptions with `kv.#`, receive with a wait,
//! ack/nack, the dead-letter queue, the log).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::batch::Batch;
use super::records::Envelope;
use super::subscriptions::targets;
use crate::error::Result;
use crate::storage::{Check, Storage, Write};
use crate::{Clock, Store};

/// The largest value a `kv.set` event carries; a larger one is left out
/// and flagged (`value_omitted`, `value_bytes`), so an event never grows
/// past what a consumer expects of a notification.
pub const MAX_KEY_EVENT_VALUE_BYTES: usize = 64 * 1024;

/// How a key stopped existing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    Deleted,
    /// Past its TTL: removed by the sweep or found expired by a write.
    Expired,
    /// Removed to make room under the namespace's `max-keys`.
    Evicted,
}

/// One change to one key (or to the whole namespace), as its event tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyChange {
    Set {
        key: Vec<u8>,
        version: u64,
        expires_at: Option<u64>,
        /// `None` when the namespace's events leave values out.
        value: Option<Vec<u8>>,
    },
    Removed {
        key: Vec<u8>,
        /// The version that was removed.
        version: u64,
        how: Removal,
    },
    Cleared {
        keys_deleted: u64,
    },
}

impl KeyChange {
    fn event_type(&self) -> &'static str {
        match self {
            KeyChange::Set { .. } => "kv.set",
            KeyChange::Removed { how, .. } => match how {
                Removal::Deleted => "kv.deleted",
                Removal::Expired => "kv.expired",
                Removal::Evicted => "kv.evicted",
            },
            KeyChange::Cleared { .. } => "kv.cleared",
        }
    }

    /// The event's JSON payload (docs/events.md, "Key-change events").
    fn payload(&self) -> String {
        let mut out = Map::new();
        let operation = self.event_type().trim_start_matches("kv.");
        out.insert("operation".into(), operation.into());
        match self {
            KeyChange::Set {
                key,
                version,
                expires_at,
                value,
            } => {
                bytes_field(&mut out, "key", key);
                out.insert("version".into(), (*version).into());
                out.insert("expires_at".into(), (*expires_at).into());
                match value {
                    Some(v) if v.len() <= MAX_KEY_EVENT_VALUE_BYTES => {
                        bytes_field(&mut out, "value", v);
                    }
                    Some(v) => {
                        out.insert("value_omitted".into(), true.into());
                        out.insert("value_bytes".into(), v.len().into());
                    }
                    None => {}
                }
            }
            KeyChange::Removed { key, version, .. } => {
                bytes_field(&mut out, "key", key);
                out.insert("version".into(), (*version).into());
            }
            KeyChange::Cleared { keys_deleted } => {
                out.insert("keys_deleted".into(), (*keys_deleted).into());
            }
        }
        Value::Object(out).to_string()
    }
}

/// `name` as text when the bytes are UTF-8 (every key and value the REST
/// API writes), else `name_base64`.
fn bytes_field(out: &mut Map<String, Value>, name: &str, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => out.insert(name.into(), text.into()),
        Err(_) => out.insert(format!("{name}_base64"), BASE64.encode(bytes).into()),
    };
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Adds the events of `changes` to a key-value commit's checks and
    /// writes: each one goes to the namespace's queue, to the
    /// subscriptions whose patterns match it, and to the log, as an emit
    /// would put it.
    pub(crate) fn stage_key_changes(
        &mut self,
        ns: &str,
        now: u64,
        changes: &[KeyChange],
        checks: &mut Vec<Check>,
        writes: &mut Vec<Write>,
    ) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::default();
        let subs = self.guard_subscriptions(ns, &mut batch)?;
        for change in changes {
            let event = Envelope {
                message_id: self.next_message_id(now),
                namespace: ns.to_string(),
                event_type: change.event_type().to_string(),
                payload: change.payload(),
                emitted_at: now,
                producer_node_id: None,
                redelivery_count: 0,
                scheduled_task_id: None,
                replay_of: None,
                broadcast: false,
            };
            let groups = targets(&subs, &event);
            self.stage_event(ns, &mut batch, &event, &groups, now);
        }
        let (more_checks, more_writes) = batch.into_commit(ns);
        checks.extend(more_checks);
        writes.extend(more_writes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(change: KeyChange) -> Value {
        serde_json::from_str(&change.payload()).unwrap()
    }

    #[test]
    fn payloads_name_the_key_version_and_operation() {
        let set = KeyChange::Set {
            key: b"user:1".to_vec(),
            version: 7,
            expires_at: None,
            value: Some(b"ada".to_vec()),
        };
        assert_eq!(set.event_type(), "kv.set");
        assert_eq!(
            payload(set),
            serde_json::json!({"operation": "set", "key": "user:1", "version": 7,
                "expires_at": null, "value": "ada"})
        );
        let evicted = KeyChange::Removed {
            key: vec![0xff, 0],
            version: 3,
            how: Removal::Evicted,
        };
        assert_eq!(evicted.event_type(), "kv.evicted");
        assert_eq!(
            payload(evicted),
            serde_json::json!({"operation": "evicted", "key_base64": "/wA=", "version": 3})
        );
        assert_eq!(
            payload(KeyChange::Cleared { keys_deleted: 4 }),
            serde_json::json!({"operation": "cleared", "keys_deleted": 4})
        );
    }

    #[test]
    fn a_value_over_the_limit_is_left_out_and_flagged() {
        let big = KeyChange::Set {
            key: b"k".to_vec(),
            version: 1,
            expires_at: Some(5),
            value: Some(vec![b'x'; MAX_KEY_EVENT_VALUE_BYTES + 1]),
        };
        let p = payload(big);
        assert_eq!(p["value_omitted"], true);
        assert_eq!(p["value_bytes"], MAX_KEY_EVENT_VALUE_BYTES + 1);
        assert!(p.get("value").is_none());
    }
}
