//! The storage contract as the store holds a host to it: `get_many` answers
//! one value per key, in order. A host that answers another count gets a
//! storage error from every operation that reads several keys, never a
//! panic, and nothing is written.

#[macro_use]
mod common;

use std::cell::Cell;

use common::START_MS;
use nexus_store::access::{Scope, TokenSpec};
use nexus_store::events::LogQuery;
use nexus_store::storage::{Check, Entries, Write};
use nexus_store::{Error, ManualClock, MemoryStorage, Storage, StorageError, Store};

/// A storage whose `get_many`, once told to, answers one value too few or
/// one too many.
#[derive(Default)]
struct Miscounting {
    inner: MemoryStorage,
    /// `Some(-1)`: drop the last value; `Some(1)`: add an absent one.
    skew: Cell<Option<i8>>,
}

impl Storage for Miscounting {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(key)
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let mut values = self.inner.get_many(keys)?;
        match self.skew.get() {
            Some(-1) => drop(values.pop()),
            Some(_) => values.push(None),
            None => {}
        }
        Ok(values)
    }
    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        self.inner.scan(start, end, limit)
    }
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        self.inner.commit(checks, writes)
    }
}

type Subject = Store<Miscounting, ManualClock>;

fn admin() -> TokenSpec {
    TokenSpec {
        name: Some("ops".into()),
        namespaces: vec!["*".into()],
        scope: Scope::Admin,
        expires_in_ms: None,
    }
}

/// A store with a key, a token, an emitted event and one message leased to
/// consumer `c`: something for each read of several keys to find.
fn populated() -> (Subject, String) {
    let mut s = Store::new(Miscounting::default(), ManualClock::new(START_MS));
    s.set("app", b"k", b"1", &Default::default()).unwrap();
    s.create_token(&admin()).unwrap();
    s.emit("app", common::draft("user.created", "{}")).unwrap();
    let leased = s.receive("app", &common::receive_req(None, "c", 1, 60_000));
    let id = leased.unwrap().remove(0).envelope.message_id;
    s.emit("app", common::draft("user.created", "{}")).unwrap();
    (s, id)
}

type Operation = fn(&mut Subject, &str) -> Result<(), Error>;

const OPERATIONS: [(&str, Operation); 11] = [
    ("set", |s, _| {
        s.set("app", b"k", b"2", &Default::default()).map(drop)
    }),
    ("delete", |s, _| s.delete("app", b"k").map(drop)),
    ("get_many", |s, _| {
        s.get_many("app", &[b"k".to_vec(), b"x".to_vec()]).map(drop)
    }),
    ("clear", |s, _| s.clear("app").map(drop)),
    ("stats", |s, _| s.stats("app").map(drop)),
    ("list_tokens", |s, _| s.list_tokens().map(drop)),
    ("ack_batch", |s, id| {
        s.ack_batch("app", None, "c", &[id.to_string()]).map(drop)
    }),
    ("receive", |s, _| {
        s.receive("app", &common::receive_req(None, "d", 5, 60_000))
            .map(drop)
    }),
    ("metrics", |s, _| s.metrics("app").map(drop)),
    ("log by type", |s, _| {
        let query = LogQuery {
            event_type: Some("user.created".into()),
            limit: 10,
            ..Default::default()
        };
        s.log_query("app", &query).map(drop)
    }),
    ("flush", |s, _| {
        s.get("app", b"k")?;
        s.flush()
    }),
];

#[test]
fn a_get_many_answer_of_the_wrong_length_is_a_storage_error_and_writes_nothing() {
    for skew in [-1, 1] {
        for (name, operation) in OPERATIONS {
            let (mut s, id) = populated();
            let before = s.storage().inner.snapshot();
            s.storage().skew.set(Some(skew));
            let result = operation(&mut s, &id);
            let why = assert_err!(result, Error::Storage(_));
            assert!(why.contains("get-many"), "{name} ({skew:+}): {why}");
            assert_eq!(
                s.storage().inner.snapshot(),
                before,
                "{name} ({skew:+}) wrote"
            );
        }
    }
}

#[test]
fn a_token_check_on_a_miscounting_storage_is_a_storage_error_not_a_refusal() {
    let mut s = Store::new(Miscounting::default(), ManualClock::new(START_MS));
    let created = s.create_token(&admin()).unwrap();
    s.storage().skew.set(Some(-1));
    assert_err!(s.authenticate(&created.secret), Error::Storage(_));
}
