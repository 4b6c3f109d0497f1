//! Per-namespace events settings: retries, node liveness, log retention.

use serde::{Deserialize, Serialize};

use super::batch::{Batch, Step};
use super::keys::config_key;
use super::records::{decode, encode};
use crate::error::{Error, Result};
use crate::namespace;
use crate::storage::Storage;
use crate::{Clock, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsConfig {
    /// Deliveries of one message before it is dead-lettered.
    pub max_attempts: u32,
    /// The wait after the first nack; it doubles with each further attempt.
    pub base_delay_ms: u64,
    /// The longest wait after a nack.
    pub max_delay_ms: u64,
    /// A node with no heartbeat for this long is listed as stale.
    pub node_stale_after_ms: u64,
    /// Log entries older than this are removed by `tick`.
    pub log_retention_ms: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay_ms: 1_000,
            max_delay_ms: 60_000,
            node_stale_after_ms: 60_000,
            log_retention_ms: 7 * 24 * 3_600_000,
        }
    }
}

impl EventsConfig {
    pub fn validate(&self) -> Result<()> {
        let fail = |why: &str| Err(Error::InvalidArgument(why.to_string()));
        if !(1..=100).contains(&self.max_attempts) {
            return fail("max-attempts must be 1-100");
        }
        if self.base_delay_ms > self.max_delay_ms {
            return fail("base-delay-ms must not exceed max-delay-ms");
        }
        if self.max_delay_ms > 7 * 24 * 3_600_000 {
            return fail("max-delay-ms must be at most 7 days");
        }
        if self.node_stale_after_ms == 0 {
            return fail("node-stale-after-ms must be positive");
        }
        if self.log_retention_ms == 0 {
            return fail("log-retention-ms must be positive");
        }
        Ok(())
    }

    /// The wait before attempt `deliveries + 1`, after `deliveries` attempts.
    pub(crate) fn backoff(&self, deliveries: u32) -> u64 {
        let doublings = deliveries.saturating_sub(1).min(40);
        self.base_delay_ms
            .saturating_mul(1 << doublings)
            .min(self.max_delay_ms)
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    pub fn events_config(&mut self, ns: &str) -> Result<EventsConfig> {
        namespace::validate(ns)?;
        self.read_config(ns)
    }

    pub(crate) fn read_config(&self, ns: &str) -> Result<EventsConfig> {
        match self.storage.get(&config_key(ns))? {
            Some(raw) => decode(&raw, "events config"),
            None => Ok(EventsConfig::default()),
        }
    }

    pub fn set_events_config(&mut self, ns: &str, config: EventsConfig) -> Result<()> {
        namespace::validate(ns)?;
        config.validate()?;
        self.run_events(ns, |s, now| {
            let mut batch = Batch::default();
            s.guard_namespace(ns, now, &mut batch)?;
            batch.put(config_key(ns), encode(&config));
            Ok(Step::Commit(batch, ()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = EventsConfig {
            base_delay_ms: 100,
            max_delay_ms: 1_000,
            ..Default::default()
        };
        assert_eq!(
            [1, 2, 3, 4, 5, 60].map(|n| c.backoff(n)),
            [100, 200, 400, 800, 1_000, 1_000]
        );
    }
}
