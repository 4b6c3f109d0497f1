//! The single write path. Every mutation (set, delete, increment, the batch
//! calls, transactions) is a *plan* run against the current live values of
//! the keys it names; this module turns the plan into one storage commit that
//! also keeps the indexes, the key count and the quota right, and retries
//! from fresh reads when another writer got there first.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::entry::{self, Header};
use crate::error::{Error, Result};
use crate::events::key_changes::{KeyChange, Removal};
use crate::keys::{self, Counter};
use crate::namespace::{self, EvictionPolicy, KeyEvents, Limits, Record};
use crate::storage::{Check, GetEach, Storage, StorageError, Write, decode_counter};
use crate::watch::keys_channel;
use crate::{Clock, MAX_ATTEMPTS, Store};

/// A key's current live value, as a plan sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Live<'a> {
    pub header: Header,
    pub value: &'a [u8],
}

/// One change a plan asks for; `key` indexes the keys given to [`Store::mutate`].
#[derive(Debug)]
pub(crate) enum Change<'v> {
    Put {
        key: usize,
        value: Cow<'v, [u8]>,
        expires_at: Option<u64>,
    },
    Delete {
        key: usize,
    },
}

/// Checks, writes and counter deltas of the commit being built.
struct Txn<'a> {
    ns: &'a str,
    checks: Vec<Check>,
    writes: Vec<Write>,
    /// User keys this commit removes besides the plan's own.
    removed: Vec<Vec<u8>>,
    keys: i64,
    sets: u64,
    deletes: u64,
    expirations: i64,
    evictions: i64,
    key_events: KeyEvents,
    /// The changes the namespace's key events tell of (empty when off).
    changed: Vec<KeyChange>,
}

impl<'a> Txn<'a> {
    fn new(ns: &'a str, key_events: KeyEvents) -> Self {
        Self {
            ns,
            checks: Vec::new(),
            writes: Vec::new(),
            removed: Vec::new(),
            keys: 0,
            sets: 0,
            deletes: 0,
            expirations: 0,
            evictions: 0,
            key_events,
            changed: Vec::new(),
        }
    }

    /// Removes a stored entry with its index entries.
    fn remove(&mut self, key: &[u8], h: &Header, how: Removal) {
        self.writes.push(Write::Delete(keys::entry(self.ns, key)));
        self.unindex(key, h);
        self.keys -= 1;
        if self.key_events.enabled {
            self.changed.push(KeyChange::Removed {
                key: key.to_vec(),
                version: h.version,
                how,
            });
        }
    }

    /// Tells the key events of an expired entry a put replaces: its
    /// expiration is counted, so it is told as well.
    fn tell_expired(&mut self, key: &[u8], h: &Header) {
        if self.key_events.enabled {
            self.changed.push(KeyChange::Removed {
                key: key.to_vec(),
                version: h.version,
                how: Removal::Expired,
            });
        }
    }

    /// Tells the key events of a put (`put` writes it).
    fn tell_put(&mut self, key: &[u8], h: &Header, value: &[u8]) {
        if self.key_events.enabled {
            self.changed.push(KeyChange::Set {
                key: key.to_vec(),
                version: h.version,
                expires_at: h.expires_at,
                value: self.key_events.include_values.then(|| value.to_vec()),
            });
        }
    }

    fn unindex(&mut self, key: &[u8], h: &Header) {
        if h.touched != 0 {
            self.writes.push(Write::Delete(keys::indexed(
                self.ns,
                keys::RECENCY,
                h.touched,
                key,
            )));
        }
        if let Some(at) = h.expires_at {
            self.writes
                .push(Write::Delete(keys::indexed(self.ns, keys::EXPIRY, at, key)));
        }
    }

    fn put(&mut self, key: &[u8], h: &Header, value: &[u8]) {
        self.writes.push(Write::Put(
            keys::entry(self.ns, key),
            entry::encode(h, value),
        ));
        if h.touched != 0 {
            self.writes.push(Write::Put(
                keys::indexed(self.ns, keys::RECENCY, h.touched, key),
                Vec::new(),
            ));
        }
        if let Some(at) = h.expires_at {
            self.writes.push(Write::Put(
                keys::indexed(self.ns, keys::EXPIRY, at, key),
                Vec::new(),
            ));
        }
    }

    /// The commit, with the counters that must change in it: the key count
    /// (sizes are exact) and the rare expirations and evictions. Sets and
    /// deletes are tallied in the instance instead (see stats.rs).
    /// The commit, with the key count and the sweep counters; with
    /// `with_write_counts`, the sets and deletes too (see
    /// [`Store::for_one_request`]), else the caller tallies them.
    fn into_commit(mut self, with_write_counts: bool) -> (Vec<Check>, Vec<Write>) {
        let (sets, deletes) = if with_write_counts {
            (self.sets as i64, self.deletes as i64)
        } else {
            (0, 0)
        };
        for (counter, delta) in [
            (Counter::Keys, self.keys),
            (Counter::Expirations, self.expirations),
            (Counter::Evictions, self.evictions),
            (Counter::Sets, sets),
            (Counter::Deletes, deletes),
        ] {
            if delta != 0 {
                self.writes
                    .push(Write::Add(keys::counter(self.ns, counter), delta));
            }
        }
        // Watchers of the namespace's keys read again (watch.rs).
        self.writes.push(Write::Notify(keys_channel(self.ns)));
        (self.checks, self.writes)
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Reads `user_keys`, runs `plan` on their live values and commits the
    /// changes it returns atomically, retrying on conflict. Returns, per
    /// change, the new version of a put.
    pub(crate) fn mutate<'v, F>(
        &mut self,
        ns: &str,
        user_keys: &[&[u8]],
        mut plan: F,
    ) -> Result<Vec<Option<u64>>>
    where
        F: FnMut(u64, &[Option<Live<'_>>]) -> Result<Vec<Change<'v>>>,
    {
        self.mutate_under_limits(ns, user_keys, |now, _, live| plan(now, live))
    }

    /// [`Store::mutate`] for a plan that also looks at the namespace's
    /// limits, read with the keys.
    pub(crate) fn mutate_under_limits<'v, F>(
        &mut self,
        ns: &str,
        user_keys: &[&[u8]],
        mut plan: F,
    ) -> Result<Vec<Option<u64>>>
    where
        F: FnMut(u64, &Limits, &[Option<Live<'_>>]) -> Result<Vec<Change<'v>>>,
    {
        namespace::validate(ns)?;
        for k in user_keys {
            namespace::check_key_len(k, namespace::MAX_KEY_BYTES_CAP)?;
        }
        // A key named more than once (set-many, delete-many) has one state,
        // kept in the slot of its first occurrence.
        let slot: Vec<usize> = if user_keys.len() > 1 {
            let mut first = BTreeMap::new();
            user_keys
                .iter()
                .enumerate()
                .map(|(i, k)| *first.entry(*k).or_insert(i))
                .collect()
        } else {
            vec![0; user_keys.len()]
        };
        for _ in 0..MAX_ATTEMPTS {
            let now = self.clock.now_ms();
            let mut read = Vec::with_capacity(user_keys.len() + 1);
            read.push(keys::namespace_record(ns));
            read.extend(user_keys.iter().map(|k| keys::entry(ns, k)));
            let raws = self.storage.get_each(&read)?;
            let record = raws[0].as_deref().map(Record::decode).transpose()?;
            let limits = record.as_ref().map(|r| r.limits).unwrap_or_default();
            let key_events = record.as_ref().map(|r| r.key_events).unwrap_or_default();

            let stored = raws[1..]
                .iter()
                .map(|raw| raw.as_deref().map(entry::decode).transpose())
                .collect::<Result<Vec<_>>>()?;
            let live: Vec<Option<Live>> = stored
                .iter()
                .map(|s| {
                    s.filter(|(h, _)| h.is_live(now))
                        .map(|(header, value)| Live { header, value })
                })
                .collect();
            let changes = plan(now, &limits, &live)?;
            if changes.is_empty() {
                return Ok(Vec::new());
            }
            for change in &changes {
                if let Change::Put { key, value, .. } = change {
                    limits.check_key(user_keys[*key])?;
                    limits.check_value(value)?;
                }
            }

            let mut state: Vec<Option<Header>> = stored.iter().map(|s| s.map(|(h, _)| h)).collect();
            drop(live);
            // Only evict-lru namespaces keep the recency index; `touched == 0`
            // marks an entry that is not in it.
            let touched = match limits.policy {
                EvictionPolicy::EvictLru => now.max(1),
                EvictionPolicy::Reject => 0,
            };
            let mut txn = Txn::new(ns, key_events);
            let mut versions = Vec::with_capacity(changes.len());
            for change in changes {
                match change {
                    Change::Put {
                        key,
                        value,
                        expires_at,
                    } => {
                        let prev = state[slot[key]];
                        match prev {
                            Some(h) => {
                                if !h.is_live(now) {
                                    txn.expirations += 1;
                                    txn.tell_expired(user_keys[key], &h);
                                }
                                txn.unindex(user_keys[key], &h);
                            }
                            None => txn.keys += 1,
                        }
                        let header = Header {
                            version: self.next_version(prev.map(|h| h.version), now),
                            expires_at,
                            touched,
                        };
                        txn.put(user_keys[key], &header, &value);
                        txn.tell_put(user_keys[key], &header, &value);
                        txn.sets += 1;
                        state[slot[key]] = Some(header);
                        versions.push(Some(header.version));
                    }
                    Change::Delete { key } => {
                        if let Some(h) = state[slot[key]].take() {
                            let how = if h.is_live(now) {
                                txn.deletes += 1;
                                Removal::Deleted
                            } else {
                                txn.expirations += 1;
                                Removal::Expired
                            };
                            txn.remove(user_keys[key], &h, how);
                        }
                        versions.push(None);
                    }
                }
            }
            if txn.writes.is_empty() {
                return Ok(versions);
            }

            if let (Some(max), true) = (limits.max_keys, txn.keys > 0) {
                let count_key = keys::counter(ns, Counter::Keys);
                let count_raw = self.storage.get(&count_key)?;
                let after = decode_counter(count_raw.as_deref())? + txn.keys;
                if after > max as i64 {
                    self.make_room(&mut txn, &limits, user_keys, after - max as i64, now)?;
                }
                // The quota is exact: the commit fails if anyone changed the count.
                txn.checks.push(Check {
                    key: count_key,
                    expected: count_raw,
                });
            }
            if record.is_none() {
                txn.writes
                    .push(Write::Put(read[0].clone(), Record::new(now).encode()));
            }
            txn.checks.extend(
                read.into_iter()
                    .zip(raws)
                    .map(|(key, expected)| Check { key, expected }),
            );
            let (sets, deletes) = (txn.sets, txn.deletes);
            let changed = std::mem::take(&mut txn.changed);
            let (mut checks, mut writes) = txn.into_commit(self.counts_in_commits);
            self.stage_key_changes(ns, now, &changed, &mut checks, &mut writes)?;
            match self.storage.commit(checks, writes) {
                Ok(()) => {
                    if !self.counts_in_commits {
                        self.count_writes(ns, sets, deletes);
                    }
                    return Ok(versions);
                }
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(too_much_contention())
    }

    /// Frees `excess` slots for new keys: expired entries first, then, under
    /// `evict-lru`, the least recently written ones. Keys of the plan itself
    /// are never chosen, nor is a key chosen twice.
    fn make_room(
        &mut self,
        txn: &mut Txn<'_>,
        limits: &Limits,
        own: &[&[u8]],
        mut excess: i64,
        now: u64,
    ) -> Result<()> {
        let ns = txn.ns;
        let full = || {
            Error::QuotaExceeded(format!(
                "namespace {ns:?} is full: max-keys is {}",
                limits.max_keys.unwrap_or_default()
            ))
        };
        let (start, end) = keys::indexed_before(ns, keys::EXPIRY, now.saturating_add(1));
        let expired = self.index_victims(txn, &start, &end, own, excess)?;
        excess -= self.remove_victims(txn, expired, |h| !h.is_live(now))?;
        if excess <= 0 {
            return Ok(());
        }
        if limits.policy == EvictionPolicy::Reject {
            return Err(full());
        }
        let (start, end) = keys::tag_range(ns, keys::RECENCY);
        let oldest = self.index_victims(txn, &start, &end, own, excess)?;
        excess -= self.remove_victims(txn, oldest, |_| true)?;
        if excess > 0 {
            // Entries written before the namespace switched to evict-lru are
            // not in the recency index: they go next, in key order.
            let (start, end) = keys::tag_range(ns, keys::ENTRY);
            let skip = keys::entry_prefix_len(ns);
            let limit = excess as usize + own.len() + txn.removed.len() + 64;
            let unindexed: Vec<Vec<u8>> = self
                .storage
                .scan(&start, &end, limit.min(u32::MAX as usize) as u32)?
                .into_iter()
                .filter(|(_, raw)| entry::decode(raw).is_ok_and(|(h, _)| h.touched == 0))
                .map(|(k, _)| k[skip..].to_vec())
                .filter(|k| !own.contains(&k.as_slice()) && !txn.removed.contains(k))
                .take(excess as usize)
                .collect();
            excess -= self.remove_victims(txn, unindexed, |h| h.touched == 0)?;
        }
        if excess > 0 {
            return Err(full());
        }
        Ok(())
    }

    /// Up to `want` user keys named by an index range, oldest first, skipping
    /// the plan's own keys and those this commit already removes.
    fn index_victims(
        &self,
        txn: &Txn<'_>,
        start: &[u8],
        end: &[u8],
        own: &[&[u8]],
        want: i64,
    ) -> Result<Vec<Vec<u8>>> {
        let limit = (want as usize + own.len() + txn.removed.len()).min(u32::MAX as usize);
        Ok(self
            .storage
            .scan(start, end, limit as u32)?
            .into_iter()
            .filter_map(|(k, _)| keys::parse_indexed(txn.ns, &k).map(|(_, key)| key))
            .filter(|key| !own.contains(&key.as_slice()) && !txn.removed.contains(key))
            .take(want as usize)
            .collect())
    }

    /// Removes each candidate whose current entry passes `eligible`, counting
    /// it as an expiration (if expired) or an eviction. Returns how many.
    fn remove_victims(
        &mut self,
        txn: &mut Txn<'_>,
        candidates: Vec<Vec<u8>>,
        eligible: impl Fn(&Header) -> bool,
    ) -> Result<i64> {
        let now = self.clock.now_ms();
        let entry_keys: Vec<Vec<u8>> = candidates.iter().map(|k| keys::entry(txn.ns, k)).collect();
        let raws = self.storage.get_each(&entry_keys)?;
        let mut removed = 0;
        for ((key, entry_key), raw) in candidates.into_iter().zip(entry_keys).zip(raws) {
            let Some(bytes) = raw.as_deref() else {
                continue;
            };
            let (h, _) = entry::decode(bytes)?;
            if !eligible(&h) {
                continue;
            }
            let how = if h.is_live(now) {
                txn.evictions += 1;
                Removal::Evicted
            } else {
                txn.expirations += 1;
                Removal::Expired
            };
            txn.remove(&key, &h, how);
            txn.checks.push(Check {
                key: entry_key,
                expected: raw,
            });
            txn.removed.push(key);
            removed += 1;
        }
        Ok(removed)
    }

    /// Versions grow with every write of a key and, because they start from
    /// the clock, a key written again after a delete gets a version above the
    /// ones it had before (unless the clock went backwards). Versions written
    /// by this instance within one millisecond differ in the low 20 bits.
    fn next_version(&mut self, prev: Option<u64>, now: u64) -> u64 {
        self.write_seq = self.write_seq.wrapping_add(1);
        let from_clock = (now << 20) | (self.write_seq & 0xF_FFFF);
        from_clock.max(prev.map_or(1, |v| v + 1))
    }

    /// Reads a namespace record, lets `edit` change it and writes it back,
    /// creating the namespace if needed. Retries on conflict.
    pub(crate) fn update_record(
        &mut self,
        ns: &str,
        mut edit: impl FnMut(&mut Record) -> Result<()>,
    ) -> Result<()> {
        namespace::validate(ns)?;
        let key = keys::namespace_record(ns);
        for _ in 0..MAX_ATTEMPTS {
            let raw = self.storage.get(&key)?;
            let mut record = match raw.as_deref() {
                Some(bytes) => Record::decode(bytes)?,
                None => Record::new(self.clock.now_ms()),
            };
            edit(&mut record)?;
            let check = Check {
                key: key.clone(),
                expected: raw,
            };
            match self
                .storage
                .commit(vec![check], vec![Write::Put(key.clone(), record.encode())])
            {
                Ok(()) => return Ok(()),
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(too_much_contention())
    }
}

pub(crate) fn too_much_contention() -> Error {
    Error::Storage(format!(
        "gave up after {MAX_ATTEMPTS} attempts: other writers kept changing the same keys"
    ))
}
