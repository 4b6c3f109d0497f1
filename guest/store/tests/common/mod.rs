//! Shared helpers for the integration tests: a store over `MemoryStorage`
//! with a `ManualClock`, and a few ways to look at the raw storage.

#![allow(dead_code, unused_macros)]

use std::collections::BTreeMap;

use nexus_store::storage::{Check, Entries, Write};
use nexus_store::{
    Entry, ListOptions, ManualClock, MemoryStorage, SetOptions, Storage, StorageError, Store,
};

pub type TestStore = Store<MemoryStorage, ManualClock>;
pub type Snapshot = BTreeMap<Vec<u8>, Vec<u8>>;

/// Where the clock of every test store starts (ms since the epoch).
pub const START_MS: u64 = 1_700_000_000_000;

/// A fresh store and a handle on its clock.
pub fn store() -> (TestStore, ManualClock) {
    let clock = ManualClock::new(START_MS);
    (Store::new(MemoryStorage::new(), clock.clone()), clock)
}

pub fn snapshot(s: &TestStore) -> Snapshot {
    s.storage().snapshot()
}

/// A plain set without options; returns the new version.
pub fn put(s: &mut TestStore, ns: &str, key: &[u8], value: &[u8]) -> u64 {
    s.set(ns, key, value, &SetOptions::default()).expect("set")
}

/// A set with a time to live.
pub fn put_ttl(s: &mut TestStore, ns: &str, key: &[u8], value: &[u8], ttl_ms: u64) -> u64 {
    s.set(ns, key, value, &ttl(ttl_ms)).expect("set with ttl")
}

pub fn ttl(ms: u64) -> SetOptions {
    SetOptions {
        ttl_ms: Some(ms),
        ..SetOptions::default()
    }
}

pub fn value_of(s: &mut TestStore, ns: &str, key: &[u8]) -> Option<Vec<u8>> {
    s.get(ns, key).expect("get").map(|e: Entry| e.value)
}

/// Every live key of `ns` with `prefix`, walking all pages of `limit` keys.
pub fn list_all(s: &mut TestStore, ns: &str, prefix: &[u8], limit: u32) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = s
            .list(
                ns,
                &ListOptions {
                    prefix: prefix.to_vec(),
                    cursor: cursor.take(),
                    limit,
                },
            )
            .expect("list");
        assert!(
            page.keys.len() <= limit as usize,
            "a page holds at most `limit` keys"
        );
        out.extend(page.keys.into_iter().map(|k| k.key));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// The raw storage entries a namespace owns: everything in `[<ns> 0x00, <ns> 0x01)`.
pub fn owned_by(snap: &Snapshot, ns: &str) -> Snapshot {
    let mut start = ns.as_bytes().to_vec();
    start.push(0);
    let mut end = ns.as_bytes().to_vec();
    end.push(1);
    snap.range(start..end)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether the registry holds a record for `ns` (raw layout: `0x01 'N' <ns>`).
pub fn has_record(snap: &Snapshot, ns: &str) -> bool {
    let mut key = vec![0x01, b'N'];
    key.extend_from_slice(ns.as_bytes());
    snap.contains_key(&key)
}

/// How many raw entries (`<ns> 0x00 'K' <key>`) the namespace stores,
/// expired or not.
pub fn stored_entries(snap: &Snapshot, ns: &str) -> usize {
    let mut prefix = ns.as_bytes().to_vec();
    prefix.extend_from_slice(&[0, b'K']);
    snap.keys().filter(|k| k.starts_with(&prefix)).count()
}

/// Whether the namespace still stores an entry (`<ns> 0x00 'K' <key>`) or an
/// index entry (`<ns> 0x00 'R'|'T' <be64> <key>`) for `user_key`.
pub fn mentions(snap: &Snapshot, ns: &str, user_key: &[u8]) -> bool {
    let skip = ns.len() + 2;
    owned_by(snap, ns).keys().any(|k| match k.get(skip - 1) {
        Some(b'K') => &k[skip..] == user_key,
        Some(b'R' | b'T') => k.get(skip + 8..) == Some(user_key),
        _ => false,
    })
}

/// Asserts `result` is the error variant matched by `pat` and returns its message.
macro_rules! assert_err {
    ($result:expr, $pat:pat) => {{
        match $result {
            Err(e @ $pat) => e.to_string(),
            other => panic!("expected {}, got {other:?}", stringify!($pat)),
        }
    }};
}

/// Property-test settings: `cases` cases, and no regression files written
/// next to the sources.
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..Default::default()
    }
}

use nexus_store::events::{Delivery, EmitOptions, EventDraft, ReceiveRequest};

pub fn draft(event_type: &str, payload: &str) -> EventDraft {
    EventDraft {
        event_type: event_type.into(),
        payload: payload.into(),
        options: EmitOptions::default(),
    }
}

/// Emits an event with default options; returns its id.
pub fn emit(s: &mut TestStore, ns: &str, event_type: &str, payload: &str) -> String {
    s.emit(ns, draft(event_type, payload)).expect("emit")
}

pub fn receive_req(group: Option<&str>, consumer: &str, max: u32, vt_ms: u64) -> ReceiveRequest {
    ReceiveRequest {
        group: group.map(str::to_string),
        consumer: consumer.into(),
        max,
        visibility_timeout_ms: vt_ms,
        wait_ms: 0,
    }
}

/// Receives from the namespace queue as `consumer` with a 30 s timeout.
pub fn receive(s: &mut TestStore, ns: &str, consumer: &str, max: u32) -> Vec<Delivery> {
    s.receive(ns, &receive_req(None, consumer, max, 30_000))
        .expect("receive")
}

pub fn ids(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| d.envelope.message_id.clone())
        .collect()
}

/// What a [`Gated`] storage does with a commit.
pub trait Gate: Fn(&MemoryStorage, Vec<Check>, Vec<Write>) -> Result<(), StorageError> {}

impl<F: Fn(&MemoryStorage, Vec<Check>, Vec<Write>) -> Result<(), StorageError>> Gate for F {}

/// A memory storage whose commits go through `gate`, its reads straight
/// through: how a test makes commits fail, or lose their answers.
/// `gate(inner, checks, writes)` commits to `inner` (or not) and answers.
pub struct Gated<F> {
    pub inner: MemoryStorage,
    gate: F,
}

impl<F: Gate> Gated<F> {
    pub fn new(gate: F) -> Self {
        Self {
            inner: MemoryStorage::new(),
            gate,
        }
    }
}

impl<F: Gate> Storage for Gated<F> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(key)
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        self.inner.get_many(keys)
    }
    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        self.inner.scan(start, end, limit)
    }
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        (self.gate)(&self.inner, checks, writes)
    }
}
