//! Helpers shared by the end-to-end tests, which run the real guest `.wasm`
//! inside the real host: a store on a manual clock ([`Harness`]), and the
//! HTTP suite's servers and client ([`http`]).

pub mod http;

use std::sync::Arc;

use nexus_host::backend::MemoryBackend;
use nexus_host::clock::ManualClock;
use nexus_host::{Nexus, StoreError};

/// A store on an in-memory backend the test can inspect, and a clock it moves.
pub struct Harness {
    pub nexus: Nexus,
    pub backend: Arc<MemoryBackend>,
    pub clock: ManualClock,
}

impl Harness {
    pub fn new() -> Self {
        let backend = Arc::new(MemoryBackend::new());
        let clock = ManualClock::new(1_000_000);
        let nexus = Nexus::builder()
            .backend(backend.clone())
            .clock(clock.clone())
            .build()
            .expect("host starts");
        Self {
            nexus,
            backend,
            clock,
        }
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// The store's typed error of a failed call; panics on success or on a trap.
pub fn store_error<T: std::fmt::Debug>(r: Result<T, nexus_host::Error>) -> StoreError {
    match r {
        Err(nexus_host::Error::Store(e)) => e,
        other => panic!("expected a store error, got {other:?}"),
    }
}
