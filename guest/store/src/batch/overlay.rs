//! The storage a batch's items run against: the real storage underneath,
//! the batch's commits staged on top.
//!
//! Each item (an HTTP request, an embedded operation) runs its ordinary
//! code against an [`Overlay`]. Reads see the writes of the items before it
//! and otherwise one view of the storage below, fetched once per key (the
//! batch prefetches what it can in one `get-many`). A commit is checked
//! against that view and staged instead of sent: the checks on keys the
//! batch has not written become checks of the batch's one commit, the
//! writes are appended to it. Who wrote what, and whose writes each item
//! saw, is kept so that a batch whose commit fails a check can drop the
//! items concerned (and those that saw their writes) and commit the rest.
//!
//! What cannot be staged faithfully (a range delete, two items checking
//! one key against different values) is refused: the batch stops there,
//! discards this overlay, and runs the items before it again on a new one.

use std::cell::RefCell;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::storage::{
    Check, Entries, GetEach, Storage, StorageError, Write, decode_counter, one_per_key,
};

/// A few items of a batch, in the order they were added, each once. Most
/// keys have one writer and most checks one owner: those need no list.
#[derive(Debug, Clone)]
pub(crate) enum Items {
    One(usize),
    Many(Vec<usize>),
}

impl Items {
    fn add(&mut self, item: usize) {
        match self {
            Items::One(only) if *only == item => {}
            Items::One(only) => *self = Items::Many(vec![*only, item]),
            Items::Many(items) if items.contains(&item) => {}
            Items::Many(items) => items.push(item),
        }
    }

    pub fn as_slice(&self) -> &[usize] {
        match self {
            Items::One(item) => std::slice::from_ref(item),
            Items::Many(items) => items,
        }
    }
}

/// What the batch wrote to a key, and the items it comes from: the last
/// writer of a put or delete, and every adder to a counter since.
#[derive(Debug, Clone)]
struct Staged {
    value: Value,
    by: Items,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// The put or delete at this index of `Staging::writes`: its bytes
    /// stay there, not copied.
    Written(usize),
    /// Bytes computed by the batch (a counter addition on a known value).
    Known(Option<Vec<u8>>),
    /// Counter additions on top of the value below, which no one has
    /// needed to read yet.
    Added(i64),
}

/// A counter's bytes after adding `delta`, as a commit's `add` computes them.
fn add(counter: Option<&[u8]>, delta: i64) -> Result<Vec<u8>, StorageError> {
    let next = decode_counter(counter)?
        .checked_add(delta)
        .ok_or_else(overflow)?;
    Ok(next.to_le_bytes().to_vec())
}

fn overflow() -> StorageError {
    StorageError::Other("counter overflow".into())
}

/// A check of the batch's commit against the storage below, and the items
/// whose commits made it (one check per key: equal checks merge).
#[derive(Debug)]
pub(crate) struct OwnedCheck {
    pub check: Check,
    pub owners: Items,
}

/// What the batch will commit, item by item.
#[derive(Debug, Default)]
pub(crate) struct Staging {
    pub checks: Vec<OwnedCheck>,
    pub writes: Vec<(Write, usize)>,
    /// Per item, the earlier items whose staged writes it read or checked.
    pub saw: Vec<Vec<usize>>,
}

impl Staging {
    /// Whether item `i` staged any write.
    pub fn wrote(&self, i: usize) -> bool {
        self.writes.iter().any(|(_, by)| *by == i)
    }

    /// The commit of the items `keep` says yes to.
    pub fn commit_of(&self, keep: impl Fn(usize) -> bool) -> (Vec<Check>, Vec<Write>) {
        let checks = self
            .checks
            .iter()
            .filter(|c| c.owners.as_slice().iter().any(|&i| keep(i)))
            .map(|c| c.check.clone())
            .collect();
        let writes = self
            .writes
            .iter()
            .filter(|(_, by)| keep(*by))
            .map(|(w, _)| w.clone())
            .collect();
        (checks, writes)
    }

    /// The bytes of a staged put or delete.
    fn written(&self, at: usize) -> Option<Vec<u8>> {
        match &self.writes[at].0 {
            Write::Put(_, value) => Some(value.clone()),
            _ => None,
        }
    }
}

/// A scan of the storage below: its range, the limit asked, the answer.
struct Scanned {
    start: Vec<u8>,
    end: Vec<u8>,
    limit: u32,
    entries: Entries,
}

/// Everything the batch knows of one key.
#[derive(Default)]
struct Slot {
    /// What the storage below answered, once asked: the batch's one view.
    below: Option<Option<Vec<u8>>>,
    /// What the batch's items wrote to it so far.
    staged: Option<Staged>,
    /// Where the batch's check of it sits in `staging.checks`.
    check: Option<usize>,
}

#[derive(Default)]
struct State {
    /// One lookup per key answers all three questions of [`Slot`].
    slots: FxHashMap<Vec<u8>, Slot>,
    /// Scans of the storage below. Few per batch (usually the one that
    /// asks whether any token exists), so a list searched in place.
    scans: Vec<Scanned>,
    staging: Staging,
    /// The item running now.
    current: usize,
    /// The current item did something the overlay cannot stage.
    refused: bool,
}

impl State {
    fn saw(&mut self, writers: &Items) {
        let current = self.current;
        let saw = &mut self.staging.saw[current];
        for &writer in writers.as_slice() {
            if writer != current && !saw.contains(&writer) {
                saw.push(writer);
            }
        }
    }

    /// Whether the batch knows nothing of `key`'s value yet: neither
    /// read from below nor written.
    fn unread(&self, key: &[u8]) -> bool {
        self.slots
            .get(key)
            .is_none_or(|s| s.staged.is_none() && s.below.is_none())
    }

    /// A staged value as the batch sees it, or `Err(sum)` for counter
    /// additions still to apply to the value below.
    fn staged_bytes(&self, value: &Value) -> Result<Option<Vec<u8>>, i64> {
        match value {
            Value::Written(at) => Ok(self.staging.written(*at)),
            Value::Known(bytes) => Ok(bytes.clone()),
            Value::Added(sum) => Err(*sum),
        }
    }
}

/// A storage that stages the commits of a batch's items over `below`.
pub(crate) struct Overlay<S> {
    below: S,
    state: RefCell<State>,
}

fn refusal(what: &str) -> StorageError {
    StorageError::Other(format!("{what} cannot run inside a batch"))
}

impl<S: Storage> Overlay<S> {
    pub fn new(below: S, items: usize) -> Self {
        let state = State {
            staging: Staging {
                saw: vec![Vec::new(); items],
                ..Staging::default()
            },
            ..State::default()
        };
        Self {
            below,
            state: RefCell::new(state),
        }
    }

    /// Reads `keys` from the storage below in one call, for the items to
    /// find later.
    pub fn prefetch(&self, keys: Vec<Vec<u8>>) -> Result<(), StorageError> {
        let wanted: Vec<bool> = {
            let state = self.state.borrow();
            let mut seen = FxHashSet::default();
            keys.iter()
                .map(|k| state.unread(k) && seen.insert(k.as_slice()))
                .collect()
        };
        let missing: Vec<Vec<u8>> = keys
            .into_iter()
            .zip(wanted)
            .filter_map(|(key, wanted)| wanted.then_some(key))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let values = self.below.get_each(&missing)?;
        let mut state = self.state.borrow_mut();
        for (key, value) in missing.into_iter().zip(values) {
            state.slots.entry(key).or_default().below = Some(value);
        }
        Ok(())
    }

    /// Starts item `i`: its reads and commits are its own from now on.
    pub fn begin(&self, i: usize) {
        let mut state = self.state.borrow_mut();
        state.current = i;
        state.refused = false;
    }

    /// Whether the current item did something that cannot be staged.
    pub fn refused(&self) -> bool {
        self.state.borrow().refused
    }

    /// What the batch commits, once every item has run.
    pub fn into_staging(self) -> Staging {
        self.state.into_inner().staging
    }

    fn refuse(&self, what: &str) -> StorageError {
        self.state.borrow_mut().refused = true;
        refusal(what)
    }

    /// The current value of `key` for the batch: staged, else the view of
    /// the storage below. A read notes whose writes the item saw.
    fn current(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let staged = {
            let mut guard = self.state.borrow_mut();
            let state = &mut *guard;
            match state.slots.get(key).and_then(|s| s.staged.as_ref()) {
                Some(staged) => {
                    let (bytes, by) = (state.staged_bytes(&staged.value), staged.by.clone());
                    state.saw(&by);
                    Some(bytes)
                }
                None => None,
            }
        };
        match staged {
            None => self.below_value(key),
            Some(Ok(bytes)) => Ok(bytes),
            Some(Err(sum)) => add(self.below_value(key)?.as_deref(), sum).map(Some),
        }
    }

    /// A scan of the storage below, made once per batch.
    fn scan_below(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        let cached = self
            .state
            .borrow()
            .scans
            .iter()
            .find(|s| s.start == start && s.end == end && s.limit == limit)
            .map(|s| s.entries.clone());
        if let Some(entries) = cached {
            return Ok(entries);
        }
        let entries = self.below.scan(start, end, limit)?;
        self.state.borrow_mut().scans.push(Scanned {
            start: start.to_vec(),
            end: end.to_vec(),
            limit,
            entries: entries.clone(),
        });
        Ok(entries)
    }

    /// The storage below's value of `key`, read once per batch.
    fn below_value(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(Slot {
            below: Some(value), ..
        }) = self.state.borrow().slots.get(key)
        {
            return Ok(value.clone());
        }
        let value = self.below.get(key)?;
        let mut state = self.state.borrow_mut();
        match state.slots.get_mut(key) {
            Some(slot) => slot.below = Some(value.clone()),
            None => {
                state.slots.insert(
                    key.to_vec(),
                    Slot {
                        below: Some(value.clone()),
                        ..Slot::default()
                    },
                );
            }
        }
        Ok(value)
    }

    /// Whether the batch has written `key`, and whether by counter
    /// additions only.
    fn staged_kind(&self, key: &[u8]) -> Option<bool> {
        let state = self.state.borrow();
        let staged = state.slots.get(key)?.staged.as_ref()?;
        Some(matches!(staged.value, Value::Added(_)))
    }
}

impl<S: Storage> Storage for Overlay<S> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.current(key)
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let missing: Vec<Vec<u8>> = {
            let state = self.state.borrow();
            keys.iter().filter(|k| state.unread(k)).cloned().collect()
        };
        if !missing.is_empty() {
            self.prefetch(missing)?;
        }
        keys.iter().map(|k| self.current(k)).collect()
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        if start >= end {
            return Ok(Vec::new());
        }
        let mut staged: Vec<Vec<u8>> = self
            .state
            .borrow()
            .slots
            .iter()
            .filter(|(k, slot)| {
                slot.staged.is_some() && start <= k.as_slice() && k.as_slice() < end
            })
            .map(|(k, _)| k.clone())
            .collect();
        staged.sort_unstable();
        // Each staged key can hide at most one entry below, so this many
        // entries below always hold the first `limit` of the merged range.
        let asked = limit.saturating_add(staged.len().min(u32::MAX as usize) as u32);
        let below = self.scan_below(start, end, asked)?;
        if staged.is_empty() {
            return Ok(below);
        }
        let mut merged: Vec<(Vec<u8>, Vec<u8>)> = below
            .into_iter()
            .filter(|(k, _)| staged.binary_search(k).is_err())
            .collect();
        for key in staged {
            if let Some(value) = self.current(&key)? {
                merged.push((key, value));
            }
        }
        merged.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        merged.truncate(limit as usize);
        Ok(merged)
    }

    /// Checks against the batch's view and stages; nothing reaches the
    /// storage below until the batch commits.
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        if writes.iter().any(|w| matches!(w, Write::DeleteRange(..))) {
            return Err(self.refuse("a range delete"));
        }
        // Checks first, then counter additions: a commit that fails either
        // stages nothing, like a real one.
        let mut below_checks = Vec::with_capacity(checks.len());
        for check in checks {
            let check = match self.staged_kind(&check.key) {
                None => check,
                Some(added) => {
                    if self.current(&check.key)? != check.expected {
                        return Err(StorageError::Conflict);
                    }
                    if !added {
                        continue;
                    }
                    // The value checked is the batch's additions on top of
                    // the value below, which must still hold at the commit.
                    Check {
                        expected: self.below_value(&check.key)?,
                        key: check.key,
                    }
                }
            };
            let state = self.state.borrow();
            if let Some(at) = state.slots.get(&check.key).and_then(|s| s.check)
                && state.staging.checks[at].check.expected != check.expected
            {
                drop(state);
                return Err(self.refuse("two checks of one key against different values"));
            }
            drop(state);
            below_checks.push(check);
        }
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let base = state.staging.writes.len();
        // Per write, the key's new value; a counter addition keeps the
        // key's earlier writers among its sources.
        let mut staged: Vec<Option<(Value, bool)>> = Vec::with_capacity(writes.len());
        for (j, write) in writes.iter().enumerate() {
            staged.push(match write {
                Write::Put(..) | Write::Delete(_) => Some((Value::Written(base + j), false)),
                Write::Add(key, delta) => {
                    let earlier = writes[..j]
                        .iter()
                        .zip(&staged)
                        .rev()
                        .find(|(w, _)| write_key(w) == Some(key.as_slice()))
                        .and_then(|(_, s)| s.as_ref().map(|(v, _)| v.clone()));
                    let earlier = match earlier {
                        Some(value) => value,
                        None => match state.slots.get(key).and_then(|s| s.staged.as_ref()) {
                            Some(previous) => previous.value.clone(),
                            None => Value::Added(0),
                        },
                    };
                    let value = match earlier {
                        Value::Added(sum) => {
                            Value::Added(sum.checked_add(*delta).ok_or_else(overflow)?)
                        }
                        Value::Written(at) if base <= at => {
                            let bytes = match &writes[at - base] {
                                Write::Put(_, value) => Some(value.as_slice()),
                                _ => None,
                            };
                            Value::Known(Some(add(bytes, *delta)?))
                        }
                        known => {
                            let bytes = state.staged_bytes(&known).unwrap_or(None);
                            Value::Known(Some(add(bytes.as_deref(), *delta)?))
                        }
                    };
                    Some((value, true))
                }
                Write::Notify(_) | Write::DeleteRange(..) => None,
            });
        }
        let current = state.current;
        for check in below_checks {
            let slot = state.slots.entry(check.key.clone()).or_default();
            match slot.check {
                Some(at) => state.staging.checks[at].owners.add(current),
                None => {
                    slot.check = Some(state.staging.checks.len());
                    state.staging.checks.push(OwnedCheck {
                        check,
                        owners: Items::One(current),
                    });
                }
            }
        }
        for (write, value) in writes.iter().zip(staged) {
            let (Some((value, added)), Some(key)) = (value, write_key(write)) else {
                continue;
            };
            let slot = match state.slots.get_mut(key) {
                Some(slot) => slot,
                None => state.slots.entry(key.to_vec()).or_default(),
            };
            let by = match (&mut slot.staged, added) {
                (Some(previous), true) => {
                    let mut by = previous.by.clone();
                    by.add(current);
                    by
                }
                _ => Items::One(current),
            };
            slot.staged = Some(Staged { value, by });
        }
        state
            .staging
            .writes
            .extend(writes.into_iter().map(|w| (w, current)));
        Ok(())
    }
}

/// The key a put, delete or counter addition writes.
fn write_key(write: &Write) -> Option<&[u8]> {
    match write {
        Write::Put(key, _) | Write::Delete(key) | Write::Add(key, _) => Some(key),
        Write::DeleteRange(..) | Write::Notify(_) => None,
    }
}

/// Which checks of `staging` fail against `values` (the storage below,
/// read again after the commit failed), as the items that made them.
pub(crate) fn failed_owners(staging: &Staging, values: Vec<Option<Vec<u8>>>) -> Vec<usize> {
    let mut failed = Vec::new();
    for (owned, value) in staging.checks.iter().zip(values) {
        if owned.check.expected != value {
            failed.extend(owned.owners.as_slice().iter().copied());
        }
    }
    failed.sort_unstable();
    failed.dedup();
    failed
}

/// Re-reads the keys the staged checks name, in one call.
pub(crate) fn recheck<S: Storage>(
    below: &S,
    staging: &Staging,
) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
    let keys: Vec<Vec<u8>> = staging.checks.iter().map(|c| c.check.key.clone()).collect();
    one_per_key(keys.len(), below.get_many(&keys)?)
}
