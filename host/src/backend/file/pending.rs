//! Commits accepted but not yet durable, as the file backend's reads and
//! checks see them: a [`Delta`] per group over the durable snapshot.
//!
//! A delta holds each key's value *after* its commits (a counter addition is
//! stored as the sum it came to), never the operations themselves. So
//! laying a delta over a snapshot that already holds it changes nothing:
//! a reader that pairs the pending groups with a snapshot taken a little
//! later (one that has the oldest group on disk already) reads the same
//! values, and the committer may make a group durable without taking the
//! readers' lock.

use std::collections::BTreeMap;
use std::ops::Bound;

use nexus_store::storage::{CommitTarget, Entries, StorageError};

use super::{ReadTable, other};

/// Changes relative to the state below: what the commits folded into it
/// left behind, in normal form (range deletes first, then single keys).
#[derive(Debug, Default)]
pub(super) struct Delta {
    /// Keys written: `Some` put, `None` deleted. A key here wins over
    /// `cleared`, so a put after a range delete survives it.
    changes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Half-open ranges deleted from the state below, `start -> end`,
    /// disjoint and not touching, so a lookup checks one of them.
    cleared: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// What a delta says about one key.
pub(super) enum Seen<'a> {
    Value(&'a [u8]),
    Absent,
    /// Not touched: ask the state below.
    Below,
}

fn span<'k>(start: &'k [u8], end: &'k [u8]) -> (Bound<&'k [u8]>, Bound<&'k [u8]>) {
    (Bound::Included(start), Bound::Excluded(end))
}

impl Delta {
    pub(super) fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.cleared.is_empty()
    }

    pub(super) fn lookup(&self, key: &[u8]) -> Seen<'_> {
        match self.changes.get(key) {
            Some(Some(value)) => Seen::Value(value),
            Some(None) => Seen::Absent,
            None if self.cleared_end(key).is_some() => Seen::Absent,
            None => Seen::Below,
        }
    }

    /// The end of the cleared range holding `key`, if one does.
    fn cleared_end(&self, key: &[u8]) -> Option<&[u8]> {
        self.cleared
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
            .next_back()
            .map(|(_, end)| end.as_slice())
            .filter(|end| key < *end)
    }

    pub(super) fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.changes.insert(key, Some(value));
    }

    pub(super) fn delete(&mut self, key: &[u8]) {
        self.changes.insert(key.to_vec(), None);
    }

    pub(super) fn delete_range(&mut self, start: &[u8], end: &[u8]) {
        if start >= end {
            return;
        }
        // Keys written before the range delete go with it.
        let mut from_start = self.changes.split_off(start);
        let mut from_end = from_start.split_off(end);
        self.changes.append(&mut from_end);
        // Merged with every cleared range it overlaps or touches.
        let (mut start, mut end) = (start.to_vec(), end.to_vec());
        if let Some((s, e)) = self
            .cleared
            .range::<[u8], _>((Bound::Unbounded, Bound::Included(start.as_slice())))
            .next_back()
            && *e >= start
        {
            start = s.clone();
            end = end.max(e.clone());
        }
        let swallowed: Vec<Vec<u8>> = self
            .cleared
            .range::<[u8], _>((
                Bound::Included(start.as_slice()),
                Bound::Included(end.as_slice()),
            ))
            .map(|(s, _)| s.clone())
            .collect();
        for s in swallowed {
            if let Some(e) = self.cleared.remove(&s) {
                end = end.max(e);
            }
        }
        self.cleared.insert(start, end);
    }

    /// Folds in a delta that came after this one.
    pub(super) fn absorb(&mut self, later: Delta) {
        for (start, end) in later.cleared {
            self.delete_range(&start, &end);
        }
        self.changes.extend(later.changes);
    }

    /// What this delta says about `[start, end)` only (copied), for a scan.
    fn within(&self, start: &[u8], end: &[u8]) -> Delta {
        let changes = self
            .changes
            .range::<[u8], _>(span(start, end))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let before = self
            .cleared
            .range::<[u8], _>((Bound::Unbounded, Bound::Excluded(start)))
            .next_back();
        let cleared = before
            .into_iter()
            .chain(self.cleared.range::<[u8], _>(span(start, end)))
            .filter_map(|(s, e)| {
                let s = s.as_slice().max(start);
                let e = e.as_slice().min(end);
                (s < e).then(|| (s.to_vec(), e.to_vec()))
            })
            .collect();
        Delta { changes, cleared }
    }

    /// Applies this delta to a redb table: the same normal form, range
    /// deletes first.
    pub(super) fn write_to(
        &self,
        table: &mut redb::Table<'_, &'static [u8], &'static [u8]>,
    ) -> Result<(), redb::StorageError> {
        for (start, end) in &self.cleared {
            table.retain_in(start.as_slice()..end.as_slice(), |_, _| false)?;
        }
        for (key, value) in &self.changes {
            match value {
                Some(value) => {
                    table.insert(key.as_slice(), value.as_slice())?;
                }
                None => {
                    table.remove(key.as_slice())?;
                }
            }
        }
        Ok(())
    }
}

/// The groups not yet durable, over the durable snapshot they go with.
#[derive(Clone, Copy)]
pub(super) struct View<'a> {
    /// The group the committer is making durable now, if any.
    pub sealed: Option<&'a Delta>,
    /// The group accepting commits.
    pub open: &'a Delta,
    pub snapshot: &'a ReadTable,
}

impl<'a> View<'a> {
    fn newest_first(self) -> impl Iterator<Item = &'a Delta> {
        std::iter::once(self.open).chain(self.sealed)
    }

    fn nothing_pending(self) -> bool {
        self.newest_first().all(Delta::is_empty)
    }

    pub(super) fn get(self, key: &[u8]) -> Result<Option<Vec<u8>>, redb::StorageError> {
        for delta in self.newest_first() {
            match delta.lookup(key) {
                Seen::Value(value) => return Ok(Some(value.to_vec())),
                Seen::Absent => return Ok(None),
                Seen::Below => {}
            }
        }
        Ok(self.snapshot.get(key)?.map(|v| v.value().to_vec()))
    }

    /// The snapshot's entries with the pending groups laid over them:
    /// their puts merged in, their deletes and range deletes hiding the
    /// snapshot's entries.
    pub(super) fn scan(
        self,
        start: &[u8],
        end: &[u8],
        limit: u32,
    ) -> Result<Entries, redb::StorageError> {
        let limit = limit as usize;
        if self.nothing_pending() {
            return self
                .snapshot
                .range(start..end)?
                .take(limit)
                .map(|item| {
                    let (k, v) = item?;
                    Ok((k.value().to_vec(), v.value().to_vec()))
                })
                .collect();
        }
        let mut pending = Delta::default();
        for delta in self.newest_first().collect::<Vec<_>>().into_iter().rev() {
            pending.absorb(delta.within(start, end));
        }
        let below_from = |from: &[u8]| -> Result<_, redb::StorageError> {
            Ok(self.snapshot.range(from..end)?.map(|item| {
                let (k, v) = item?;
                Ok::<_, redb::StorageError>((k.value().to_vec(), v.value().to_vec()))
            }))
        };
        let mut below = below_from(start)?;
        let mut next_below = below.next().transpose()?;
        let mut changes = pending.changes.iter().peekable();
        let mut entries = Vec::new();
        while entries.len() < limit {
            let change_first = match (changes.peek(), &next_below) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((changed, _)), Some((key, _))) => changed.as_slice() <= key.as_slice(),
            };
            if change_first {
                let (key, value) = changes.next().expect("peeked");
                if next_below.as_ref().is_some_and(|(k, _)| k == key) {
                    next_below = below.next().transpose()?;
                }
                if let Some(value) = value {
                    entries.push((key.clone(), value.clone()));
                }
            } else if let Some(resume) = next_below
                .as_ref()
                .and_then(|(key, _)| pending.cleared_end(key))
            {
                // Skip the whole cleared range in one seek.
                if resume < end {
                    below = below_from(resume)?;
                    next_below = below.next().transpose()?;
                } else {
                    next_below = None;
                }
            } else {
                entries.extend(next_below.take());
                next_below = below.next().transpose()?;
            }
        }
        Ok(entries)
    }
}

/// A commit being checked against the durable snapshot and the pending
/// groups, its writes kept apart until it is whole: a commit that fails
/// halfway leaves the open group as it was.
pub(super) struct Staging<'a> {
    pub view: View<'a>,
    pub delta: Delta,
}

impl CommitTarget for Staging<'_> {
    fn current(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.delta.lookup(key) {
            Seen::Value(value) => Ok(Some(value.to_vec())),
            Seen::Absent => Ok(None),
            Seen::Below => self.view.get(key).map_err(other),
        }
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StorageError> {
        self.delta.put(key, value);
        Ok(())
    }
    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.delta.delete(key);
        Ok(())
    }
    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        self.delta.delete_range(start, end);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(b: u8) -> Vec<u8> {
        vec![b]
    }

    fn cleared(d: &Delta) -> Vec<(Vec<u8>, Vec<u8>)> {
        d.cleared
            .iter()
            .map(|(s, e)| (s.clone(), e.clone()))
            .collect()
    }

    #[test]
    fn range_deletes_merge_into_disjoint_ranges() {
        let mut d = Delta::default();
        d.delete_range(&k(5), &k(7));
        d.delete_range(&k(1), &k(2));
        d.delete_range(&k(9), &k(3));
        assert_eq!(cleared(&d), vec![(k(1), k(2)), (k(5), k(7))]);
        // Touching at 2, overlapping 5..7: one range from 1 to 8.
        d.delete_range(&k(2), &k(6));
        d.delete_range(&k(6), &k(8));
        assert_eq!(cleared(&d), vec![(k(1), k(8))]);
        d.delete_range(&k(0), &k(10));
        assert_eq!(cleared(&d), vec![(k(0), k(10))]);
        assert!(matches!(d.lookup(&k(9)), Seen::Absent));
        assert!(matches!(d.lookup(&k(10)), Seen::Below));
    }

    #[test]
    fn a_put_after_a_range_delete_survives_it_and_one_before_does_not() {
        let mut d = Delta::default();
        d.put(k(2), b"before".to_vec());
        d.delete_range(&k(1), &k(4));
        d.put(k(3), b"after".to_vec());
        assert!(matches!(d.lookup(&k(2)), Seen::Absent));
        assert!(matches!(d.lookup(&k(3)), Seen::Value(b"after")));
        assert!(matches!(d.lookup(&k(4)), Seen::Below));
    }

    #[test]
    fn within_clips_ranges_to_the_scan() {
        let mut d = Delta::default();
        d.delete_range(&k(1), &k(5));
        d.delete_range(&k(7), &k(9));
        d.put(k(3), b"x".to_vec());
        d.put(k(8), b"y".to_vec());
        let w = d.within(&k(4), &k(8));
        assert_eq!(cleared(&w), vec![(k(4), k(5)), (k(7), k(8))]);
        assert!(w.changes.is_empty());
    }
}
