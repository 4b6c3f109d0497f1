//! Time comes from the host; tests use [`ManualClock`] and move it by hand.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// Calls `f` whenever the clock is moved by hand. Real clocks never
    /// are; a host holding requests until some time uses this to look
    /// again when a test moves a manual clock past it.
    fn on_move(&self, f: Box<dyn Fn() + Send + Sync>) {
        drop(f);
    }
}

type Watcher = Box<dyn Fn() + Send + Sync>;

#[derive(Default)]
struct Shared {
    now_ms: AtomicU64,
    watchers: Mutex<Vec<Watcher>>,
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Clone, Default)]
pub struct ManualClock(Arc<Shared>);

impl std::fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now_ms()).finish()
    }
}

impl ManualClock {
    pub fn new(start_ms: u64) -> Self {
        let clock = Self::default();
        clock.0.now_ms.store(start_ms, Ordering::SeqCst);
        clock
    }
    pub fn set(&self, ms: u64) {
        self.0.now_ms.store(ms, Ordering::SeqCst);
        self.moved();
    }
    pub fn advance(&self, ms: u64) {
        self.0.now_ms.fetch_add(ms, Ordering::SeqCst);
        self.moved();
    }

    fn moved(&self) {
        for watcher in self
            .0
            .watchers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            watcher();
        }
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.now_ms.load(Ordering::SeqCst)
    }

    fn on_move(&self, f: Box<dyn Fn() + Send + Sync>) {
        self.0
            .watchers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(f);
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }

    fn on_move(&self, f: Box<dyn Fn() + Send + Sync>) {
        (**self).on_move(f);
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }

    fn on_move(&self, f: Box<dyn Fn() + Send + Sync>) {
        (**self).on_move(f);
    }
}

/// How a test server's `POST /_test/clock` moves its manual clock:
/// `{"advance_ms": N}` or `{"set_ms": N}`. One parser for every server that
/// has the route (`nexus serve --manual-clock`, the edge harness), so they
/// accept and refuse the same bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMove {
    Advance(u64),
    Set(u64),
}

impl ClockMove {
    /// The route's body: exactly one of the two fields, a whole number of
    /// milliseconds. Anything else (neither or both, another field, a
    /// negative or fractional number, not a JSON object) is `Err` with the
    /// reason the servers answer in a 422's `detail`.
    pub fn parse(body: &[u8]) -> Result<Self, &'static str> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Body {
            advance_ms: Option<u64>,
            set_ms: Option<u64>,
        }
        match serde_json::from_slice(body) {
            Ok(Body {
                advance_ms: Some(ms),
                set_ms: None,
            }) => Ok(Self::Advance(ms)),
            Ok(Body {
                advance_ms: None,
                set_ms: Some(ms),
            }) => Ok(Self::Set(ms)),
            _ => Err("expected {\"advance_ms\": N} or {\"set_ms\": N}"),
        }
    }
}
