//! The storage contract (wit/host.wit), one suite run against every backend:
//! `memory`, `file` (redb) and `postgres`. Ordering, ranges, get-many,
//! checks on present and absent keys, counters, all-or-nothing commits, and
//! races between threads: of writers that all check "absent", exactly one
//! wins; counter additions from many threads are all counted.
//!
//! PostgreSQL comes from `NEXUS_TEST_DATABASE_URL`, and a replicated cluster
//! (Patroni, synchronous replication) from `NEXUS_TEST_CLUSTER_URL`, a
//! multi-host URL (scripts/test.sh starts both and sets them). Without them
//! those cases fail when `CI` is set, and say they did not run otherwise.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};

use nexus_host::backend::{
    Backend, Check, FileBackend, MemoryBackend, PostgresBackend, PostgresOptions, StorageError,
    Write,
};
use nexus_host::testing;

fn put(k: &[u8], v: &[u8]) -> Write {
    Write::Put(k.to_vec(), v.to_vec())
}

fn check(k: &[u8], expected: Option<&[u8]>) -> Check {
    Check {
        key: k.to_vec(),
        expected: expected.map(<[u8]>::to_vec),
    }
}

fn keys(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
    entries.iter().map(|(k, _)| k.clone()).collect()
}

fn counter(b: &dyn Backend, key: &[u8]) -> i64 {
    i64::from_le_bytes(b.get(key).unwrap().unwrap().try_into().unwrap())
}

/// A fresh table for this case on the database at `url`, or None (with a
/// note) where none is given.
fn postgres(url: Option<String>, case: &str) -> Option<Arc<dyn Backend>> {
    let url = url?;
    // PostgreSQL names are at most 63 bytes; the cases differ in their first 50.
    let table = testing::fresh_table(&url, format!("contract_{}", &case[..case.len().min(50)]));
    let options = PostgresOptions {
        table,
        ..PostgresOptions::new(url)
    };
    Some(Arc::new(
        PostgresBackend::open(&options).expect("the backend opens"),
    ))
}

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            use super::*;

            #[test]
            fn memory() {
                super::$case(Arc::new(MemoryBackend::new()));
            }

            #[test]
            fn file() {
                let dir = tempfile::TempDir::new().unwrap();
                super::$case(Arc::new(FileBackend::open(dir.path()).unwrap()));
            }

            #[test]
            fn postgres() {
                if let Some(backend) = super::postgres(testing::test_database(), stringify!($case)) {
                    super::$case(backend);
                }
            }

            /// A replicated cluster through its multi-host URL.
            #[test]
            fn cluster() {
                if let Some(backend) = super::postgres(testing::test_cluster(), stringify!($case)) {
                    super::$case(backend);
                }
            }
        }
    )*};
}

on_every_backend!(
    scans_are_ascending_bytewise_over_half_open_ranges,
    get_many_answers_in_the_order_asked,
    checks_hold_on_present_and_absent_keys_or_nothing_is_written,
    deletes_and_range_deletes_remove_exactly_their_keys,
    counters_are_little_endian_and_refuse_overflow_and_garbage,
    of_writers_that_all_check_absent_exactly_one_wins,
    concurrent_counter_additions_are_all_counted,
    writes_apply_in_order_within_one_commit,
    a_read_after_an_acknowledged_write_sees_it,
);

fn scans_are_ascending_bytewise_over_half_open_ranges(b: Arc<dyn Backend>) {
    let all: Vec<&[u8]> = vec![
        b"",
        b"\x00",
        b"\x00\x00",
        b"a",
        b"a\x00",
        b"ab",
        b"b",
        b"\x7f",
        b"\x80",
        b"\xff",
        b"\xff\xff",
    ];
    // Written out of order, in two commits.
    b.commit(
        vec![],
        all.iter().rev().step_by(2).map(|k| put(k, b"v")).collect(),
    )
    .unwrap();
    b.commit(
        vec![],
        all.iter()
            .rev()
            .skip(1)
            .step_by(2)
            .map(|k| put(k, b"v"))
            .collect(),
    )
    .unwrap();
    let everything = b.scan(b"", b"\xff\xff\xff", 100).unwrap();
    assert_eq!(
        keys(&everything),
        all.iter().map(|k| k.to_vec()).collect::<Vec<_>>()
    );
    assert_eq!(
        keys(&b.scan(b"a", b"b", 100).unwrap()),
        vec![b"a".to_vec(), b"a\x00".to_vec(), b"ab".to_vec()]
    );
    assert_eq!(
        keys(&b.scan(b"a", b"b", 2).unwrap()),
        vec![b"a".to_vec(), b"a\x00".to_vec()]
    );
    assert_eq!(
        keys(&b.scan(b"\x7f", b"\xff", 100).unwrap()),
        vec![b"\x7f".to_vec(), b"\x80".to_vec()]
    );
    assert!(
        b.scan(b"b", b"b", 100).unwrap().is_empty(),
        "an empty range"
    );
    assert!(
        b.scan(b"c", b"a", 100).unwrap().is_empty(),
        "start after end"
    );
    assert!(b.scan(b"", b"\xff", 0).unwrap().is_empty(), "limit 0");
    assert_eq!(
        b.get(b"").unwrap(),
        Some(b"v".to_vec()),
        "the empty key is a key"
    );
}

fn get_many_answers_in_the_order_asked(b: Arc<dyn Backend>) {
    b.commit(vec![], vec![put(b"x", b"1"), put(b"y", b"2")])
        .unwrap();
    let got = b
        .get_many(&[
            b"y".to_vec(),
            b"nope".to_vec(),
            b"x".to_vec(),
            b"y".to_vec(),
        ])
        .unwrap();
    assert_eq!(
        got,
        vec![
            Some(b"2".to_vec()),
            None,
            Some(b"1".to_vec()),
            Some(b"2".to_vec())
        ]
    );
    assert!(b.get_many(&[]).unwrap().is_empty());
}

fn checks_hold_on_present_and_absent_keys_or_nothing_is_written(b: Arc<dyn Backend>) {
    b.commit(vec![check(b"k", None)], vec![put(b"k", b"v1")])
        .unwrap();
    let refused = [
        vec![check(b"k", None)],
        vec![check(b"k", Some(b"other"))],
        vec![check(b"absent", Some(b"v1"))],
        vec![check(b"k", Some(b"v1")), check(b"x", Some(b"no"))],
    ];
    for checks in refused {
        let err = b
            .commit(
                checks.clone(),
                vec![
                    put(b"k", b"v2"),
                    put(b"new", b"n"),
                    Write::Add(b"n".to_vec(), 1),
                ],
            )
            .unwrap_err();
        assert_eq!(err, StorageError::Conflict, "{checks:?}");
    }
    assert_eq!(b.get(b"k").unwrap(), Some(b"v1".to_vec()));
    assert_eq!(b.get(b"new").unwrap(), None);
    assert_eq!(b.get(b"n").unwrap(), None);
    b.commit(
        vec![check(b"k", Some(b"v1")), check(b"absent", None)],
        vec![put(b"k", b"v2")],
    )
    .unwrap();
    assert_eq!(b.get(b"k").unwrap(), Some(b"v2".to_vec()));
}

fn deletes_and_range_deletes_remove_exactly_their_keys(b: Arc<dyn Backend>) {
    b.commit(vec![], (1..=5u8).map(|i| put(&[i], &[i])).collect())
        .unwrap();
    b.commit(
        vec![],
        vec![
            Write::Delete(vec![1]),
            Write::Delete(vec![9]),
            Write::DeleteRange(vec![3], vec![5]),
            Write::DeleteRange(vec![5], vec![5]),
            Write::DeleteRange(vec![9], vec![0]),
        ],
    )
    .unwrap();
    assert_eq!(
        keys(&b.scan(&[], &[0xff], 10).unwrap()),
        vec![vec![2], vec![5]]
    );
}

fn counters_are_little_endian_and_refuse_overflow_and_garbage(b: Arc<dyn Backend>) {
    b.commit(
        vec![],
        vec![Write::Add(b"n".to_vec(), 5), Write::Add(b"n".to_vec(), -7)],
    )
    .unwrap();
    assert_eq!(counter(&*b, b"n"), -2);
    assert_eq!(
        b.get(b"n").unwrap().unwrap(),
        (-2i64).to_le_bytes().to_vec()
    );
    b.commit(vec![], vec![Write::Add(b"n".to_vec(), 2)])
        .unwrap();
    assert_eq!(counter(&*b, b"n"), 0, "a counter at zero is kept");
    b.commit(
        vec![],
        vec![put(b"max", &i64::MAX.to_le_bytes()), put(b"short", b"abc")],
    )
    .unwrap();
    for bad in [b"max".as_slice(), b"short"] {
        let err = b
            .commit(vec![], vec![put(b"x", b"1"), Write::Add(bad.to_vec(), 1)])
            .unwrap_err();
        assert!(matches!(err, StorageError::Other(_)), "{err:?}");
    }
    assert_eq!(b.get(b"x").unwrap(), None, "a refused commit wrote nothing");
    assert_eq!(counter(&*b, b"max"), i64::MAX);
}

/// A commit's writes take effect in order, whatever a backend batches:
/// a range delete removes what was put before it, not what is put after;
/// a counter it removed starts again from zero; a `notify` writes nothing.
fn writes_apply_in_order_within_one_commit(b: Arc<dyn Backend>) {
    b.commit(
        vec![],
        vec![
            put(&[1], b"a"),
            put(&[2], b"b"),
            put(&[3], b"c"),
            Write::Add(vec![6], 5),
        ],
    )
    .unwrap();
    b.commit(
        vec![],
        vec![
            put(&[2], b"x"),
            Write::DeleteRange(vec![1], vec![7]),
            put(&[3], b"y"),
            Write::Add(vec![6], 2),
            put(&[4], b"z"),
            Write::Delete(vec![4]),
            put(&[5], b"w"),
            Write::Notify("app".into()),
        ],
    )
    .unwrap();
    let all = b.scan(&[], &[0xff], 10).unwrap();
    assert_eq!(
        all,
        vec![
            (vec![3], b"y".to_vec()),
            (vec![5], b"w".to_vec()),
            (vec![6], 2i64.to_le_bytes().to_vec()),
        ]
    );
}

/// Retries a commit that lost a race, as the store does.
fn commit_retrying(b: &dyn Backend, make: impl Fn() -> (Vec<Check>, Vec<Write>)) {
    for _ in 0..1000 {
        let (checks, writes) = make();
        match b.commit(checks, writes) {
            Ok(()) => return,
            Err(StorageError::Conflict) => continue,
            Err(e) => panic!("{e:?}"),
        }
    }
    panic!("a commit kept conflicting");
}

fn of_writers_that_all_check_absent_exactly_one_wins(b: Arc<dyn Backend>) {
    for round in 0..5u8 {
        let key = vec![b'r', round];
        let threads = 8;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads as u8)
            .map(|t| {
                let (b, barrier, key) = (b.clone(), barrier.clone(), key.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    b.commit(vec![check(&key, None)], vec![put(&key, &[t])])
                })
            })
            .collect();
        let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<u8> = (0..threads as u8)
            .filter(|t| outcomes[*t as usize].is_ok())
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {outcomes:?}");
        for outcome in &outcomes {
            assert!(
                matches!(outcome, Ok(()) | Err(StorageError::Conflict)),
                "{outcome:?}"
            );
        }
        assert_eq!(
            b.get(&key).unwrap(),
            Some(vec![winners[0]]),
            "the winner's value"
        );
    }
}

fn concurrent_counter_additions_are_all_counted(b: Arc<dyn Backend>) {
    let threads = 8;
    let each = 50;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let b = b.clone();
            std::thread::spawn(move || {
                for i in 0..each {
                    // A key of its own too, so each commit writes more than the counter.
                    let own = format!("t{t}-{i}").into_bytes();
                    commit_retrying(&*b, || {
                        (
                            vec![],
                            vec![Write::Add(b"total".to_vec(), 1), put(&own, b"1")],
                        )
                    });
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(counter(&*b, b"total"), threads * each);
    // Every thread's own keys, and `total` itself, which sorts among them.
    assert_eq!(
        b.scan(b"t", b"u", 1000).unwrap().len(),
        (threads * each) as usize + 1
    );
}

/// No read returns a value older than an acknowledged write: the file
/// backend shares one read snapshot between commits, and must drop it before
/// a writer hears "ok". A writer bumps a counter key and then publishes the
/// value it was told is durable; readers that saw it published must read at
/// least that value, by `get`, `get_many` and `scan` alike.
fn a_read_after_an_acknowledged_write_sees_it(b: Arc<dyn Backend>) {
    let writes = 300;
    let acknowledged = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (b, acknowledged) = (b.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                let read = |raw: Option<Vec<u8>>| {
                    raw.map_or(0, |v| u64::from_le_bytes(v.try_into().unwrap()))
                };
                loop {
                    let published = acknowledged.load(Ordering::SeqCst);
                    let by_get = read(b.get(b"n").unwrap());
                    let by_many = read(b.get_many(&[b"n".to_vec()]).unwrap().remove(0));
                    let by_scan = read(b.scan(b"n", b"o", 1).unwrap().pop().map(|(_, v)| v));
                    for seen in [by_get, by_many, by_scan] {
                        assert!(
                            seen >= published,
                            "read {seen} after {published} was acknowledged"
                        );
                    }
                    if published == writes {
                        return;
                    }
                }
            })
        })
        .collect();
    for n in 1..=writes {
        b.commit(vec![], vec![put(b"n", &n.to_le_bytes())]).unwrap();
        acknowledged.store(n, Ordering::SeqCst);
    }
    for r in readers {
        r.join().unwrap();
    }
}
