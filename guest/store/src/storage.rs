//! The storage contract: an ordered, transactional byte-key store.
//!
//! This is the Rust face of the WIT `storage` interface. The store logic is
//! written against the [`Storage`] trait; the component implements it over the
//! WIT import, and native users (tests, the benchmark, the wasmtime host's
//! backends) implement it directly. [`apply_commit`] is the reference
//! semantics of a commit, shared by the in-memory implementations.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::RwLock;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// A check did not hold; nothing was written.
    #[error("conflict")]
    Conflict,
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Other(String),
    /// A commit was sent and its answer lost: it may have been applied.
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
}

/// Commit only if `key` currently holds `expected` (`None` = absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub key: Vec<u8>,
    pub expected: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    /// Deletes every key in `[start, end)`.
    DeleteRange(Vec<u8>, Vec<u8>),
    /// Adds to a little-endian i64 counter (absent = 0).
    Add(Vec<u8>, i64),
    /// Writes no key: once the commit is durable, receivers waiting on this
    /// namespace's queues are woken (PostgreSQL sends it as a NOTIFY inside
    /// the transaction, so other hosts hear of it exactly when it commits).
    Notify(String),
}

pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

pub trait Storage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// The values of `keys`: exactly one per key, in the order of the keys
    /// (`None` for an absent key, and a key asked twice answered twice).
    /// The store pairs values with keys by position, so it reports any other
    /// answer as a storage error ([`one_per_key`]) rather than trust it.
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError>;
    /// Entries with `start <= key < end`, ascending, at most `limit`.
    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError>;
    /// All-or-nothing, durable when it returns `Ok`.
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError>;
}

impl<S: Storage + ?Sized> Storage for &S {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).get(key)
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        (**self).get_many(keys)
    }
    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        (**self).scan(start, end, limit)
    }
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        (**self).commit(checks, writes)
    }
}

impl<S: Storage + ?Sized> Storage for std::sync::Arc<S> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).get(key)
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        (**self).get_many(keys)
    }
    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        (**self).scan(start, end, limit)
    }
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        (**self).commit(checks, writes)
    }
}

/// A `get_many` answer held to the contract: one value per key asked.
/// Another count would pair values with the wrong keys, so it is an error.
/// The store applies it to every multi-key read (`GetEach`); public for
/// a storage that relays another's answer and wants to refuse it early.
pub fn one_per_key(
    asked: usize,
    values: Vec<Option<Vec<u8>>>,
) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
    if values.len() == asked {
        Ok(values)
    } else {
        Err(wrong_count(asked, values.len()))
    }
}

fn wrong_count(asked: usize, answered: usize) -> StorageError {
    StorageError::Other(format!(
        "get-many of {asked} keys answered {answered} values; the contract is one per key, in order"
    ))
}

/// The store's reads of several keys: `get_many` checked by [`one_per_key`],
/// so code that pairs the values with their keys can trust the pairing.
pub(crate) trait GetEach: Storage {
    fn get_each(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        one_per_key(keys.len(), self.get_many(keys)?)
    }

    /// A fixed set of keys, answered as an array to destructure.
    fn get_array<const N: usize>(
        &self,
        keys: [Vec<u8>; N],
    ) -> Result<[Option<Vec<u8>>; N], StorageError> {
        <[_; N]>::try_from(self.get_many(&keys)?).map_err(|values| wrong_count(N, values.len()))
    }
}

impl<S: Storage + ?Sized> GetEach for S {}

/// Decodes a counter value written by [`Write::Add`].
pub fn decode_counter(bytes: Option<&[u8]>) -> Result<i64, StorageError> {
    match bytes {
        None => Ok(0),
        Some(b) => b
            .try_into()
            .map(i64::from_le_bytes)
            .map_err(|_| StorageError::Other(format!("counter of {} bytes, not 8", b.len()))),
    }
}

/// The minimal ordered map a commit needs; lets [`apply_commit`] serve both a
/// `BTreeMap` and a database transaction. The provided methods read through
/// `current`; implementations override them to avoid copying values.
pub trait CommitTarget {
    fn current(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StorageError>;
    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError>;
    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), StorageError>;

    /// Whether `key` currently holds `expected`.
    fn holds(&mut self, key: &[u8], expected: Option<&[u8]>) -> Result<bool, StorageError> {
        Ok(self.current(key)?.as_deref() == expected)
    }

    fn counter(&mut self, key: &[u8]) -> Result<i64, StorageError> {
        decode_counter(self.current(key)?.as_deref())
    }

    /// A [`Write::Notify`]: nothing to do for a target no other process
    /// listens to (the host wakes its own waiters after the commit).
    fn notify(&mut self, _namespace: &str) -> Result<(), StorageError> {
        Ok(())
    }
}

/// Checks every check, then applies every write, in order; on `Conflict`
/// nothing has been written.
pub fn apply_commit<T: CommitTarget + ?Sized>(
    target: &mut T,
    checks: &[Check],
    writes: Vec<Write>,
) -> Result<(), StorageError> {
    validate_commit(target, checks, &writes)?;
    write_commit(target, writes)
}

/// The read-only half of a commit: every check holds and every counter
/// addition fits. A backend that applies several commits in one transaction
/// runs this first, so a commit that fails here has written nothing.
///
/// An addition sees the writes before it in the same commit (a put of a
/// value that is no counter, a delete, a range delete), as
/// [`write_commit`] will, so that nothing can fail halfway through writing.
pub fn validate_commit<T: CommitTarget + ?Sized>(
    target: &mut T,
    checks: &[Check],
    writes: &[Write],
) -> Result<(), StorageError> {
    for check in checks {
        if !target.holds(&check.key, check.expected.as_deref())? {
            return Err(StorageError::Conflict);
        }
    }
    if !writes.iter().any(|w| matches!(w, Write::Add(..))) {
        return Ok(());
    }
    /// A key's value after the writes so far, without copying it.
    enum Staged<'w> {
        Bytes(&'w [u8]),
        Counter(i64),
        Absent,
    }
    let mut staged: BTreeMap<&[u8], Staged<'_>> = BTreeMap::new();
    let mut ranges: Vec<(&[u8], &[u8])> = Vec::new();
    for write in writes {
        match write {
            Write::Put(key, value) => {
                staged.insert(key, Staged::Bytes(value));
            }
            Write::Delete(key) => {
                staged.insert(key, Staged::Absent);
            }
            Write::DeleteRange(start, end) => {
                if start < end {
                    for (_, value) in staged.range_mut::<[u8], _>((
                        Bound::Included(&start[..]),
                        Bound::Excluded(&end[..]),
                    )) {
                        *value = Staged::Absent;
                    }
                    ranges.push((start, end));
                }
            }
            Write::Add(key, delta) => {
                let current = match staged.get(key.as_slice()) {
                    Some(Staged::Bytes(bytes)) => decode_counter(Some(bytes))?,
                    Some(Staged::Counter(n)) => *n,
                    Some(Staged::Absent) => 0,
                    None if ranges
                        .iter()
                        .any(|(start, end)| *start <= key.as_slice() && key.as_slice() < *end) =>
                    {
                        0
                    }
                    None => target.counter(key)?,
                };
                let next = current
                    .checked_add(*delta)
                    .ok_or_else(|| StorageError::Other("counter overflow".into()))?;
                staged.insert(key, Staged::Counter(next));
            }
            Write::Notify(_) => {}
        }
    }
    Ok(())
}

/// The writing half of a commit, after [`validate_commit`].
pub fn write_commit<T: CommitTarget + ?Sized>(
    target: &mut T,
    writes: Vec<Write>,
) -> Result<(), StorageError> {
    for write in writes {
        match write {
            Write::Put(k, v) => target.put(k, v)?,
            Write::Delete(k) => target.delete(&k)?,
            Write::DeleteRange(start, end) => target.delete_range(&start, &end)?,
            Write::Add(k, delta) => {
                let next = target
                    .counter(&k)?
                    .checked_add(delta)
                    .ok_or_else(|| StorageError::Other("counter overflow".into()))?;
                target.put(k, next.to_le_bytes().to_vec())?;
            }
            Write::Notify(namespace) => target.notify(&namespace)?,
        }
    }
    Ok(())
}

impl CommitTarget for BTreeMap<Vec<u8>, Vec<u8>> {
    fn current(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.get(key).cloned())
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StorageError> {
        self.insert(key, value);
        Ok(())
    }
    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.remove(key);
        Ok(())
    }
    fn holds(&mut self, key: &[u8], expected: Option<&[u8]>) -> Result<bool, StorageError> {
        Ok(self.get(key).map(Vec::as_slice) == expected)
    }
    fn counter(&mut self, key: &[u8]) -> Result<i64, StorageError> {
        decode_counter(self.get(key).map(Vec::as_slice))
    }
    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        if start < end {
            let doomed: Vec<Vec<u8>> = self
                .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
                .map(|(k, _)| k.clone())
                .collect();
            for k in doomed {
                self.remove(&k);
            }
        }
        Ok(())
    }
}

/// An in-memory [`Storage`]: a sorted map behind a lock. Used by the logic's
/// own tests, the native side of the benchmark, and the host's `memory` backend.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every stored entry, for tests that compare whole states.
    pub fn snapshot(&self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        self.read().clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // A poisoned lock only means another thread panicked mid-read or after
        // a whole commit: `apply_commit` never leaves a half-applied state
        // behind except on a panic inside BTreeMap itself.
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl Storage for MemoryStorage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.read().get(key).cloned())
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let map = self.read();
        Ok(keys.iter().map(|k| map.get(k).cloned()).collect())
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        if start >= end {
            return Ok(Vec::new());
        }
        let map = self.read();
        Ok(map
            .range::<[u8], _>((Bound::Included(start), Bound::Excluded(end)))
            .take(limit as usize)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        apply_commit(&mut *map, &checks, writes)
    }
}
