//! One events commit: the checks, writes and counter changes an operation
//! stages, and the loop that re-reads and retries it when it loses a race.

use std::collections::BTreeMap;

use super::keys::{EventCounter, last_emit_key};
use crate::error::Result;
use crate::keys;
use crate::namespace::{self, Record};
use crate::storage::{Check, Storage, StorageError, Write};
use crate::write::too_much_contention;
use crate::{Clock, MAX_ATTEMPTS, Store};

/// The checks, writes and counter changes of one events commit.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    checks: Vec<Check>,
    writes: Vec<Write>,
    /// Summed per counter, so a commit adds to each once.
    counters: BTreeMap<EventCounter, i64>,
    /// Emission time of the newest event staged (written once per commit).
    last_emit: Option<u64>,
    /// Whether waiting receivers should look again once this commits.
    wakes: bool,
}

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

    pub fn add(&mut self, counter: EventCounter, delta: i64) {
        *self.counters.entry(counter).or_default() += delta;
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

    pub(super) fn into_commit(mut self, ns: &str) -> (Vec<Check>, Vec<Write>) {
        if let Some(at) = self.last_emit {
            self.writes
                .push(Write::Put(last_emit_key(ns), at.to_le_bytes().to_vec()));
        }
        for (counter, delta) in self.counters {
            if delta != 0 {
                self.writes.push(Write::Add(counter.key(ns), delta));
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
}
