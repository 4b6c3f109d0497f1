//! A bound on every statement, kept by the client: a server that takes a
//! statement and never answers (a primary orphaned by a failover, whose
//! commits wait for a synchronous standby that is now the primary) must
//! not hold a host's connections, and so its requests, forever.
//!
//! The synchronous driver cannot time a call out, so a watchdog thread
//! does: a call arms an alarm with the connection's cancel token, and an
//! alarm past its deadline sends PostgreSQL's cancel request (on a thread
//! of its own: it opens a connection) and marks the call as timed out. The
//! caller then discards the connection and reports the call as
//! `unavailable` — or, for a `COMMIT`, as `outcome unknown`: a commit
//! cancelled while it waits for its standby is already committed locally
//! and PostgreSQL answers it with success and a warning, so a timed-out
//! commit is never taken for acknowledged, whatever its answer says.
//! (TCP's user timeout, set to the same bound, covers the other case: a
//! machine that is gone and acknowledges nothing.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use postgres::{CancelToken, NoTls};

/// How often the watchdog looks at its alarms: the bound is kept to
/// within this.
const TICK: Duration = Duration::from_millis(50);

/// The bound and the thread that keeps it; stopped when dropped.
pub(super) struct Watchdog {
    bound: Option<Duration>,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    alarms: Mutex<Alarms>,
    bell: Condvar,
}

#[derive(Default)]
struct Alarms {
    next: u64,
    armed: HashMap<u64, Alarm>,
    stopped: bool,
}

struct Alarm {
    deadline: Instant,
    cancel: Arc<CancelToken>,
    fired: Arc<AtomicBool>,
}

impl Watchdog {
    /// `None`: no bound, no thread.
    pub(super) fn new(bound: Option<Duration>) -> Self {
        let shared = Arc::new(Shared::default());
        if bound.is_some() {
            let watching = shared.clone();
            let started = std::thread::Builder::new()
                .name("nexus-pg-bound".into())
                .spawn(move || watch(&watching));
            if let Err(e) = started {
                tracing::warn!(error = %e, "cannot start the PostgreSQL statement watchdog; statements are unbounded");
            }
        }
        Self { bound, shared }
    }

    /// Arms an alarm for a call on the connection `cancel` belongs to;
    /// disarmed when the guard drops.
    pub(super) fn arm(&self, cancel: &Arc<CancelToken>) -> Guard {
        let fired = Arc::new(AtomicBool::new(false));
        let Some(bound) = self.bound else {
            return Guard {
                shared: None,
                id: 0,
                fired,
            };
        };
        let mut alarms = lock(&self.shared);
        let id = alarms.next;
        alarms.next += 1;
        alarms.armed.insert(
            id,
            Alarm {
                deadline: Instant::now() + bound,
                cancel: cancel.clone(),
                fired: fired.clone(),
            },
        );
        Guard {
            shared: Some(self.shared.clone()),
            id,
            fired,
        }
    }

    pub(super) fn bound(&self) -> Option<Duration> {
        self.bound
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        lock(&self.shared).stopped = true;
        self.shared.bell.notify_all();
    }
}

/// An armed alarm.
pub(super) struct Guard {
    shared: Option<Arc<Shared>>,
    id: u64,
    fired: Arc<AtomicBool>,
}

impl Guard {
    /// Whether the bound passed and the call was cancelled: whatever the
    /// call answered, its connection is to be discarded.
    pub(super) fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            lock(shared).armed.remove(&self.id);
        }
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Alarms> {
    // Only whole inserts and removals happen under it.
    shared.alarms.lock().unwrap_or_else(|p| p.into_inner())
}

fn watch(shared: &Shared) {
    let mut alarms = lock(shared);
    while !alarms.stopped {
        let now = Instant::now();
        let due: Vec<u64> = alarms
            .armed
            .iter()
            .filter(|(_, alarm)| alarm.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let Some(alarm) = alarms.armed.remove(&id) else {
                continue;
            };
            alarm.fired.store(true, Ordering::SeqCst);
            tracing::warn!(
                "a PostgreSQL statement ran past its bound; cancelling it and dropping its connection"
            );
            let cancelled = std::thread::Builder::new()
                .name("nexus-pg-cancel".into())
                .spawn(move || {
                    if let Err(e) = alarm.cancel.cancel_query(NoTls) {
                        tracing::warn!(error = %e, "the cancel request did not reach PostgreSQL");
                    }
                });
            if let Err(e) = cancelled {
                tracing::warn!(error = %e, "cannot start a thread to cancel a statement");
            }
        }
        alarms = shared
            .bell
            .wait_timeout(alarms, TICK)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}
