//! Time to live, with a `ManualClock`: expired keys are invisible at once,
//! and `tick` reclaims them in bounded steps.

#[macro_use]
mod common;

use common::*;
use nexus_store::{Error, ListOptions, SetOptions, TickReport};

const NS: &str = "ttl";

#[test]
fn a_key_with_a_ttl_carries_its_expiry_time() {
    let (mut s, _) = store();
    put_ttl(&mut s, NS, b"k", b"v", 250);
    let e = s.get(NS, b"k").unwrap().unwrap();
    assert_eq!(e.expires_at, Some(START_MS + 250));
    let page = s.list(NS, &ListOptions::default()).unwrap();
    assert_eq!(page.keys[0].expires_at, Some(START_MS + 250));
}

#[test]
fn a_key_is_live_until_its_expiry_time_and_gone_from_it() {
    let (mut s, clock) = store();
    put_ttl(&mut s, NS, b"k", b"v", 100);
    clock.advance(99);
    assert!(s.exists(NS, b"k").unwrap());
    assert_eq!(s.size(NS).unwrap(), 1);
    clock.advance(1);
    assert!(!s.exists(NS, b"k").unwrap());
    assert_eq!(s.size(NS).unwrap(), 0);
}

#[test]
fn an_expired_key_is_invisible_to_every_read_before_any_sweep() {
    let (mut s, clock) = store();
    put(&mut s, NS, b"keep", b"1");
    put_ttl(&mut s, NS, b"gone", b"2", 10);
    put_ttl(&mut s, NS, b"later", b"3", 1_000);
    clock.advance(10);
    let stored_before = snapshot(&s);
    assert_eq!(
        stored_entries(&stored_before, NS),
        3,
        "nothing has been swept yet"
    );

    assert_eq!(s.get(NS, b"gone").unwrap(), None);
    assert!(!s.exists(NS, b"gone").unwrap());
    let many = s
        .get_many(NS, &[b"keep".to_vec(), b"gone".to_vec(), b"later".to_vec()])
        .unwrap();
    assert_eq!(
        many.iter().map(Option::is_some).collect::<Vec<_>>(),
        vec![true, false, true]
    );
    assert_eq!(
        list_all(&mut s, NS, b"", 1),
        vec![b"keep".to_vec(), b"later".to_vec()]
    );
    assert_eq!(list_all(&mut s, NS, b"g", 10), Vec::<Vec<u8>>::new());
    assert_eq!(s.size(NS).unwrap(), 2);
    assert_eq!(s.namespace_info(NS).unwrap().unwrap().key_count, 2);
    assert_eq!(s.stats(NS).unwrap().total_keys, 2);

    clock.advance(990);
    assert_eq!(list_all(&mut s, NS, b"", 100), vec![b"keep".to_vec()]);
    assert_eq!(s.size(NS).unwrap(), 1);
    assert_eq!(stored_entries(&snapshot(&s), NS), 3, "reads never sweep");
}

#[test]
fn list_over_many_expired_keys_still_finds_the_live_ones() {
    let (mut s, clock) = store();
    let expired: Vec<(Vec<u8>, Vec<u8>)> = (0..3000u32)
        .map(|i| (format!("e{i:05}").into_bytes(), vec![]))
        .collect();
    s.set_many(NS, &expired, Some(5)).unwrap();
    put(&mut s, NS, b"a", b"");
    put(&mut s, NS, b"z", b"");
    clock.advance(5);
    for limit in [1, 2, 100] {
        assert_eq!(
            list_all(&mut s, NS, b"", limit),
            vec![b"a".to_vec(), b"z".to_vec()],
            "limit {limit}"
        );
    }
    assert_eq!(s.size(NS).unwrap(), 2);
    // A page stops early after examining a bounded number of expired entries:
    // it can come back empty, with a cursor to go on from.
    let after_a = ListOptions {
        cursor: Some(b"a".to_vec()),
        limit: 1,
        ..ListOptions::default()
    };
    let page = s.list(NS, &after_a).unwrap();
    assert!(page.keys.is_empty());
    assert!(page.next_cursor.is_some());
}

#[test]
fn tick_removes_expired_keys_within_its_budget() {
    let (mut s, clock) = store();
    let items: Vec<(Vec<u8>, Vec<u8>)> = (0..10u8).map(|i| (vec![b'e', i], vec![i])).collect();
    s.set_many(NS, &items, Some(100)).unwrap();
    put(&mut s, NS, b"live", b"x");
    clock.advance(100);
    assert_eq!(s.size(NS).unwrap(), 1);

    let first = s.tick(4).unwrap();
    assert_eq!(
        first,
        TickReport {
            expired_keys: 4,
            more: true,
            ..TickReport::default()
        }
    );
    assert_eq!(stored_entries(&snapshot(&s), NS), 7);
    assert_eq!(
        s.size(NS).unwrap(),
        1,
        "size is exact in the middle of a sweep"
    );
    assert_eq!(s.stats(NS).unwrap().expirations, 4);

    let mut total = first.expired_keys;
    let mut ticks = 1;
    loop {
        let r = s.tick(4).unwrap();
        assert!(r.expired_keys <= 4);
        total += r.expired_keys;
        ticks += 1;
        assert!(ticks < 10, "the sweep never finishes");
        if !r.more {
            break;
        }
    }
    assert_eq!(total, 10);
    assert_eq!(
        s.tick(4).unwrap(),
        TickReport {
            expired_keys: 0,
            more: false,
            ..TickReport::default()
        }
    );
    let snap = snapshot(&s);
    assert_eq!(stored_entries(&snap, NS), 1);
    for (k, _) in &items {
        assert!(
            !mentions(&snap, NS, k),
            "no entry or index entry of {k:?} is left"
        );
    }
    let stats = s.stats(NS).unwrap();
    assert_eq!(stats.expirations, 10);
    assert_eq!(stats.total_keys, 1);
    assert_eq!(s.size(NS).unwrap(), 1);
    assert_eq!(value_of(&mut s, NS, b"live").unwrap(), b"x");
}

#[test]
fn tick_with_a_large_budget_removes_everything_expired_at_once() {
    let (mut s, clock) = store();
    for i in 0..5u8 {
        put_ttl(&mut s, NS, &[b'k', i], b"", 10 + u64::from(i));
    }
    clock.advance(12);
    let r = s.tick(1000).unwrap();
    assert_eq!(
        r,
        TickReport {
            expired_keys: 3,
            more: false,
            ..TickReport::default()
        }
    );
    assert_eq!(s.size(NS).unwrap(), 2);
    clock.advance(100);
    assert_eq!(
        s.tick(1000).unwrap(),
        TickReport {
            expired_keys: 2,
            more: false,
            ..TickReport::default()
        }
    );
    assert_eq!(s.size(NS).unwrap(), 0);
    assert_eq!(stored_entries(&snapshot(&s), NS), 0);
    assert_eq!(s.stats(NS).unwrap().expirations, 5);
}

#[test]
fn tick_does_not_touch_live_keys() {
    let (mut s, clock) = store();
    put(&mut s, NS, b"forever", b"1");
    put_ttl(&mut s, NS, b"later", b"2", 1_000);
    clock.advance(500);
    // Statistics tallied so far are written first, so only the sweep is compared.
    s.flush().unwrap();
    let before = snapshot(&s);
    assert_eq!(s.tick(100).unwrap(), TickReport::default());
    assert_eq!(snapshot(&s), before);
}

#[test]
fn tick_sweeps_every_namespace_in_turn() {
    let (mut s, clock) = store();
    let names = ["a", "a1", "b", "default"];
    for ns in names {
        for i in 0..3u8 {
            put_ttl(&mut s, ns, &[i], b"", 5);
        }
        put(&mut s, ns, b"live", b"");
    }
    clock.advance(5);
    let mut removed = 0;
    for _ in 0..20 {
        let r = s.tick(2).unwrap();
        assert!(r.expired_keys <= 2, "a tick examines at most its budget");
        removed += r.expired_keys;
        if !r.more && removed == 12 {
            break;
        }
    }
    assert_eq!(removed, 12);
    let global = s.global_stats().unwrap();
    assert_eq!(global.expirations, 12);
    assert_eq!(global.total_keys, 4);
    for ns in names {
        assert_eq!(stored_entries(&snapshot(&s), ns), 1, "{ns}");
        assert_eq!(s.stats(ns).unwrap().expirations, 3, "{ns}");
        assert_eq!(s.size(ns).unwrap(), 1, "{ns}");
    }
}

#[test]
fn set_over_an_expired_key_works_like_a_fresh_key() {
    let (mut s, clock) = store();
    let old = put_ttl(&mut s, NS, b"k", b"old", 10);
    clock.advance(10);
    // only-if-absent sees an expired key as absent.
    let opts = SetOptions {
        only_if_absent: true,
        ..SetOptions::default()
    };
    let v = s.set(NS, b"k", b"new", &opts).unwrap();
    assert!(v > old);
    let e = s.get(NS, b"k").unwrap().unwrap();
    assert_eq!(
        (e.value, e.expires_at),
        (b"new".to_vec(), None),
        "the old TTL does not carry over"
    );
    assert_eq!(s.size(NS).unwrap(), 1);
    assert_eq!(stored_entries(&snapshot(&s), NS), 1);
    let stats = s.stats(NS).unwrap();
    assert_eq!(
        stats.expirations, 1,
        "the replaced expired entry counts as an expiration"
    );
    assert_eq!(stats.total_keys, 1);
    // Nothing left for the sweep, and the new key does not expire.
    clock.advance(1_000_000);
    assert_eq!(s.tick(100).unwrap(), TickReport::default());
    assert_eq!(value_of(&mut s, NS, b"k").unwrap(), b"new");
}

#[test]
fn set_with_a_new_ttl_replaces_the_old_one() {
    let (mut s, clock) = store();
    put_ttl(&mut s, NS, b"k", b"v", 10);
    put_ttl(&mut s, NS, b"k", b"v", 1000);
    clock.advance(10);
    assert!(s.exists(NS, b"k").unwrap());
    assert_eq!(
        s.tick(100).unwrap(),
        TickReport::default(),
        "the old expiry was unindexed"
    );
    put(&mut s, NS, b"k", b"v");
    clock.advance(10_000);
    assert!(
        s.exists(NS, b"k").unwrap(),
        "a set without TTL makes the key permanent"
    );
    assert_eq!(s.size(NS).unwrap(), 1);
}

#[test]
fn only_if_version_on_an_expired_key_fails() {
    let (mut s, clock) = store();
    let v = put_ttl(&mut s, NS, b"k", b"v", 10);
    clock.advance(10);
    let before = snapshot(&s);
    let opts = SetOptions {
        only_if_version: Some(v),
        ..SetOptions::default()
    };
    assert_err!(s.set(NS, b"k", b"new", &opts), Error::ConditionFailed(_));
    assert_eq!(snapshot(&s), before);
}

#[test]
fn increment_of_an_expired_key_starts_from_zero_without_ttl() {
    let (mut s, clock) = store();
    put_ttl(&mut s, NS, b"n", b"41", 10);
    clock.advance(10);
    assert_eq!(s.increment(NS, b"n", 1).unwrap(), 1);
    let e = s.get(NS, b"n").unwrap().unwrap();
    assert_eq!((e.value, e.expires_at), (b"1".to_vec(), None));
    assert_eq!(s.size(NS).unwrap(), 1);
}

#[test]
fn increment_of_an_expired_non_integer_starts_from_zero() {
    let (mut s, clock) = store();
    put_ttl(&mut s, NS, b"n", b"abc", 10);
    clock.advance(10);
    assert_eq!(s.increment(NS, b"n", 7).unwrap(), 7);
}

#[test]
fn delete_of_an_expired_key_reports_false_and_reclaims_it() {
    let (mut s, clock) = store();
    put_ttl(&mut s, NS, b"k", b"v", 10);
    clock.advance(10);
    assert!(!s.delete(NS, b"k").unwrap());
    assert_eq!(stored_entries(&snapshot(&s), NS), 0);
    assert!(!mentions(&snapshot(&s), NS, b"k"));
    let stats = s.stats(NS).unwrap();
    assert_eq!(
        (stats.deletes, stats.expirations, stats.total_keys),
        (0, 1, 0)
    );
    assert_eq!(s.tick(10).unwrap(), TickReport::default());
}

#[test]
fn delete_many_does_not_count_expired_keys() {
    let (mut s, clock) = store();
    put_ttl(&mut s, NS, b"a", b"v", 10);
    put(&mut s, NS, b"b", b"v");
    clock.advance(10);
    assert_eq!(
        s.delete_many(NS, &[b"a".to_vec(), b"b".to_vec()]).unwrap(),
        1
    );
    assert_eq!(s.size(NS).unwrap(), 0);
}

#[test]
fn transaction_conditions_see_expired_keys_as_absent() {
    let (mut s, clock) = store();
    use nexus_store::{Condition, Op};
    let v = put_ttl(&mut s, NS, b"k", b"v", 10);
    clock.advance(10);
    let before = snapshot(&s);
    assert_err!(
        s.transaction(NS, &[Condition::Present(b"k".to_vec())], &[]),
        Error::ConditionFailed(_)
    );
    assert_err!(
        s.transaction(
            NS,
            &[Condition::VersionIs(b"k".to_vec(), v)],
            &[Op::Delete(b"k".to_vec())]
        ),
        Error::ConditionFailed(_)
    );
    assert_eq!(snapshot(&s), before);
    let set = Op::Set {
        key: b"k".to_vec(),
        value: b"fresh".to_vec(),
        ttl_ms: None,
    };
    s.transaction(NS, &[Condition::Absent(b"k".to_vec())], &[set])
        .unwrap();
    assert_eq!(value_of(&mut s, NS, b"k").unwrap(), b"fresh");
    assert_eq!(s.size(NS).unwrap(), 1);
}

#[test]
fn set_many_with_a_ttl_applies_it_to_every_item() {
    let (mut s, clock) = store();
    let items = vec![
        (b"a".to_vec(), b"1".to_vec()),
        (b"b".to_vec(), b"2".to_vec()),
    ];
    s.set_many(NS, &items, Some(30)).unwrap();
    for e in s.get_many(NS, &[b"a".to_vec(), b"b".to_vec()]).unwrap() {
        assert_eq!(e.unwrap().expires_at, Some(START_MS + 30));
    }
    clock.advance(30);
    assert_eq!(
        s.get_many(NS, &[b"a".to_vec(), b"b".to_vec()]).unwrap(),
        vec![None, None]
    );
    assert_eq!(s.size(NS).unwrap(), 0);
}

#[test]
fn clear_counts_only_live_keys() {
    let (mut s, clock) = store();
    put_ttl(&mut s, NS, b"a", b"v", 10);
    put(&mut s, NS, b"b", b"v");
    put(&mut s, NS, b"c", b"v");
    clock.advance(10);
    assert_eq!(s.clear(NS).unwrap(), 2);
    let stats = s.stats(NS).unwrap();
    assert_eq!(
        (stats.deletes, stats.expirations, stats.total_keys),
        (2, 1, 0)
    );
    assert_eq!(s.tick(10).unwrap(), TickReport::default());
}

#[test]
fn zero_or_overflowing_ttls_are_invalid_and_write_nothing() {
    let (mut s, _) = store();
    put(&mut s, NS, b"k", b"v");
    let before = snapshot(&s);
    assert_err!(s.set(NS, b"k", b"x", &ttl(0)), Error::InvalidArgument(_));
    assert_err!(
        s.set(NS, b"k", b"x", &ttl(u64::MAX)),
        Error::InvalidArgument(_)
    );
    assert_err!(
        s.set_many(NS, &[(b"k".to_vec(), b"x".to_vec())], Some(u64::MAX)),
        Error::InvalidArgument(_)
    );
    assert_eq!(snapshot(&s), before);
}
