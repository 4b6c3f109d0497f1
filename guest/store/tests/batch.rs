//! `handle_http_batch`: a batch answers as its requests would one after
//! another, reads the storage once for all of them and commits once; a
//! failed check leaves out only the requests it concerns; a request that
//! must run alone ends the batch.

mod common;

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use nexus_store::batch::{IncrementIn, KeyIn, Operation, Outcome, SetIn};
use nexus_store::http::{Request, Response};
use nexus_store::namespace::{EvictionPolicy, Limits};
use nexus_store::storage::{Check, Entries, Write};
use nexus_store::{ManualClock, MemoryStorage, SetOptions, Storage, StorageError, Store};
use proptest::prelude::*;
use serde_json::{Value, json};

use common::START_MS;

fn request(method: &str, path: &str, query: &str, body: Value) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        body: if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        },
        ..Request::default()
    }
}

fn set(ns: &str, key: &str, value: &str) -> Request {
    request(
        "POST",
        "/set",
        "",
        json!({"key": key, "value": value, "namespace": ns}),
    )
}

fn get(ns: &str, key: &str) -> Request {
    request(
        "GET",
        &format!("/get/{key}"),
        &format!("ns={ns}"),
        Value::Null,
    )
}

fn delete(ns: &str, key: &str) -> Request {
    request(
        "DELETE",
        &format!("/delete/{key}"),
        &format!("ns={ns}"),
        Value::Null,
    )
}

fn increment(ns: &str, key: &str, by: i64) -> Request {
    request(
        "POST",
        &format!("/namespaces/{ns}/increment"),
        "",
        json!({"key": key, "by": by}),
    )
}

fn emit(ns: &str, event_type: &str) -> Request {
    request(
        "POST",
        &format!("/namespaces/{ns}/events"),
        "",
        json!({"event_type": event_type, "payload": {"n": 1}}),
    )
}

fn clear(ns: &str) -> Request {
    request("DELETE", &format!("/namespaces/{ns}"), "", Value::Null)
}

fn limit(ns: &str, max_keys: u64, policy: &str) -> Request {
    request(
        "PUT",
        &format!("/namespaces/{ns}/limits"),
        "",
        json!({"max_keys": max_keys, "policy": policy}),
    )
}

fn stats(ns: &str) -> Request {
    request("GET", "/stats", &format!("ns={ns}"), Value::Null)
}

/// Another writer's move, made just before a commit goes through.
type Race = Box<dyn FnOnce(&Arc<MemoryStorage>)>;

/// A storage that counts the calls it gets, and can fail or race commits.
#[derive(Default)]
struct Probe {
    inner: Arc<MemoryStorage>,
    gets: Cell<usize>,
    get_manys: Cell<usize>,
    scans: Cell<usize>,
    commits: Cell<usize>,
    /// Run just before the next commit goes through (another writer).
    race: RefCell<Option<Race>>,
    /// Every commit fails so.
    failing: RefCell<Option<StorageError>>,
}

impl Probe {
    fn calls(&self) -> [usize; 4] {
        [
            self.gets.get(),
            self.get_manys.get(),
            self.scans.get(),
            self.commits.get(),
        ]
    }
}

impl Storage for Probe {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.gets.set(self.gets.get() + 1);
        self.inner.get(key)
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        self.get_manys.set(self.get_manys.get() + 1);
        self.inner.get_many(keys)
    }
    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        self.scans.set(self.scans.get() + 1);
        self.inner.scan(start, end, limit)
    }
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        self.commits.set(self.commits.get() + 1);
        if let Some(race) = self.race.borrow_mut().take() {
            race(&self.inner);
        }
        if let Some(error) = self.failing.borrow().clone() {
            return Err(error);
        }
        self.inner.commit(checks, writes)
    }
}

type ProbeStore = Store<Probe, ManualClock>;

fn probe_store() -> ProbeStore {
    Store::new(Probe::default(), ManualClock::new(START_MS))
}

/// Another store on the same storage: a writer on another instance.
fn other_writer(storage: &Arc<MemoryStorage>) -> Store<Arc<MemoryStorage>, ManualClock> {
    Store::new(storage.clone(), ManualClock::new(START_MS))
}

fn status(answer: &Option<Response>) -> Option<u16> {
    answer.as_ref().map(|r| r.status)
}

fn body(response: &Response) -> Value {
    serde_json::from_slice(&response.body).expect("JSON body")
}

/// Sends `requests` in batches of `sizes` (cycled), sending again what a
/// batch left unanswered, first in the next batch; answers in order.
fn run_in_batches<S: Storage>(
    store: &mut Store<S, ManualClock>,
    requests: &[Request],
    sizes: &[usize],
) -> Vec<Response> {
    let mut answers: Vec<Option<Response>> = vec![None; requests.len()];
    let mut queue: Vec<usize> = (0..requests.len()).collect();
    let mut sizes = sizes.iter().cycle();
    while !queue.is_empty() {
        let take = (*sizes.next().unwrap()).clamp(1, queue.len());
        let batch: Vec<usize> = queue.drain(..take).collect();
        let sent: Vec<Request> = batch.iter().map(|&i| requests[i].clone()).collect();
        let got = store.handle_http_batch(&sent);
        assert_eq!(got.len(), sent.len(), "one answer slot per request");
        assert!(got.iter().any(Option::is_some), "every call answers one");
        let mut again = Vec::new();
        for (i, answer) in batch.into_iter().zip(got) {
            match answer {
                Some(r) => answers[i] = Some(r),
                None => again.push(i),
            }
        }
        queue.splice(0..0, again);
    }
    answers.into_iter().map(Option::unwrap).collect()
}

#[test]
fn a_batch_reads_once_and_commits_once() {
    let mut store = probe_store();
    let sets: Vec<Request> = (0..10).map(|i| set("app", &format!("k{i}"), "v")).collect();
    let answers = store.handle_http_batch(&sets);
    assert!(
        answers.iter().all(|a| status(a) == Some(200)),
        "{answers:?}"
    );
    // One get-many for every record and entry, one scan (are there tokens?)
    // shared by all ten, one commit.
    assert_eq!(store.storage().calls(), [0, 1, 1, 1]);

    let gets: Vec<Request> = (0..10).map(|i| get("app", &format!("k{i}"))).collect();
    let before = store.storage().calls();
    let answers = store.handle_http_batch(&gets);
    assert!(
        answers.iter().all(|a| status(a) == Some(200)),
        "{answers:?}"
    );
    let after = store.storage().calls();
    assert_eq!(after[1] - before[1], 1, "one get-many for ten GETs");
    assert_eq!(after[0], before[0], "no single gets");
    assert_eq!(after[3], before[3], "reads stay reads: no commit");
}

#[test]
fn later_requests_see_earlier_ones() {
    let mut store = probe_store();
    let answers = store.handle_http_batch(&[
        get("app", "k"),
        set("app", "k", "one"),
        get("app", "k"),
        set("app", "k", "two"),
        increment("app", "n", 2),
        increment("app", "n", 3),
        get("app", "k"),
        delete("app", "k"),
        get("app", "k"),
    ]);
    let statuses: Vec<_> = answers.iter().map(status).collect();
    assert_eq!(
        statuses,
        [404, 200, 200, 200, 200, 200, 200, 200, 404].map(Some)
    );
    let body_of = |i: usize| body(answers[i].as_ref().unwrap());
    assert_eq!(body_of(2)["value"], "one");
    assert_eq!(body_of(6)["value"], "two");
    assert_eq!(body_of(5)["value"], 5);
    assert_eq!(store.storage().calls()[3], 1, "one commit for the batch");
}

#[test]
fn one_request_failing_leaves_its_neighbours_alone() {
    let mut store = probe_store();
    let bad_json = Request {
        body: b"{not json".to_vec(),
        ..set("app", "x", "y")
    };
    let answers = store.handle_http_batch(&[
        set("app", "a", "1"),
        bad_json,
        set("bad name!", "b", "1"),
        get("app", "missing"),
        set("app", "c", "1"),
    ]);
    let statuses: Vec<_> = answers.iter().map(status).collect();
    assert_eq!(
        statuses,
        [Some(200), Some(422), Some(400), Some(404), Some(200)]
    );
    let answers = store.handle_http_batch(&[get("app", "a"), get("app", "c")]);
    assert!(answers.iter().all(|a| status(a) == Some(200)));
}

#[test]
fn a_failed_check_leaves_out_only_the_requests_it_concerns() {
    let mut store = probe_store();
    // The namespace exists, so the SETs below check only their own entries.
    assert!(store.handle_http_batch(&[set("app", "seed", "0")])[0].is_some());
    *store.storage().race.borrow_mut() = Some(Box::new(|storage| {
        other_writer(storage)
            .set("app", b"a", b"theirs", &Default::default())
            .unwrap();
    }));
    let answers = store.handle_http_batch(&[
        set("app", "a", "ours"),
        set("app", "b", "ours"),
        get("app", "a"),
        get("app", "seed"),
        increment("app", "n", 1),
    ]);
    // The SET of `a` lost to the other writer; the GET of `a` had seen its
    // value, so it goes back too. The rest committed.
    assert_eq!(
        answers.iter().map(status).collect::<Vec<_>>(),
        [None, Some(200), None, Some(200), Some(200)]
    );
    let mut other = other_writer(&store.storage().inner);
    assert_eq!(other.get("app", b"a").unwrap().unwrap().value, b"theirs");
    assert_eq!(other.get("app", b"b").unwrap().unwrap().value, b"ours");
    // Sent again, they go through.
    let answers = store.handle_http_batch(&[set("app", "a", "ours"), get("app", "a")]);
    assert_eq!(body(answers[1].as_ref().unwrap())["value"], "ours");
}

#[test]
fn a_failed_commit_fails_the_writers_and_not_the_other_readers() {
    let mut store = probe_store();
    assert!(store.handle_http_batch(&[set("app", "k", "v")])[0].is_some());
    *store.storage().failing.borrow_mut() = Some(StorageError::Unavailable("disk gone".into()));
    let answers =
        store.handle_http_batch(&[set("app", "a", "1"), get("app", "k"), get("app", "a")]);
    assert_eq!(
        answers.iter().map(status).collect::<Vec<_>>(),
        [Some(503), Some(200), Some(503)]
    );
    let detail = body(answers[0].as_ref().unwrap())["detail"].to_string();
    assert!(detail.contains("disk gone"), "{detail}");
}

#[test]
fn a_request_that_must_run_alone_ends_the_batch() {
    let mut store = probe_store();
    let answers =
        store.handle_http_batch(&[set("app", "a", "1"), clear("app"), set("app", "b", "1")]);
    assert_eq!(
        answers.iter().map(status).collect::<Vec<_>>(),
        [Some(200), None, None]
    );
    // First in a batch, it runs alone.
    let answers = store.handle_http_batch(&[clear("app"), set("app", "b", "1")]);
    assert_eq!(
        answers.iter().map(status).collect::<Vec<_>>(),
        [Some(200), None]
    );
    assert_eq!(body(answers[0].as_ref().unwrap())["keys_deleted"], 1);
}

#[test]
fn statistics_count_each_answered_request_once() {
    let mut store = probe_store();
    *store.storage().race.borrow_mut() = Some(Box::new(|storage| {
        other_writer(storage)
            .set("app", b"a", b"theirs", &Default::default())
            .unwrap();
    }));
    let requests = [
        set("app", "a", "ours"),
        get("app", "a"),
        get("app", "nope"),
        set("app", "b", "x"),
    ];
    let answers = run_in_batches(&mut store, &requests, &[4]);
    assert!(answers.iter().all(|r| r.status < 500), "{answers:?}");
    let stats = body(&store.handle_http(&stats("app")));
    let app = &stats["namespaces"]["app"];
    assert_eq!(app["cache_hits"], 1, "{stats}");
    assert_eq!(app["cache_misses"], 1, "{stats}");
}

/// A request of the property test below.
fn any_request() -> impl Strategy<Value = Request> {
    let ns = prop::sample::select(vec!["a", "b"]);
    let key = prop::sample::select(vec!["k1", "k2", "k3", "k4"]);
    prop_oneof![
        4 => (ns.clone(), key.clone(), "[a-z]{0,4}").prop_map(|(n, k, v)| set(n, k, &v)),
        4 => (ns.clone(), key.clone()).prop_map(|(n, k)| get(n, k)),
        2 => (ns.clone(), key.clone()).prop_map(|(n, k)| delete(n, k)),
        2 => (ns.clone(), key.clone(), -3i64..3).prop_map(|(n, k, by)| increment(n, k, by)),
        1 => (ns.clone(), prop::sample::select(vec!["x.y", "bad type!"])).prop_map(|(n, t)| emit(n, t)),
        1 => ns.clone().prop_map(clear),
        1 => (ns.clone(), 1u64..3, prop::sample::select(vec!["reject", "evict-lru"]))
            .prop_map(|(n, max, policy)| limit(n, max, policy)),
        1 => ns.prop_map(stats),
    ]
}

proptest! {
    /// Whatever the requests and however they are cut into batches, the
    /// answers and the storage after are those of the same requests one
    /// at a time.
    #[test]
    fn batches_answer_as_requests_one_at_a_time(
        requests in prop::collection::vec(any_request(), 1..40),
        sizes in prop::collection::vec(1usize..12, 1..4),
    ) {
        let (mut alone, _) = common::store();
        let expected: Vec<Response> = requests.iter().map(|r| alone.handle_http(r)).collect();
        let (mut batched, _) = common::store();
        let got = run_in_batches(&mut batched, &requests, &sizes);
        for (i, (want, got)) in expected.iter().zip(&got).enumerate() {
            prop_assert_eq!(want, got, "request {} ({:?})", i, requests[i]);
        }
        alone.flush().unwrap();
        batched.flush().unwrap();
        prop_assert_eq!(common::snapshot(&alone), common::snapshot(&batched));
    }
}

/// An operation of the property test below: SETs (plain, with a TTL, only
/// if absent, too big for the namespace's value limit, in an invalid
/// namespace), GETs, deletes and increments over two namespaces, one of
/// them with a key quota.
fn any_operation() -> impl Strategy<Value = Operation> {
    let ns = prop::sample::select(vec!["a", "quota", "Not a namespace!"]);
    let key = prop::sample::select(vec!["k1", "k2", "k3", "k4"]);
    let options = prop_oneof![
        4 => Just(SetOptions::default()),
        1 => (1u64..3).prop_map(|ms| SetOptions { ttl_ms: Some(ms), ..SetOptions::default() }),
        1 => Just(SetOptions { only_if_absent: true, ..SetOptions::default() }),
    ];
    let value = prop_oneof![4 => "[a-z]{0,4}", 1 => Just("x".repeat(40))];
    prop_oneof![
        6 => (ns.clone(), key.clone(), value, options).prop_map(|(ns, key, value, options)| {
            Operation::Set(SetIn {
                ns: ns.into(),
                key: key.into(),
                value: value.into_bytes(),
                options,
            })
        }),
        2 => (ns.clone(), key.clone()).prop_map(|(ns, key)| Operation::Get(KeyIn { ns: ns.into(), key: key.into() })),
        1 => (ns.clone(), key.clone()).prop_map(|(ns, key)| Operation::Delete(KeyIn { ns: ns.into(), key: key.into() })),
        1 => (ns, key, -3i64..3).prop_map(|(ns, key, delta)| {
            Operation::Increment(IncrementIn { ns: ns.into(), key: key.into(), delta })
        }),
    ]
}

/// A store whose namespace `quota` keeps at most 2 keys (evicting the
/// least recently written) and whose values are at most 32 bytes.
fn store_with_limits() -> common::TestStore {
    let (mut store, _) = common::store();
    for (ns, max_keys, policy) in [
        ("a", None, EvictionPolicy::Reject),
        ("quota", Some(2), EvictionPolicy::EvictLru),
    ] {
        let limits = Limits {
            max_keys,
            max_value_bytes: 32,
            policy,
            ..Limits::default()
        };
        store.set_limits(ns, limits).unwrap();
    }
    store
}

proptest! {
    /// `Store::batch` runs consecutive SETs of a namespace as one write:
    /// whatever the operations and however they are cut into batches, the
    /// answers and the storage after are those of the same operations one
    /// at a time.
    #[test]
    fn operation_batches_answer_as_operations_one_at_a_time(
        operations in prop::collection::vec(any_operation(), 1..40),
        sizes in prop::collection::vec(1usize..12, 1..4),
    ) {
        let mut alone = store_with_limits();
        let expected: Vec<_> = operations.iter().map(|o| alone.batch(std::slice::from_ref(o)).pop().flatten().unwrap()).collect();
        let mut batched = store_with_limits();
        let mut answers = vec![None; operations.len()];
        let mut queue: Vec<usize> = (0..operations.len()).collect();
        let mut sizes = sizes.iter().cycle();
        while !queue.is_empty() {
            let take = (*sizes.next().unwrap()).clamp(1, queue.len());
            let batch: Vec<usize> = queue.drain(..take).collect();
            let sent: Vec<Operation> = batch.iter().map(|&i| operations[i].clone()).collect();
            let mut again = Vec::new();
            for (i, answer) in batch.into_iter().zip(batched.batch(&sent)) {
                match answer {
                    Some(a) => answers[i] = Some(a),
                    None => again.push(i),
                }
            }
            queue.splice(0..0, again);
        }
        for (i, (want, got)) in expected.iter().zip(&answers).enumerate() {
            prop_assert_eq!(Some(want), got.as_ref(), "operation {} ({:?})", i, operations[i]);
        }
        alone.flush().unwrap();
        batched.flush().unwrap();
        prop_assert_eq!(common::snapshot(&alone), common::snapshot(&batched));
    }
}

/// A run of SETs of one namespace is one unit of work: one read of the
/// storage and one commit for the whole batch, each SET with its version.
#[test]
fn a_run_of_sets_reads_once_and_commits_once() {
    let mut store = probe_store();
    let sets: Vec<Operation> = (0..10)
        .map(|i| {
            Operation::Set(SetIn {
                ns: "app".into(),
                key: format!("k{i}").into_bytes(),
                value: b"v".to_vec(),
                options: SetOptions::default(),
            })
        })
        .collect();
    let answers = store.batch(&sets);
    let versions: Vec<u64> = answers
        .into_iter()
        .map(|a| match a {
            Some(Ok(Outcome::Version(v))) => v,
            other => panic!("a SET answers its version, not {other:?}"),
        })
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    let [gets, get_manys, scans, commits] = store.storage().calls();
    assert_eq!((gets, get_manys, scans, commits), (0, 1, 0, 1));
    assert_eq!(store.size("app").unwrap(), 10);
}
