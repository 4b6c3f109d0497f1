//! A guest trap is an error for the caller, not a crash: the instance is
//! replaced and storage is unchanged.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nexus_host::Nexus;
use nexus_host::backend::{Check, MemoryBackend, Storage, StorageError, Write};
use nexus_host::serve::{BackendKind, ServeOptions};
use nexus_store::storage::Entries;
use nexus_tests::http::{Server, agent};

/// A backend that, when told to, answers `get-many` with values larger than
/// the guest may grow its memory to: a host bug the guest does not survive.
#[derive(Default)]
struct Faulty {
    inner: MemoryBackend,
    broken: AtomicBool,
    /// Each read takes 200 ms: a storage far slower than a call's budget.
    slow: AtomicBool,
    /// Each commit takes 200 ms, then succeeds.
    slow_commit: AtomicBool,
}

/// The guest memory limit of the trap test, and a value over it.
const GUEST_MEMORY: usize = 16 << 20;
const HUGE: usize = 2 * GUEST_MEMORY;

/// Spins for `ms` (a sleep would not show that the thread is busy).
fn busy(ms: u64) {
    let until = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < until {
        std::thread::yield_now();
    }
}

impl nexus_host::backend::Backend for Faulty {
    fn snapshot(&self, visit: nexus_host::backend::Visit<'_>) -> Result<(), StorageError> {
        nexus_host::backend::Backend::snapshot(&self.inner, visit)
    }
}

impl Storage for Faulty {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        if self.slow.load(Ordering::SeqCst) {
            busy(200);
        }
        self.inner.get(key)
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        if self.broken.load(Ordering::SeqCst) {
            return Ok(keys.iter().map(|_| Some(vec![0; HUGE])).collect());
        }
        if self.slow.load(Ordering::SeqCst) {
            busy(200);
        }
        self.inner.get_many(keys)
    }
    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        if self.slow.load(Ordering::SeqCst) {
            busy(200);
        }
        self.inner.scan(start, end, limit)
    }
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        let committed = self.inner.commit(checks, writes);
        if self.slow_commit.load(Ordering::SeqCst) {
            busy(200);
        }
        committed
    }
}

/// A store over a [`Faulty`] backend whose guest may grow to [`GUEST_MEMORY`].
fn memory_limited() -> (Arc<Faulty>, Nexus) {
    let backend = Arc::new(Faulty::default());
    let nexus = Nexus::builder()
        .backend(backend.clone())
        .guest_memory_limit(GUEST_MEMORY)
        .build()
        .unwrap();
    (backend, nexus)
}

#[test]
fn a_trap_is_an_error_and_the_next_call_works() {
    let (backend, nexus) = memory_limited();
    let ns = nexus.namespace("app1").unwrap();
    ns.set("k", "before").unwrap();
    let before = backend.inner.snapshot();

    backend.broken.store(true, Ordering::SeqCst);
    let err = ns.set("k", "during").unwrap_err();
    assert!(matches!(err, nexus_host::Error::Trap(_)), "{err:?}");
    assert_eq!(
        backend.inner.snapshot(),
        before,
        "a trapped call wrote nothing"
    );

    backend.broken.store(false, Ordering::SeqCst);
    ns.set("k", "after").unwrap();
    assert_eq!(ns.get_value("k").unwrap().unwrap(), b"after");
}

/// A store over a [`Faulty`] backend whose calls have 50 ms each, with
/// `k` = `before` in `app1`.
fn budgeted() -> (Arc<Faulty>, Nexus, nexus_host::Namespace) {
    let backend = Arc::new(Faulty::default());
    let nexus = Nexus::builder()
        .backend(backend.clone())
        .call_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let ns = nexus.namespace("app1").unwrap();
    ns.set("k", "before").unwrap();
    (backend, nexus, ns)
}

#[test]
fn a_call_over_its_time_budget_traps_and_changes_nothing() {
    let (backend, _nexus, ns) = budgeted();
    let before = backend.inner.snapshot();

    backend.slow.store(true, Ordering::SeqCst);
    let err = ns.set("k", "during").unwrap_err();
    assert!(matches!(err, nexus_host::Error::Trap(_)), "{err:?}");
    assert_eq!(backend.inner.snapshot(), before);

    backend.slow.store(false, Ordering::SeqCst);
    ns.set("k", "after").unwrap();
    assert_eq!(ns.get_value("k").unwrap().unwrap(), b"after");
}

/// A commit that outlasts the call's budget (a stalled fsync, a slow
/// database) has written: the call must not then trap and report that
/// nothing was written. It is given the time to answer.
#[test]
fn a_call_whose_commit_outlasts_its_budget_still_answers() {
    let (backend, nexus, ns) = budgeted();

    backend.slow_commit.store(true, Ordering::SeqCst);
    ns.set("k", "during")
        .expect("the write is durable, so the call answers");
    let answer = nexus
        .handle_http(nexus_host::http::HttpRequest {
            method: "POST".into(),
            path: "/namespaces/app1/events/batch".into(),
            query: String::new(),
            headers: Vec::new(),
            body: br#"{"events": [{"event_type": "a.b"}, {"event_type": "a.c"}]}"#.to_vec(),
            started_at_ms: None,
            access: nexus_host::http::AccessPolicy {
                open_without_tokens: true,
                public_stats: false,
            },
        })
        .expect("no trap");
    assert_eq!(answer.status, 201, "{answer:?}");
    backend.slow_commit.store(false, Ordering::SeqCst);
    assert_eq!(ns.get_value("k").unwrap().unwrap(), b"during");
    assert_eq!(ns.metrics().unwrap().queue_depth, 2);
}

/// `nexus serve`'s server (in this process, so the test keeps a handle on
/// the backend) over `backend`, with a 50 ms budget per request and at most
/// `memory` bytes of guest memory; stopped when dropped.
fn serve(backend: Arc<Faulty>, memory: usize) -> Server {
    Server::serve(ServeOptions {
        backend: BackendKind::Shared(backend),
        request_timeout: Duration::from_millis(50),
        guest_memory_limit: memory,
        max_body_bytes: 64 << 20,
        ..ServeOptions::default()
    })
}

/// (status, body) of one request.
fn http(base: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap();
    let mut response = agent().run(request).expect("an answer");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// `k` = `before` in `app1`, over HTTP.
fn set_k_before(base: &str) {
    let body = r#"{"key":"k","value":"before"}"#;
    assert_eq!(http(base, "POST", "/set?ns=app1", body).0, 200);
}

/// The next request is served, and `k` is as it was.
fn assert_k_is_still_before(base: &str) {
    let (status, body) = http(base, "GET", "/get/k?ns=app1", "");
    assert_eq!((status, body.contains("before")), (200, true), "{body}");
}

/// A batch of 50 events over HTTP whose reads outlast the request's budget:
/// the guest traps after reading, before its one commit. The client gets a
/// 503 saying nothing was written, storage is byte-for-byte as it was, and
/// the next request (a new instance) is served.
#[test]
fn over_http_a_multi_key_write_over_its_time_budget_is_a_503_and_changes_nothing() {
    let backend = Arc::new(Faulty::default());
    let server = serve(backend.clone(), 64 << 20);
    let base = server.base();
    set_k_before(base);
    let before = backend.inner.snapshot();
    backend.slow.store(true, Ordering::SeqCst);
    let events: Vec<String> = (0..50)
        .map(|i| format!(r#"{{"event_type":"a.b","payload":{{"i":{i}}}}}"#))
        .collect();
    let batch = format!(r#"{{"events":[{}]}}"#, events.join(","));
    let (status, body) = http(base, "POST", "/namespaces/app1/events/batch", &batch);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("nothing was written"), "{body}");
    assert_eq!(backend.inner.snapshot(), before);
    backend.slow.store(false, Ordering::SeqCst);
    assert_k_is_still_before(base);
    assert_eq!(
        http(base, "POST", "/namespaces/app1/events/batch", &batch).0,
        201
    );
}

/// A batch whose body the guest cannot hold in its memory limit: the guest
/// traps on the allocation, the client gets 503, storage is unchanged, and
/// the next request is served by a fresh instance.
#[test]
fn over_http_a_multi_key_write_over_the_memory_limit_is_a_503_and_changes_nothing() {
    let backend = Arc::new(Faulty::default());
    let server = serve(backend.clone(), 16 << 20);
    let base = server.base();
    set_k_before(base);
    let before = backend.inner.snapshot();
    let payload = "x".repeat(1024);
    let events: Vec<String> = (0..20_000)
        .map(|_| format!(r#"{{"event_type":"a.b","payload":{{"blob":"{payload}"}}}}"#))
        .collect();
    let batch = format!(r#"{{"events":[{}]}}"#, events.join(","));
    let (status, body) = http(base, "POST", "/namespaces/app1/events/batch", &batch);
    assert_eq!(status, 503, "{body}");
    assert_eq!(backend.inner.snapshot(), before);
    assert_k_is_still_before(base);
}

/// REST requests handed over together: a request the guest cannot hold
/// traps the batch's call before anything is written, so the others run
/// again one by one and only the culprit fails.
#[test]
fn a_trap_in_a_batch_fails_only_its_own_request() {
    let (_backend, nexus) = memory_limited();
    let set = |key: &str, value: &str| nexus_host::http::HttpRequest {
        method: "POST".into(),
        path: "/set".into(),
        query: "ns=app1".into(),
        body: format!(r#"{{"key":"{key}","value":"{value}"}}"#).into_bytes(),
        ..Default::default()
    };
    let huge = "x".repeat(HUGE);
    let answers = nexus.handle_http_batch_now(&[set("a", "1"), set("big", &huge), set("b", "2")]);
    assert_eq!(answers[0].as_ref().map(|r| r.status).ok(), Some(200));
    assert!(
        matches!(answers[1], Err(nexus_host::Error::Trap(_))),
        "{:?}",
        answers[1].as_ref().map(|r| r.status)
    );
    assert_eq!(answers[2].as_ref().map(|r| r.status).ok(), Some(200));
    let ns = nexus.namespace("app1").unwrap();
    assert_eq!(ns.get_value("a").unwrap().unwrap(), b"1");
    assert_eq!(ns.get_value("b").unwrap().unwrap(), b"2");
    assert_eq!(ns.get_value("big").unwrap(), None);
}
