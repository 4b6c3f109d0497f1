//! Every validation rule gives its typed error, and the storage is exactly
//! as it was before the failed call.

#[macro_use]
mod common;

use common::*;
use nexus_store::{Condition, Error, EvictionPolicy, Limits, ListOptions, Op, SetOptions};

/// Runs `$call` on `$s`, asserts it fails with `$pat` and that nothing in the
/// storage changed; evaluates to the error message.
macro_rules! rejects {
    ($s:expr, $call:expr, $pat:pat) => {{
        let before = snapshot(&$s);
        let msg = assert_err!($call, $pat);
        assert!(!msg.is_empty());
        assert_eq!(
            snapshot(&$s),
            before,
            "{} changed the storage",
            stringify!($call)
        );
        msg
    }};
}

const NS: &str = "main";
/// A namespace with tight limits.
const TIGHT: &str = "tight";

/// A store with some content in a few namespaces, keys with TTLs, and one
/// namespace with small limits that is full.
fn populated() -> (TestStore, nexus_store::ManualClock) {
    let (mut s, clock) = store();
    put(&mut s, NS, b"k", b"v");
    put(&mut s, NS, b"word", b"abc");
    put(&mut s, NS, b"max", i64::MAX.to_string().as_bytes());
    put_ttl(&mut s, NS, b"ttl", b"1", 1_000_000);
    put(&mut s, "other", b"k", b"v");
    let limits = Limits {
        max_keys: Some(2),
        max_key_bytes: 4,
        max_value_bytes: 4,
        policy: EvictionPolicy::Reject,
        ..Limits::default()
    };
    s.set_limits(TIGHT, limits).unwrap();
    put(&mut s, TIGHT, b"a", b"1");
    put(&mut s, TIGHT, b"b", b"2");
    s.set_metadata(NS, r#"{"team":"x"}"#).unwrap();
    clock.advance(1);
    (s, clock)
}

fn plain() -> SetOptions {
    SetOptions::default()
}

const BAD_NAMES: [&str; 8] = [
    "",
    "core",
    "PGMQ",
    "_hidden",
    "a:b",
    "a b",
    "ü",
    "0123456789012345678901234567890123456789012345678901234567890123x",
];

#[test]
fn each_bad_namespace_name_is_invalid_namespace_and_writes_nothing() {
    let (mut s, _) = populated();
    for bad in BAD_NAMES {
        rejects!(
            s,
            s.set(bad, b"k", b"v", &plain()),
            Error::InvalidNamespace(_)
        );
        rejects!(
            s,
            s.set_many(bad, &[(b"k".to_vec(), vec![])], None),
            Error::InvalidNamespace(_)
        );
        rejects!(s, s.increment(bad, b"k", 1), Error::InvalidNamespace(_));
        rejects!(s, s.delete(bad, b"k"), Error::InvalidNamespace(_));
        rejects!(s, s.clear(bad), Error::InvalidNamespace(_));
        rejects!(s, s.drop_namespace(bad), Error::InvalidNamespace(_));
        rejects!(s, s.set_metadata(bad, "{}"), Error::InvalidNamespace(_));
        rejects!(
            s,
            s.set_limits(bad, Limits::default()),
            Error::InvalidNamespace(_)
        );
        rejects!(s, s.get(bad, b"k"), Error::InvalidNamespace(_));
    }
}

#[test]
fn each_namespace_rule_has_its_own_reason() {
    let (mut s, _) = populated();
    let empty = rejects!(
        s,
        s.set("", b"k", b"v", &plain()),
        Error::InvalidNamespace(_)
    );
    let long = rejects!(
        s,
        s.set(&"n".repeat(65), b"k", b"v", &plain()),
        Error::InvalidNamespace(_)
    );
    let chars = rejects!(
        s,
        s.set("a.b", b"k", b"v", &plain()),
        Error::InvalidNamespace(_)
    );
    let under = rejects!(
        s,
        s.set("_a", b"k", b"v", &plain()),
        Error::InvalidNamespace(_)
    );
    let reserved = rejects!(
        s,
        s.set("core", b"k", b"v", &plain()),
        Error::InvalidNamespace(_)
    );
    assert!(empty.contains("empty"), "{empty}");
    assert!(long.contains("64"), "{long}");
    assert!(chars.contains("not allowed"), "{chars}");
    assert!(under.contains('_'), "{under}");
    assert!(reserved.contains("reserved"), "{reserved}");
    let all = [empty, long, chars, under, reserved];
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn an_empty_key_is_invalid_key_for_every_call() {
    let (mut s, _) = populated();
    let e = Vec::new();
    rejects!(s, s.set(NS, &e, b"v", &plain()), Error::InvalidKey(_));
    rejects!(s, s.get(NS, &e), Error::InvalidKey(_));
    rejects!(s, s.exists(NS, &e), Error::InvalidKey(_));
    rejects!(s, s.delete(NS, &e), Error::InvalidKey(_));
    rejects!(s, s.increment(NS, &e, 1), Error::InvalidKey(_));
    rejects!(
        s,
        s.get_many(NS, &[b"k".to_vec(), e.clone()]),
        Error::InvalidKey(_)
    );
    rejects!(
        s,
        s.set_many(NS, &[(b"new".to_vec(), vec![]), (e.clone(), vec![])], None),
        Error::InvalidKey(_)
    );
    rejects!(
        s,
        s.delete_many(NS, &[b"k".to_vec(), e.clone()]),
        Error::InvalidKey(_)
    );
    rejects!(
        s,
        s.transaction(NS, &[], &[Op::Delete(b"k".to_vec()), Op::Delete(e.clone())]),
        Error::InvalidKey(_)
    );
    rejects!(
        s,
        s.transaction(
            NS,
            &[Condition::Present(e.clone())],
            &[Op::Delete(b"k".to_vec())]
        ),
        Error::InvalidKey(_)
    );
}

#[test]
fn a_key_over_the_namespace_limit_is_key_too_large_on_writes_only() {
    let (mut s, _) = populated();
    let long = b"abcde".to_vec();
    rejects!(
        s,
        s.set(TIGHT, &long, b"v", &plain()),
        Error::KeyTooLarge(_)
    );
    rejects!(s, s.increment(TIGHT, &long, 1), Error::KeyTooLarge(_));
    rejects!(
        s,
        s.set_many(TIGHT, &[(long.clone(), vec![])], None),
        Error::KeyTooLarge(_)
    );
    rejects!(
        s,
        s.transaction(
            TIGHT,
            &[],
            &[Op::Set {
                key: long.clone(),
                value: b"v".to_vec(),
                ttl_ms: None
            }]
        ),
        Error::KeyTooLarge(_)
    );
    // Reading, deleting and testing such a key is allowed: the key may have
    // been written before the limit was lowered.
    assert!(!s.delete(TIGHT, &long).unwrap());
    s.delete_many(TIGHT, std::slice::from_ref(&long)).unwrap();
    s.transaction(TIGHT, &[Condition::Absent(long.clone())], &[])
        .unwrap();
}

#[test]
fn a_key_over_the_absolute_cap_is_invalid_key_even_for_reads() {
    let (mut s, _) = populated();
    let huge = vec![b'k'; 64 * 1024 + 1];
    rejects!(s, s.get(NS, &huge), Error::InvalidKey(_));
    rejects!(s, s.exists(NS, &huge), Error::InvalidKey(_));
    rejects!(
        s,
        s.get_many(NS, std::slice::from_ref(&huge)),
        Error::InvalidKey(_)
    );
    rejects!(s, s.set(NS, &huge, b"v", &plain()), Error::InvalidKey(_));
    let list = ListOptions {
        prefix: huge.clone(),
        ..ListOptions::default()
    };
    rejects!(s, s.list(NS, &list), Error::InvalidKey(_));
    // A read of a key between the namespace limit and the cap is just a miss.
    assert_eq!(s.get(TIGHT, b"abcde").unwrap(), None);
}

#[test]
fn a_value_over_the_limit_is_value_too_large() {
    let (mut s, _) = populated();
    rejects!(
        s,
        s.set(TIGHT, b"a", b"12345", &plain()),
        Error::ValueTooLarge(_)
    );
    rejects!(
        s,
        s.set_many(TIGHT, &[(b"a".to_vec(), b"12345".to_vec())], None),
        Error::ValueTooLarge(_)
    );
    let op = Op::Set {
        key: b"a".to_vec(),
        value: b"12345".to_vec(),
        ttl_ms: None,
    };
    rejects!(s, s.transaction(TIGHT, &[], &[op]), Error::ValueTooLarge(_));
    put(&mut s, TIGHT, b"a", b"9999");
    rejects!(s, s.increment(TIGHT, b"a", 1), Error::ValueTooLarge(_));
}

#[test]
fn bad_ttls_and_limits_are_invalid_argument() {
    let (mut s, _) = populated();
    rejects!(s, s.set(NS, b"k", b"v", &ttl(0)), Error::InvalidArgument(_));
    rejects!(
        s,
        s.set(NS, b"new", b"v", &ttl(u64::MAX)),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.set_many(NS, &[(b"k".to_vec(), vec![])], Some(0)),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.set_many(NS, &[(b"k".to_vec(), vec![])], Some(u64::MAX)),
        Error::InvalidArgument(_)
    );
    let op = |ttl| Op::Set {
        key: b"k".to_vec(),
        value: vec![],
        ttl_ms: Some(ttl),
    };
    rejects!(
        s,
        s.transaction(NS, &[], &[op(0)]),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.transaction(NS, &[], &[Op::Delete(b"word".to_vec()), op(u64::MAX)]),
        Error::InvalidArgument(_)
    );
    for limit in [0, 1001] {
        let list = ListOptions {
            limit,
            ..ListOptions::default()
        };
        rejects!(s, s.list(NS, &list), Error::InvalidArgument(_));
    }
    rejects!(
        s,
        s.set_limits(
            NS,
            Limits {
                max_keys: Some(0),
                ..Limits::default()
            }
        ),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.set_limits(
            NS,
            Limits {
                max_key_bytes: 0,
                ..Limits::default()
            }
        ),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.set_limits(
            NS,
            Limits {
                max_key_bytes: 70_000,
                ..Limits::default()
            }
        ),
        Error::InvalidArgument(_)
    );
    rejects!(
        s,
        s.set_limits(
            NS,
            Limits {
                max_value_bytes: u32::MAX,
                ..Limits::default()
            }
        ),
        Error::InvalidArgument(_)
    );
}

#[test]
fn increments_that_cannot_be_done_are_not_an_integer() {
    let (mut s, _) = populated();
    rejects!(s, s.increment(NS, b"word", 1), Error::NotAnInteger(_));
    rejects!(s, s.increment(NS, b"max", 1), Error::NotAnInteger(_));
    put(&mut s, NS, b"min", i64::MIN.to_string().as_bytes());
    rejects!(s, s.increment(NS, b"min", -1), Error::NotAnInteger(_));
}

#[test]
fn metadata_that_is_not_a_json_object_is_invalid_metadata() {
    let (mut s, _) = populated();
    for bad in ["", "[]", "42", "\"s\"", "null", "{", "{\"a\":}", "{'a':1}"] {
        rejects!(s, s.set_metadata(NS, bad), Error::InvalidMetadata(_));
        rejects!(
            s,
            s.set_metadata("brand-new", bad),
            Error::InvalidMetadata(_)
        );
    }
}

#[test]
fn failed_conditions_are_condition_failed() {
    let (mut s, _) = populated();
    let v = s.get(NS, b"k").unwrap().unwrap().version;
    let absent = SetOptions {
        only_if_absent: true,
        ..SetOptions::default()
    };
    rejects!(s, s.set(NS, b"k", b"x", &absent), Error::ConditionFailed(_));
    let stale = SetOptions {
        only_if_version: Some(v - 1),
        ..SetOptions::default()
    };
    rejects!(s, s.set(NS, b"k", b"x", &stale), Error::ConditionFailed(_));
    let missing = SetOptions {
        only_if_version: Some(v),
        ..SetOptions::default()
    };
    rejects!(
        s,
        s.set(NS, b"nope", b"x", &missing),
        Error::ConditionFailed(_)
    );
    let ops = [
        Op::Delete(b"k".to_vec()),
        Op::Set {
            key: b"z".to_vec(),
            value: vec![],
            ttl_ms: None,
        },
    ];
    rejects!(
        s,
        s.transaction(NS, &[Condition::Absent(b"k".to_vec())], &ops),
        Error::ConditionFailed(_)
    );
    rejects!(
        s,
        s.transaction(NS, &[Condition::Present(b"nope".to_vec())], &ops),
        Error::ConditionFailed(_)
    );
    rejects!(
        s,
        s.transaction(NS, &[Condition::VersionIs(b"k".to_vec(), v + 1)], &ops),
        Error::ConditionFailed(_)
    );
}

#[test]
fn a_full_namespace_under_reject_is_quota_exceeded() {
    let (mut s, _) = populated();
    rejects!(
        s,
        s.set(TIGHT, b"c", b"3", &plain()),
        Error::QuotaExceeded(_)
    );
    rejects!(s, s.increment(TIGHT, b"c", 1), Error::QuotaExceeded(_));
    rejects!(
        s,
        s.set_many(
            TIGHT,
            &[(b"a".to_vec(), vec![]), (b"c".to_vec(), vec![])],
            None
        ),
        Error::QuotaExceeded(_)
    );
    let op = Op::Set {
        key: b"c".to_vec(),
        value: vec![],
        ttl_ms: None,
    };
    rejects!(s, s.transaction(TIGHT, &[], &[op]), Error::QuotaExceeded(_));
}

#[test]
fn metadata_of_an_unknown_namespace_is_not_found() {
    let (mut s, _) = populated();
    rejects!(s, s.get_metadata("unknown"), Error::NotFound(_));
}

#[test]
fn errors_compare_and_display_by_kind() {
    let e = Error::InvalidKey("key is empty".into());
    assert_eq!(e.to_string(), "invalid key: key is empty");
    assert_eq!(e.clone(), e);
    assert_ne!(e, Error::InvalidArgument("key is empty".into()));
}
