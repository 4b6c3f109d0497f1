//! Key-value operations. Reads go straight to storage and count hits and
//! misses in the instance; every write goes through [`Store::mutate`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::entry;
use crate::error::{Error, Result};
use crate::keys;
use crate::namespace::{self, MAX_KEY_BYTES_CAP};
use crate::storage::{GetEach, Storage};
use crate::write::{Change, Live};
use crate::{Clock, Store};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetOptions {
    pub ttl_ms: Option<u64>,
    pub only_if_absent: bool,
    pub only_if_version: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: Vec<u8>,
    pub version: u64,
    pub expires_at: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOptions {
    pub prefix: Vec<u8>,
    pub cursor: Option<Vec<u8>>,
    pub limit: u32,
}

impl Default for ListOptions {
    fn default() -> Self {
        Self {
            prefix: Vec::new(),
            cursor: None,
            limit: 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub key: Vec<u8>,
    pub version: u64,
    pub expires_at: Option<u64>,
    pub value_len: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListPage {
    pub keys: Vec<KeyInfo>,
    pub next_cursor: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Absent(Vec<u8>),
    Present(Vec<u8>),
    VersionIs(Vec<u8>, u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Set {
        key: Vec<u8>,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    },
    Delete(Vec<u8>),
}

impl Condition {
    fn key(&self) -> &[u8] {
        match self {
            Condition::Absent(k) | Condition::Present(k) | Condition::VersionIs(k, _) => k,
        }
    }
}

impl Op {
    fn key(&self) -> &[u8] {
        match self {
            Op::Set { key, .. } | Op::Delete(key) => key,
        }
    }
}

pub const MAX_LIST_LIMIT: u32 = 1000;
/// A list call examines at most this many entries per key it returns, so
/// a page over many expired keys ends early (with a cursor) instead of
/// scanning without bound.
const LIST_SCAN_FACTOR: usize = 8;

fn expiry(now: u64, ttl_ms: Option<u64>) -> Result<Option<u64>> {
    match ttl_ms {
        None => Ok(None),
        Some(0) => Err(Error::InvalidArgument("ttl must be at least 1 ms".into())),
        Some(ttl) => now
            .checked_add(ttl)
            .map(Some)
            .ok_or_else(|| Error::InvalidArgument("ttl is too large".into())),
    }
}

fn check_ttl(ttl_ms: Option<u64>) -> Result<()> {
    expiry(0, ttl_ms).map(|_| ())
}

fn to_entry(live: &Live<'_>) -> Entry {
    Entry {
        value: live.value.to_vec(),
        version: live.header.version,
        expires_at: live.header.expires_at,
    }
}

fn parse_integer(bytes: &[u8]) -> Result<i64> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| Error::NotAnInteger("the value is not a decimal 64-bit integer".into()))
}

impl<S: Storage, C: Clock> Store<S, C> {
    pub fn set(&mut self, ns: &str, key: &[u8], value: &[u8], options: &SetOptions) -> Result<u64> {
        check_ttl(options.ttl_ms)?;
        let versions = self.mutate(ns, &[key], |now, live| {
            match (&live[0], options.only_if_absent, options.only_if_version) {
                (Some(_), true, _) => {
                    return Err(Error::ConditionFailed("the key already exists".into()));
                }
                (Some(l), _, Some(v)) if l.header.version != v => {
                    return Err(Error::ConditionFailed(format!(
                        "the key is at version {}, not {v}",
                        l.header.version
                    )));
                }
                (None, _, Some(_)) => {
                    return Err(Error::ConditionFailed("the key does not exist".into()));
                }
                _ => {}
            }
            Ok(vec![Change::Put {
                key: 0,
                value: Cow::Borrowed(value),
                expires_at: expiry(now, options.ttl_ms)?,
            }])
        })?;
        Ok(versions[0].expect("a put has a version"))
    }

    pub fn get(&mut self, ns: &str, key: &[u8]) -> Result<Option<Entry>> {
        namespace::validate(ns)?;
        namespace::check_key_len(key, MAX_KEY_BYTES_CAP)?;
        keys::entry_into(&mut self.read_key, ns, key);
        let raw = self.storage.get(&self.read_key)?;
        let found = match raw {
            None => None,
            Some(raw) => {
                let (header, value_len) = entry::decode(&raw).map(|(h, v)| (h, v.len()))?;
                // Only entries with a TTL need the time: plain GETs skip the clock call.
                if header.expires_at.is_some() && !header.is_live(self.clock.now_ms()) {
                    None
                } else {
                    let mut raw = raw;
                    let value_start = raw.len() - value_len;
                    raw.drain(..value_start);
                    Some(Entry {
                        value: raw,
                        version: header.version,
                        expires_at: header.expires_at,
                    })
                }
            }
        };
        self.count_reads(ns, found.is_some() as u64, found.is_none() as u64);
        Ok(found)
    }

    pub fn exists(&mut self, ns: &str, key: &[u8]) -> Result<bool> {
        Ok(self.get(ns, key)?.is_some())
    }

    pub fn get_many(&mut self, ns: &str, user_keys: &[Vec<u8>]) -> Result<Vec<Option<Entry>>> {
        let out = self.read_live(ns, user_keys)?;
        let hits = out.iter().filter(|e| e.is_some()).count() as u64;
        self.count_reads(ns, hits, out.len() as u64 - hits);
        Ok(out)
    }

    /// Each key's live entry, in one storage read, without counting hits
    /// or misses (a watch's reads are not the application's).
    pub(crate) fn read_live(
        &mut self,
        ns: &str,
        user_keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Entry>>> {
        namespace::validate(ns)?;
        for k in user_keys {
            namespace::check_key_len(k, MAX_KEY_BYTES_CAP)?;
        }
        let entry_keys: Vec<Vec<u8>> = user_keys.iter().map(|k| keys::entry(ns, k)).collect();
        let raws = self.storage.get_each(&entry_keys)?;
        let mut now = None;
        let mut out = Vec::with_capacity(raws.len());
        for raw in raws {
            let found = match raw {
                None => None,
                Some(raw) => {
                    let (header, value) = entry::decode(&raw)?;
                    let live = header.expires_at.is_none()
                        || header.is_live(*now.get_or_insert_with(|| self.clock.now_ms()));
                    live.then(|| to_entry(&Live { header, value }))
                }
            };
            out.push(found);
        }
        Ok(out)
    }

    pub fn delete(&mut self, ns: &str, key: &[u8]) -> Result<bool> {
        let mut existed = false;
        self.mutate(ns, &[key], |_, live| {
            existed = live[0].is_some();
            Ok(vec![Change::Delete { key: 0 }])
        })?;
        Ok(existed)
    }

    pub fn set_many(
        &mut self,
        ns: &str,
        items: &[(Vec<u8>, Vec<u8>)],
        ttl_ms: Option<u64>,
    ) -> Result<Vec<u64>> {
        check_ttl(ttl_ms)?;
        let user_keys: Vec<&[u8]> = items.iter().map(|(k, _)| k.as_slice()).collect();
        let versions = self.mutate(ns, &user_keys, |now, _| {
            let expires_at = expiry(now, ttl_ms)?;
            Ok(items
                .iter()
                .enumerate()
                .map(|(i, (_, v))| Change::Put {
                    key: i,
                    value: Cow::Borrowed(v),
                    expires_at,
                })
                .collect())
        })?;
        Ok(versions.into_iter().flatten().collect())
    }

    /// Unconditional SETs of one namespace, `(key, value, ttl)`, as one
    /// write: a batch's run of consecutive SETs, which then reads and
    /// commits as `set_many` does instead of once per SET. `Ok(None)` when
    /// the namespace has a key quota: which keys a SET evicts depends on
    /// the SETs before it, so those run one by one.
    pub(crate) fn set_run(
        &mut self,
        ns: &str,
        sets: &[(&[u8], &[u8], Option<u64>)],
    ) -> Result<Option<Vec<u64>>> {
        for (.., ttl_ms) in sets {
            check_ttl(*ttl_ms)?;
        }
        let user_keys: Vec<&[u8]> = sets.iter().map(|(key, ..)| *key).collect();
        let mut quota = false;
        let versions = self.mutate_under_limits(ns, &user_keys, |now, limits, _| {
            if limits.max_keys.is_some() {
                // No changes: nothing is written.
                quota = true;
                return Ok(Vec::new());
            }
            sets.iter()
                .enumerate()
                .map(|(i, (_, value, ttl_ms))| {
                    Ok(Change::Put {
                        key: i,
                        value: Cow::Borrowed(*value),
                        expires_at: expiry(now, *ttl_ms)?,
                    })
                })
                .collect()
        })?;
        if quota {
            return Ok(None);
        }
        Ok(Some(versions.into_iter().flatten().collect()))
    }

    pub fn delete_many(&mut self, ns: &str, user_keys: &[Vec<u8>]) -> Result<u32> {
        let refs: Vec<&[u8]> = user_keys.iter().map(Vec::as_slice).collect();
        let mut deleted = 0;
        self.mutate(ns, &refs, |_, live| {
            // Count each distinct key once even if it is named twice.
            let mut seen = std::collections::BTreeSet::new();
            deleted = (0..refs.len())
                .filter(|&i| live[i].is_some() && seen.insert(refs[i]))
                .count() as u32;
            Ok((0..refs.len()).map(|key| Change::Delete { key }).collect())
        })?;
        Ok(deleted)
    }

    pub fn increment(&mut self, ns: &str, key: &[u8], delta: i64) -> Result<i64> {
        let mut result = 0;
        self.mutate(ns, &[key], |_, live| {
            let current = match &live[0] {
                Some(l) => parse_integer(l.value)?,
                None => 0,
            };
            result = current.checked_add(delta).ok_or_else(|| {
                Error::NotAnInteger("the result overflows a 64-bit integer".into())
            })?;
            Ok(vec![Change::Put {
                key: 0,
                value: Cow::Owned(result.to_string().into_bytes()),
                expires_at: live[0].and_then(|l| l.header.expires_at),
            }])
        })?;
        Ok(result)
    }

    /// All-or-nothing: if every condition holds, applies every op in order.
    pub fn transaction(
        &mut self,
        ns: &str,
        conditions: &[Condition],
        ops: &[Op],
    ) -> Result<Vec<Option<u64>>> {
        let mut index: BTreeMap<&[u8], usize> = BTreeMap::new();
        let mut user_keys: Vec<&[u8]> = Vec::new();
        let named = conditions
            .iter()
            .map(Condition::key)
            .chain(ops.iter().map(Op::key));
        for k in named {
            index.entry(k).or_insert_with(|| {
                user_keys.push(k);
                user_keys.len() - 1
            });
        }
        for op in ops {
            if let Op::Set { ttl_ms, .. } = op {
                check_ttl(*ttl_ms)?;
            }
        }
        self.mutate(ns, &user_keys, |now, live| {
            for c in conditions {
                let (k, ok, why) = match c {
                    Condition::Absent(k) => (k, live[index[k.as_slice()]].is_none(), "exists"),
                    Condition::Present(k) => {
                        (k, live[index[k.as_slice()]].is_some(), "does not exist")
                    }
                    Condition::VersionIs(k, v) => (
                        k,
                        live[index[k.as_slice()]].is_some_and(|l| l.header.version == *v),
                        "is not at the expected version",
                    ),
                };
                if !ok {
                    return Err(Error::ConditionFailed(format!(
                        "key {:?} {why}",
                        String::from_utf8_lossy(k)
                    )));
                }
            }
            ops.iter()
                .map(|op| match op {
                    Op::Set { key, value, ttl_ms } => Ok(Change::Put {
                        key: index[key.as_slice()],
                        value: Cow::Borrowed(value),
                        expires_at: expiry(now, *ttl_ms)?,
                    }),
                    Op::Delete(key) => Ok(Change::Delete {
                        key: index[key.as_slice()],
                    }),
                })
                .collect()
        })
    }

    /// Live keys in ascending byte order, a page at a time.
    pub fn list(&mut self, ns: &str, options: &ListOptions) -> Result<ListPage> {
        namespace::validate(ns)?;
        if !(1..=MAX_LIST_LIMIT).contains(&options.limit) {
            return Err(Error::InvalidArgument(format!(
                "limit must be 1..={MAX_LIST_LIMIT}"
            )));
        }
        if options.prefix.len() > MAX_KEY_BYTES_CAP as usize {
            return Err(Error::InvalidKey(
                "prefix is longer than any key can be".into(),
            ));
        }
        let prefix_start = keys::entry(ns, &options.prefix);
        let end = keys::prefix_end(&prefix_start).expect("entry keys never end in 0xFF only");
        let mut start = match &options.cursor {
            Some(cursor) => {
                let mut after = keys::entry(ns, cursor);
                after.push(0);
                after.max(prefix_start)
            }
            None => prefix_start,
        };
        let limit = options.limit as usize;
        let budget = limit * LIST_SCAN_FACTOR + 1000;
        let now = self.clock.now_ms();
        let skip = keys::entry_prefix_len(ns);
        let mut page = ListPage::default();
        let mut scanned = 0;
        loop {
            let want = (limit + 1 - page.keys.len()) as u32;
            let batch = self.storage.scan(&start, &end, want.max(64))?;
            let exhausted = batch.len() < want.max(64) as usize;
            for (k, raw) in batch {
                scanned += 1;
                let (h, value) = entry::decode(&raw)?;
                if h.is_live(now) {
                    if page.keys.len() == limit {
                        page.next_cursor = page.keys.last().map(|k| k.key.clone());
                        return Ok(page);
                    }
                    page.keys.push(KeyInfo {
                        key: k[skip..].to_vec(),
                        version: h.version,
                        expires_at: h.expires_at,
                        value_len: value.len() as u32,
                    });
                }
                start = k;
                start.push(0);
            }
            if exhausted {
                return Ok(page);
            }
            if scanned >= budget {
                page.next_cursor = Some(start[skip..start.len() - 1].to_vec());
                return Ok(page);
            }
        }
    }
}
