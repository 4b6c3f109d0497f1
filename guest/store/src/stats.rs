//! Read statistics without writes on the read path.
//!
//! A GET must not write to storage (every write is a commit, and on durable
//! backends an fsync), so hits and misses are counted in the instance and
//! flushed as counter additions once [`FLUSH_EVERY`] reads have piled up,
//! when this instance reads statistics, and whenever the host calls `flush`
//! or `tick`. Precision: another instance's reads show up in the statistics
//! with a delay of at most `FLUSH_EVERY` reads or one host tick, and the
//! counts of an instance that is thrown away (a trap) are lost.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::keys::{self, Counter};
use crate::storage::{Check, Storage, StorageError, Write};
use crate::{Clock, MAX_ATTEMPTS, Store};

pub const FLUSH_EVERY: u32 = 1024;

#[derive(Debug, Default)]
pub(crate) struct Pending {
    by_namespace: BTreeMap<String, (u64, u64)>,
    reads: u32,
}

impl Pending {
    fn add(&mut self, ns: &str, hits: u64, misses: u64) {
        match self.by_namespace.get_mut(ns) {
            Some(c) => {
                c.0 += hits;
                c.1 += misses;
            }
            None => {
                self.by_namespace.insert(ns.to_string(), (hits, misses));
            }
        }
        self.reads = self.reads.saturating_add((hits + misses) as u32);
    }

    pub fn forget(&mut self, ns: &str) {
        self.by_namespace.remove(ns);
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    pub(crate) fn count_reads(&mut self, ns: &str, hits: u64, misses: u64) {
        self.pending.add(ns, hits, misses);
        if self.pending.reads >= FLUSH_EVERY {
            // A failed flush keeps its counts for the next one; the read
            // itself has succeeded and must not fail because of statistics.
            let _ = self.flush();
        }
    }

    /// Writes this instance's pending hit and miss counts to storage. Counts
    /// for namespaces that no longer exist are dropped.
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.by_namespace.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let names: Vec<&String> = pending.by_namespace.keys().collect();
        let record_keys: Vec<Vec<u8>> = names.iter().map(|ns| keys::namespace_record(ns)).collect();
        for _ in 0..MAX_ATTEMPTS {
            let records = match self.storage.get_many(&record_keys) {
                Ok(r) => r,
                Err(e) => return Err(self.restore(pending, e)),
            };
            let mut checks = Vec::new();
            let mut writes = Vec::new();
            for ((ns, key), record) in names.iter().zip(&record_keys).zip(records) {
                if record.is_none() {
                    continue;
                }
                let (hits, misses) = pending.by_namespace[*ns];
                for (counter, n) in [(Counter::Hits, hits), (Counter::Misses, misses)] {
                    if n > 0 {
                        writes.push(Write::Add(keys::counter(ns, counter), n as i64));
                    }
                }
                checks.push(Check { key: key.clone(), expected: record });
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
        for (ns, (hits, misses)) in pending.by_namespace {
            self.pending.add(&ns, hits, misses);
        }
        e.into()
    }

    pub(crate) fn forget_pending(&mut self, ns: &str) {
        self.pending.forget(ns);
    }
}
