//! Per-namespace queue metrics. Depths and totals are counters kept in the
//! same commits as the messages, so they are exact; in-flight is counted
//! from the queue index (at most [`MAX_SCANNED`] entries).

use super::ids;
use super::keys::{EventCounter, LEASED, last_emit_key, parse_queue_key};
use crate::error::Result;
use crate::keys;
use crate::namespace;
use crate::storage::{GetEach, Storage, decode_counter};
use crate::{Clock, Store};

pub const MAX_SCANNED: u32 = 100_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Messages waiting or in flight, over the namespace queue and every subscription.
    pub queue_depth: u64,
    /// Messages leased to a consumer whose visibility timeout has not expired.
    pub in_flight: u64,
    pub dlq_depth: u64,
    /// Age of the oldest message still queued.
    pub oldest_message_age_ms: Option<u64>,
    /// Time since the last emit, while messages are queued.
    pub newest_message_age_ms: Option<u64>,
    pub emitted: u64,
    pub acked: u64,
    pub nacked: u64,
    pub dead_lettered: u64,
}

impl<S: Storage, C: Clock> Store<S, C> {
    pub fn metrics(&mut self, ns: &str) -> Result<Metrics> {
        namespace::validate(ns)?;
        let now = self.clock.now_ms();
        let mut read: Vec<Vec<u8>> = EventCounter::ALL.iter().map(|c| c.key(ns)).collect();
        read.push(last_emit_key(ns));
        let mut raws = self.storage.get_each(&read)?.into_iter();
        let mut m = Metrics::default();
        for (counter, raw) in EventCounter::ALL.into_iter().zip(raws.by_ref()) {
            let n = decode_counter(raw.as_deref())?.max(0) as u64;
            let field = match counter {
                EventCounter::QueueDepth => &mut m.queue_depth,
                EventCounter::DeadLetters => &mut m.dlq_depth,
                EventCounter::Emitted => &mut m.emitted,
                EventCounter::Acked => &mut m.acked,
                EventCounter::Nacked => &mut m.nacked,
                EventCounter::DeadLettered => &mut m.dead_lettered,
            };
            *field = n;
        }
        if m.queue_depth == 0 {
            return Ok(m);
        }
        // What `get_each` answered after the counters: the last emit.
        let last_emit = raws
            .next()
            .flatten()
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes);
        m.newest_message_age_ms = last_emit.map(|t| now.saturating_sub(t));
        let (start, end) = keys::tag_range(ns, keys::DELIVERY);
        if let Some((key, _)) = self.storage.scan(&start, &end, 1)?.first() {
            let rest = keys::tagged_rest(ns, key);
            m.oldest_message_age_ms = std::str::from_utf8(&rest[..ids::ID_LEN.min(rest.len())])
                .ok()
                .and_then(ids::time_of)
                .map(|t| now.saturating_sub(t));
        }
        let (start, end) = keys::tag_range(ns, keys::QUEUE);
        m.in_flight = self
            .storage
            .scan(&start, &end, MAX_SCANNED)?
            .iter()
            .filter(|(k, v)| {
                v.first() == Some(&LEASED)
                    && parse_queue_key(ns, k).is_some_and(|(_, at, _)| at > now)
            })
            .count() as u64;
        Ok(m)
    }
}
