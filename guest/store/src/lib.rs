//! The nexus store logic: namespaced key-value and events over an ordered, transactional
//! byte-key [`Storage`], with time from a [`Clock`].
//!
//! This crate knows nothing of WebAssembly. The component crate binds it to
//! the WIT world; tests and benchmarks call it natively. The store keeps no
//! authoritative state of its own: every operation reads and writes through
//! the storage, so any number of store instances (edge requests, browser
//! tabs, a host's instance pool) can share one storage. The only state an
//! instance holds is a tally of statistics not yet flushed (see
//! [`Store::flush`]) and a few counters that need not survive it.
//!
//! Most programs want a host instead: `nexus-host` runs this logic as a
//! WebAssembly component behind a Rust API, a CLI and an HTTP server. To
//! run the logic natively (tests, benchmarks, a host of your own), give a
//! [`Store`] a storage and a clock:
//!
//! ```
//! use nexus_store::{ManualClock, MemoryStorage, SetOptions, Store};
//!
//! let mut store = Store::new(MemoryStorage::new(), ManualClock::new(0));
//! store.set("app1", b"user:1", b"ada", &SetOptions::default())?;
//! assert_eq!(store.get("app1", b"user:1")?.unwrap().value, b"ada");
//!
//! // The REST API, as every host serves it.
//! let request = nexus_store::http::Request {
//!     method: "GET".into(),
//!     path: "/get/user:1".into(),
//!     query: "ns=app1".into(),
//!     ..Default::default()
//! };
//! assert_eq!(store.handle_http(&request).status, 200);
//! # Ok::<(), nexus_store::Error>(())
//! ```
//!
//! Where things are: [`Store`]'s key-value and namespace methods (this
//! page), [`events`] (queues, dead letters, the log, nodes, tasks),
//! [`access`] (tokens), [`http`] (the REST API), [`storage`] (the contract
//! a host implements), and [`wit_conversions!`] (the mapping to the WIT
//! types both sides of the component boundary expand).

pub mod access;
pub mod batch;
mod clock;
mod entry;
mod error;
pub mod events;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz;
pub mod http;
pub mod idempotency;
mod keys;
mod kv;
pub mod namespace;
mod namespaces;
mod piggyback;
mod stats;
pub mod storage;
mod sweep;
pub mod watch;
mod wit_conversions;
mod write;

pub use clock::{Clock, ClockMove, ManualClock};
pub use error::{Error, Result};
pub use events::MAX_KEY_EVENT_VALUE_BYTES;
pub use kv::{Condition, Entry, KeyInfo, ListOptions, ListPage, Op, SetOptions};
pub use namespace::{DEFAULT_NAMESPACE, EvictionPolicy, KeyEvents, Limits, sanitize, validate};
pub use namespaces::{NamespaceInfo, Stats};
pub use piggyback::PiggybackTick;
pub use storage::{MemoryStorage, Storage, StorageError};
pub use sweep::TickReport;
pub use watch::{MAX_WATCHED_KEYS, Watched};

/// How many times an operation re-reads and retries after its commit lost a
/// race with another writer before it reports a storage error.
///
/// On a durable backend where a commit's checks only see durable writes,
/// each lost race costs a group-commit round and writers of one hot key win
/// one per round: N writers of one key need up to about N rounds each.
/// 32 left 43% of 50 concurrent SETs of one key failing on the file backend
/// before its checks saw pending writes (docs/benchmarks.md); now a lost
/// race there costs a re-read, not a round.
pub const MAX_ATTEMPTS: usize = 256;

/// One store instance over a storage and a clock.
pub struct Store<S, C> {
    storage: S,
    clock: C,
    pending: stats::Pending,
    /// Disambiguates versions written by this instance within one millisecond.
    write_seq: u64,
    /// Where the next sweep starts, so sweeps visit every namespace in turn.
    sweep_cursor: Option<String>,
    /// Disambiguates message ids made by this instance within one millisecond.
    event_seq: u32,
    /// Writes add their set and delete counts inside their own commit
    /// instead of tallying them for a later flush (see [`Store::for_one_request`]).
    counts_in_commits: bool,
    /// The storage key of a point read, kept between calls so that a GET
    /// allocates nothing for it (an allocation and a free are a measurable
    /// share of a GET through jco).
    read_key: Vec<u8>,
}

impl<S: Storage, C: Clock> Store<S, C> {
    pub fn new(storage: S, clock: C) -> Self {
        Self {
            storage,
            clock,
            pending: stats::Pending::default(),
            write_seq: 0,
            sweep_cursor: None,
            event_seq: 0,
            counts_in_commits: false,
            read_key: Vec::new(),
        }
    }

    /// A store for a host that makes a fresh instance per request (an edge
    /// runtime). Writes count themselves in their own commit, so the host's
    /// flush at the end of the request only has reads' hits and misses to
    /// write; and the id and version sequences start at `seed` (from a random
    /// source), so instances created in the same millisecond do not all pick
    /// the same message id and retry.
    pub fn for_one_request(storage: S, clock: C, seed: u64) -> Self {
        let mut store = Self::new(storage, clock);
        store.write_seq = seed;
        store.event_seq = (seed >> 32) as u32;
        store.counts_in_commits = true;
        store
    }

    /// A store over a staging storage (a batch's overlay, an idempotent
    /// request's held commit) that continues another's sequences, so the
    /// ids and versions it makes are the ones that store would have made;
    /// the caller copies them back once the staging is kept.
    pub(crate) fn staging(
        storage: S,
        clock: C,
        write_seq: u64,
        event_seq: u32,
        counts_in_commits: bool,
    ) -> Self {
        Self {
            storage,
            clock,
            pending: stats::Pending::default(),
            write_seq,
            sweep_cursor: None,
            event_seq,
            counts_in_commits,
            read_key: Vec::new(),
        }
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    pub fn clock(&self) -> &C {
        &self.clock
    }
}
