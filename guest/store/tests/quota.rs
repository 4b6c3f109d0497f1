//! Per-namespace limits: key and value sizes, and the key quota with its two
//! policies (reject and evict-lru).

#[macro_use]
mod common;

use common::*;
use nexus_store::{Condition, Error, EvictionPolicy, Limits, Op, SetOptions};

const NS: &str = "q";

fn limit_keys(s: &mut TestStore, max: u64, policy: EvictionPolicy) {
    s.set_limits(
        NS,
        Limits {
            max_keys: Some(max),
            policy,
            ..Limits::default()
        },
    )
    .unwrap();
}

fn live_keys(s: &mut TestStore) -> Vec<Vec<u8>> {
    list_all(s, NS, b"", 1000)
}

// ---------------------------------------------------------------- key and value sizes

#[test]
fn max_key_bytes_is_enforced_on_every_write_and_nothing_is_written() {
    let (mut s, _) = store();
    s.set_limits(
        NS,
        Limits {
            max_key_bytes: 8,
            ..Limits::default()
        },
    )
    .unwrap();
    let fits = [b'k'; 8];
    let long = [b'k'; 9];
    put(&mut s, NS, &fits, b"v");
    let before = snapshot(&s);
    let msg = assert_err!(
        s.set(NS, &long, b"v", &SetOptions::default()),
        Error::KeyTooLarge(_)
    );
    assert!(msg.contains('9') && msg.contains('8'), "{msg}");
    assert_err!(
        s.set_many(
            NS,
            &[(fits.to_vec(), vec![]), (long.to_vec(), vec![])],
            None
        ),
        Error::KeyTooLarge(_)
    );
    assert_err!(s.increment(NS, &long, 1), Error::KeyTooLarge(_));
    assert_err!(
        s.transaction(
            NS,
            &[],
            &[
                Op::Delete(fits.to_vec()),
                Op::Set {
                    key: long.to_vec(),
                    value: b"v".to_vec(),
                    ttl_ms: None
                }
            ]
        ),
        Error::KeyTooLarge(_)
    );
    assert_eq!(snapshot(&s), before);
    assert_eq!(value_of(&mut s, NS, &fits).unwrap(), b"v");
}

#[test]
fn keys_written_before_max_key_bytes_was_lowered_can_still_be_read_and_deleted() {
    let (mut s, _) = store();
    let long = [b'k'; 9];
    put(&mut s, NS, &long, b"v");
    put(&mut s, NS, b"other", b"v");
    s.set_limits(
        NS,
        Limits {
            max_key_bytes: 8,
            ..Limits::default()
        },
    )
    .unwrap();
    assert_eq!(value_of(&mut s, NS, &long).unwrap(), b"v");
    s.transaction(NS, &[Condition::Present(long.to_vec())], &[])
        .unwrap();
    assert!(s.delete(NS, &long).unwrap());
    assert!(!s.exists(NS, &long).unwrap());
    // Rewriting it is a write, and the limit holds.
    assert_err!(
        s.set(NS, &long, b"v", &SetOptions::default()),
        Error::KeyTooLarge(_)
    );
    assert_eq!(value_of(&mut s, NS, b"other").unwrap(), b"v");
}

#[test]
fn the_default_max_key_bytes_is_4_kib() {
    let (mut s, _) = store();
    put(&mut s, NS, &[b'k'; 4096], b"v");
    let before = snapshot(&s);
    assert_err!(
        s.set(NS, &[b'k'; 4097], b"v", &SetOptions::default()),
        Error::KeyTooLarge(_)
    );
    assert_eq!(snapshot(&s), before);
}

#[test]
fn max_value_bytes_is_enforced_and_nothing_is_written() {
    let (mut s, _) = store();
    s.set_limits(
        NS,
        Limits {
            max_value_bytes: 8,
            ..Limits::default()
        },
    )
    .unwrap();
    put(&mut s, NS, b"k", &[1; 8]);
    let before = snapshot(&s);
    let msg = assert_err!(
        s.set(NS, b"k", &[2; 9], &SetOptions::default()),
        Error::ValueTooLarge(_)
    );
    assert!(msg.contains('9') && msg.contains('8'), "{msg}");
    assert_err!(
        s.set(NS, b"new", &[2; 9], &SetOptions::default()),
        Error::ValueTooLarge(_)
    );
    assert_err!(
        s.set_many(
            NS,
            &[(b"a".to_vec(), vec![]), (b"b".to_vec(), vec![0; 9])],
            None
        ),
        Error::ValueTooLarge(_)
    );
    let op = Op::Set {
        key: b"a".to_vec(),
        value: vec![0; 100],
        ttl_ms: None,
    };
    assert_err!(s.transaction(NS, &[], &[op]), Error::ValueTooLarge(_));
    assert_eq!(snapshot(&s), before);
    assert_eq!(value_of(&mut s, NS, b"k").unwrap(), vec![1; 8]);
}

#[test]
fn the_default_max_value_bytes_is_1_mib() {
    let (mut s, _) = store();
    put(&mut s, NS, b"big", &vec![7; 1024 * 1024]);
    let before = snapshot(&s);
    assert_err!(
        s.set(
            NS,
            b"bigger",
            &vec![7; 1024 * 1024 + 1],
            &SetOptions::default()
        ),
        Error::ValueTooLarge(_)
    );
    assert_eq!(snapshot(&s), before);
}

#[test]
fn a_one_byte_max_value_bytes_still_takes_empty_and_one_byte_values() {
    let (mut s, _) = store();
    s.set_limits(
        NS,
        Limits {
            max_value_bytes: 1,
            ..Limits::default()
        },
    )
    .unwrap();
    put(&mut s, NS, b"k", b"");
    put(&mut s, NS, b"k", b"x");
    assert_err!(
        s.set(NS, b"k", b"xy", &SetOptions::default()),
        Error::ValueTooLarge(_)
    );
}

#[test]
fn invalid_limits_are_rejected_and_nothing_is_written() {
    let (mut s, _) = store();
    put(&mut s, NS, b"k", b"v");
    let before = snapshot(&s);
    let bad = [
        Limits {
            max_keys: Some(0),
            ..Limits::default()
        },
        Limits {
            max_key_bytes: 0,
            ..Limits::default()
        },
        Limits {
            max_key_bytes: 64 * 1024 + 1,
            ..Limits::default()
        },
        Limits {
            max_value_bytes: 0,
            ..Limits::default()
        },
        Limits {
            max_value_bytes: 32 * 1024 * 1024 + 1,
            ..Limits::default()
        },
        Limits {
            idempotency_window_ms: 0,
            ..Limits::default()
        },
        Limits {
            idempotency_window_ms: 30 * 24 * 60 * 60 * 1000 + 1,
            ..Limits::default()
        },
    ];
    for limits in bad {
        assert_err!(s.set_limits(NS, limits), Error::InvalidArgument(_));
        assert_err!(s.set_limits("fresh", limits), Error::InvalidArgument(_));
    }
    assert_eq!(snapshot(&s), before);
}

// ---------------------------------------------------------------- reject

#[test]
fn reject_refuses_a_new_key_when_full_and_writes_nothing() {
    let (mut s, _) = store();
    limit_keys(&mut s, 3, EvictionPolicy::Reject);
    for k in [b"a", b"b", b"c"] {
        put(&mut s, NS, k, b"v");
    }
    let before = snapshot(&s);
    let msg = assert_err!(
        s.set(NS, b"d", b"v", &SetOptions::default()),
        Error::QuotaExceeded(_)
    );
    assert!(msg.contains('3'), "{msg}");
    assert_err!(s.increment(NS, b"n", 1), Error::QuotaExceeded(_));
    assert_err!(
        s.set_many(
            NS,
            &[
                (b"a".to_vec(), b"new".to_vec()),
                (b"d".to_vec(), b"v".to_vec())
            ],
            None
        ),
        Error::QuotaExceeded(_)
    );
    let op = Op::Set {
        key: b"d".to_vec(),
        value: vec![],
        ttl_ms: None,
    };
    assert_err!(s.transaction(NS, &[], &[op]), Error::QuotaExceeded(_));
    assert_eq!(snapshot(&s), before);
    assert_eq!(s.size(NS).unwrap(), 3);
    assert_eq!(s.stats(NS).unwrap().evictions, 0);
}

#[test]
fn overwriting_an_existing_key_when_full_is_allowed() {
    let (mut s, _) = store();
    limit_keys(&mut s, 2, EvictionPolicy::Reject);
    put(&mut s, NS, b"a", b"1");
    s.increment(NS, b"n", 1).unwrap();
    put(&mut s, NS, b"a", b"2");
    assert_eq!(s.increment(NS, b"n", 1).unwrap(), 2);
    s.set_many(
        NS,
        &[
            (b"a".to_vec(), b"3".to_vec()),
            (b"n".to_vec(), b"9".to_vec()),
        ],
        None,
    )
    .unwrap();
    s.transaction(
        NS,
        &[],
        &[Op::Set {
            key: b"a".to_vec(),
            value: b"4".to_vec(),
            ttl_ms: None,
        }],
    )
    .unwrap();
    assert_eq!(value_of(&mut s, NS, b"a").unwrap(), b"4");
    assert_eq!(s.size(NS).unwrap(), 2);
}

#[test]
fn a_delete_frees_room_for_a_new_key() {
    let (mut s, _) = store();
    limit_keys(&mut s, 2, EvictionPolicy::Reject);
    put(&mut s, NS, b"a", b"1");
    put(&mut s, NS, b"b", b"1");
    s.delete(NS, b"a").unwrap();
    put(&mut s, NS, b"c", b"1");
    // A transaction that deletes one key and adds another stays within the quota.
    let ops = [
        Op::Delete(b"b".to_vec()),
        Op::Set {
            key: b"d".to_vec(),
            value: vec![],
            ttl_ms: None,
        },
    ];
    s.transaction(NS, &[], &ops).unwrap();
    assert_eq!(live_keys(&mut s), vec![b"c".to_vec(), b"d".to_vec()]);
}

#[test]
fn expired_keys_are_reclaimed_before_rejecting() {
    let (mut s, clock) = store();
    limit_keys(&mut s, 2, EvictionPolicy::Reject);
    put_ttl(&mut s, NS, b"old", b"1", 10);
    put(&mut s, NS, b"b", b"1");
    let before = snapshot(&s);
    assert_err!(
        s.set(NS, b"c", b"1", &SetOptions::default()),
        Error::QuotaExceeded(_)
    );
    assert_eq!(snapshot(&s), before);
    clock.advance(10);
    put(&mut s, NS, b"c", b"1");
    assert_eq!(live_keys(&mut s), vec![b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(
        stored_entries(&snapshot(&s), NS),
        2,
        "the expired entry was removed"
    );
    assert!(!mentions(&snapshot(&s), NS, b"old"));
    let stats = s.stats(NS).unwrap();
    assert_eq!(
        (stats.expirations, stats.evictions, stats.total_keys),
        (1, 0, 2)
    );
}

#[test]
fn the_quota_counts_only_its_own_namespace() {
    let (mut s, _) = store();
    limit_keys(&mut s, 1, EvictionPolicy::Reject);
    put(&mut s, NS, b"a", b"1");
    for other in ["q1", "q-1", "default"] {
        put(&mut s, other, b"a", b"1");
        put(&mut s, other, b"b", b"1");
    }
    assert_err!(
        s.set(NS, b"b", b"1", &SetOptions::default()),
        Error::QuotaExceeded(_)
    );
}

// ---------------------------------------------------------------- evict-lru

#[test]
fn evict_lru_evicts_the_least_recently_written_key() {
    let (mut s, clock) = store();
    limit_keys(&mut s, 3, EvictionPolicy::EvictLru);
    for k in [b"c", b"a", b"b"] {
        put(&mut s, NS, k, b"v");
        clock.advance(1);
    }
    put(&mut s, NS, b"d", b"v");
    assert_eq!(
        live_keys(&mut s),
        vec![b"a".to_vec(), b"b".to_vec(), b"d".to_vec()],
        "c was written first"
    );
    assert_eq!(s.stats(NS).unwrap().evictions, 1);
    assert!(
        !mentions(&snapshot(&s), NS, b"c"),
        "the evicted key leaves no index entry behind"
    );

    // Rewriting a key makes it recent again; reading it does not.
    clock.advance(1);
    put(&mut s, NS, b"a", b"again");
    s.get(NS, b"b").unwrap();
    clock.advance(1);
    put(&mut s, NS, b"e", b"v");
    assert_eq!(
        live_keys(&mut s),
        vec![b"a".to_vec(), b"d".to_vec(), b"e".to_vec()],
        "b was the least recently written"
    );
    let stats = s.stats(NS).unwrap();
    assert_eq!((stats.evictions, stats.total_keys), (2, 3));
}

#[test]
fn evict_lru_evicts_as_many_keys_as_a_batch_needs() {
    let (mut s, clock) = store();
    limit_keys(&mut s, 3, EvictionPolicy::EvictLru);
    for k in [b"a", b"b", b"c"] {
        put(&mut s, NS, k, b"v");
        clock.advance(1);
    }
    let items = vec![
        (b"d".to_vec(), vec![]),
        (b"b".to_vec(), b"new".to_vec()),
        (b"e".to_vec(), vec![]),
    ];
    s.set_many(NS, &items, None).unwrap();
    // Two new keys: the two oldest keys not named by the batch go.
    assert_eq!(
        live_keys(&mut s),
        vec![b"b".to_vec(), b"d".to_vec(), b"e".to_vec()]
    );
    let stats = s.stats(NS).unwrap();
    assert_eq!((stats.evictions, stats.total_keys), (2, 3));
}

#[test]
fn evict_lru_never_evicts_the_keys_of_the_write_itself() {
    let (mut s, _) = store();
    limit_keys(&mut s, 2, EvictionPolicy::EvictLru);
    put(&mut s, NS, b"a", b"v");
    let before = snapshot(&s);
    let items: Vec<(Vec<u8>, Vec<u8>)> = [b"x", b"y", b"z"]
        .iter()
        .map(|k| (k.to_vec(), vec![]))
        .collect();
    assert_err!(s.set_many(NS, &items, None), Error::QuotaExceeded(_));
    assert_eq!(snapshot(&s), before);
}

#[test]
fn evict_lru_reclaims_expired_keys_before_evicting_live_ones() {
    let (mut s, clock) = store();
    limit_keys(&mut s, 2, EvictionPolicy::EvictLru);
    put(&mut s, NS, b"oldest", b"v");
    clock.advance(1);
    put_ttl(&mut s, NS, b"short", b"v", 5);
    clock.advance(5);
    put(&mut s, NS, b"new", b"v");
    assert_eq!(live_keys(&mut s), vec![b"new".to_vec(), b"oldest".to_vec()]);
    let stats = s.stats(NS).unwrap();
    assert_eq!(
        (stats.expirations, stats.evictions, stats.total_keys),
        (1, 0, 2)
    );
}

#[test]
fn evict_lru_with_fewer_expired_keys_than_needed_stays_within_the_quota() {
    let (mut s, clock) = store();
    limit_keys(&mut s, 2, EvictionPolicy::EvictLru);
    put_ttl(&mut s, NS, b"a", b"v", 5);
    clock.advance(1);
    put(&mut s, NS, b"b", b"v");
    clock.advance(10);
    // Two new keys: the expired `a` is reclaimed and one live key must go.
    s.set_many(
        NS,
        &[(b"c".to_vec(), vec![]), (b"d".to_vec(), vec![])],
        None,
    )
    .unwrap();
    let live = live_keys(&mut s);
    assert_eq!(live, vec![b"c".to_vec(), b"d".to_vec()]);
    assert_eq!(
        s.size(NS).unwrap(),
        live.len() as u64,
        "size matches the keys really stored"
    );
    assert_eq!(stored_entries(&snapshot(&s), NS), 2);
    let stats = s.stats(NS).unwrap();
    assert_eq!(
        (stats.expirations, stats.evictions, stats.total_keys),
        (1, 1, 2)
    );
}

#[test]
fn size_never_exceeds_max_keys_under_evict_lru() {
    let (mut s, clock) = store();
    limit_keys(&mut s, 5, EvictionPolicy::EvictLru);
    for i in 0..60u32 {
        clock.advance(1);
        let key = [b'k', (i * 7 % 13) as u8];
        match i % 4 {
            0 => {
                put(&mut s, NS, &key, b"v");
            }
            1 => {
                put_ttl(&mut s, NS, &key, b"v", 3);
            }
            2 => {
                s.increment(NS, &key, 1).ok();
            }
            _ => {
                let items = vec![(key.to_vec(), vec![]), (vec![b'm', (i % 11) as u8], vec![])];
                s.set_many(NS, &items, None).unwrap();
            }
        }
        let live = live_keys(&mut s);
        let size = s.size(NS).unwrap();
        assert!(size <= 5, "step {i}: size {size}");
        assert_eq!(size, live.len() as u64, "step {i}");
        assert!(
            stored_entries(&snapshot(&s), NS) <= 5,
            "step {i}: stored entries"
        );
    }
    assert!(s.stats(NS).unwrap().evictions > 0);
}

#[test]
fn lowering_max_keys_below_the_count_evicts_down_to_it_on_the_next_new_key() {
    let (mut s, clock) = store();
    // Evict-lru without a quota yet, so every write is recorded by recency.
    let unlimited = Limits {
        policy: EvictionPolicy::EvictLru,
        ..Limits::default()
    };
    s.set_limits(NS, unlimited).unwrap();
    for i in 0..6u8 {
        put(&mut s, NS, &[i], b"v");
        clock.advance(1);
    }
    assert_eq!(s.size(NS).unwrap(), 6);
    limit_keys(&mut s, 3, EvictionPolicy::Reject);
    assert_err!(
        s.set(NS, b"new", b"v", &SetOptions::default()),
        Error::QuotaExceeded(_)
    );
    put(&mut s, NS, &[0], b"overwrite is fine");
    assert_eq!(s.size(NS).unwrap(), 6);
    limit_keys(&mut s, 3, EvictionPolicy::EvictLru);
    clock.advance(1);
    put(&mut s, NS, b"new", b"v");
    // Key 0 was rewritten last before `new`, so 1..=4 are the oldest.
    assert_eq!(live_keys(&mut s), vec![vec![0], vec![5], b"new".to_vec()]);
    assert_eq!(s.size(NS).unwrap(), 3);
    assert_eq!(s.stats(NS).unwrap().evictions, 4);
}

// ---------------------------------------------------------------- random sequences

mod random {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Step {
        Set(u8),
        SetTtl(u8, u64),
        SetMany(Vec<u8>),
        Increment(u8),
        Delete(u8),
        Advance(u64),
        Tick(u32),
    }

    fn step() -> impl Strategy<Value = Step> {
        let k = || 0..6u8;
        prop_oneof![
            4 => k().prop_map(Step::Set),
            2 => (k(), 1..8u64).prop_map(|(k, t)| Step::SetTtl(k, t)),
            2 => prop::collection::vec(k(), 0..4).prop_map(Step::SetMany),
            1 => k().prop_map(Step::Increment),
            2 => k().prop_map(Step::Delete),
            2 => (1..5u64).prop_map(Step::Advance),
            1 => (1..4u32).prop_map(Step::Tick),
        ]
    }

    /// Runs one step; returns the keys it wrote if it succeeded.
    fn run(
        s: &mut TestStore,
        clock: &nexus_store::ManualClock,
        step: &Step,
    ) -> Result<Vec<u8>, Error> {
        match step {
            Step::Set(k) => s
                .set(NS, &[*k], b"1", &SetOptions::default())
                .map(|_| vec![*k]),
            Step::SetTtl(k, t) => s.set(NS, &[*k], b"1", &ttl(*t)).map(|_| vec![*k]),
            Step::SetMany(ks) => {
                let items: Vec<(Vec<u8>, Vec<u8>)> =
                    ks.iter().map(|k| (vec![*k], b"1".to_vec())).collect();
                s.set_many(NS, &items, None).map(|_| ks.clone())
            }
            Step::Increment(k) => s.increment(NS, &[*k], 1).map(|_| vec![*k]),
            Step::Delete(k) => s.delete(NS, &[*k]).map(|_| vec![]),
            Step::Advance(ms) => {
                clock.advance(*ms);
                Ok(vec![])
            }
            Step::Tick(b) => s.tick(*b).map(|_| vec![]),
        }
    }

    fn check_invariants(s: &mut TestStore, max: u64) -> Result<Vec<Vec<u8>>, TestCaseError> {
        let live = live_keys(s);
        let size = s.size(NS).unwrap();
        prop_assert_eq!(size, live.len() as u64, "size matches the live keys");
        prop_assert!(size <= max, "size {} over max-keys {}", size, max);
        prop_assert_eq!(s.stats(NS).unwrap().total_keys, size);
        Ok(live)
    }

    proptest! {
        #![proptest_config(proptest_config(64))]

        /// Under reject, a write fails exactly when its new keys do not fit
        /// beside the live keys (expired ones do not count), and then writes nothing.
        #[test]
        fn reject_refuses_exactly_the_writes_that_do_not_fit(max in 1..4u64, steps in prop::collection::vec(step(), 1..40)) {
            let (mut s, clock) = store();
            limit_keys(&mut s, max, EvictionPolicy::Reject);
            // key -> expiry
            let mut model: BTreeMap<u8, Option<u64>> = BTreeMap::new();
            for step in &steps {
                let now = nexus_store::Clock::now_ms(&clock);
                model.retain(|_, at| at.is_none_or(|at| now < at));
                let written: BTreeSet<u8> = match step {
                    Step::Set(k) | Step::SetTtl(k, _) | Step::Increment(k) => [*k].into(),
                    Step::SetMany(ks) => ks.iter().copied().collect(),
                    _ => BTreeSet::new(),
                };
                let new = written.iter().filter(|k| !model.contains_key(k)).count() as u64;
                let fits = model.len() as u64 + new <= max;
                let before = snapshot(&s);
                match run(&mut s, &clock, step) {
                    Ok(_) => {
                        prop_assert!(fits, "{:?} succeeded with {} live keys", step, model.len());
                        match step {
                            Step::Set(k) => { model.insert(*k, None); }
                            Step::SetTtl(k, t) => { model.insert(*k, Some(now + t)); }
                            Step::SetMany(ks) => { for k in ks { model.insert(*k, None); } }
                            Step::Increment(k) => { model.entry(*k).or_insert(None); }
                            Step::Delete(k) => { model.remove(k); }
                            _ => {}
                        }
                    }
                    Err(Error::QuotaExceeded(_)) => {
                        prop_assert!(!fits, "{:?} was refused with {} live keys", step, model.len());
                        prop_assert_eq!(snapshot(&s), before);
                    }
                    Err(e) => prop_assert!(false, "{:?}: unexpected {:?}", step, e),
                }
                let live = check_invariants(&mut s, max)?;
                let now = nexus_store::Clock::now_ms(&clock);
                let want: Vec<Vec<u8>> = model
                    .iter()
                    .filter(|(_, at)| at.is_none_or(|at| now < at))
                    .map(|(k, _)| vec![*k])
                    .collect();
                prop_assert_eq!(live, want);
            }
        }

        /// Under evict-lru, a write only fails when it alone names more new
        /// keys than fit; the keys it writes are always kept, and the count
        /// never goes over the quota.
        #[test]
        fn evict_lru_keeps_the_quota_and_the_keys_just_written(max in 1..4u64, steps in prop::collection::vec(step(), 1..40)) {
            let (mut s, clock) = store();
            limit_keys(&mut s, max, EvictionPolicy::EvictLru);
            for step in &steps {
                let before = snapshot(&s);
                match run(&mut s, &clock, step) {
                    Ok(written) => {
                        let live = live_keys(&mut s);
                        for k in written {
                            prop_assert!(live.contains(&vec![k]), "{:?}: key {} was not kept", step, k);
                        }
                    }
                    Err(Error::QuotaExceeded(_)) => {
                        let distinct: BTreeSet<&u8> = match step {
                            Step::SetMany(ks) => ks.iter().collect(),
                            _ => BTreeSet::new(),
                        };
                        prop_assert!(distinct.len() as u64 > max, "{:?} refused", step);
                        prop_assert_eq!(snapshot(&s), before);
                    }
                    Err(e) => prop_assert!(false, "{:?}: unexpected {:?}", step, e),
                }
                check_invariants(&mut s, max)?;
            }
            while s.tick(100).unwrap().more {}
            let size = s.size(NS).unwrap();
            prop_assert_eq!(stored_entries(&snapshot(&s), NS) as u64, size);
        }
    }
}
