//! Many items, one call, one commit: how a host amortises the component
//! boundary, the storage round trip and the commit (one fsync, one
//! database transaction) over many requests (ARCHITECTURE.md, "Cost model").
//! [`Store::batch`] runs [`Operation`]s so; `Store::handle_http_batch`,
//! REST requests.
//!
//! A batch runs its items in order, each with its ordinary code, against an
//! overlay (`overlay.rs`): the reads the batch can foresee go out as one `get-many`,
//! every later item sees the writes of the items before it, and the
//! commits are staged into one. If that commit fails a check (another
//! writer got there first), the items whose checks failed, and those that
//! saw their writes, are left out and the rest commit; the ones left out
//! come back unanswered for the caller to send again, having written
//! nothing. So a batch behaves as its items run one after another, and at
//! most one commit of the call succeeds, as its last act: a caller whose
//! call failed (a guest trap) before that commit knows nothing was written.
//!
//! An item that cannot be staged (`Item::stages`, or one the overlay
//! refuses) ends the batch: first in a batch it runs alone, on the storage
//! itself; later, it and the items after it come back unanswered.
//!
//! Items that an `Item` says run as one group (`Item::group_len`: the
//! embedded batch's consecutive unconditional SETs of one namespace) are
//! one unit of work for the overlay, one `mutate` like `set_many`, and
//! share their fate; a batch that is a single group needs no overlay.

mod once;
mod operations;
mod overlay;

use crate::storage::{Storage, StorageError};
use crate::{Clock, Store};

pub use operations::{
    AckIn, EmitIn, IncrementIn, KeyIn, NackIn, NodeIn, Operation, Outcome, ReceiveIn, SetIn,
};
pub(crate) use overlay::Overlay;
use overlay::{Staging, failed_owners, recheck};

/// One unit of work a batch can carry.
pub(crate) trait Item {
    type Answer;

    /// Whether this item may run staged: its code only reads and commits
    /// puts, deletes and counter additions, and needs no commit to be
    /// durable before it goes on.
    fn stages(&self) -> bool;

    /// Storage keys the item will read, to fetch with the batch's others.
    fn reads(&self) -> Vec<Vec<u8>>;

    /// Runs the item against `store`.
    fn run<S: Storage, C: Clock>(&self, store: &mut Store<S, C>) -> Self::Answer;

    /// The answer when the batch's commit failed with `error` (not a
    /// conflict): what the item would have answered had its own commit
    /// failed so.
    fn failed(&self, error: StorageError) -> Self::Answer;

    /// How many items from the start of `items` may run as one group
    /// ([`Item::run_group`]): 1 when the first runs by itself.
    fn group_len(_items: &[Self]) -> usize
    where
        Self: Sized,
    {
        1
    }

    /// Runs `items` as one unit of work (one read, one commit for all),
    /// answering as if they ran one after another; `None` when they cannot
    /// (then nothing was written, and each runs by itself).
    fn run_group<S: Storage, C: Clock>(
        _items: &[Self],
        _store: &mut Store<S, C>,
    ) -> Option<Vec<Self::Answer>>
    where
        Self: Sized,
    {
        None
    }
}

/// How many times a batch commits again without the items whose checks
/// failed before it gives every writer back unanswered.
const COMMIT_ROUNDS: usize = 4;

impl<S: Storage, C: Clock> Store<S, C> {
    /// Runs `items` as one batch: per item its answer, or `None` when it
    /// was not run (or was left out after a failed check) and must be sent
    /// again; nothing of an unanswered item was written. At least one item
    /// is answered: when nothing staged could be, the first runs alone.
    pub(crate) fn run_batch<I: Item>(&mut self, items: &[I]) -> Vec<Option<I::Answer>> {
        let mut answers: Vec<Option<I::Answer>> = Vec::with_capacity(items.len());
        let Some(first) = items.first() else {
            return answers;
        };
        let staged = items.iter().take_while(|i| i.stages()).count();
        if staged == items.len()
            && items.len() > 1
            && I::group_len(items) >= items.len()
            && let Some(answers) = I::run_group(items, self)
        {
            // One group is the whole batch: with no other unit to share
            // reads and the commit with, it runs on the storage itself.
            return answers.into_iter().map(Some).collect();
        }
        if staged > 0 {
            answers = self.run_staged(&items[..staged]);
        }
        if answers.iter().all(Option::is_none) {
            // Nothing staged was answered, so nothing was written: the first
            // item runs alone, on the storage itself, so that every call
            // makes progress.
            answers.clear();
            answers.push(Some(first.run(self)));
        }
        answers.resize_with(items.len(), || None);
        answers
    }

    /// The staged part of [`Store::run_batch`]: `items` all stage.
    fn run_staged<I: Item>(&mut self, items: &[I]) -> Vec<Option<I::Answer>> {
        let Store {
            storage,
            clock,
            pending,
            write_seq,
            sweep_cursor: _,
            event_seq,
            counts_in_commits,
            read_key: _,
        } = self;
        let overlay = Overlay::new(&*storage, items.len());
        // A failed prefetch is not fatal: each item reads for itself then,
        // and answers its own error.
        let _ = overlay.prefetch(items.iter().flat_map(Item::reads).collect());
        let mut inner = Store::staging(
            &overlay,
            &*clock,
            *write_seq,
            *event_seq,
            *counts_in_commits,
        );
        // Units of work, in order: one item, or a group run as one. The
        // overlay knows units; their items share their fate.
        let mut ran: Vec<Unit<I::Answer>> = Vec::with_capacity(items.len());
        let mut refused_at = None;
        let mut next = 0;
        while next < items.len() {
            let group = I::group_len(&items[next..]).clamp(1, items.len() - next);
            overlay.begin(ran.len());
            if group > 1
                && let Some(answers) = I::run_group(&items[next..next + group], &mut inner)
            {
                let tally = std::mem::take(&mut inner.pending);
                ran.push(Unit::new(next, answers, tally));
                next += group;
                continue;
            }
            overlay.begin(ran.len());
            let answer = items[next].run(&mut inner);
            if overlay.refused() {
                refused_at = Some(next);
                break;
            }
            let tally = std::mem::take(&mut inner.pending);
            ran.push(Unit::new(next, vec![answer], tally));
            next += 1;
        }
        *write_seq = inner.write_seq;
        *event_seq = inner.event_seq;
        drop(inner);
        if let Some(at) = refused_at {
            // The refused item has staged part of its work: rather than
            // undo it, the items before it run again on a fresh overlay
            // (refusals are rare: no staged route deletes a range).
            drop(ran);
            drop(overlay);
            let mut answers = match at {
                0 => Vec::new(),
                _ => self.run_staged(&items[..at]),
            };
            answers.resize_with(items.len(), || None);
            return answers;
        }
        let staging = overlay.into_staging();
        let outcome = commit_staged(&*storage, &staging, ran.len());
        let mut answers = Vec::with_capacity(items.len());
        for (u, unit) in ran.into_iter().enumerate() {
            let Unit {
                first,
                answers: unit_answers,
                tally,
            } = unit;
            let kept = match &outcome {
                Ok(left_out) => !left_out[u],
                Err((_, affected)) => !affected[u],
            };
            if kept {
                pending.merge(tally);
                answers.extend(unit_answers.into_iter().map(Some));
                continue;
            }
            let count = unit_answers.len();
            answers.extend((first..first + count).map(|i| match &outcome {
                Ok(_) => None,
                Err((error, _)) => Some(items[i].failed(error.clone())),
            }));
        }
        answers
    }
}

/// A unit of a staged batch: the answers of its items (from `first` on)
/// and their statistics, kept only if the unit's writes commit.
struct Unit<A> {
    first: usize,
    answers: Vec<A>,
    tally: crate::stats::Pending,
}

impl<A> Unit<A> {
    fn new(first: usize, answers: Vec<A>, tally: crate::stats::Pending) -> Self {
        Self {
            first,
            answers,
            tally,
        }
    }
}

/// Commits what `staging` holds for its first `items` units. Returns which
/// units were left out after failed checks; or the error that failed the
/// commit, with the units it concerns (the writers and those that saw
/// their writes; the other readers' answers stand).
#[allow(clippy::type_complexity)]
fn commit_staged<S: Storage>(
    storage: &S,
    staging: &Staging,
    items: usize,
) -> Result<Vec<bool>, (StorageError, Vec<bool>)> {
    let mut left_out = vec![false; items];
    for _ in 0..COMMIT_ROUNDS {
        let (checks, writes) = staging.commit_of(|i| !left_out[i]);
        if writes.is_empty() {
            return Ok(left_out);
        }
        let error = match storage.commit(checks, writes) {
            Ok(()) => return Ok(left_out),
            Err(StorageError::Conflict) => match recheck(storage, staging) {
                Ok(values) => {
                    let failed = failed_owners(staging, values);
                    leave_out(staging, &mut left_out, |i| failed.binary_search(&i).is_ok());
                    continue;
                }
                Err(e) => e,
            },
            Err(e) => e,
        };
        let mut affected = vec![false; items];
        leave_out(staging, &mut affected, |i| staging.wrote(i));
        return Err((error, affected));
    }
    // Still conflicting: every writer, and whoever saw a write, goes back.
    leave_out(staging, &mut left_out, |i| staging.wrote(i));
    Ok(left_out)
}

/// Marks the items `hit` names, and every item that saw a marked item's
/// writes (in order: an item only sees the writes of items before it).
fn leave_out(staging: &Staging, marked: &mut [bool], hit: impl Fn(usize) -> bool) {
    for i in 0..marked.len() {
        if !marked[i] && (hit(i) || staging.saw[i].iter().any(|&j| marked[j])) {
            marked[i] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Write;
    use crate::{ManualClock, MemoryStorage, SetOptions};

    /// A set of one key, or a commit the overlay refuses (a range delete).
    enum Step {
        Set(&'static str),
        DeleteRange,
    }

    impl Item for Step {
        type Answer = bool;

        fn stages(&self) -> bool {
            true
        }

        fn reads(&self) -> Vec<Vec<u8>> {
            Vec::new()
        }

        fn run<S: Storage, C: Clock>(&self, store: &mut Store<S, C>) -> bool {
            match self {
                Step::Set(key) => store
                    .set("app", key.as_bytes(), b"v", &SetOptions::default())
                    .is_ok(),
                Step::DeleteRange => store
                    .storage()
                    .commit(
                        Vec::new(),
                        vec![Write::DeleteRange(b"x".to_vec(), b"y".to_vec())],
                    )
                    .is_ok(),
            }
        }

        fn failed(&self, _: StorageError) -> bool {
            false
        }
    }

    /// A refused item ends the batch: the items before it are answered
    /// (run again on a fresh overlay, committed once), it and the rest are
    /// not; first in a batch, it runs alone on the storage itself.
    #[test]
    fn a_refused_item_ends_the_batch_and_runs_alone_when_first() {
        let mut store = Store::new(MemoryStorage::new(), ManualClock::new(1));
        let answers = store.run_batch(&[Step::Set("a"), Step::DeleteRange, Step::Set("b")]);
        assert_eq!(answers, [Some(true), None, None]);
        assert!(store.get("app", b"a").unwrap().is_some());
        assert!(store.get("app", b"b").unwrap().is_none());
        assert_eq!(
            store.size("app").unwrap(),
            1,
            "the set before it counted once"
        );

        let answers = store.run_batch(&[Step::DeleteRange, Step::Set("b")]);
        assert_eq!(answers, [Some(true), None]);
    }
}
