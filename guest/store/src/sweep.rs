//! The host's periodic call: fire due tasks, trim the event log, remove
//! expired entries. Expired entries are already invisible to every read; the
//! sweep only reclaims their space and counts them, so it may run late and
//! in small steps.

use crate::entry;
use crate::error::Result;
use crate::events::key_changes::{KeyChange, Removal};
use crate::keys::{self, Counter};
use crate::namespace::Record;
use crate::storage::{Check, GetEach, Storage, StorageError, Write};
use crate::watch::keys_channel;
use crate::{Clock, Store};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    pub expired_keys: u32,
    pub tasks_fired: u32,
    pub log_entries_removed: u32,
    /// The budget ran out before every expired entry or old log entry was removed.
    pub more: bool,
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Flushes pending statistics, fires every due task, and removes old log
    /// entries and expired keys, examining at most `budget` entries for the
    /// last two. Namespaces are visited in turn, starting where the previous
    /// tick of this instance stopped.
    pub fn tick(&mut self, budget: u32) -> Result<TickReport> {
        self.flush()?;
        let now = self.clock.now_ms();
        let mut names: Vec<String> = self.list_namespace_names()?;
        if let Some(cursor) = &self.sweep_cursor {
            let split = names.partition_point(|n| n <= cursor);
            names.rotate_left(split);
        }
        let mut report = TickReport::default();
        let mut left = budget;
        for ns in names {
            report.tasks_fired += self.fire_due_tasks(&ns, now)?.fired;
            if left == 0 {
                report.more = true;
                continue;
            }
            let retention = self.read_config(&ns)?.log_retention_ms;
            let (trimmed, more) = self.trim_log(&ns, now.saturating_sub(retention), left)?;
            left -= trimmed;
            report.log_entries_removed += trimmed;
            report.more |= more;
            if left == 0 {
                report.more = true;
                continue;
            }
            let (examined, removed, more) = self.sweep_namespace(&ns, now, left)?;
            left -= examined;
            report.expired_keys += removed;
            report.more |= more;
            // Idempotency keys past their window: with what budget is left
            // (they are invisible once expired; the space can wait a tick).
            if left > 0 {
                let (examined, more) = self.sweep_idempotency_keys(&ns, now, left)?;
                left -= examined;
                report.more |= more;
            }
            self.sweep_cursor = Some(ns);
        }
        Ok(report)
    }

    fn list_namespace_names(&self) -> Result<Vec<String>> {
        let (mut start, end) = keys::registry_range();
        let mut names = Vec::new();
        loop {
            let batch = self.storage.scan(&start, &end, 1000)?;
            let done = batch.len() < 1000;
            for (key, _) in batch {
                if let Some(ns) = keys::namespace_of_record(&key) {
                    names.push(ns.to_string());
                }
                start = key;
                start.push(0);
            }
            if done {
                return Ok(names);
            }
        }
    }

    /// At most `budget` entries of the time index `tag` of `ns` due at
    /// `now`, oldest first: the expiry sweeps of entries and of
    /// idempotency keys read them so.
    pub(crate) fn due_index_entries(
        &self,
        ns: &str,
        tag: u8,
        now: u64,
        budget: u32,
    ) -> Result<DueEntries> {
        let (start, end) = keys::indexed_before(ns, tag, now.saturating_add(1));
        // One entry past the budget tells whether any are left.
        let mut due = self.storage.scan(&start, &end, budget.saturating_add(1))?;
        let more = due.len() > budget as usize;
        due.truncate(budget as usize);
        Ok(DueEntries {
            examined: due.len() as u32,
            more,
            parsed: due
                .into_iter()
                .filter_map(|(k, _)| keys::parse_indexed(ns, &k).map(|(at, key)| (at, key, k)))
                .collect(),
        })
    }

    /// Returns (index entries examined, entries removed, whether more remain).
    fn sweep_namespace(&mut self, ns: &str, now: u64, budget: u32) -> Result<(u32, u32, bool)> {
        let DueEntries {
            examined,
            more,
            parsed,
        } = self.due_index_entries(ns, keys::EXPIRY, now, budget)?;
        if examined == 0 {
            return Ok((0, 0, more));
        }
        let entry_keys: Vec<Vec<u8>> = parsed
            .iter()
            .map(|(_, key, _)| keys::entry(ns, key))
            .collect();
        let raws = self.storage.get_each(&entry_keys)?;
        let mut checks = Vec::new();
        let mut writes = Vec::new();
        let mut removed = 0u32;
        let mut changed = Vec::new();
        for (((at, key, index_key), entry_key), raw) in parsed.into_iter().zip(entry_keys).zip(raws)
        {
            let current = raw
                .as_deref()
                .map(entry::decode)
                .transpose()?
                .map(|(h, _)| h);
            match current {
                Some(h) if h.expires_at == Some(at) && !h.is_live(now) => {
                    writes.push(Write::Delete(entry_key.clone()));
                    writes.push(Write::Delete(index_key));
                    if h.touched != 0 {
                        writes.push(Write::Delete(keys::indexed(
                            ns,
                            keys::RECENCY,
                            h.touched,
                            &key,
                        )));
                    }
                    checks.push(Check {
                        key: entry_key,
                        expected: raw,
                    });
                    changed.push(KeyChange::Removed {
                        key,
                        version: h.version,
                        how: Removal::Expired,
                    });
                    removed += 1;
                }
                // An index entry the entry no longer matches: drop just the index entry.
                _ => writes.push(Write::Delete(index_key)),
            }
        }
        if removed > 0 {
            writes.push(Write::Add(
                keys::counter(ns, Counter::Keys),
                -(removed as i64),
            ));
            writes.push(Write::Add(
                keys::counter(ns, Counter::Expirations),
                removed as i64,
            ));
            self.stage_expirations(ns, now, &changed, &mut checks, &mut writes)?;
            writes.push(Write::Notify(keys_channel(ns)));
        }
        match self.storage.commit(checks, writes) {
            Ok(()) => Ok((examined, removed, more)),
            // Another writer touched one of these keys; the next tick gets them.
            Err(StorageError::Conflict) => Ok((examined, 0, true)),
            Err(e) => Err(e.into()),
        }
    }
}

/// What [`Store::due_index_entries`] found.
pub(crate) struct DueEntries {
    /// Index entries read (within the budget).
    pub examined: u32,
    /// More are due than the budget allowed.
    pub more: bool,
    /// Each as (its time, the key it indexes, the index entry's own key).
    pub parsed: Vec<(u64, Vec<u8>, Vec<u8>)>,
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// The `kv.expired` events of a sweep, if the namespace has key events
    /// on; the commit then depends on the namespace record, so a sweep
    /// that raced a change of the setting tries again at the next tick.
    fn stage_expirations(
        &mut self,
        ns: &str,
        now: u64,
        changed: &[KeyChange],
        checks: &mut Vec<Check>,
        writes: &mut Vec<Write>,
    ) -> Result<()> {
        let key = keys::namespace_record(ns);
        let raw = self.storage.get(&key)?;
        let on = match raw.as_deref() {
            Some(bytes) => Record::decode(bytes)?.key_events.enabled,
            None => false,
        };
        if on {
            checks.push(Check { key, expected: raw });
            self.stage_key_changes(ns, now, changed, checks, writes)?;
        }
        Ok(())
    }
}
