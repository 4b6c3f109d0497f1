//! Statistics without extra writes on the hot path.
//!
//! A GET must not write to storage (every write is a commit, and on durable
//! backends an fsync), and a SET should not write more than it must, so hits,
//! misses, sets and deletes are tallied in the instance and flushed as counter
//! additions once [`FLUSH_EVERY`] operations have piled up, when this instance
//! reads statistics, and whenever the host calls `flush` or `tick`.
//! Precision: another instance's operations show up in the statistics with a
//! delay of at most `FLUSH_EVERY` operations or one host tick, and the tally
//! of an instance that is thrown away (a trap) is lost. Key counts are not
//! tallied: they change in the same commit as the keys, so sizes are exact.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::keys::{self, Counter};
use crate::storage::{Check, GetEach, Storage, StorageError, Write};
use crate::{Clock, MAX_ATTEMPTS, Store};

pub const FLUSH_EVERY: u64 = 1024;

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    hits: u64,
    misses: u64,
    sets: u64,
    deletes: u64,
}

impl Tally {
    fn ops(&self) -> u64 {
        self.hits + self.misses + self.sets + self.deletes
    }
}

#[derive(Debug, Default)]
pub(crate) struct Pending {
    by_namespace: BTreeMap<String, Tally>,
    ops: u64,
}

impl Pending {
    fn add(&mut self, ns: &str, t: Tally) {
        let slot = match self.by_namespace.get_mut(ns) {
            Some(slot) => slot,
            None => self.by_namespace.entry(ns.to_string()).or_default(),
        };
        slot.hits += t.hits;
        slot.misses += t.misses;
        slot.sets += t.sets;
        slot.deletes += t.deletes;
        self.ops += t.ops();
    }

    /// Adds another tally (a batch item's) to this one.
    pub fn merge(&mut self, other: Pending) {
        for (ns, t) in other.by_namespace {
            self.add(&ns, t);
        }
    }

    pub fn forget(&mut self, ns: &str) {
        self.by_namespace.remove(ns);
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    pub(crate) fn count_reads(&mut self, ns: &str, hits: u64, misses: u64) {
        self.tally(
            ns,
            Tally {
                hits,
                misses,
                ..Tally::default()
            },
        );
    }

    pub(crate) fn count_writes(&mut self, ns: &str, sets: u64, deletes: u64) {
        self.tally(
            ns,
            Tally {
                sets,
                deletes,
                ..Tally::default()
            },
        );
    }

    fn tally(&mut self, ns: &str, t: Tally) {
        self.pending.add(ns, t);
        if self.pending.ops >= FLUSH_EVERY {
            // A failed flush keeps its counts for the next one; the operation
            // itself has succeeded and must not fail because of statistics.
            let _ = self.flush();
        }
    }

    /// Whether [`Store::flush`] has anything to write: a host that flushes
    /// after every request can skip, or prepare, the flush.
    pub fn has_pending_counts(&self) -> bool {
        !self.pending.by_namespace.is_empty()
    }

    /// Keeps this instance's hit and miss counts with probability
    /// 1/`one_in`, multiplied by `one_in`, and drops them otherwise: an
    /// unbiased estimate (the expected count is the true one; over `n`
    /// reads its standard deviation is √((one_in − 1)·n)), for a host that
    /// must write to keep a count at all. An edge instance lives for one
    /// request, so exact counts would make every read a write transaction;
    /// sampled, one read in `one_in` writes. `draw` is a uniform random
    /// number. Sets and deletes are not touched: they stay exact.
    pub fn sample_read_counts(&mut self, one_in: u32, draw: u64) {
        let one_in = u64::from(one_in.max(1));
        let kept = draw.is_multiple_of(one_in);
        let mut ops = 0;
        self.pending.by_namespace.retain(|_, t| {
            (t.hits, t.misses) = if kept {
                (
                    t.hits.saturating_mul(one_in),
                    t.misses.saturating_mul(one_in),
                )
            } else {
                (0, 0)
            };
            ops += t.ops();
            t.ops() > 0
        });
        self.pending.ops = ops;
    }

    /// Writes this instance's tally to storage. Counts for namespaces that no
    /// longer exist are dropped.
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.by_namespace.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let names: Vec<&String> = pending.by_namespace.keys().collect();
        let record_keys: Vec<Vec<u8>> = names.iter().map(|ns| keys::namespace_record(ns)).collect();
        for _ in 0..MAX_ATTEMPTS {
            let records = match self.storage.get_each(&record_keys) {
                Ok(r) => r,
                Err(e) => return Err(self.restore(pending, e)),
            };
            let mut checks = Vec::new();
            let mut writes = Vec::new();
            for ((ns, key), record) in names.iter().zip(&record_keys).zip(records) {
                if record.is_none() {
                    continue;
                }
                let t = pending.by_namespace[*ns];
                for (counter, n) in [
                    (Counter::Hits, t.hits),
                    (Counter::Misses, t.misses),
                    (Counter::Sets, t.sets),
                    (Counter::Deletes, t.deletes),
                ] {
                    if n > 0 {
                        writes.push(Write::Add(keys::counter(ns, counter), n as i64));
                    }
                }
                checks.push(Check {
                    key: key.clone(),
                    expected: record,
                });
            }
            if writes.is_empty() {
                return Ok(());
            }
            match self.storage.commit(checks, writes) {
                Ok(()) => return Ok(()),
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(self.restore(pending, e)),
            }
        }
        Ok(())
    }

    fn restore(&mut self, pending: Pending, e: StorageError) -> crate::Error {
        self.pending.merge(pending);
        e.into()
    }

    pub(crate) fn forget_pending(&mut self, ns: &str) {
        self.pending.forget(ns);
    }
}
