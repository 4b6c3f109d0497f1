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
use std::collections::BTreeMap;
use std::ops::Bound;

use crate::storage::{
    Check, Entries, GetEach, Storage, StorageError, Write, decode_counter, one_per_key,
};

/// What the batch wrote to a key, and the items it comes from: the last
/// writer of a put or delete, and every adder to a counter since.
#[derive(Debug, Clone)]
struct Staged {
    value: Value,
    by: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// A put (`Some`) or a delete (`None`).
    Known(Option<Vec<u8>>),
    /// Counter additions on top of the value below, which no one has
    /// needed to read yet.
    Added(i64),
}

impl Value {
    fn plus(self, delta: i64) -> Result<Value, StorageError> {
        Ok(match self {
            Value::Known(bytes) => Value::Known(Some(add(bytes.as_deref(), delta)?)),
            Value::Added(sum) => Value::Added(sum.checked_add(delta).ok_or_else(overflow)?),
        })
    }
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
    pub owners: Vec<usize>,
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
            .filter(|c| c.owners.iter().any(|&i| keep(i)))
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
}

/// A scan of the storage below: its range, the limit asked, the answer.
struct Scanned {
    start: Vec<u8>,
    end: Vec<u8>,
    limit: u32,
    entries: Entries,
}

#[derive(Default)]
struct State {
    /// What the storage below answered for each key: the batch's one view.
    below: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Scans of the storage below. Few per batch (usually the one that
    /// asks whether any token exists), so a list searched in place.
    scans: Vec<Scanned>,
    /// Everything the batch's items wrote so far.
    written: BTreeMap<Vec<u8>, Staged>,
    /// Where each check key sits in `staging.checks`.
    check_at: BTreeMap<Vec<u8>, usize>,
    staging: Staging,
    /// The item running now.
    current: usize,
    /// The current item did something the overlay cannot stage.
    refused: bool,
}

impl State {
    fn saw(&mut self, writers: &[usize]) {
        let current = self.current;
        let saw = &mut self.staging.saw[current];
        for &writer in writers {
            if writer != current && !saw.contains(&writer) {
                saw.push(writer);
            }
        }
    }

    /// Stages a key's new value; `added`: by a counter addition, which
    /// keeps the key's earlier writers among its sources.
    fn stage(&mut self, key: Vec<u8>, value: Value, added: bool) {
        let mut by = match self.written.get(&key) {
            Some(previous) if added => previous.by.clone(),
            _ => Vec::new(),
        };
        if !by.contains(&self.current) {
            by.push(self.current);
        }
        self.written.insert(key, Staged { value, by });
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
    pub fn prefetch(&self, mut keys: Vec<Vec<u8>>) -> Result<(), StorageError> {
        let mut state = self.state.borrow_mut();
        keys.sort_unstable();
        keys.dedup();
        keys.retain(|k| !state.below.contains_key(k) && !state.written.contains_key(k));
        if keys.is_empty() {
            return Ok(());
        }
        let values = self.below.get_each(&keys)?;
        state.below.extend(keys.into_iter().zip(values));
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
            let mut state = self.state.borrow_mut();
            match state.written.get(key) {
                Some(staged) => {
                    let Staged { value, by } = staged.clone();
                    state.saw(&by);
                    Some(value)
                }
                None => None,
            }
        };
        match staged {
            None => self.below_value(key),
            Some(Value::Known(value)) => Ok(value),
            Some(added @ Value::Added(_)) => self.resolve(key, added),
        }
    }

    /// A staged value as bytes: counter additions applied to the value below.
    fn resolve(&self, key: &[u8], value: Value) -> Result<Option<Vec<u8>>, StorageError> {
        match value {
            Value::Known(value) => Ok(value),
            Value::Added(sum) => add(self.below_value(key)?.as_deref(), sum).map(Some),
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
        if let Some(value) = self.state.borrow().below.get(key) {
            return Ok(value.clone());
        }
        let value = self.below.get(key)?;
        self.state
            .borrow_mut()
            .below
            .insert(key.to_vec(), value.clone());
        Ok(value)
    }
}

impl<S: Storage> Storage for Overlay<S> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.current(key)
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let missing: Vec<Vec<u8>> = {
            let state = self.state.borrow();
            keys.iter()
                .filter(|k| !state.written.contains_key(*k) && !state.below.contains_key(*k))
                .cloned()
                .collect()
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
        let range = (Bound::Included(start), Bound::Excluded(end));
        let staged: Vec<(Vec<u8>, Staged)> = self
            .state
            .borrow()
            .written
            .range::<[u8], _>(range)
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect();
        // Each staged key can hide at most one entry below, so this many
        // entries below always hold the first `limit` of the merged range.
        let asked = limit.saturating_add(staged.len().min(u32::MAX as usize) as u32);
        let below = self.scan_below(start, end, asked)?;
        if staged.is_empty() {
            return Ok(below);
        }
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = below
            .into_iter()
            .filter(|(k, _)| !self.state.borrow().written.contains_key(k))
            .collect();
        for (key, staged) in staged {
            self.state.borrow_mut().saw(&staged.by);
            if let Some(value) = self.resolve(&key, staged.value)? {
                merged.insert(key, value);
            }
        }
        Ok(merged.into_iter().take(limit as usize).collect())
    }

    /// Checks against the batch's view and stages; nothing reaches the
    /// storage below until the batch commits.
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        if writes.iter().any(|w| matches!(w, Write::DeleteRange(..))) {
            return Err(self.refuse("a range delete"));
        }
        // Checks first, then counter additions: a commit that fails either
        // stages nothing, like a real one.
        let mut below_checks = Vec::new();
        for check in checks {
            let staged = self
                .state
                .borrow()
                .written
                .get(&check.key)
                .map(|s| s.value.clone());
            let check = match staged {
                None => check,
                Some(value) => {
                    if self.current(&check.key)? != check.expected {
                        return Err(StorageError::Conflict);
                    }
                    let Value::Added(_) = value else {
                        continue;
                    };
                    // The value checked is the batch's additions on top of
                    // the value below, which must still hold at the commit.
                    Check {
                        expected: self.below_value(&check.key)?,
                        key: check.key,
                    }
                }
            };
            let state = self.state.borrow();
            if let Some(&at) = state.check_at.get(&check.key)
                && state.staging.checks[at].check.expected != check.expected
            {
                drop(state);
                return Err(self.refuse("two checks of one key against different values"));
            }
            drop(state);
            below_checks.push(check);
        }
        // (key, value, whether a counter addition made it)
        let mut staged: Vec<(Vec<u8>, Value, bool)> = Vec::new();
        for write in &writes {
            match write {
                Write::Put(key, value) => {
                    staged.push((key.clone(), Value::Known(Some(value.clone())), false))
                }
                Write::Delete(key) => staged.push((key.clone(), Value::Known(None), false)),
                Write::Add(key, delta) => {
                    let earlier = match staged.iter().rev().find(|(k, ..)| k == key) {
                        Some((_, value, _)) => value.clone(),
                        None => match self.state.borrow().written.get(key) {
                            Some(previous) => previous.value.clone(),
                            None => Value::Added(0),
                        },
                    };
                    staged.push((key.clone(), earlier.plus(*delta)?, true));
                }
                Write::Notify(_) | Write::DeleteRange(..) => {}
            }
        }
        let mut state = self.state.borrow_mut();
        let current = state.current;
        for check in below_checks {
            match state.check_at.get(&check.key) {
                Some(&at) => {
                    let owners = &mut state.staging.checks[at].owners;
                    if !owners.contains(&current) {
                        owners.push(current);
                    }
                }
                None => {
                    let at = state.staging.checks.len();
                    state.check_at.insert(check.key.clone(), at);
                    state.staging.checks.push(OwnedCheck {
                        check,
                        owners: vec![current],
                    });
                }
            }
        }
        for (key, value, added) in staged {
            state.stage(key, value, added);
        }
        state
            .staging
            .writes
            .extend(writes.into_iter().map(|w| (w, current)));
        Ok(())
    }
}

/// Which checks of `staging` fail against `values` (the storage below,
/// read again after the commit failed), as the items that made them.
pub(crate) fn failed_owners(staging: &Staging, values: Vec<Option<Vec<u8>>>) -> Vec<usize> {
    let mut failed = Vec::new();
    for (owned, value) in staging.checks.iter().zip(values) {
        if owned.check.expected != value {
            failed.extend(owned.owners.iter().copied());
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
