//! Key-value operations: set/get/delete/exists, versions, conditional sets,
//! the batch calls, increment, list and transactions.

#[macro_use]
mod common;

use common::*;
use nexus_store::{Condition, Error, Limits, ListOptions, Op, SetOptions};

const NS: &str = "app";

fn only_if_absent() -> SetOptions {
    SetOptions {
        only_if_absent: true,
        ..SetOptions::default()
    }
}

fn only_if_version(v: u64) -> SetOptions {
    SetOptions {
        only_if_version: Some(v),
        ..SetOptions::default()
    }
}

fn small_values(s: &mut TestStore, max_value_bytes: u32) {
    let limits = Limits {
        max_value_bytes,
        ..Limits::default()
    };
    s.set_limits(NS, limits).unwrap();
}

// ---------------------------------------------------------------- set / get

#[test]
fn set_then_get_returns_the_value_and_the_version() {
    let (mut s, _) = store();
    let v = put(&mut s, NS, b"k", b"hello");
    let e = s.get(NS, b"k").unwrap().expect("present");
    assert_eq!(e.value, b"hello");
    assert_eq!(e.version, v);
    assert_eq!(e.expires_at, None);
}

#[test]
fn get_of_an_absent_key_is_none() {
    let (mut s, _) = store();
    assert_eq!(s.get(NS, b"nope").unwrap(), None);
    put(&mut s, NS, b"k", b"v");
    assert_eq!(s.get(NS, b"nope").unwrap(), None);
}

#[test]
fn set_overwrites_the_value() {
    let (mut s, _) = store();
    put(&mut s, NS, b"k", b"one");
    put(&mut s, NS, b"k", b"two");
    assert_eq!(value_of(&mut s, NS, b"k").unwrap(), b"two");
    assert_eq!(s.size(NS).unwrap(), 1);
}

#[test]
fn empty_and_binary_values_round_trip() {
    let (mut s, _) = store();
    put(&mut s, NS, b"empty", b"");
    let bin: Vec<u8> = (0..=255).collect();
    put(&mut s, NS, &[0x00, 0xFF, b':'], &bin);
    assert_eq!(value_of(&mut s, NS, b"empty").unwrap(), b"");
    assert_eq!(value_of(&mut s, NS, &[0x00, 0xFF, b':']).unwrap(), bin);
}

#[test]
fn delete_removes_the_key_and_says_whether_it_existed() {
    let (mut s, _) = store();
    put(&mut s, NS, b"k", b"v");
    assert!(s.delete(NS, b"k").unwrap());
    assert_eq!(s.get(NS, b"k").unwrap(), None);
    assert!(!s.delete(NS, b"k").unwrap());
    assert_eq!(s.size(NS).unwrap(), 0);
}

#[test]
fn delete_of_an_absent_key_writes_nothing() {
    let (mut s, _) = store();
    put(&mut s, NS, b"k", b"v");
    let before = snapshot(&s);
    assert!(!s.delete(NS, b"other").unwrap());
    assert!(!s.delete("elsewhere", b"k").unwrap());
    assert_eq!(snapshot(&s), before);
}

#[test]
fn exists_follows_set_and_delete() {
    let (mut s, _) = store();
    assert!(!s.exists(NS, b"k").unwrap());
    put(&mut s, NS, b"k", b"v");
    assert!(s.exists(NS, b"k").unwrap());
    s.delete(NS, b"k").unwrap();
    assert!(!s.exists(NS, b"k").unwrap());
}

// ---------------------------------------------------------------- versions

#[test]
fn versions_grow_on_every_write() {
    let (mut s, clock) = store();
    let mut last = put(&mut s, NS, b"k", b"0");
    let mut check = |v: u64, what: &str| {
        assert!(v > last, "{what}: version {v} is not above {last}");
        last = v;
    };
    // Several writes within the same millisecond.
    for _ in 0..5 {
        check(put(&mut s, NS, b"k", b"1"), "set in the same ms");
    }
    s.increment(NS, b"k", 1).unwrap();
    check(s.get(NS, b"k").unwrap().unwrap().version, "increment");
    check(
        s.set_many(NS, &[(b"k".to_vec(), b"3".to_vec())], None)
            .unwrap()[0],
        "set_many",
    );
    let tx = s
        .transaction(
            NS,
            &[],
            &[Op::Set {
                key: b"k".to_vec(),
                value: b"4".to_vec(),
                ttl_ms: None,
            }],
        )
        .unwrap();
    check(tx[0].unwrap(), "transaction");
    clock.advance(1);
    check(put(&mut s, NS, b"k", b"5"), "set a ms later");
    // Deleted and written again: still above every earlier version.
    s.delete(NS, b"k").unwrap();
    check(put(&mut s, NS, b"k", b"6"), "set after delete");
    assert_eq!(s.get(NS, b"k").unwrap().unwrap().version, last);
}

#[test]
fn versions_grow_even_when_the_clock_stands_still_at_zero() {
    let clock = nexus_store::ManualClock::new(0);
    let mut s = nexus_store::Store::new(nexus_store::MemoryStorage::new(), clock);
    let mut last = 0;
    for i in 0..10u8 {
        let v = s.set(NS, b"k", &[i], &SetOptions::default()).unwrap();
        assert!(v > last);
        last = v;
    }
}

// ---------------------------------------------------------------- conditional sets

#[test]
fn only_if_absent_writes_an_absent_key() {
    let (mut s, _) = store();
    let v = s.set(NS, b"k", b"v", &only_if_absent()).unwrap();
    assert_eq!(s.get(NS, b"k").unwrap().unwrap().version, v);
}

#[test]
fn only_if_absent_on_a_present_key_fails_and_writes_nothing() {
    let (mut s, _) = store();
    put(&mut s, NS, b"k", b"old");
    let before = snapshot(&s);
    assert_err!(
        s.set(NS, b"k", b"new", &only_if_absent()),
        Error::ConditionFailed(_)
    );
    assert_eq!(snapshot(&s), before);
    assert_eq!(value_of(&mut s, NS, b"k").unwrap(), b"old");
}

#[test]
fn only_if_version_with_the_current_version_writes() {
    let (mut s, _) = store();
    let v1 = put(&mut s, NS, b"k", b"one");
    let v2 = s.set(NS, b"k", b"two", &only_if_version(v1)).unwrap();
    assert!(v2 > v1);
    assert_eq!(value_of(&mut s, NS, b"k").unwrap(), b"two");
}

#[test]
fn only_if_version_with_a_stale_version_fails_and_writes_nothing() {
    let (mut s, _) = store();
    let v1 = put(&mut s, NS, b"k", b"one");
    put(&mut s, NS, b"k", b"two");
    let before = snapshot(&s);
    let msg = assert_err!(
        s.set(NS, b"k", b"three", &only_if_version(v1)),
        Error::ConditionFailed(_)
    );
    assert!(msg.contains(&v1.to_string()), "{msg}");
    assert_eq!(snapshot(&s), before);
    assert_eq!(value_of(&mut s, NS, b"k").unwrap(), b"two");
}

#[test]
fn only_if_version_on_an_absent_key_fails_and_writes_nothing() {
    let (mut s, _) = store();
    put(&mut s, NS, b"other", b"x");
    let before = snapshot(&s);
    assert_err!(
        s.set(NS, b"k", b"v", &only_if_version(1)),
        Error::ConditionFailed(_)
    );
    assert_eq!(snapshot(&s), before);
    // Not even the namespace is created by a failed conditional set.
    assert_err!(
        s.set("fresh", b"k", b"v", &only_if_version(1)),
        Error::ConditionFailed(_)
    );
    assert_eq!(s.namespace_info("fresh").unwrap(), None);
}

// ---------------------------------------------------------------- batches

#[test]
fn get_many_returns_each_key_in_order() {
    let (mut s, _) = store();
    let va = put(&mut s, NS, b"a", b"1");
    let vc = put(&mut s, NS, b"c", b"3");
    let got = s
        .get_many(
            NS,
            &[b"c".to_vec(), b"b".to_vec(), b"a".to_vec(), b"c".to_vec()],
        )
        .unwrap();
    let summary: Vec<Option<(Vec<u8>, u64)>> = got
        .into_iter()
        .map(|e| e.map(|e| (e.value, e.version)))
        .collect();
    assert_eq!(
        summary,
        vec![
            Some((b"3".to_vec(), vc)),
            None,
            Some((b"1".to_vec(), va)),
            Some((b"3".to_vec(), vc))
        ]
    );
    assert_eq!(s.get_many(NS, &[]).unwrap(), vec![]);
}

#[test]
fn set_many_writes_every_item_and_returns_their_versions() {
    let (mut s, _) = store();
    let items: Vec<(Vec<u8>, Vec<u8>)> = (0..5u8).map(|i| (vec![b'k', i], vec![i])).collect();
    let versions = s.set_many(NS, &items, None).unwrap();
    assert_eq!(versions.len(), 5);
    for ((k, v), version) in items.iter().zip(&versions) {
        let e = s.get(NS, k).unwrap().unwrap();
        assert_eq!((&e.value, e.version), (v, *version));
    }
    assert_eq!(s.size(NS).unwrap(), 5);
}

#[test]
fn set_many_with_one_bad_item_writes_nothing() {
    let (mut s, _) = store();
    put(&mut s, NS, b"existing", b"old");
    small_values(&mut s, 4);
    let before = snapshot(&s);
    let ok = |k: &[u8]| (k.to_vec(), b"ok".to_vec());
    // A value too large for the namespace.
    let items = vec![
        ok(b"a"),
        (b"existing".to_vec(), b"far too long".to_vec()),
        ok(b"c"),
    ];
    assert_err!(s.set_many(NS, &items, None), Error::ValueTooLarge(_));
    assert_eq!(snapshot(&s), before);
    // An empty key.
    let items = vec![ok(b"a"), ok(b"")];
    assert_err!(s.set_many(NS, &items, None), Error::InvalidKey(_));
    assert_eq!(snapshot(&s), before);
    // A key over the namespace's key limit.
    let items = vec![ok(b"a"), ok(&[b'x'; 5000])];
    assert_err!(s.set_many(NS, &items, None), Error::KeyTooLarge(_));
    assert_eq!(snapshot(&s), before);
    // A zero TTL.
    assert_err!(
        s.set_many(NS, &[ok(b"a")], Some(0)),
        Error::InvalidArgument(_)
    );
    assert_eq!(snapshot(&s), before);
}

#[test]
fn set_many_naming_a_key_twice_keeps_the_last_value_and_counts_it_once() {
    let (mut s, _) = store();
    let items = vec![
        (b"dup".to_vec(), b"first".to_vec()),
        (b"other".to_vec(), b"x".to_vec()),
        (b"dup".to_vec(), b"second".to_vec()),
    ];
    let versions = s.set_many(NS, &items, None).unwrap();
    assert_eq!(versions.len(), 3);
    let e = s.get(NS, b"dup").unwrap().unwrap();
    assert_eq!(e.value, b"second");
    assert_eq!(e.version, versions[2]);
    assert_eq!(
        list_all(&mut s, NS, b"", 100),
        vec![b"dup".to_vec(), b"other".to_vec()]
    );
    assert_eq!(s.size(NS).unwrap(), 2, "size counts distinct keys");
    assert_eq!(s.stats(NS).unwrap().total_keys, 2);
    // And the count stays exact when the key goes away again.
    s.delete(NS, b"dup").unwrap();
    s.delete(NS, b"other").unwrap();
    assert_eq!(s.size(NS).unwrap(), 0);
}

#[test]
fn delete_many_counts_distinct_live_keys() {
    let (mut s, _) = store();
    for k in [b"a", b"b", b"c"] {
        put(&mut s, NS, k, b"v");
    }
    let doomed = vec![
        b"a".to_vec(),
        b"missing".to_vec(),
        b"b".to_vec(),
        b"a".to_vec(),
        b"b".to_vec(),
    ];
    assert_eq!(s.delete_many(NS, &doomed).unwrap(), 2);
    assert_eq!(list_all(&mut s, NS, b"", 100), vec![b"c".to_vec()]);
    assert_eq!(
        s.size(NS).unwrap(),
        1,
        "size stays exact after deleting a key named twice"
    );
    let stats = s.stats(NS).unwrap();
    assert_eq!(stats.deletes, 2, "each deleted key is counted once");
    assert_eq!(stats.total_keys, 1);
    assert_eq!(s.delete_many(NS, &doomed).unwrap(), 0);
    assert_eq!(s.delete_many(NS, &[]).unwrap(), 0);
}

#[test]
fn delete_many_with_a_bad_key_deletes_nothing() {
    let (mut s, _) = store();
    put(&mut s, NS, b"a", b"v");
    let before = snapshot(&s);
    assert_err!(
        s.delete_many(NS, &[b"a".to_vec(), Vec::new()]),
        Error::InvalidKey(_)
    );
    assert_eq!(snapshot(&s), before);
}

// ---------------------------------------------------------------- increment

#[test]
fn increment_of_an_absent_key_starts_at_zero() {
    let (mut s, _) = store();
    assert_eq!(s.increment(NS, b"n", 5).unwrap(), 5);
    assert_eq!(value_of(&mut s, NS, b"n").unwrap(), b"5");
    assert_eq!(s.increment(NS, b"m", -3).unwrap(), -3);
    assert_eq!(s.increment(NS, b"z", 0).unwrap(), 0);
    assert_eq!(value_of(&mut s, NS, b"z").unwrap(), b"0");
}

#[test]
fn increment_adds_to_a_stored_decimal_integer() {
    let (mut s, _) = store();
    put(&mut s, NS, b"n", b"40");
    assert_eq!(s.increment(NS, b"n", 2).unwrap(), 42);
    assert_eq!(s.increment(NS, b"n", -50).unwrap(), -8);
    assert_eq!(value_of(&mut s, NS, b"n").unwrap(), b"-8");
    put(&mut s, NS, b"m", b"-9223372036854775808");
    assert_eq!(s.increment(NS, b"m", 1).unwrap(), i64::MIN + 1);
}

#[test]
fn increment_keeps_the_ttl() {
    let (mut s, clock) = store();
    put_ttl(&mut s, NS, b"n", b"1", 1000);
    let expires = s.get(NS, b"n").unwrap().unwrap().expires_at;
    assert_eq!(expires, Some(START_MS + 1000));
    clock.advance(400);
    assert_eq!(s.increment(NS, b"n", 1).unwrap(), 2);
    let e = s.get(NS, b"n").unwrap().unwrap();
    assert_eq!(
        e.expires_at, expires,
        "the TTL is neither dropped nor restarted"
    );
    clock.advance(600);
    assert_eq!(s.get(NS, b"n").unwrap(), None);
}

#[test]
fn increment_of_a_non_integer_is_not_an_integer_and_writes_nothing() {
    let (mut s, _) = store();
    for bad in [
        &b"abc"[..],
        b"",
        b"1.5",
        b" 1",
        b"12abc",
        b"\xff",
        b"99999999999999999999",
    ] {
        put(&mut s, NS, b"n", bad);
        let before = snapshot(&s);
        assert_err!(s.increment(NS, b"n", 1), Error::NotAnInteger(_));
        assert_eq!(snapshot(&s), before, "{bad:?}");
        assert_eq!(value_of(&mut s, NS, b"n").unwrap(), bad);
    }
}

#[test]
fn increment_that_overflows_fails_and_writes_nothing() {
    let (mut s, _) = store();
    put(&mut s, NS, b"max", i64::MAX.to_string().as_bytes());
    put(&mut s, NS, b"min", i64::MIN.to_string().as_bytes());
    let before = snapshot(&s);
    assert_err!(s.increment(NS, b"max", 1), Error::NotAnInteger(_));
    assert_err!(s.increment(NS, b"min", -1), Error::NotAnInteger(_));
    assert_eq!(snapshot(&s), before);
    assert_eq!(s.increment(NS, b"max", 0).unwrap(), i64::MAX);
}

#[test]
fn increment_whose_result_is_too_large_for_the_namespace_writes_nothing() {
    let (mut s, _) = store();
    small_values(&mut s, 1);
    assert_eq!(s.increment(NS, b"n", 9).unwrap(), 9);
    let before = snapshot(&s);
    assert_err!(s.increment(NS, b"n", 1), Error::ValueTooLarge(_));
    assert_eq!(snapshot(&s), before);
}

// ---------------------------------------------------------------- list

fn opts(prefix: &[u8], cursor: Option<Vec<u8>>, limit: u32) -> ListOptions {
    ListOptions {
        prefix: prefix.to_vec(),
        cursor,
        limit,
    }
}

#[test]
fn list_returns_keys_in_byte_order_with_their_details() {
    let (mut s, _) = store();
    let keys: Vec<Vec<u8>> = vec![
        b"b".to_vec(),
        vec![0xFF],
        b"a".to_vec(),
        b"B".to_vec(),
        vec![b'a', 0x00],
        b"a:".to_vec(),
        vec![0x00],
        b"ab".to_vec(),
    ];
    for (i, k) in keys.iter().enumerate() {
        put(&mut s, NS, k, &vec![b'x'; i]);
    }
    let page = s.list(NS, &ListOptions::default()).unwrap();
    assert_eq!(page.next_cursor, None);
    let listed: Vec<Vec<u8>> = page.keys.iter().map(|k| k.key.clone()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    for info in &page.keys {
        let e = s.get(NS, &info.key).unwrap().unwrap();
        assert_eq!(info.version, e.version);
        assert_eq!(info.expires_at, None);
        assert_eq!(info.value_len as usize, e.value.len());
    }
}

#[test]
fn list_with_a_prefix_returns_only_matching_keys() {
    let (mut s, _) = store();
    for k in [
        &b"user:1"[..],
        b"user:2",
        b"user",
        b"users",
        b"usa",
        b"zzz",
        b"u",
    ] {
        put(&mut s, NS, k, b"v");
    }
    put(&mut s, NS, &[0xFF, 0xFF, 1], b"v");
    put(&mut s, NS, &[0xFF, 0xFF], b"v");
    put(&mut s, NS, &[0xFE, 0xFF], b"v");
    let got = |s: &mut TestStore, p: &[u8]| list_all(s, NS, p, 1000);
    assert_eq!(
        got(&mut s, b"user:"),
        vec![b"user:1".to_vec(), b"user:2".to_vec()]
    );
    assert_eq!(
        got(&mut s, b"user"),
        vec![
            b"user".to_vec(),
            b"user:1".to_vec(),
            b"user:2".to_vec(),
            b"users".to_vec()
        ]
    );
    assert_eq!(got(&mut s, b"nothing"), Vec::<Vec<u8>>::new());
    assert_eq!(
        got(&mut s, &[0xFF]),
        vec![vec![0xFF, 0xFF], vec![0xFF, 0xFF, 1]]
    );
    assert_eq!(
        got(&mut s, &[0xFF, 0xFF]),
        vec![vec![0xFF, 0xFF], vec![0xFF, 0xFF, 1]]
    );
}

#[test]
fn list_cursor_paging_walks_every_key_exactly_once() {
    let (mut s, _) = store();
    let mut keys: Vec<Vec<u8>> = (0..57u32)
        .map(|i| format!("key{i:03}").into_bytes())
        .collect();
    keys.extend([
        vec![0x00],
        vec![0xFF],
        vec![b'k', 0x00],
        vec![b'k', 0xFF, 0xFF],
    ]);
    for k in &keys {
        put(&mut s, NS, k, b"v");
    }
    keys.sort();
    for limit in [1, 2, 3, 7, 60, 61, 62, 1000] {
        assert_eq!(list_all(&mut s, NS, b"", limit), keys, "limit {limit}");
    }
    let with_prefix: Vec<Vec<u8>> = keys
        .iter()
        .filter(|k| k.starts_with(b"key01"))
        .cloned()
        .collect();
    assert_eq!(with_prefix.len(), 10);
    for limit in [1, 3, 10] {
        assert_eq!(
            list_all(&mut s, NS, b"key01", limit),
            with_prefix,
            "limit {limit}"
        );
    }
}

#[test]
fn list_page_of_exactly_limit_keys_has_no_cursor_when_nothing_follows() {
    let (mut s, _) = store();
    for k in [b"a", b"b", b"c"] {
        put(&mut s, NS, k, b"v");
    }
    let page = s.list(NS, &opts(b"", None, 3)).unwrap();
    assert_eq!(page.keys.len(), 3);
    assert_eq!(page.next_cursor, None);
    let page = s.list(NS, &opts(b"", None, 2)).unwrap();
    assert_eq!(page.next_cursor, Some(b"b".to_vec()));
    let page = s.list(NS, &opts(b"", Some(b"b".to_vec()), 2)).unwrap();
    assert_eq!(
        page.keys.iter().map(|k| k.key.clone()).collect::<Vec<_>>(),
        vec![b"c".to_vec()]
    );
    assert_eq!(page.next_cursor, None);
}

#[test]
fn list_of_an_empty_or_unknown_namespace_is_empty() {
    let (mut s, _) = store();
    let page = s.list("nobody", &ListOptions::default()).unwrap();
    assert!(page.keys.is_empty());
    assert_eq!(page.next_cursor, None);
}

#[test]
fn list_limit_must_be_between_1_and_1000() {
    let (mut s, _) = store();
    put(&mut s, NS, b"k", b"v");
    let before = snapshot(&s);
    for limit in [0, 1001, u32::MAX] {
        assert_err!(
            s.list(NS, &opts(b"", None, limit)),
            Error::InvalidArgument(_)
        );
    }
    assert_eq!(snapshot(&s), before);
    for limit in [1, 1000] {
        assert_eq!(s.list(NS, &opts(b"", None, limit)).unwrap().keys.len(), 1);
    }
}

#[test]
fn list_with_more_keys_than_one_page_walks_all_of_them() {
    let (mut s, _) = store();
    let items: Vec<(Vec<u8>, Vec<u8>)> = (0..2500u32)
        .map(|i| (i.to_be_bytes().to_vec(), Vec::new()))
        .collect();
    s.set_many(NS, &items, None).unwrap();
    let want: Vec<Vec<u8>> = items.into_iter().map(|(k, _)| k).collect();
    assert_eq!(list_all(&mut s, NS, b"", 1000), want);
    assert_eq!(list_all(&mut s, NS, b"", 333), want);
}

// ---------------------------------------------------------------- transactions

fn set_op(k: &[u8], v: &[u8]) -> Op {
    Op::Set {
        key: k.to_vec(),
        value: v.to_vec(),
        ttl_ms: None,
    }
}

#[test]
fn transaction_applies_every_op_when_every_condition_holds() {
    let (mut s, _) = store();
    let va = put(&mut s, NS, b"a", b"1");
    put(&mut s, NS, b"b", b"2");
    let conditions = [
        Condition::Absent(b"new".to_vec()),
        Condition::Present(b"b".to_vec()),
        Condition::VersionIs(b"a".to_vec(), va),
    ];
    let ops = [
        set_op(b"new", b"n"),
        Op::Delete(b"b".to_vec()),
        set_op(b"a", b"10"),
    ];
    let versions = s.transaction(NS, &conditions, &ops).unwrap();
    assert_eq!(versions.len(), 3);
    assert!(versions[0].is_some());
    assert_eq!(versions[1], None);
    assert!(versions[2].unwrap() > va);
    assert_eq!(value_of(&mut s, NS, b"new").unwrap(), b"n");
    assert_eq!(value_of(&mut s, NS, b"b"), None);
    let a = s.get(NS, b"a").unwrap().unwrap();
    assert_eq!((a.value, Some(a.version)), (b"10".to_vec(), versions[2]));
    assert_eq!(s.size(NS).unwrap(), 2);
}

#[test]
fn transaction_with_a_failing_condition_writes_nothing() {
    let (mut s, _) = store();
    let va = put(&mut s, NS, b"a", b"1");
    let before = snapshot(&s);
    let ops = [
        set_op(b"a", b"2"),
        set_op(b"b", b"2"),
        Op::Delete(b"a".to_vec()),
    ];
    let failing = [
        vec![Condition::Absent(b"a".to_vec())],
        vec![Condition::Present(b"b".to_vec())],
        vec![Condition::VersionIs(b"a".to_vec(), va + 1)],
        vec![Condition::VersionIs(b"missing".to_vec(), va)],
        // Every condition must hold, not just some.
        vec![
            Condition::Present(b"a".to_vec()),
            Condition::Absent(b"a".to_vec()),
        ],
    ];
    for conditions in failing {
        assert_err!(
            s.transaction(NS, &conditions, &ops),
            Error::ConditionFailed(_)
        );
        assert_eq!(snapshot(&s), before, "{conditions:?}");
    }
}

#[test]
fn transaction_with_one_bad_op_writes_nothing() {
    let (mut s, _) = store();
    put(&mut s, NS, b"a", b"1");
    small_values(&mut s, 4);
    let before = snapshot(&s);
    let too_big = [
        set_op(b"b", b"ok"),
        Op::Delete(b"a".to_vec()),
        set_op(b"c", b"too long"),
    ];
    assert_err!(s.transaction(NS, &[], &too_big), Error::ValueTooLarge(_));
    let zero_ttl = [
        set_op(b"b", b"ok"),
        Op::Set {
            key: b"c".to_vec(),
            value: vec![],
            ttl_ms: Some(0),
        },
    ];
    assert_err!(s.transaction(NS, &[], &zero_ttl), Error::InvalidArgument(_));
    let empty_key = [Op::Delete(b"a".to_vec()), set_op(b"", b"x")];
    assert_err!(s.transaction(NS, &[], &empty_key), Error::InvalidKey(_));
    let bad_condition_key = [Condition::Absent(Vec::new())];
    assert_err!(
        s.transaction(NS, &bad_condition_key, &[set_op(b"b", b"x")]),
        Error::InvalidKey(_)
    );
    assert_eq!(snapshot(&s), before);
}

#[test]
fn transaction_ops_apply_in_order_on_the_same_key() {
    let (mut s, _) = store();
    put(&mut s, NS, b"a", b"old");
    s.transaction(NS, &[], &[Op::Delete(b"a".to_vec()), set_op(b"a", b"new")])
        .unwrap();
    assert_eq!(value_of(&mut s, NS, b"a").unwrap(), b"new");
    s.transaction(
        NS,
        &[],
        &[
            set_op(b"b", b"1"),
            set_op(b"b", b"2"),
            set_op(b"c", b"x"),
            Op::Delete(b"c".to_vec()),
        ],
    )
    .unwrap();
    assert_eq!(value_of(&mut s, NS, b"b").unwrap(), b"2");
    assert_eq!(value_of(&mut s, NS, b"c"), None);
    assert_eq!(
        list_all(&mut s, NS, b"", 10),
        vec![b"a".to_vec(), b"b".to_vec()]
    );
    assert_eq!(s.size(NS).unwrap(), 2);
}

#[test]
fn transaction_with_conditions_only_writes_nothing() {
    let (mut s, _) = store();
    put(&mut s, NS, b"a", b"1");
    let before = snapshot(&s);
    assert_eq!(
        s.transaction(NS, &[Condition::Present(b"a".to_vec())], &[])
            .unwrap(),
        vec![]
    );
    assert_err!(
        s.transaction(NS, &[Condition::Absent(b"a".to_vec())], &[]),
        Error::ConditionFailed(_)
    );
    assert_eq!(snapshot(&s), before);
}

#[test]
fn transaction_set_with_ttl_expires() {
    let (mut s, clock) = store();
    let ops = [Op::Set {
        key: b"t".to_vec(),
        value: b"v".to_vec(),
        ttl_ms: Some(50),
    }];
    s.transaction(NS, &[], &ops).unwrap();
    assert_eq!(
        s.get(NS, b"t").unwrap().unwrap().expires_at,
        Some(START_MS + 50)
    );
    clock.advance(50);
    assert_eq!(s.get(NS, b"t").unwrap(), None);
    assert_eq!(s.size(NS).unwrap(), 0);
}
