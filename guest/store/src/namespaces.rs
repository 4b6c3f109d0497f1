//! Operations on whole namespaces: listing, size, clear, drop, metadata,
//! limits and statistics.

use crate::error::{Error, Result};
use crate::events::key_changes::KeyChange;
use crate::keys::{self, Counter};
use crate::namespace::{self, KeyEvents, Limits, Record};
use crate::storage::{Check, GetEach, Storage, StorageError, Write, decode_counter};
use crate::watch::keys_channel;
use crate::write::too_much_contention;
use crate::{Clock, MAX_ATTEMPTS, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceInfo {
    pub name: String,
    pub created_at: u64,
    pub metadata: String,
    pub key_count: u64,
    pub limits: Limits,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub hits: u64,
    pub misses: u64,
    pub sets: u64,
    pub deletes: u64,
    pub expirations: u64,
    pub evictions: u64,
    pub total_keys: u64,
}

impl std::ops::AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.hits += o.hits;
        self.misses += o.misses;
        self.sets += o.sets;
        self.deletes += o.deletes;
        self.expirations += o.expirations;
        self.evictions += o.evictions;
        self.total_keys += o.total_keys;
    }
}

const SCAN_PAGE: u32 = 1000;

impl<S: Storage, C: Clock> Store<S, C> {
    /// Every namespace, sorted by name.
    pub fn list_namespaces(&mut self) -> Result<Vec<NamespaceInfo>> {
        let (mut start, end) = keys::registry_range();
        let mut out = Vec::new();
        loop {
            let batch = self.storage.scan(&start, &end, SCAN_PAGE)?;
            let done = batch.len() < SCAN_PAGE as usize;
            for (key, raw) in batch {
                if let Some(ns) = keys::namespace_of_record(&key) {
                    let ns = ns.to_string();
                    out.push(self.info_from(ns, &raw)?);
                }
                start = key;
                start.push(0);
            }
            if done {
                return Ok(out);
            }
        }
    }

    pub fn namespace_info(&mut self, ns: &str) -> Result<Option<NamespaceInfo>> {
        namespace::validate(ns)?;
        match self.storage.get(&keys::namespace_record(ns))? {
            Some(raw) => Ok(Some(self.info_from(ns.to_string(), &raw)?)),
            None => Ok(None),
        }
    }

    fn info_from(&mut self, name: String, raw: &[u8]) -> Result<NamespaceInfo> {
        let record = Record::decode(raw)?;
        let key_count = self.size(&name)?;
        Ok(NamespaceInfo {
            name,
            created_at: record.created_at,
            metadata: record.metadata,
            key_count,
            limits: record.limits,
        })
    }

    /// Live keys: the stored count less the expired entries not yet swept,
    /// which the expiry index finds without touching live entries.
    pub fn size(&mut self, ns: &str) -> Result<u64> {
        namespace::validate(ns)?;
        let stored = decode_counter(
            self.storage
                .get(&keys::counter(ns, Counter::Keys))?
                .as_deref(),
        )?;
        let expired = self.count_expired(ns, self.clock.now_ms())?;
        Ok((stored - expired as i64).max(0) as u64)
    }

    fn count_expired(&self, ns: &str, now: u64) -> Result<u64> {
        let (mut start, end) = keys::indexed_before(ns, keys::EXPIRY, now.saturating_add(1));
        let mut n = 0;
        loop {
            let batch = self.storage.scan(&start, &end, SCAN_PAGE)?;
            n += batch.len() as u64;
            match batch.last() {
                Some((last, _)) if batch.len() == SCAN_PAGE as usize => {
                    start = last.clone();
                    start.push(0);
                }
                _ => return Ok(n),
            }
        }
    }

    /// Deletes every key of the namespace with three range deletes; returns
    /// how many live keys there were.
    pub fn clear(&mut self, ns: &str) -> Result<u64> {
        namespace::validate(ns)?;
        let record_key = keys::namespace_record(ns);
        let count_key = keys::counter(ns, Counter::Keys);
        for _ in 0..MAX_ATTEMPTS {
            let [record, count] = self
                .storage
                .get_array([record_key.clone(), count_key.clone()])?;
            let key_events = match record.as_deref() {
                Some(bytes) => Record::decode(bytes)?.key_events,
                None => return Ok(0),
            };
            let now = self.clock.now_ms();
            let stored = decode_counter(count.as_deref())?;
            let expired = self.count_expired(ns, now)? as i64;
            let live = (stored - expired).max(0);
            let mut writes: Vec<Write> = [keys::ENTRY, keys::RECENCY, keys::EXPIRY]
                .into_iter()
                .map(|tag| {
                    let (s, e) = keys::tag_range(ns, tag);
                    Write::DeleteRange(s, e)
                })
                .collect();
            writes.push(Write::Add(count_key.clone(), -stored));
            writes.push(Write::Add(keys::counter(ns, Counter::Deletes), live));
            writes.push(Write::Add(
                keys::counter(ns, Counter::Expirations),
                stored - live,
            ));
            let mut checks = vec![
                Check {
                    key: record_key.clone(),
                    expected: record,
                },
                Check {
                    key: count_key.clone(),
                    expected: count,
                },
            ];
            writes.push(Write::Notify(keys_channel(ns)));
            if key_events.enabled {
                let cleared = [KeyChange::Cleared {
                    keys_deleted: live as u64,
                }];
                self.stage_key_changes(ns, now, &cleared, &mut checks, &mut writes)?;
            }
            match self.storage.commit(checks, writes) {
                Ok(()) => return Ok(live as u64),
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(too_much_contention())
    }

    /// Deletes the namespace and everything in it; true if it existed.
    pub fn drop_namespace(&mut self, ns: &str) -> Result<bool> {
        namespace::validate(ns)?;
        let record_key = keys::namespace_record(ns);
        let (start, end) = keys::namespace_range(ns);
        for _ in 0..MAX_ATTEMPTS {
            let Some(record) = self.storage.get(&record_key)? else {
                return Ok(false);
            };
            let checks = vec![Check {
                key: record_key.clone(),
                expected: Some(record),
            }];
            let writes = vec![
                Write::DeleteRange(start.clone(), end.clone()),
                Write::Delete(record_key.clone()),
                Write::Notify(keys_channel(ns)),
            ];
            match self.storage.commit(checks, writes) {
                Ok(()) => {
                    self.forget_pending(ns);
                    return Ok(true);
                }
                // The record changed in between (metadata, limits): read it again.
                Err(StorageError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(too_much_contention())
    }

    pub fn get_metadata(&mut self, ns: &str) -> Result<String> {
        namespace::validate(ns)?;
        match self.storage.get(&keys::namespace_record(ns))? {
            Some(raw) => Ok(Record::decode(&raw)?.metadata),
            None => Err(Error::NotFound(format!("namespace {ns:?} does not exist"))),
        }
    }

    pub fn set_metadata(&mut self, ns: &str, json: &str) -> Result<()> {
        let metadata = namespace::normalize_metadata(json)?;
        self.update_record(ns, |r| {
            r.metadata.clone_from(&metadata);
            Ok(())
        })
    }

    /// The namespace's limits, or the defaults for a namespace not yet created.
    pub fn get_limits(&mut self, ns: &str) -> Result<Limits> {
        namespace::validate(ns)?;
        match self.storage.get(&keys::namespace_record(ns))? {
            Some(raw) => Ok(Record::decode(&raw)?.limits),
            None => Ok(Limits::default()),
        }
    }

    pub fn set_limits(&mut self, ns: &str, limits: Limits) -> Result<()> {
        limits.validate()?;
        self.update_record(ns, |r| {
            r.limits = limits;
            Ok(())
        })
    }

    /// Whether the namespace's key changes are events, or the default (off)
    /// for a namespace not yet created.
    pub fn key_events(&mut self, ns: &str) -> Result<KeyEvents> {
        namespace::validate(ns)?;
        match self.storage.get(&keys::namespace_record(ns))? {
            Some(raw) => Ok(Record::decode(&raw)?.key_events),
            None => Ok(KeyEvents::default()),
        }
    }

    /// Turns the namespace's key-change events on or off (creating the
    /// namespace). Writes committed after this see the new setting; none
    /// before it is told again.
    pub fn set_key_events(&mut self, ns: &str, key_events: KeyEvents) -> Result<()> {
        self.update_record(ns, |r| {
            r.key_events = key_events;
            Ok(())
        })
    }

    /// Statistics of one namespace, including this instance's unflushed reads.
    pub fn stats(&mut self, ns: &str) -> Result<Stats> {
        namespace::validate(ns)?;
        self.flush()?;
        let counters = [
            Counter::Hits,
            Counter::Misses,
            Counter::Sets,
            Counter::Deletes,
            Counter::Expirations,
            Counter::Evictions,
        ];
        let keys: Vec<Vec<u8>> = counters.iter().map(|c| keys::counter(ns, *c)).collect();
        let raws = self.storage.get_each(&keys)?;
        let mut v = [0u64; 6];
        for (slot, raw) in v.iter_mut().zip(raws) {
            *slot = decode_counter(raw.as_deref())?.max(0) as u64;
        }
        Ok(Stats {
            hits: v[0],
            misses: v[1],
            sets: v[2],
            deletes: v[3],
            expirations: v[4],
            evictions: v[5],
            total_keys: self.size(ns)?,
        })
    }

    /// The sum of every namespace's statistics.
    pub fn global_stats(&mut self) -> Result<Stats> {
        let mut total = Stats::default();
        for info in self.list_namespaces()? {
            total += self.stats(&info.name)?;
        }
        Ok(total)
    }
}
