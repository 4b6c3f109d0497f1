//! Several store instances over one storage. A storage wrapper lets another
//! instance write between an operation's reads and its commit, so lost races
//! and retries are exercised deterministically, without threads.

#[macro_use]
mod common;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::Arc;

use common::START_MS;
use nexus_store::storage::{Check, Entries, Write};
use nexus_store::{
    Error, EvictionPolicy, Limits, ManualClock, MemoryStorage, SetOptions, Storage, StorageError,
    Store,
};

type Shared = Arc<MemoryStorage>;
type Other = Store<Shared, ManualClock>;
type Hook = Box<dyn FnOnce(&mut Other)>;
type Always = Box<dyn Fn(&mut Other)>;

/// Runs queued hooks, each just before one commit of the wrapped store, on a
/// second store instance that shares the storage and the clock.
struct Racing {
    inner: Shared,
    other: RefCell<Store<Shared, ManualClock>>,
    hooks: RefCell<VecDeque<Hook>>,
    /// When set, every commit is preceded by this racing write.
    always: RefCell<Option<Always>>,
    commits: Cell<usize>,
    /// The next this many commits fail with a conflict and write nothing,
    /// as PostgreSQL aborts a serializable transaction whose checks held.
    aborts: Cell<usize>,
}

impl Storage for Racing {
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
        self.commits.set(self.commits.get() + 1);
        let hook = self.hooks.borrow_mut().pop_front();
        if let Some(hook) = hook {
            hook(&mut self.other.borrow_mut());
        }
        if let Some(always) = self.always.borrow().as_ref() {
            always(&mut self.other.borrow_mut());
        }
        if self.aborts.get() > 0 {
            self.aborts.set(self.aborts.get() - 1);
            return Err(StorageError::Conflict);
        }
        self.inner.commit(checks, writes)
    }
}

struct Setup {
    store: Store<Racing, ManualClock>,
    /// A third instance for looking at the result.
    view: Store<Shared, ManualClock>,
    clock: ManualClock,
}

impl Setup {
    fn new() -> Self {
        let clock = ManualClock::new(START_MS);
        let inner: Shared = Arc::new(MemoryStorage::new());
        let racing = Racing {
            inner: inner.clone(),
            other: RefCell::new(Store::new(inner.clone(), clock.clone())),
            hooks: RefCell::new(VecDeque::new()),
            always: RefCell::new(None),
            commits: Cell::new(0),
            aborts: Cell::new(0),
        };
        Self {
            store: Store::new(racing, clock.clone()),
            view: Store::new(inner, clock.clone()),
            clock,
        }
    }

    /// The next commit of `store` is preceded by `hook` on another instance.
    fn race(&self, hook: impl FnOnce(&mut Store<Shared, ManualClock>) + 'static) {
        self.store
            .storage()
            .hooks
            .borrow_mut()
            .push_back(Box::new(hook));
    }
}

const NS: &str = "race";

fn plain() -> SetOptions {
    SetOptions::default()
}

#[test]
fn instances_sharing_a_storage_see_each_others_writes() {
    let mut t = Setup::new();
    t.store.set(NS, b"k", b"v", &plain()).unwrap();
    assert_eq!(t.view.get(NS, b"k").unwrap().unwrap().value, b"v");
    t.view.delete(NS, b"k").unwrap();
    assert_eq!(t.store.get(NS, b"k").unwrap(), None);
}

#[test]
fn unflushed_reads_of_one_instance_show_up_after_its_flush() {
    let mut t = Setup::new();
    t.store.set(NS, b"k", b"v", &plain()).unwrap();
    t.store.get(NS, b"k").unwrap();
    t.store.get(NS, b"nope").unwrap();
    let seen = t.view.stats(NS).unwrap();
    assert_eq!((seen.hits, seen.misses), (0, 0));
    t.store.flush().unwrap();
    let seen = t.view.stats(NS).unwrap();
    assert_eq!((seen.hits, seen.misses), (1, 1));
}

#[test]
fn increment_that_loses_a_race_retries_and_adds_to_the_winner() {
    let mut t = Setup::new();
    t.store.set(NS, b"n", b"5", &plain()).unwrap();
    t.race(|other| {
        other.increment(NS, b"n", 10).unwrap();
    });
    assert_eq!(t.store.increment(NS, b"n", 1).unwrap(), 16);
    assert_eq!(t.view.get(NS, b"n").unwrap().unwrap().value, b"16");
}

#[test]
fn only_if_absent_that_loses_a_race_fails_and_keeps_the_winner() {
    let mut t = Setup::new();
    t.race(|other| {
        other
            .set(NS, b"k", b"winner", &SetOptions::default())
            .unwrap();
    });
    let opts = SetOptions {
        only_if_absent: true,
        ..SetOptions::default()
    };
    assert_err!(
        t.store.set(NS, b"k", b"loser", &opts),
        Error::ConditionFailed(_)
    );
    assert_eq!(t.view.get(NS, b"k").unwrap().unwrap().value, b"winner");
    assert_eq!(t.view.size(NS).unwrap(), 1);
}

#[test]
fn the_quota_stays_exact_when_another_writer_takes_the_last_slot() {
    let mut t = Setup::new();
    let limits = Limits {
        max_keys: Some(2),
        ..Limits::default()
    };
    t.store.set_limits(NS, limits).unwrap();
    t.store.set(NS, b"a", b"v", &plain()).unwrap();
    t.race(|other| {
        other
            .set(NS, b"winner", b"v", &SetOptions::default())
            .unwrap();
    });
    assert_err!(
        t.store.set(NS, b"loser", b"v", &plain()),
        Error::QuotaExceeded(_)
    );
    assert_eq!(t.view.size(NS).unwrap(), 2);
    assert_eq!(t.view.get(NS, b"loser").unwrap(), None);
}

#[test]
fn evict_lru_retries_when_its_victim_is_rewritten_meanwhile() {
    let mut t = Setup::new();
    let limits = Limits {
        max_keys: Some(2),
        policy: EvictionPolicy::EvictLru,
        ..Limits::default()
    };
    t.store.set_limits(NS, limits).unwrap();
    t.store.set(NS, b"old", b"v", &plain()).unwrap();
    t.clock.advance(1);
    t.store.set(NS, b"mid", b"v", &plain()).unwrap();
    t.clock.advance(1);
    let clock = t.clock.clone();
    t.race(move |other| {
        clock.advance(1);
        other
            .set(NS, b"old", b"rewritten", &SetOptions::default())
            .unwrap();
    });
    t.store.set(NS, b"new", b"v", &plain()).unwrap();
    let keys: Vec<Vec<u8>> = t
        .view
        .list(NS, &Default::default())
        .unwrap()
        .keys
        .into_iter()
        .map(|k| k.key)
        .collect();
    assert_eq!(
        keys,
        vec![b"new".to_vec(), b"old".to_vec()],
        "`mid` became the least recently written"
    );
    assert_eq!(t.view.get(NS, b"old").unwrap().unwrap().value, b"rewritten");
    let stats = t.view.stats(NS).unwrap();
    assert_eq!((stats.evictions, stats.total_keys), (1, 2));
}

#[test]
fn clear_that_loses_a_race_to_a_new_key_clears_it_too() {
    let mut t = Setup::new();
    t.store.set(NS, b"a", b"v", &plain()).unwrap();
    t.race(|other| {
        other.set(NS, b"b", b"v", &SetOptions::default()).unwrap();
    });
    assert_eq!(t.store.clear(NS).unwrap(), 2);
    assert_eq!(t.view.size(NS).unwrap(), 0);
    assert!(
        t.view
            .list(NS, &Default::default())
            .unwrap()
            .keys
            .is_empty()
    );
}

#[test]
fn drop_that_loses_a_race_still_drops_everything() {
    let mut t = Setup::new();
    t.store.set(NS, b"a", b"v", &plain()).unwrap();
    t.race(|other| {
        other.set_metadata(NS, r#"{"changed":true}"#).unwrap();
        other.set(NS, b"b", b"v", &SetOptions::default()).unwrap();
    });
    assert!(t.store.drop_namespace(NS).unwrap());
    assert_eq!(t.view.namespace_info(NS).unwrap(), None);
    let snap = t.store.storage().inner.snapshot();
    assert!(common::owned_by(&snap, NS).is_empty());
}

#[test]
fn a_writer_that_always_loses_gives_up_with_a_storage_error_and_writes_nothing() {
    let mut t = Setup::new();
    t.store.set(NS, b"n", b"0", &plain()).unwrap();
    *t.store.storage().always.borrow_mut() = Some(Box::new(|other| {
        other.increment(NS, b"n", 1).unwrap();
    }));
    let commits_before = t.store.storage().commits.get();
    let msg = assert_err!(t.store.increment(NS, b"n", 100), Error::Storage(_));
    assert!(msg.contains("gave up"), "{msg}");
    let attempts = t.store.storage().commits.get() - commits_before;
    assert_eq!(attempts, nexus_store::MAX_ATTEMPTS);
    // Only the other writer's increments landed.
    *t.store.storage().always.borrow_mut() = None;
    assert_eq!(
        t.view.get(NS, b"n").unwrap().unwrap().value,
        attempts.to_string().as_bytes()
    );
}

#[test]
fn a_sweep_that_loses_a_race_leaves_the_rewritten_key_alone() {
    let mut t = Setup::new();
    t.store.set(NS, b"k", b"v", &common::ttl(10)).unwrap();
    t.clock.advance(10);
    t.race(|other| {
        other
            .set(NS, b"k", b"fresh", &SetOptions::default())
            .unwrap();
    });
    let report = t.store.tick(100).unwrap();
    assert_eq!(report.expired_keys, 0);
    assert_eq!(t.view.get(NS, b"k").unwrap().unwrap().value, b"fresh");
    assert_eq!(t.view.size(NS).unwrap(), 1);
    assert_eq!(t.store.tick(100).unwrap().expired_keys, 0);
    assert_eq!(t.view.size(NS).unwrap(), 1);
}

mod events {
    use super::*;
    use nexus_store::events::{EmitOptions, EventDraft, ReceiveRequest, TaskSpec};

    fn req(consumer: &str) -> ReceiveRequest {
        ReceiveRequest {
            group: None,
            consumer: consumer.into(),
            max: 1,
            visibility_timeout_ms: 1_000,
            wait_ms: 0,
        }
    }

    fn draft() -> EventDraft {
        EventDraft {
            event_type: "race.event".into(),
            payload: "{}".into(),
            options: EmitOptions::default(),
        }
    }

    #[test]
    fn a_receive_that_loses_the_race_for_a_message_takes_the_next_one() {
        let mut t = Setup::new();
        let first = t.store.emit(NS, draft()).unwrap();
        let second = t.store.emit(NS, draft()).unwrap();
        t.race(|other| {
            let got = other.receive(NS, &req("other")).unwrap();
            assert_eq!(got.len(), 1);
        });
        let mine = t.store.receive(NS, &req("me")).unwrap();
        assert_eq!(mine[0].envelope.message_id, second);
        assert!(
            t.store.ack(NS, None, "me", &first).is_err(),
            "first is other's"
        );
    }

    #[test]
    fn a_task_due_on_two_hosts_fires_once() {
        let mut t = Setup::new();
        t.store
            .create_task(
                NS,
                &TaskSpec {
                    name: "t".into(),
                    cron: "* * * * *".into(),
                    timezone: None,
                    event_type: "tick.tock".into(),
                    payload: "{}".into(),
                },
            )
            .unwrap();
        t.clock.advance(60_000);
        t.race(|other| {
            assert_eq!(other.tick(100).unwrap().tasks_fired, 1);
        });
        assert_eq!(t.store.tick(100).unwrap().tasks_fired, 0);
        assert_eq!(t.view.metrics(NS).unwrap().emitted, 1);
    }

    #[test]
    fn two_instances_emitting_in_the_same_millisecond_get_distinct_ids() {
        let mut t = Setup::new();
        // Both instances start their id sequence at the same number.
        t.race(|other| {
            other.emit(NS, draft()).unwrap();
        });
        t.store.emit(NS, draft()).unwrap();
        assert_eq!(t.view.metrics(NS).unwrap().queue_depth, 2);
    }
}

/// A token's creation that loses a race it did not lose (an aborted
/// transaction) tries again instead of saying the name is taken; a name
/// that is taken is still refused.
#[test]
fn a_spurious_conflict_does_not_make_a_token_name_taken() {
    use nexus_store::access::{Scope, TokenSpec};
    let mut setup = Setup::new();
    setup.store.storage().aborts.set(2);
    let spec = TokenSpec {
        name: Some("reader".into()),
        namespaces: vec!["app".into()],
        scope: Scope::Read,
        expires_in_ms: None,
    };
    setup
        .store
        .create_token(&spec)
        .expect("created after two aborts");
    assert!(matches!(
        setup.store.create_token(&spec),
        Err(Error::ConditionFailed(_))
    ));
}
