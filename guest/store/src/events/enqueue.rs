//! Putting an event into its queues: the writes emit, a replay from the
//! dead-letter queue and a scheduled task share.

use super::batch::Batch;
use super::keys::{EventCounter, WAITING, delivery_key, log_key, log_type_key, queue_key};
use super::records::{DeliveryRecord, Envelope, encode};
use crate::storage::Storage;
use crate::{Clock, Store};

impl<S: Storage, C: Clock> Store<S, C> {
    /// Adds an event to the batch: its log entries and one delivery per
    /// queue in `groups` (`""` is the namespace's queue).
    pub(crate) fn stage_event(
        &self,
        ns: &str,
        batch: &mut Batch,
        event: &Envelope,
        groups: &[&str],
        visible_at: u64,
    ) {
        let id = &event.message_id;
        let key = log_key(ns, id);
        batch.check(key.clone(), None);
        batch.put(key, encode(event));
        batch.put(log_type_key(ns, &event.event_type, id), Vec::new());
        for group in groups {
            let record = DeliveryRecord {
                event: event.clone(),
                visible_at,
                deliveries: 0,
                consumer: None,
            };
            batch.put(delivery_key(ns, id, group), encode(&record));
            batch.put(queue_key(ns, group, visible_at, id), vec![WAITING]);
        }
        batch.add(EventCounter::Emitted, 1);
        batch.add(EventCounter::QueueDepth, groups.len() as i64);
        batch.wake();
        batch.emitted_at(event.emitted_at);
    }
}
