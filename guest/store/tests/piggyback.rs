//! Ticks carried by requests, for hosts that make an instance per request:
//! the last tick's time lives in storage, so instances agree on when one is
//! due, and the sweep continues where another instance's stopped.

mod common;

use std::sync::Arc;

use common::START_MS;
use nexus_store::events::{EmitOptions, EventDraft};
use nexus_store::{ManualClock, MemoryStorage, Store};

type Shared = Store<Arc<MemoryStorage>, ManualClock>;

fn instance(storage: &Arc<MemoryStorage>, clock: &ManualClock) -> Shared {
    Store::new(storage.clone(), clock.clone())
}

#[test]
fn one_tick_per_interval_over_all_instances() {
    let storage = Arc::new(MemoryStorage::new());
    let clock = ManualClock::new(START_MS);
    let first = instance(&storage, &clock).tick_if_due(1_000, 100).unwrap();
    assert!(first.ran.is_some(), "the first request of a storage ticks");
    assert_eq!(first.first_tick_at, START_MS);

    clock.advance(999);
    let early = instance(&storage, &clock).tick_if_due(1_000, 100).unwrap();
    assert_eq!(early.ran, None, "a second has not passed");
    assert_eq!(early.first_tick_at, START_MS);

    clock.advance(1);
    let mut a = instance(&storage, &clock);
    let mut b = instance(&storage, &clock);
    assert!(a.tick_if_due(1_000, 100).unwrap().ran.is_some());
    assert_eq!(b.tick_if_due(1_000, 100).unwrap().ran, None, "a claimed it");
    assert_eq!(
        b.tick_if_due(1_000, 100).unwrap().first_tick_at,
        START_MS,
        "the first tick's time stays"
    );
}

#[test]
fn sweeps_continue_where_another_instance_stopped() {
    let storage = Arc::new(MemoryStorage::new());
    let clock = ManualClock::new(START_MS);
    let mut writer = instance(&storage, &clock);
    for ns in ["a", "b", "c"] {
        for i in 0..4u8 {
            put_ttl_shared(&mut writer, ns, &[i], 10);
        }
    }
    clock.advance(1_000);
    // A budget of 4 sweeps one namespace a tick: each request is a new
    // instance, and yet every namespace gets its turn.
    let mut swept = 0;
    for _ in 0..3 {
        let tick = instance(&storage, &clock).tick_if_due(1_000, 4).unwrap();
        swept += tick.ran.expect("a second has passed").expired_keys;
        clock.advance(1_000);
    }
    assert_eq!(swept, 12);
    for ns in ["a", "b", "c"] {
        assert_eq!(writer.size(ns).unwrap(), 0, "{ns} swept");
        assert_eq!(writer.stats(ns).unwrap().expirations, 4, "{ns} counted");
    }
}

fn put_ttl_shared(s: &mut Shared, ns: &str, key: &[u8], ttl_ms: u64) {
    s.set(ns, key, b"v", &common::ttl(ttl_ms))
        .expect("set with ttl");
}

/// Instances of one request each: sets and deletes count in their own
/// commits, so nothing is left to flush but reads, and nothing is lost
/// when an instance ends without a flush.
#[test]
fn one_request_instances_count_writes_without_a_flush() {
    let storage = Arc::new(MemoryStorage::new());
    let clock = ManualClock::new(START_MS);
    for i in 0..3u8 {
        let mut s = Store::for_one_request(storage.clone(), clock.clone(), u64::from(i));
        s.set("a", &[i], b"v", &Default::default()).unwrap();
    }
    Store::for_one_request(storage.clone(), clock.clone(), 9)
        .delete("a", &[0])
        .unwrap();
    let stats = instance(&storage, &clock).stats("a").unwrap();
    assert_eq!((stats.sets, stats.deletes), (3, 1));
}

/// One-request instances that sample their read counts: over every draw
/// of `one_in` consecutive ones, exactly one instance writes, counting
/// `one_in` times its reads, so the sum is the true count; the others
/// write nothing (a read stays a read) and writes stay exact.
#[test]
fn sampled_read_counts_are_unbiased_and_most_reads_write_nothing() {
    let storage = Arc::new(MemoryStorage::new());
    let clock = ManualClock::new(START_MS);
    Store::for_one_request(storage.clone(), clock.clone(), 99)
        .set("a", b"k", b"v", &Default::default())
        .unwrap();
    let mut writing = 0;
    for draw in 0..16u64 {
        let mut s = Store::for_one_request(storage.clone(), clock.clone(), draw);
        s.get("a", b"k").unwrap();
        s.get("a", b"k").unwrap();
        s.get("a", b"absent").unwrap();
        s.sample_read_counts(16, draw);
        writing += usize::from(s.has_pending_counts());
        s.flush().unwrap();
    }
    assert_eq!(writing, 1, "one instance in 16 writes its counts");
    let stats = instance(&storage, &clock).stats("a").unwrap();
    assert_eq!((stats.hits, stats.misses, stats.sets), (32, 16, 1));

    let mut exact = Store::for_one_request(storage.clone(), clock.clone(), 1);
    exact.get("a", b"k").unwrap();
    exact.sample_read_counts(1, 12345);
    exact.flush().unwrap();
    assert_eq!(
        instance(&storage, &clock).stats("a").unwrap().hits,
        33,
        "1 is exact"
    );
}

/// The reads a host can fetch before answering a request in one round
/// trip: the tick's state, whether tokens exist, and a GET's entry.
#[test]
fn first_reads_name_the_tick_the_token_scan_and_the_entry() {
    let get = nexus_store::http::Request {
        method: "GET".into(),
        path: "/get/user:1".into(),
        query: "ns=app".into(),
        ..Default::default()
    };
    let reads = nexus_store::http::first_reads(&get, true);
    assert_eq!(
        reads.keys.len(),
        2,
        "the tick's state, the entry: {reads:?}"
    );
    assert_eq!(reads.scans.len(), 1, "are there tokens?");
    let health = nexus_store::http::Request {
        method: "GET".into(),
        path: "/health".into(),
        ..Default::default()
    };
    let reads = nexus_store::http::first_reads(&health, false);
    assert_eq!(reads, Default::default(), "an open route asks for no token");
    let namespaced = nexus_store::http::Request {
        query: "ns=app".into(),
        ..health
    };
    let reads = nexus_store::http::first_reads(&namespaced, false);
    assert_eq!(reads.scans.len(), 1, "/health?ns= reads like the namespace");
}

#[test]
fn seeded_instances_pick_different_message_ids_in_one_millisecond() {
    let storage = Arc::new(MemoryStorage::new());
    let clock = ManualClock::new(START_MS);
    let mut ids = Vec::new();
    for seed in [0x1234_5678_9abc_def0_u64, 0x0fed_cba9_8765_4321] {
        let mut s = Store::for_one_request(storage.clone(), clock.clone(), seed);
        let draft = EventDraft {
            event_type: "x.y".into(),
            payload: "{}".into(),
            options: EmitOptions::default(),
        };
        ids.push(s.emit("a", draft).unwrap());
    }
    assert_ne!(ids[0], ids[1]);
}

/// `POST /tick` runs the tick itself and reports it, for external schedulers.
#[test]
fn the_tick_route_sweeps_and_reports() {
    let storage = Arc::new(MemoryStorage::new());
    let clock = ManualClock::new(START_MS);
    let mut s = instance(&storage, &clock);
    put_ttl_shared(&mut s, "a", b"brief", 10);
    clock.advance(10);
    let tick = |s: &mut Shared, query: &str| {
        s.handle_http(&nexus_store::http::Request {
            method: "POST".into(),
            path: "/tick".into(),
            query: query.into(),
            ..Default::default()
        })
    };
    let answer = tick(&mut s, "budget=5");
    assert_eq!(answer.status, 200);
    let report: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(
        report,
        serde_json::json!({"expired_keys": 1, "tasks_fired": 0, "log_entries_removed": 0, "more": false})
    );
    for bad in ["budget=0", "budget=100001", "budget=lots"] {
        assert_eq!(tick(&mut s, bad).status, 400, "{bad}");
    }
}
