//! Drives `tick` on a timer: cron tasks fire, the event log is trimmed and
//! expired keys are swept while an application runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::nexus::Nexus;

/// Entries examined per tick for log retention and TTL sweeping. A tick that
/// reports more work runs again at once.
const BUDGET: u32 = 1_000;

/// A thread calling [`Nexus::tick`] every interval; stops when dropped.
pub struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Nexus {
    /// Starts ticking every `interval` (a second suits cron's minute resolution).
    pub fn start_ticker(&self, interval: Duration) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let nexus = self.clone();
        let thread = std::thread::Builder::new()
            .name("nexus-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    match nexus.tick(BUDGET) {
                        Ok(report) => {
                            if report.tasks_fired > 0 || report.expired_keys > 0 {
                                tracing::debug!(?report, "tick");
                            }
                            if report.more {
                                continue;
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "tick failed"),
                    }
                    park_for(&flag, interval);
                }
            })
            .expect("spawning the ticker thread");
        Ticker {
            stop,
            thread: Some(thread),
        }
    }
}

/// Sleeps `interval` in short steps so a stop is noticed quickly.
fn park_for(stop: &AtomicBool, interval: Duration) {
    let step = Duration::from_millis(50);
    let mut left = interval;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let nap = left.min(step);
        std::thread::sleep(nap);
        left -= nap;
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
