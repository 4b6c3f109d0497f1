//! Key-change events: off by default; when on, every change to a key of
//! the namespace is an event in its queues, in the commit of the change,
//! and the events replayed in order give back the namespace's keys.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use common::{put, put_ttl, receive, store};
use nexus_store::events::{Delivery, LogQuery};
use nexus_store::{
    Clock, EvictionPolicy, KeyEvents, Limits, MAX_KEY_EVENT_VALUE_BYTES, ManualClock,
    MemoryStorage, Op, SetOptions, Storage, StorageError, Store,
};
use proptest::prelude::*;
use serde_json::Value;

const NS: &str = "app";

fn on(with_values: bool) -> KeyEvents {
    KeyEvents {
        enabled: true,
        include_values: with_values,
    }
}

/// The (event type, payload) of every delivery.
fn told(deliveries: &[Delivery]) -> Vec<(String, Value)> {
    deliveries
        .iter()
        .map(|d| {
            (
                d.envelope.event_type.clone(),
                serde_json::from_str(&d.envelope.payload).unwrap(),
            )
        })
        .collect()
}

#[test]
fn key_events_are_off_by_default_and_a_namespace_without_them_gets_none() {
    let (mut s, _) = store();
    assert_eq!(s.key_events(NS).unwrap(), KeyEvents::default());
    put(&mut s, NS, b"a", b"1");
    s.delete(NS, b"a").unwrap();
    assert!(receive(&mut s, NS, "c", 10).is_empty());
    let log = s
        .log_query(
            NS,
            &LogQuery {
                event_type: None,
                since: None,
                until: None,
                after_id: None,
                limit: 10,
            },
        )
        .unwrap();
    assert!(log.events.is_empty());
}

#[test]
fn every_kind_of_write_tells_its_change() {
    let (mut s, _) = store();
    s.set_key_events(NS, on(true)).unwrap();
    assert_eq!(s.key_events(NS).unwrap(), on(true));
    let v1 = put(&mut s, NS, b"a", b"1");
    let n = s.increment(NS, b"n", 5).unwrap();
    assert_eq!(n, 5);
    s.set_many(NS, &[(b"b".to_vec(), b"2".to_vec())], None)
        .unwrap();
    s.transaction(NS, &[], &[Op::Delete(b"b".to_vec())])
        .unwrap();
    assert!(s.delete(NS, b"a").unwrap());
    // A delete of a key that is not there changes nothing and tells nothing.
    assert!(!s.delete(NS, b"a").unwrap());

    let got = told(&receive(&mut s, NS, "c", 100));
    let kinds: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
    // A write that makes room tells its own change first, then the keys
    // evicted for it, all in its one commit.
    assert_eq!(
        kinds,
        ["kv.set", "kv.set", "kv.set", "kv.deleted", "kv.deleted"]
    );
    assert_eq!(got[0].1["key"], "a");
    assert_eq!(got[0].1["version"], v1);
    assert_eq!(got[0].1["value"], "1");
    assert_eq!(got[0].1["operation"], "set");
    assert_eq!(got[1].1["value"], "5");
    assert_eq!(got[3].1["key"], "b");
    assert_eq!(
        got[4].1["version"], v1,
        "a delete tells the version it removed"
    );
}

#[test]
fn values_are_left_out_unless_asked_for_and_too_large_ones_are_flagged() {
    let (mut s, _) = store();
    s.set_key_events(NS, on(false)).unwrap();
    put(&mut s, NS, b"a", b"secret");
    let got = told(&receive(&mut s, NS, "c", 10));
    assert!(got[0].1.get("value").is_none());

    s.set_key_events(NS, on(true)).unwrap();
    let big = vec![b'x'; MAX_KEY_EVENT_VALUE_BYTES + 1];
    put(&mut s, NS, b"big", &big);
    put(&mut s, NS, &[0xff, 0xfe], &[0, 159]);
    let got = told(&receive(&mut s, NS, "c", 10));
    assert_eq!(got[0].1["value_omitted"], true);
    assert_eq!(got[0].1["value_bytes"], big.len());
    assert_eq!(got[1].1["key_base64"], "//4=");
    assert_eq!(got[1].1["value_base64"], "AJ8=");
}

#[test]
fn expiry_eviction_and_clear_are_told() {
    let (mut s, clock) = store();
    s.set_key_events(NS, on(false)).unwrap();
    s.set_limits(
        NS,
        Limits {
            max_keys: Some(2),
            policy: EvictionPolicy::EvictLru,
            ..Limits::default()
        },
    )
    .unwrap();
    put_ttl(&mut s, NS, b"short", b"x", 1_000);
    put(&mut s, NS, b"old", b"x");
    clock.advance(2_000);
    assert_eq!(s.tick(100).unwrap().expired_keys, 1);
    put(&mut s, NS, b"new", b"x");
    put(&mut s, NS, b"newer", b"x");
    let cleared = s.clear(NS).unwrap();
    assert_eq!(cleared, 2);

    let got = told(&receive(&mut s, NS, "c", 100));
    let kinds: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
    // A write that makes room tells its own change first, then the keys
    // evicted for it, all in its one commit.
    assert_eq!(
        kinds,
        [
            "kv.set",
            "kv.set",
            "kv.expired",
            "kv.set",
            "kv.set",
            "kv.evicted",
            "kv.cleared"
        ]
    );
    assert_eq!(got[2].1["key"], "short");
    assert_eq!(got[5].1["key"], "old");
    assert_eq!(got[6].1["keys_deleted"], 2);
}

#[test]
fn subscriptions_choose_key_events_by_pattern() {
    let (mut s, _) = store();
    s.set_key_events(NS, on(false)).unwrap();
    s.subscribe(NS, "all-keys", &["kv.#".into()]).unwrap();
    s.subscribe(NS, "deletes", &["kv.deleted".into()]).unwrap();
    put(&mut s, NS, b"a", b"1");
    s.delete(NS, b"a").unwrap();
    let req = |group: &str| common::receive_req(Some(group), "c", 10, 30_000);
    assert_eq!(s.receive(NS, &req("all-keys")).unwrap().len(), 2);
    let deletes = s.receive(NS, &req("deletes")).unwrap();
    assert_eq!(told(&deletes)[0].0, "kv.deleted");
    assert_eq!(deletes.len(), 1);
}

#[test]
fn turning_key_events_off_stops_them() {
    let (mut s, _) = store();
    s.set_key_events(NS, on(false)).unwrap();
    put(&mut s, NS, b"a", b"1");
    s.set_key_events(NS, KeyEvents::default()).unwrap();
    put(&mut s, NS, b"a", b"2");
    assert_eq!(receive(&mut s, NS, "c", 10).len(), 1);
}

#[test]
fn a_namespace_with_key_events_tells_only_its_own_keys() {
    let (mut s, _) = store();
    s.set_key_events("watched", on(false)).unwrap();
    put(&mut s, "other", b"a", b"1");
    put(&mut s, "watched", b"a", b"1");
    assert!(receive(&mut s, "other", "c", 10).is_empty());
    assert_eq!(receive(&mut s, "watched", "c", 10).len(), 1);
}

#[test]
fn a_write_that_fails_leaves_neither_the_change_nor_its_event() {
    // Refuses every commit while `refusing` is set, as a storage that lost
    // its disk or connection: nothing of the commit is written.
    let refusing = std::rc::Rc::new(std::cell::Cell::new(false));
    let refused = refusing.clone();
    let storage = common::Gated::new(move |inner: &MemoryStorage, checks, writes| {
        if refused.get() {
            return Err(StorageError::Unavailable("disk gone".into()));
        }
        inner.commit(checks, writes)
    });
    let mut s = Store::new(storage, ManualClock::new(common::START_MS));
    s.set_key_events(NS, on(true)).unwrap();
    refusing.set(true);
    assert!(s.set(NS, b"a", b"1", &SetOptions::default()).is_err());
    refusing.set(false);
    assert_eq!(s.get(NS, b"a").unwrap(), None);
    let req = common::receive_req(None, "c", 10, 30_000);
    assert!(s.receive(NS, &req).unwrap().is_empty());
}

#[derive(Debug, Clone)]
enum Step {
    Set(u8, u8),
    SetTtl(u8, u8, u64),
    Delete(u8),
    Increment(u8, i8),
    Advance(u64),
    Tick,
    Clear,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..4u8, any::<u8>()).prop_map(|(k, v)| Step::Set(k, v)),
        2 => (0..4u8, any::<u8>(), 1..3_000u64).prop_map(|(k, v, t)| Step::SetTtl(k, v, t)),
        2 => (0..4u8).prop_map(Step::Delete),
        1 => (4..6u8, any::<i8>()).prop_map(|(k, d)| Step::Increment(k, d)),
        2 => (1..2_000u64).prop_map(Step::Advance),
        1 => Just(Step::Tick),
        1 => Just(Step::Clear),
    ]
}

proptest! {
    #![proptest_config(common::proptest_config(64))]

    /// Whatever writes, expirations, sweeps, evictions and clears happen,
    /// a consumer that applies the events in order holds exactly the
    /// namespace's live keys, values and versions.
    #[test]
    fn replaying_the_events_gives_back_the_namespace(
        steps in prop::collection::vec(step(), 1..40),
        max_keys in prop::option::of(3..5u64),
    ) {
        let (mut s, clock) = store();
        s.set_key_events(NS, on(true)).unwrap();
        s.set_limits(NS, Limits { max_keys, policy: EvictionPolicy::EvictLru, ..Limits::default() }).unwrap();
        let mut replica: BTreeMap<String, (String, u64, Option<u64>)> = BTreeMap::new();
        for step in steps {
            match step {
                Step::Set(k, v) => { put(&mut s, NS, &[b'k', b'0' + k], v.to_string().as_bytes()); }
                Step::SetTtl(k, v, t) => { put_ttl(&mut s, NS, &[b'k', b'0' + k], v.to_string().as_bytes(), t); }
                Step::Delete(k) => { s.delete(NS, &[b'k', b'0' + k]).unwrap(); }
                Step::Increment(k, d) => { s.increment(NS, &[b'k', b'0' + k], i64::from(d)).unwrap(); }
                Step::Advance(ms) => clock.advance(ms),
                Step::Tick => { s.tick(1_000).unwrap(); }
                Step::Clear => { s.clear(NS).unwrap(); }
            }
            loop {
                let got = receive(&mut s, NS, "replica", 100);
                if got.is_empty() { break; }
                for d in &got {
                    let p: Value = serde_json::from_str(&d.envelope.payload).unwrap();
                    let key = || p["key"].as_str().unwrap().to_string();
                    match d.envelope.event_type.as_str() {
                        "kv.set" => {
                            // An expired version a write replaces is told
                            // as expired first, as the statistics count it.
                            let at = d.envelope.emitted_at;
                            let stale = replica.get(&key()).is_some_and(|r| r.2.is_some_and(|e| e <= at));
                            prop_assert!(!stale, "{} replaced an expired version untold", key());
                            replica.insert(key(), (
                                p["value"].as_str().unwrap().to_string(),
                                p["version"].as_u64().unwrap(),
                                p["expires_at"].as_u64(),
                            ));
                        }
                        "kv.deleted" | "kv.expired" | "kv.evicted" => {
                            let removed = replica.remove(&key());
                            prop_assert_eq!(removed.map(|r| r.1), p["version"].as_u64());
                        }
                        "kv.cleared" => replica.clear(),
                        other => prop_assert!(false, "unexpected event {}", other),
                    }
                    s.ack(NS, None, "replica", &d.envelope.message_id).unwrap();
                }
            }
            // Expired keys the sweep has not reached yet are told when it
            // does: the replica still holds them, but nothing live differs.
            let now = clock.now_ms();
            let visible: BTreeMap<_, _> = replica
                .iter()
                .filter(|(_, (_, _, expires))| expires.is_none_or(|at| at > now))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut live = BTreeMap::new();
            for k in common::list_all(&mut s, NS, b"", 100) {
                let e = s.get(NS, &k).unwrap().unwrap();
                live.insert(String::from_utf8(k).unwrap(), (String::from_utf8(e.value).unwrap(), e.version, e.expires_at));
            }
            prop_assert_eq!(&live, &visible);
        }
    }
}
