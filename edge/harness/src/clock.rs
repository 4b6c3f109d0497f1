//! The manual wall clock: client tests of TTLs and timeouts move time with
//! `POST /_test/clock` instead of sleeping, exactly as against
//! `nexus serve --manual-clock`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nexus_store::ClockMove;
use wasmtime_wasi::HostWallClock;

/// Milliseconds since the Unix epoch, shared by the harness and every
/// instance's `wasi:clocks/wall-clock`. Clones share one time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new(now_ms: u64) -> Self {
        Self(Arc::new(AtomicU64::new(now_ms)))
    }

    pub fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set(&self, ms: u64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    /// What `POST /_test/clock` does with its body: `Ok(now_ms)` after
    /// moving, or `Err(reason)` for anything but `{"advance_ms": N}` or
    /// `{"set_ms": N}` (parsed by the parser `nexus serve` uses).
    pub fn apply(&self, body: &[u8]) -> Result<u64, &'static str> {
        match ClockMove::parse(body)? {
            ClockMove::Advance(ms) => self.advance(ms),
            ClockMove::Set(ms) => self.set(ms),
        }
        Ok(self.now_ms())
    }
}

impl HostWallClock for ManualClock {
    /// Whole milliseconds is all this clock can tell apart.
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        Duration::from_millis(self.now_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_like_nexus_serve() {
        let clock = ManualClock::new(1_000);
        let shared = clock.clone();
        assert_eq!(clock.apply(br#"{"advance_ms": 500}"#), Ok(1_500));
        assert_eq!(shared.now(), Duration::from_millis(1_500));
        assert_eq!(clock.apply(br#"{"set_ms": 42}"#), Ok(42));
        assert_eq!(shared.now_ms(), 42);
    }

    #[test]
    fn rejects_anything_else() {
        let clock = ManualClock::new(7);
        for body in [
            &br#"{}"#[..],
            br#"{"advance_ms": 1, "set_ms": 2}"#,
            br#"{"advance_ms": -1}"#,
            br#"{"advance_ms": 1.5}"#,
            br#"{"advance_ms": 1, "other": 0}"#,
            br#"[1]"#,
            b"not json",
        ] {
            assert!(
                clock.apply(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(clock.now_ms(), 7);
    }
}
