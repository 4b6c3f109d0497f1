//! Emit, receive, ack and nack, and `dead_letter`: a nack that gives up on
//! the attempts left.

use super::batch::{Batch, Step};
use super::dlq::stage_dead_letter;
use super::keys::{
    EventCounter, LEASED, WAITING, delivery_key, group_key, parse_queue_key, queue_key, queue_range,
};
use super::records::{DeliveryRecord, Envelope, decode, encode};
use super::subscriptions::targets;
use super::{ids, pattern, validate_json, validate_label};
use crate::error::{Error, Result};
use crate::namespace::{self, Limits};
use crate::storage::{GetEach, Storage};
use crate::{Clock, Store};

/// The longest a receive may hold a message.
pub const MAX_VISIBILITY_TIMEOUT_MS: u64 = 12 * 3_600_000;
/// The most messages one receive returns.
pub const MAX_RECEIVE: u32 = 100;
/// Longest a receive may wait for a message, as SQS's long polling (20 s):
/// long enough to make idle polling cheap, short enough for proxies.
pub const MAX_WAIT_MS: u64 = 20_000;
/// The longest an emit may be delayed.
pub const MAX_DELAY_MS: u64 = 30 * 24 * 3_600_000;
/// The most events one emit-batch carries.
pub const MAX_BATCH: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmitOptions {
    /// Deliver not before `now + delay_ms`.
    pub delay_ms: u64,
    pub producer_node_id: Option<String>,
    /// Deliver to every subscription whatever its patterns.
    pub broadcast: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    pub event_type: String,
    pub payload: String,
    pub options: EmitOptions,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveRequest {
    /// The subscription to receive from; `None` is the namespace's queue.
    pub group: Option<String>,
    pub consumer: String,
    pub max: u32,
    pub visibility_timeout_ms: u64,
    /// How long a host may hold the call open while nothing is visible
    /// (0..=[`MAX_WAIT_MS`]): long polling. The store itself never waits;
    /// it checks the value, and [`Store::next_visible_at`] tells the host
    /// when to look again.
    pub wait_ms: u64,
}

/// A leased message: the consumer must ack or nack it before `visible_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub envelope: Envelope,
    pub group: Option<String>,
    pub consumer: String,
    pub visible_until: u64,
    /// 1 for the first delivery.
    pub attempt: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NackOutcome {
    /// Visible again at this time.
    Retry { visible_at: u64 },
    /// Attempts are exhausted; the message is in the dead-letter queue.
    DeadLettered,
}

fn group_name(group: Option<&str>) -> &str {
    group.unwrap_or("")
}

fn group_option(group: &str) -> Option<String> {
    (!group.is_empty()).then(|| group.to_string())
}

fn validate_draft(draft: &EventDraft, limits: &Limits) -> Result<()> {
    pattern::validate_event_type(&draft.event_type)?;
    validate_json("payload", &draft.payload)?;
    if draft.payload.len() as u64 > limits.max_value_bytes as u64 {
        return Err(Error::ValueTooLarge(format!(
            "payload is {} bytes; the namespace allows {}",
            draft.payload.len(),
            limits.max_value_bytes
        )));
    }
    if draft.options.delay_ms > MAX_DELAY_MS {
        return Err(Error::InvalidArgument(format!(
            "delay must be at most {MAX_DELAY_MS} ms"
        )));
    }
    if let Some(node) = &draft.options.producer_node_id {
        validate_label("producer node id", node)?;
    }
    Ok(())
}

impl<S: Storage, C: Clock> Store<S, C> {
    pub fn emit(&mut self, ns: &str, draft: EventDraft) -> Result<String> {
        let mut ids = self.emit_batch(ns, vec![draft])?;
        Ok(ids.pop().expect("one id per event"))
    }

    /// Emits several events in one commit; returns their ids in order.
    pub fn emit_batch(&mut self, ns: &str, drafts: Vec<EventDraft>) -> Result<Vec<String>> {
        namespace::validate(ns)?;
        if drafts.is_empty() || drafts.len() > MAX_BATCH {
            return Err(Error::InvalidArgument(format!(
                "a batch holds 1-{MAX_BATCH} events, got {}",
                drafts.len()
            )));
        }
        self.run_events(ns, |s, now| {
            let mut batch = Batch::default();
            let record = s.guard_namespace(ns, now, &mut batch)?;
            for draft in &drafts {
                validate_draft(draft, &record.limits)?;
            }
            let subs = s.guard_subscriptions(ns, &mut batch)?;
            let mut ids = Vec::with_capacity(drafts.len());
            for draft in &drafts {
                let event = Envelope {
                    message_id: s.next_message_id(now),
                    namespace: ns.to_string(),
                    event_type: draft.event_type.clone(),
                    payload: draft.payload.clone(),
                    emitted_at: now,
                    producer_node_id: draft.options.producer_node_id.clone(),
                    redelivery_count: 0,
                    scheduled_task_id: None,
                    replay_of: None,
                    broadcast: draft.options.broadcast,
                };
                let groups = targets(&subs, &event);
                s.stage_event(
                    ns,
                    &mut batch,
                    &event,
                    &groups,
                    now + draft.options.delay_ms,
                );
                ids.push(event.message_id);
            }
            Ok(Step::Commit(batch, ids))
        })
    }

    /// Leases up to `max` visible messages of one queue.
    pub fn receive(&mut self, ns: &str, req: &ReceiveRequest) -> Result<Vec<Delivery>> {
        namespace::validate(ns)?;
        validate_label("consumer", &req.consumer)?;
        if let Some(g) = &req.group {
            validate_label("group", g)?;
        }
        if !(1..=MAX_RECEIVE).contains(&req.max) {
            return Err(Error::InvalidArgument(format!(
                "max must be 1-{MAX_RECEIVE}, got {}",
                req.max
            )));
        }
        if !(1..=MAX_VISIBILITY_TIMEOUT_MS).contains(&req.visibility_timeout_ms) {
            return Err(Error::InvalidArgument(format!(
                "visibility timeout must be 1-{MAX_VISIBILITY_TIMEOUT_MS} ms, got {}",
                req.visibility_timeout_ms
            )));
        }
        if req.wait_ms > MAX_WAIT_MS {
            return Err(Error::InvalidArgument(format!(
                "wait must be 0-{MAX_WAIT_MS} ms, got {}",
                req.wait_ms
            )));
        }
        let group = group_name(req.group.as_deref());
        // A round that only cleared expired last attempts (to the DLQ) or
        // stale index entries returns nothing; go on so an empty answer
        // always means nothing is visible.
        loop {
            let (leased, cleared) = self.receive_round(ns, group, req)?;
            if !leased.is_empty() || !cleared {
                return Ok(leased);
            }
        }
    }

    /// When the earliest delivery of the queue that is not visible yet
    /// becomes visible (a delayed emit, a lease, a backoff): a receiver
    /// waiting on an empty queue must look again then, even if no commit
    /// wakes it. `None`: nothing is waiting to become visible.
    pub fn next_visible_at(&mut self, ns: &str, group: Option<&str>) -> Result<Option<u64>> {
        namespace::validate(ns)?;
        if let Some(g) = group {
            validate_label("group", g)?;
        }
        let group = group_name(group);
        let now = self.clock.now_ms();
        let (_, start) = queue_range(ns, group, now.saturating_add(1));
        let (_, end) = queue_range(ns, group, u64::MAX);
        Ok(self
            .storage
            .scan(&start, &end, 1)?
            .first()
            .and_then(|(key, _)| parse_queue_key(ns, key))
            .map(|(_, at, _)| at))
    }

    /// One receive attempt: the leases it made, and whether it cleared any
    /// entry that was not leasable.
    fn receive_round(
        &mut self,
        ns: &str,
        group: &str,
        req: &ReceiveRequest,
    ) -> Result<(Vec<Delivery>, bool)> {
        // Read only when an expired lease needs judging: most receives never do.
        let mut max_attempts = None;
        self.run_events(ns, |s, now| {
            let mut batch = Batch::default();
            if !group.is_empty() {
                let key = group_key(ns, group);
                let raw = s.storage.get(&key)?;
                if raw.is_none() {
                    return Err(Error::NotFound(format!(
                        "no subscription {group:?} in namespace {ns:?}"
                    )));
                }
                batch.check(key, raw);
            }
            let (start, end) = queue_range(ns, group, now.saturating_add(1));
            let visible = s.storage.scan(&start, &end, req.max)?;
            if visible.is_empty() {
                return Ok(Step::Done((Vec::new(), false)));
            }
            let parsed: Vec<(Vec<u8>, u64, String)> = visible
                .into_iter()
                .filter_map(|(k, _)| {
                    let (_, at, id) = parse_queue_key(ns, &k)?;
                    let id = id.to_string();
                    Some((k, at, id))
                })
                .collect();
            let delivery_keys: Vec<Vec<u8>> = parsed
                .iter()
                .map(|(_, _, id)| delivery_key(ns, id, group))
                .collect();
            let raws = s.storage.get_each(&delivery_keys)?;
            let mut leased = Vec::new();
            let mut cleared = false;
            for ((index_key, at, _), (key, raw)) in
                parsed.into_iter().zip(delivery_keys.into_iter().zip(raws))
            {
                let Some(raw) = raw else {
                    batch.delete(index_key);
                    cleared = true;
                    continue;
                };
                let mut record: DeliveryRecord = decode(&raw, "delivery")?;
                batch.check(key.clone(), Some(raw));
                batch.delete(index_key);
                if record.visible_at != at {
                    // A stale index entry; the record has its own.
                    cleared = true;
                    continue;
                }
                let expired_lease = record.consumer.is_some();
                let max = match (expired_lease, max_attempts) {
                    (false, _) => u32::MAX,
                    (true, Some(max)) => max,
                    (true, None) => *max_attempts.insert(s.read_config(ns)?.max_attempts),
                };
                if expired_lease && record.deliveries >= max {
                    let reason = format!(
                        "visibility timeout expired on attempt {} of {max}",
                        record.deliveries
                    );
                    stage_dead_letter(ns, &mut batch, key, record, group, reason, None, now);
                    cleared = true;
                    continue;
                }
                record.deliveries += 1;
                record.visible_at = now + req.visibility_timeout_ms;
                record.consumer = Some(req.consumer.clone());
                batch.put(
                    queue_key(ns, group, record.visible_at, &record.event.message_id),
                    vec![LEASED],
                );
                batch.put(key, encode(&record));
                let mut envelope = record.event;
                envelope.redelivery_count = record.deliveries - 1;
                leased.push(Delivery {
                    envelope,
                    group: group_option(group),
                    consumer: req.consumer.clone(),
                    visible_until: record.visible_at,
                    attempt: record.deliveries,
                });
            }
            Ok(Step::Commit(batch, (leased, cleared)))
        })
    }

    /// The delivery `consumer` holds, or why it holds none: `raw` is what
    /// the storage has under the delivery's key.
    fn lease_of(
        ns: &str,
        group: &str,
        consumer: &str,
        id: &str,
        raw: Option<Vec<u8>>,
        now: u64,
    ) -> Result<(Vec<u8>, DeliveryRecord)> {
        let Some(raw) = raw else {
            let queue = if group.is_empty() {
                "the namespace queue".to_string()
            } else {
                format!("subscription {group:?}")
            };
            return Err(Error::NotFound(format!(
                "message {id} is not in {queue} of {ns:?}: never emitted there, already acked, or dead-lettered"
            )));
        };
        let record: DeliveryRecord = decode(&raw, "delivery")?;
        if record.consumer.as_deref() != Some(consumer) || record.deliveries == 0 {
            return Err(Error::ConditionFailed(format!(
                "message {id} is not leased to consumer {consumer:?}"
            )));
        }
        if record.visible_at <= now {
            return Err(Error::ConditionFailed(format!(
                "the visibility timeout of message {id} expired at {}; it will be delivered again",
                record.visible_at
            )));
        }
        Ok((raw, record))
    }

    /// Reads the delivery of `id` and checks `consumer` holds it.
    fn held(
        &self,
        ns: &str,
        group: &str,
        consumer: &str,
        id: &str,
        now: u64,
    ) -> Result<(Vec<u8>, Vec<u8>, DeliveryRecord)> {
        namespace::validate(ns)?;
        ids::check(id)?;
        let key = delivery_key(ns, id, group);
        let raw = self.storage.get(&key)?;
        let (raw, record) = Self::lease_of(ns, group, consumer, id, raw, now)?;
        Ok((key, raw, record))
    }

    /// Removes a message `consumer` holds from the queue.
    pub fn ack(&mut self, ns: &str, group: Option<&str>, consumer: &str, id: &str) -> Result<()> {
        let outcome = self.ack_batch(ns, group, consumer, &[id.to_string()])?;
        match outcome.into_iter().next().flatten() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Acks several messages in one commit. Each id gets its own outcome
    /// (`None` = acked); the ones that fail change nothing.
    pub fn ack_batch(
        &mut self,
        ns: &str,
        group: Option<&str>,
        consumer: &str,
        ids: &[String],
    ) -> Result<Vec<Option<Error>>> {
        namespace::validate(ns)?;
        if ids.is_empty() || ids.len() > MAX_BATCH {
            return Err(Error::InvalidArgument(format!(
                "a batch holds 1-{MAX_BATCH} ids, got {}",
                ids.len()
            )));
        }
        let group = group_name(group);
        self.run_events(ns, |s, now| {
            let keys: Vec<Result<Vec<u8>>> = ids
                .iter()
                .map(|id| ids::check(id).map(|()| delivery_key(ns, id, group)))
                .collect();
            let readable: Vec<Vec<u8>> = keys.iter().flatten().cloned().collect();
            let mut raws = s.storage.get_each(&readable)?.into_iter();
            let mut batch = Batch::default();
            let mut seen = std::collections::BTreeSet::new();
            let mut outcomes = Vec::with_capacity(ids.len());
            for (id, key) in ids.iter().zip(keys) {
                let staged = key.and_then(|key| {
                    // `get_each` answered one value per well-formed id.
                    let raw = raws.next().flatten();
                    // A repeated id was acked by its first occurrence.
                    let raw = if seen.insert(key.clone()) { raw } else { None };
                    let (raw, record) = Self::lease_of(ns, group, consumer, id, raw, now)?;
                    batch.check(key.clone(), Some(raw));
                    batch.delete(key);
                    batch.delete(queue_key(ns, group, record.visible_at, id));
                    batch.add(EventCounter::QueueDepth, -1);
                    batch.add(EventCounter::Acked, 1);
                    Ok(())
                });
                outcomes.push(staged.err());
            }
            if outcomes.iter().all(Option::is_some) {
                return Ok(Step::Done(outcomes));
            }
            Ok(Step::Commit(batch, outcomes))
        })
    }

    /// Gives a message back after a failure: it comes back after the
    /// namespace's backoff, or goes to the dead-letter queue if this was its
    /// last attempt.
    pub fn nack(
        &mut self,
        ns: &str,
        group: Option<&str>,
        consumer: &str,
        id: &str,
        reason: &str,
        error: Option<&str>,
    ) -> Result<NackOutcome> {
        let group = group_name(group);
        let config = self.read_config(ns)?;
        self.run_events(ns, |s, now| {
            let (key, raw, mut record) = s.held(ns, group, consumer, id, now)?;
            let mut batch = Batch::default();
            batch.check(key.clone(), Some(raw));
            batch.delete(queue_key(ns, group, record.visible_at, id));
            batch.add(EventCounter::Nacked, 1);
            if record.deliveries >= config.max_attempts {
                stage_dead_letter(
                    ns,
                    &mut batch,
                    key,
                    record,
                    group,
                    reason.to_string(),
                    error.map(str::to_string),
                    now,
                );
                return Ok(Step::Commit(batch, NackOutcome::DeadLettered));
            }
            record.visible_at = now + config.backoff(record.deliveries);
            record.consumer = None;
            batch.put(queue_key(ns, group, record.visible_at, id), vec![WAITING]);
            batch.wake();
            let outcome = NackOutcome::Retry {
                visible_at: record.visible_at,
            };
            batch.put(key, encode(&record));
            Ok(Step::Commit(batch, outcome))
        })
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Moves a message `consumer` holds straight to the dead-letter queue,
    /// whatever attempts it has left: for failures a retry cannot fix (no
    /// handler for the event type, a payload the consumer cannot parse).
    pub fn dead_letter(
        &mut self,
        ns: &str,
        group: Option<&str>,
        consumer: &str,
        id: &str,
        reason: &str,
        error: Option<&str>,
    ) -> Result<()> {
        let group = group_name(group);
        self.run_events(ns, |s, now| {
            let (key, raw, record) = s.held(ns, group, consumer, id, now)?;
            let mut batch = Batch::default();
            batch.check(key.clone(), Some(raw));
            batch.delete(queue_key(ns, group, record.visible_at, id));
            stage_dead_letter(
                ns,
                &mut batch,
                key,
                record,
                group,
                reason.to_string(),
                error.map(str::to_string),
                now,
            );
            Ok(Step::Commit(batch, ()))
        })
    }
}
