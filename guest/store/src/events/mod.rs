//! Events: per-namespace queues with consumer groups, a dead-letter queue,
//! an event log, registered nodes and cron-scheduled tasks.
//!
//! Like the key-value side, everything lives in the storage (layout in
//! keys.rs) and every operation is one commit whose checks make it safe
//! against other instances sharing that storage:
//!
//! - **Emit** writes the log entry and one *delivery* per target queue in one
//!   commit. Every event goes to the namespace's default queue; a copy goes to
//!   each subscription (consumer group) whose patterns match its type, or to
//!   every subscription if it is a broadcast.
//! - A delivery is indexed by the time it becomes visible. **Receive** leases
//!   visible deliveries by moving them to `now + visibility timeout` and
//!   writing the consumer into them, with a check on each, so two consumers
//!   never lease the same delivery in one window.
//! - **Ack**/**nack** must come from the consumer holding the lease, inside
//!   its window. After the window the delivery is someone else's to take: an
//!   ack then fails with `condition-failed` and the message is delivered
//!   again (at-least-once).
//! - A delivery is attempted at most `max-attempts` times: a nack of the last
//!   attempt, or the expiry of its lease, moves it to the dead-letter queue.
//! - `tick` fires due tasks (one commit each, checked against the task record,
//!   so a due occurrence fires once however many hosts tick) and trims the log.
//!
//! The modules depend one way, so each can be read knowing only those
//! below it: `keys` (storage keys, counters), `records` (what is stored,
//! and its codec), `ids` and `pattern` at the bottom; `batch` (one commit)
//! on them; `config`, `subscriptions` and `enqueue` (an event into its
//! queues) next; then `dlq`, which stages dead letters and replays them;
//! and `queue` (emit, receive, ack, nack) on all of these. `log`, `nodes`,
//! `metrics` and `tasks` use only the bottom layers, `batch`, `config`,
//! `subscriptions` and `enqueue`; so does `key_changes`, the events a
//! key-value commit stages when its namespace has key events on.

mod batch;
mod config;
mod dlq;
mod enqueue;
pub(crate) mod ids;
pub(crate) mod key_changes;
mod keys;
mod log;
mod metrics;
mod nodes;
pub(crate) mod pattern;
mod queue;
mod records;
mod subscriptions;
pub(crate) mod tasks;

pub use config::EventsConfig;
pub use dlq::{DeadLetter, DeadLetterPage};
pub use key_changes::MAX_KEY_EVENT_VALUE_BYTES;
pub use log::{LogPage, LogQuery};
pub use metrics::Metrics;
pub use nodes::{Node, NodeRegistration};
pub use pattern::{matches, validate_event_type, validate_pattern};
pub use queue::{Delivery, EmitOptions, EventDraft, MAX_WAIT_MS, NackOutcome, ReceiveRequest};
pub use records::Envelope;
pub use subscriptions::Subscription;
pub use tasks::{Task, TaskSpec};

pub(crate) use records::{decode, encode};

use crate::error::{Error, Result};

/// A user-given name (consumer, group, task): letters, digits, `-`, `_`, `.`,
/// `:`, `@`; 1–128 characters.
pub(crate) fn validate_label(what: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 128 {
        return Err(Error::InvalidArgument(format!(
            "{what} must be 1-128 characters, got {}",
            name.len()
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@')))
    {
        return Err(Error::InvalidArgument(format!(
            "{what} {name:?} contains {c:?}; use letters, digits, '-', '_', '.', ':' or '@'"
        )));
    }
    Ok(())
}

/// A JSON document given as text; returns it unchanged if it parses.
pub(crate) fn validate_json(what: &str, text: &str) -> Result<()> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| Error::InvalidArgument(format!("{what} is not valid JSON: {e}")))
}
