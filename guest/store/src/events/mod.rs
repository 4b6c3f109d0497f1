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

mod config;
mod dlq;
pub(crate) mod ids;
mod log;
mod metrics;
mod nodes;
pub(crate) mod pattern;
mod queue;
mod subscriptions;
pub(crate) mod tasks;

pub use config::EventsConfig;
pub use dlq::{DeadLetter, DeadLetterPage};
pub use log::{LogPage, LogQuery};
pub use metrics::Metrics;
pub use nodes::{Node, NodeRegistration};
pub use pattern::{matches, validate_event_type, validate_pattern};
pub use queue::{
    Delivery, EmitOptions, Envelope, EventDraft, MAX_WAIT_MS, NackOutcome, ReceiveRequest,
};
pub use subscriptions::Subscription;
pub use tasks::{Task, TaskSpec};

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::keys::{self, Counter};
use crate::namespace::{self, Record};
use crate::storage::{Check, Storage, StorageError, Write};
use crate::write::too_much_contention;
use crate::{Clock, MAX_ATTEMPTS, Store};

/// The checks, writes and counter changes of one events commit.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    checks: Vec<Check>,
    writes: Vec<Write>,
    counters: BTreeMap<CounterSlot, i64>,
    /// Emission time of the newest event staged (written once per commit).
    last_emit: Option<u64>,
    /// Whether waiting receivers should look again once this commits.
    wakes: bool,
}

/// Counters sort by name so a batch adds each once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct CounterSlot(u8);

const COUNTERS: [Counter; 6] = [
    Counter::QueueDepth,
    Counter::DeadLetters,
    Counter::Emitted,
    Counter::Acked,
    Counter::Nacked,
    Counter::DeadLettered,
];

impl Batch {
    pub fn check(&mut self, key: Vec<u8>, expected: Option<Vec<u8>>) {
        self.checks.push(Check { key, expected });
    }

    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.push(Write::Put(key, value));
    }

    pub fn delete(&mut self, key: Vec<u8>) {
        self.writes.push(Write::Delete(key));
    }

    pub fn delete_range(&mut self, (start, end): (Vec<u8>, Vec<u8>)) {
        self.writes.push(Write::DeleteRange(start, end));
    }

    pub fn add(&mut self, counter: Counter, delta: i64) {
        let slot = COUNTERS
            .iter()
            .position(|c| *c == counter)
            .expect("an events counter");
        *self.counters.entry(CounterSlot(slot as u8)).or_default() += delta;
    }

    /// Wakes the namespace's waiting receivers when the batch commits: it
    /// puts a delivery in a queue, or moves one to an earlier time than a
    /// waiter may have planned to look again.
    pub fn wake(&mut self) {
        self.wakes = true;
    }

    pub fn emitted_at(&mut self, at: u64) {
        self.last_emit = Some(self.last_emit.map_or(at, |t| t.max(at)));
    }

    fn into_commit(mut self, ns: &str) -> (Vec<Check>, Vec<Write>) {
        if let Some(at) = self.last_emit {
            self.writes.push(Write::Put(
                queue::last_emit_key(ns),
                at.to_le_bytes().to_vec(),
            ));
        }
        for (slot, delta) in self.counters {
            if delta != 0 {
                self.writes.push(Write::Add(
                    keys::counter(ns, COUNTERS[slot.0 as usize]),
                    delta,
                ));
            }
        }
        if self.wakes {
            self.writes.push(Write::Notify(ns.to_string()));
        }
        (self.checks, self.writes)
    }
}

/// What one attempt of an events operation decided.
pub(crate) enum Step<T> {
    /// Nothing to write.
    Done(T),
    /// Commit this batch; the result stands if the commit does.
    Commit(Batch, T),
}

/// Events records are postcard: compact and several times cheaper than JSON
/// to write and read back, which is most of the work of a queue operation.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).expect("events records always serialize")
}

pub(crate) fn decode<T: DeserializeOwned>(raw: &[u8], what: &str) -> Result<T> {
    postcard::from_bytes(raw).map_err(|e| Error::Storage(format!("corrupt {what}: {e}")))
}

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

impl<S: Storage, C: Clock> Store<S, C> {
    /// Runs `attempt` against fresh reads until its commit goes through.
    pub(crate) fn run_events<T>(
        &mut self,
        ns: &str,
        mut attempt: impl FnMut(&mut Self, u64) -> Result<Step<T>>,
    ) -> Result<T> {
        for _ in 0..MAX_ATTEMPTS {
            let now = self.clock.now_ms();
            match attempt(self, now)? {
                Step::Done(t) => return Ok(t),
                Step::Commit(batch, t) => {
                    let (checks, writes) = batch.into_commit(ns);
                    match self.storage.commit(checks, writes) {
                        Ok(()) => return Ok(t),
                        Err(StorageError::Conflict) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Err(too_much_contention())
    }

    /// Makes the commit depend on the namespace record, creating the
    /// namespace if it does not exist yet; returns the record.
    pub(crate) fn guard_namespace(&self, ns: &str, now: u64, batch: &mut Batch) -> Result<Record> {
        let key = keys::namespace_record(ns);
        let raw = self.storage.get(&key)?;
        let record = match &raw {
            Some(raw) => Record::decode(raw)?,
            None => {
                let record = Record::new(now);
                batch.put(key.clone(), record.encode());
                record
            }
        };
        batch.check(key, raw);
        Ok(record)
    }

    /// Whether the namespace exists (reads on a missing one find nothing).
    pub(crate) fn namespace_exists(&self, ns: &str) -> Result<bool> {
        namespace::validate(ns)?;
        Ok(self.storage.get(&keys::namespace_record(ns))?.is_some())
    }

    /// Reads one record of an events kind.
    pub(crate) fn read_record<T: DeserializeOwned>(
        &self,
        key: &[u8],
        what: &str,
    ) -> Result<Option<(Vec<u8>, T)>> {
        match self.storage.get(key)? {
            Some(raw) => {
                let value = decode(&raw, what)?;
                Ok(Some((raw, value)))
            }
            None => Ok(None),
        }
    }

    /// Every record in `[start, end)`, in pages.
    pub(crate) fn scan_all(&self, start: &[u8], end: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        const PAGE: u32 = 1000;
        let mut from = start.to_vec();
        let mut out = Vec::new();
        loop {
            let page = self.storage.scan(&from, end, PAGE)?;
            let done = page.len() < PAGE as usize;
            if let Some((last, _)) = page.last() {
                from = last.clone();
                from.push(0);
            }
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }
}
