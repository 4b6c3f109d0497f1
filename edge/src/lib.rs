//! nexus at the edge: a Spin HTTP component that serves the REST API of
//! `nexus serve` from the same store logic (`nexus-store`, linked directly),
//! with its data in the SQLite database Spin gives the app.
//!
//! Spin makes a fresh instance for every request, so an instance lives for
//! one request and keeps nothing: it opens the database, reads what the
//! request needs first in one statement, answers, and writes the hit/miss
//! counts it gathered for one read in [`READ_COUNT_SAMPLE`] (scaled up:
//! an unbiased estimate), so that a read is not a write transaction (see
//! edge/README.md). Writes count themselves inside their own commit. There
//! is no process to run a ticker either, so requests carry the
//! periodic work: at most once a second (the time kept in the database, so
//! every instance agrees) one request also fires due cron tasks, trims the
//! event log and sweeps expired keys. `POST /tick` does the same on demand,
//! for a platform's cron.

mod http;
mod sqlite;

use nexus_store::Store;
use spin_sdk::http::{Request, Response};

use sqlite::SqliteStorage;

/// How often requests tick, at most.
const TICK_EVERY_MS: u64 = 1_000;
/// What a piggybacked tick may examine: small enough that the request that
/// carries it is not noticeably slower.
const TICK_BUDGET: u32 = 256;
/// One read in this many writes its hit or miss, counted this many times
/// (`NEXUS_READ_COUNT_SAMPLE` in the component's environment overrides it;
/// 1 counts exactly, one write per read).
const READ_COUNT_SAMPLE: u32 = 16;

fn read_count_sample() -> u32 {
    std::env::var("NEXUS_READ_COUNT_SAMPLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(READ_COUNT_SAMPLE)
}

/// The time from the platform's wall clock (wasi:clocks).
struct WallClock;

impl nexus_store::Clock for WallClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// Spin's entry point. `#[http_component]` generates the export's C ABI
/// glue, which is unsafe inside: the only unsafe code of this crate.
#[allow(unsafe_code)]
mod entry {
    use spin_sdk::http::{Request, Response};
    use spin_sdk::http_component;

    #[http_component]
    fn handle(request: Request) -> Response {
        super::handle(request)
    }
}

fn handle(request: Request) -> Response {
    let seed = wasi::random::random::get_random_u64();
    let mut store = Store::for_one_request(SqliteStorage::default_database(), WallClock, seed);
    let mut request = http::request(request);
    store
        .storage()
        .prefetch(&nexus_store::http::first_reads(&request, true));
    // A failed tick must not fail the request it rides on: the next request
    // that finds the tick due tries again.
    match store.tick_if_due(TICK_EVERY_MS, TICK_BUDGET) {
        Ok(tick) => request.started_at_ms = Some(tick.first_tick_at),
        Err(e) => eprintln!("nexus-edge: piggybacked tick failed: {e}"),
    }
    let response = store.handle_http(&request);
    store.sample_read_counts(read_count_sample(), wasi::random::random::get_random_u64());
    if store.has_pending_counts() {
        let flushed = store
            .storage()
            .relax_durability_for_counts()
            .map_err(nexus_store::Error::from)
            .and_then(|()| store.flush());
        if let Err(e) = flushed {
            eprintln!("nexus-edge: flushing hit/miss counts failed: {e}");
        }
    }
    http::response(response)
}
