//! The pending groups as reads and checks see them, with the committer
//! held at a gate so that nothing becomes durable until a test says so.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Condvar, Mutex, MutexGuard};

use nexus_store::storage::{MemoryStorage, Storage};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::{Answer, Check, FileBackend, StorageError, Write};

/// Where the committer waits before it makes a sealed group durable.
#[derive(Default)]
pub(super) struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    held: bool,
    fail: Option<String>,
    /// Whether the committer is waiting at the gate (with a sealed group).
    waiting: bool,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn pass(&self) -> Result<(), StorageError> {
        let mut state = self.lock();
        state.waiting = true;
        self.changed.notify_all();
        while state.held && state.fail.is_none() {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.waiting = false;
        match &state.fail {
            Some(why) => Err(StorageError::Unavailable(why.clone())),
            None => Ok(()),
        }
    }

    fn hold(&self) {
        self.lock().held = true;
    }

    pub(super) fn release(&self) {
        self.lock().held = false;
        self.changed.notify_all();
    }

    fn fail(&self, why: &str) {
        self.lock().fail = Some(why.into());
        self.changed.notify_all();
    }

    /// Until the committer has sealed a group and waits here with it.
    fn until_sealed(&self) {
        let mut state = self.lock();
        while !state.waiting {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

fn put(k: &[u8], v: &[u8]) -> Write {
    Write::Put(k.to_vec(), v.to_vec())
}

fn check(k: &[u8], expected: Option<&[u8]>) -> Check {
    Check {
        key: k.to_vec(),
        expected: expected.map(<[u8]>::to_vec),
    }
}

fn open(dir: &tempfile::TempDir) -> FileBackend {
    FileBackend::open(dir.path()).unwrap()
}

/// Not answered yet: the committer is held.
fn unanswered(answer: &Receiver<Answer>) {
    assert_eq!(answer.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_read_sees_a_commit_accepted_but_not_yet_durable() {
    let dir = tempfile::TempDir::new().unwrap();
    let b = open(&dir);
    b.shared.gate.hold();
    let answer = b.submit(&[], vec![put(b"k", b"v")]).unwrap();
    b.shared.gate.until_sealed();
    assert_eq!(b.get(b"k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(
        b.get_many(&[b"x".to_vec(), b"k".to_vec()]).unwrap(),
        vec![None, Some(b"v".to_vec())]
    );
    assert_eq!(
        b.scan(b"", b"\xff", 10).unwrap(),
        vec![(b"k".to_vec(), b"v".to_vec())]
    );
    unanswered(&answer);
    b.shared.gate.release();
    assert_eq!(answer.recv().unwrap(), Ok(()));
    assert_eq!(b.get(b"k").unwrap(), Some(b"v".to_vec()));
}

/// Compaction gives freed space back to the file system, keeps every
/// value, and writers that commit meanwhile wait for it and are answered.
#[test]
fn compaction_shrinks_the_file_and_loses_nothing_committed_around_it() {
    let dir = tempfile::TempDir::new().unwrap();
    let b = open(&dir);
    let size = || std::fs::metadata(b.path()).unwrap().len();
    let big = vec![7u8; 64 * 1024];
    for i in 0..200u32 {
        b.commit(vec![], vec![put(&i.to_be_bytes(), &big)]).unwrap();
    }
    for i in 10..200u32 {
        b.commit(vec![], vec![Write::Delete(i.to_be_bytes().to_vec())])
            .unwrap();
    }
    let before = size();
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..4u32)
            .map(|w| {
                let b = &b;
                scope.spawn(move || {
                    for i in 0..25u32 {
                        let key = format!("w{w}-{i}");
                        b.commit(vec![], vec![put(key.as_bytes(), b"v")]).unwrap();
                    }
                })
            })
            .collect();
        b.compact().unwrap();
        for w in writers {
            w.join().unwrap();
        }
    });
    assert!(size() < before / 2, "{} bytes, was {before}", size());
    for i in 0..10u32 {
        assert_eq!(b.get(&i.to_be_bytes()).unwrap(), Some(big.clone()));
    }
    assert_eq!(b.get(&10u32.to_be_bytes()).unwrap(), None);
    for w in 0..4 {
        for i in 0..25 {
            let key = format!("w{w}-{i}");
            assert_eq!(b.get(key.as_bytes()).unwrap(), Some(b"v".to_vec()));
        }
    }
    drop(b);
    let reopened = open(&dir);
    assert_eq!(reopened.get(&0u32.to_be_bytes()).unwrap(), Some(big));
    assert_eq!(reopened.get(b"w3-24").unwrap(), Some(b"v".to_vec()));
}

/// A loser hears `Conflict` without waiting for the winner's fsync, and
/// its retry against the pending value goes through.
#[test]
fn a_check_against_a_pending_write_fails_at_once_and_its_retry_is_accepted() {
    let dir = tempfile::TempDir::new().unwrap();
    let b = open(&dir);
    b.shared.gate.hold();
    let first = b
        .submit(&[check(b"k", None)], vec![put(b"k", b"1")])
        .unwrap();
    b.shared.gate.until_sealed();
    let lost = b.submit(&[check(b"k", None)], vec![put(b"k", b"2")]);
    assert_eq!(lost.unwrap_err(), StorageError::Conflict);
    let retry = b
        .submit(&[check(b"k", Some(b"1"))], vec![put(b"k", b"2")])
        .unwrap();
    assert_eq!(b.get(b"k").unwrap(), Some(b"2".to_vec()));
    unanswered(&first);
    unanswered(&retry);
    b.shared.gate.release();
    assert_eq!(first.recv().unwrap(), Ok(()));
    assert_eq!(retry.recv().unwrap(), Ok(()));
    drop(b);
    assert_eq!(open(&dir).get(b"k").unwrap(), Some(b"2".to_vec()));
}

/// Pending puts merge into a scan; pending deletes and range deletes hide
/// durable entries, from wherever the scan starts and whatever its limit.
#[test]
fn scans_merge_pending_puts_deletes_and_range_deletes() {
    let dir = tempfile::TempDir::new().unwrap();
    let b = open(&dir);
    let reference = MemoryStorage::new();
    let durable: Vec<Write> = (1..=9u8).map(|i| put(&[i], &[i])).collect();
    b.commit(vec![], durable.clone()).unwrap();
    reference.commit(vec![], durable).unwrap();
    b.shared.gate.hold();
    let groups = [
        vec![
            Write::Delete(vec![2]),
            Write::DeleteRange(vec![4], vec![8]),
            put(&[5], b"new"),
            put(&[10], b"ten"),
        ],
        vec![put(&[6], b"six"), Write::Delete(vec![9])],
    ];
    let mut answers = Vec::new();
    for (i, writes) in groups.into_iter().enumerate() {
        reference.commit(vec![], writes.clone()).unwrap();
        answers.push(b.submit(&[], writes).unwrap());
        if i == 0 {
            b.shared.gate.until_sealed();
        }
    }
    let compare = |b: &FileBackend| {
        for start in 0..=11u8 {
            for end in start..=11u8 {
                for limit in [0, 1, 2, 100] {
                    assert_eq!(
                        b.scan(&[start], &[end], limit).unwrap(),
                        reference.scan(&[start], &[end], limit).unwrap(),
                        "{start}..{end} limit {limit}"
                    );
                }
            }
        }
    };
    compare(&b);
    assert_eq!(
        b.scan(&[0], &[0xff], 100).unwrap(),
        vec![
            (vec![1], vec![1]),
            (vec![3], vec![3]),
            (vec![5], b"new".to_vec()),
            (vec![6], b"six".to_vec()),
            (vec![8], vec![8]),
            (vec![10], b"ten".to_vec()),
        ]
    );
    b.shared.gate.release();
    for answer in answers {
        assert_eq!(answer.recv().unwrap(), Ok(()));
    }
    compare(&b);
}

#[test]
fn counters_add_onto_pending_sums() {
    let dir = tempfile::TempDir::new().unwrap();
    let b = open(&dir);
    b.shared.gate.hold();
    let add = |n| vec![Write::Add(b"n".to_vec(), n)];
    let answers = [
        b.submit(&[], add(5)).unwrap(),
        b.submit(&[], add(-7)).unwrap(),
    ];
    assert_eq!(b.get(b"n").unwrap(), Some((-2i64).to_le_bytes().to_vec()));
    let overflow = b.submit(&[], add(i64::MIN)).unwrap_err();
    assert!(matches!(overflow, StorageError::Other(_)), "{overflow:?}");
    b.shared.gate.release();
    for answer in answers {
        assert_eq!(answer.recv().unwrap(), Ok(()));
    }
    drop(b);
    assert_eq!(
        open(&dir).get(b"n").unwrap(),
        Some((-2i64).to_le_bytes().to_vec())
    );
}

/// Readers saw the failed group's value: answering from the disk again
/// would take it back, so every call is `Unavailable` until a reopen,
/// which finds only what was durable.
#[test]
fn a_group_that_fails_to_become_durable_stops_the_store() {
    let dir = tempfile::TempDir::new().unwrap();
    let b = open(&dir);
    b.commit(vec![], vec![put(b"k", b"durable")]).unwrap();
    b.shared.gate.hold();
    let sealed = b.submit(&[], vec![put(b"k", b"sealed")]).unwrap();
    b.shared.gate.until_sealed();
    let open_group = b.submit(&[], vec![put(b"j", b"open")]).unwrap();
    assert_eq!(b.get(b"k").unwrap(), Some(b"sealed".to_vec()));
    b.shared.gate.fail("the disk is full");
    for answer in [sealed, open_group] {
        assert!(matches!(
            answer.recv().unwrap(),
            Err(StorageError::Unavailable(_))
        ));
    }
    assert!(matches!(b.get(b"k"), Err(StorageError::Unavailable(_))));
    assert!(matches!(
        b.get_many(&[b"k".to_vec()]),
        Err(StorageError::Unavailable(_))
    ));
    assert!(matches!(
        b.scan(b"", b"\xff", 10),
        Err(StorageError::Unavailable(_))
    ));
    assert!(matches!(
        b.commit(vec![], vec![put(b"x", b"1")]),
        Err(StorageError::Unavailable(_))
    ));
    drop(b);
    let reopened = open(&dir);
    assert_eq!(reopened.get(b"k").unwrap(), Some(b"durable".to_vec()));
    assert_eq!(reopened.get(b"j").unwrap(), None);
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    (0u8..6).prop_map(|k| vec![k])
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        (key(), vec(any::<u8>(), 0..3)).prop_map(|(k, v)| Write::Put(k, v)),
        (
            key(),
            (0u8..6).prop_map(|b| i64::from(b).to_le_bytes().to_vec())
        )
            .prop_map(|(k, v)| Write::Put(k, v)),
        key().prop_map(Write::Delete),
        (key(), key()).prop_map(|(a, b)| Write::DeleteRange(a, b)),
        (key(), -3i64..4).prop_map(|(k, d)| Write::Add(k, d)),
        Just(Write::Notify("app".into())),
    ]
}

/// Checks that mostly name values the commits write, so that some hold.
fn checks() -> impl Strategy<Value = Vec<Check>> {
    let expected = prop_oneof![
        Just(None),
        vec(any::<u8>(), 0..2).prop_map(Some),
        (0u8..6).prop_map(|b| Some(i64::from(b).to_le_bytes().to_vec())),
    ];
    vec(
        (key(), expected).prop_map(|(key, expected)| Check { key, expected }),
        0..2,
    )
}

fn reads_alike(b: &FileBackend, reference: &MemoryStorage) -> Result<(), TestCaseError> {
    let keys: Vec<Vec<u8>> = (0u8..7).map(|k| vec![k]).collect();
    prop_assert_eq!(
        b.get_many(&keys).unwrap(),
        reference.get_many(&keys).unwrap()
    );
    for start in 0u8..7 {
        prop_assert_eq!(b.get(&[start]).unwrap(), reference.get(&[start]).unwrap());
        for end in start + 1..8 {
            for limit in [1, 100] {
                prop_assert_eq!(
                    b.scan(&[start], &[end], limit).unwrap(),
                    reference.scan(&[start], &[end], limit).unwrap()
                );
            }
        }
    }
    Ok(())
}

/// Any commits, accepted while the committer is held with the first ones
/// sealed: each is accepted or refused as the reference refuses it, every
/// read meanwhile answers as the reference does, and once released the
/// store holds (and a reopen finds) the reference's state.
#[test]
fn pending_groups_read_and_check_like_the_reference() {
    let commits = vec((checks(), vec(write(), 0..6)), 1..8);
    let mut runner = TestRunner::new(Config::with_cases(64));
    runner
        .run(&(commits, 0usize..8), |(commits, split)| {
            let dir = tempfile::TempDir::new().unwrap();
            let b = open(&dir);
            let reference = MemoryStorage::new();
            b.shared.gate.hold();
            let mut answers = Vec::new();
            for (i, (checks, writes)) in commits.into_iter().enumerate() {
                if i == split && !answers.is_empty() {
                    b.shared.gate.until_sealed();
                }
                let expected = reference
                    .commit(checks.clone(), writes.clone())
                    .map_err(|e| std::mem::discriminant(&e));
                match b.submit(&checks, writes) {
                    Ok(answer) => {
                        prop_assert_eq!(Ok(()), expected);
                        answers.push(answer);
                    }
                    Err(e) => prop_assert_eq!(Err(std::mem::discriminant(&e)), expected),
                }
                reads_alike(&b, &reference)?;
            }
            b.shared.gate.release();
            for answer in answers {
                prop_assert_eq!(answer.recv().unwrap(), Ok(()));
            }
            reads_alike(&b, &reference)?;
            drop(b);
            let on_disk = open(&dir).scan(&[], &[0xff], 100).unwrap();
            let want: BTreeMap<_, _> = reference.snapshot();
            prop_assert_eq!(on_disk, want.into_iter().collect::<Vec<_>>());
            Ok(())
        })
        .unwrap();
}
