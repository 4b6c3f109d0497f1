//! A guest trap is an error for the caller, not a crash: the instance is
//! replaced and storage is unchanged.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nexus_host::Nexus;
use nexus_host::backend::{Check, MemoryBackend, Storage, StorageError, Write};
use nexus_store::storage::Entries;

/// A backend that, when told to, answers `get-many` with too few values: a
/// host bug the guest does not survive.
#[derive(Default)]
struct Faulty {
    inner: MemoryBackend,
    broken: AtomicBool,
    /// Each `get-many` takes 200 ms: a storage far slower than a call's budget.
    slow: AtomicBool,
}

impl nexus_host::backend::Backend for Faulty {}

impl Storage for Faulty {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(key)
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        if self.broken.load(Ordering::SeqCst) {
            return Ok(Vec::new());
        }
        if self.slow.load(Ordering::SeqCst) {
            let until = Instant::now() + Duration::from_millis(200);
            while Instant::now() < until {
                std::thread::yield_now();
            }
        }
        self.inner.get_many(keys)
    }
    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        self.inner.scan(start, end, limit)
    }
    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        self.inner.commit(checks, writes)
    }
}

#[test]
fn a_trap_is_an_error_and_the_next_call_works() {
    let backend = Arc::new(Faulty::default());
    let nexus = Nexus::builder().backend(backend.clone()).build().unwrap();
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

#[test]
fn a_call_over_its_time_budget_traps_and_changes_nothing() {
    let backend = Arc::new(Faulty::default());
    let nexus = Nexus::builder()
        .backend(backend.clone())
        .call_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let ns = nexus.namespace("app1").unwrap();
    ns.set("k", "before").unwrap();
    let before = backend.inner.snapshot();

    backend.slow.store(true, Ordering::SeqCst);
    let err = ns.set("k", "during").unwrap_err();
    assert!(matches!(err, nexus_host::Error::Trap(_)), "{err:?}");
    assert_eq!(backend.inner.snapshot(), before);

    backend.slow.store(false, Ordering::SeqCst);
    ns.set("k", "after").unwrap();
    assert_eq!(ns.get_value("k").unwrap().unwrap(), b"after");
}
