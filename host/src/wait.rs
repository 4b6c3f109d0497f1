//! Long polling: receivers holding an empty `receive` open until a commit
//! wakes their namespace (an emit, a nack: the guest adds a `notify` write
//! to such commits) or a message becomes visible by time.
//!
//! The guest never waits; the host does, here, outside any call into the
//! component, so a waiting receiver holds no instance and no storage
//! connection. Every wait follows one order, which loses no wake-up: listen
//! first, then ask the store, then sleep until woken or until the time the
//! store named. A commit that lands between the ask and the sleep has
//! already notified the listener.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_listener::{Event, EventListener};
use nexus_store::http::WaitHint;

/// The waiting receivers of one process, by namespace.
#[derive(Default)]
pub struct Waiters {
    events: Mutex<HashMap<String, Arc<Event>>>,
    /// Set on shutdown: held requests answer now instead of waiting on.
    closed: AtomicBool,
}

impl std::fmt::Debug for Waiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiters").finish_non_exhaustive()
    }
}

impl Waiters {
    pub fn new() -> Self {
        Self::default()
    }

    /// A listener for the next wake of `namespace`.
    pub fn listen(&self, namespace: &str) -> EventListener {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        events
            .entry(namespace.to_string())
            .or_insert_with(|| Arc::new(Event::new()))
            .listen()
    }

    /// How many receivers wait now, in every namespace.
    pub fn total(&self) -> usize {
        let events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        events.values().map(|e| e.total_listeners()).sum()
    }

    /// How many receivers wait on `namespace` now.
    pub fn waiting(&self, namespace: &str) -> usize {
        let events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        events.get(namespace).map_or(0, |e| e.total_listeners())
    }

    /// Wakes every receiver waiting on `namespace`.
    pub fn wake(&self, namespace: &str) {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(event) = events.get(namespace) {
            event.notify(usize::MAX);
            // Nobody listens any more: forget the namespace, so the map
            // holds only namespaces with receivers waiting.
            if event.total_listeners() == 0 {
                events.remove(namespace);
            }
        }
    }

    /// Wakes every waiting receiver: the clock jumped, or wake-ups from
    /// other hosts may have been missed.
    pub fn wake_all(&self) {
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        for event in events.values() {
            event.notify(usize::MAX);
        }
        events.retain(|_, event| event.total_listeners() > 0);
    }

    /// Answers every held request now, and every later one at once: the
    /// server is shutting down and must not wait up to a whole `wait_ms`
    /// for them.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.wake_all();
    }

    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

/// One held request: the namespace it waits on and when it must answer.
#[derive(Debug)]
pub(crate) struct Hold {
    namespace: String,
    deadline_ms: u64,
}

impl Hold {
    /// A hold of a receive in `namespace` that must answer by `deadline_ms`.
    pub fn new(namespace: &str, deadline_ms: u64) -> Self {
        Self {
            namespace: namespace.to_string(),
            deadline_ms,
        }
    }

    /// A hold for the first empty answer's hint.
    pub fn of(hint: &WaitHint) -> Self {
        Self::new(&hint.namespace, hint.deadline_ms)
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// After an ask that came back empty with `hint` (none: it was not
    /// empty, or failed) at `now_ms`: how long to sleep before asking
    /// again, or `None` to answer now. Later hints never extend the hold:
    /// each ask computes a new deadline from its own time.
    pub fn sleep_for(&self, hint: Option<&WaitHint>, now_ms: u64) -> Option<Duration> {
        let hint = hint?;
        if now_ms >= self.deadline_ms {
            return None;
        }
        let until = hint.recheck_at().min(self.deadline_ms);
        // A message visible by now (the store's clock moved between the
        // ask and here) is worth asking for at once.
        Some(Duration::from_millis(until.saturating_sub(now_ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use event_listener::Listener as _;

    fn hint(deadline_ms: u64, next_visible_ms: Option<u64>) -> WaitHint {
        WaitHint {
            namespace: "app".into(),
            deadline_ms,
            next_visible_ms,
        }
    }

    #[test]
    fn a_hold_sleeps_until_the_earlier_of_its_deadline_and_the_next_visible_message() {
        let hold = Hold::of(&hint(1_000, None));
        assert_eq!(
            hold.sleep_for(Some(&hint(1_000, None)), 400),
            Some(Duration::from_millis(600))
        );
        assert_eq!(
            hold.sleep_for(Some(&hint(1_200, Some(500))), 400),
            Some(Duration::from_millis(100))
        );
        // A later ask's deadline does not extend the first one.
        assert_eq!(
            hold.sleep_for(Some(&hint(1_900, None)), 900),
            Some(Duration::from_millis(100))
        );
        assert_eq!(hold.sleep_for(Some(&hint(2_000, None)), 1_000), None);
        assert_eq!(hold.sleep_for(None, 400), None, "a non-empty answer");
    }

    #[test]
    fn a_wake_reaches_the_listeners_of_its_namespace_only() {
        let waiters = Waiters::new();
        let app = waiters.listen("app");
        let other = waiters.listen("other");
        waiters.wake("app");
        assert!(app.wait_timeout(Duration::ZERO).is_some());
        assert!(other.wait_timeout(Duration::ZERO).is_none());
        waiters.wake_all();
        assert!(waiters.events.lock().unwrap().is_empty(), "no one listens");
    }

    #[test]
    fn a_wake_before_the_sleep_is_not_lost() {
        let waiters = Waiters::new();
        let listener = waiters.listen("app");
        waiters.wake("app");
        assert!(listener.wait_timeout(Duration::from_secs(5)).is_some());
    }
}
