//! The dead-letter queue: messages whose attempts ran out, kept with why.
//! A delivery gets here by [`stage_dead_letter`] (a nack of its last
//! attempt, an expired last lease, a consumer's verdict) and leaves by a
//! replay, which emits it again, or a purge.

use serde::{Deserialize, Serialize};

use super::batch::{Batch, Step};
use super::ids;
use super::keys::{EventCounter, letter_key};
use super::records::{DeliveryRecord, Envelope, decode, encode};
use crate::error::{Error, Result};
use crate::keys;
use crate::namespace;
use crate::storage::{Storage, decode_counter};
use crate::{Clock, Store};

pub const MAX_PAGE: u32 = 1000;
/// Letters replayed per commit by `replay_all`.
const REPLAY_CHUNK: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The message id, followed by `@group` for a subscription's letter.
    pub id: String,
    pub original_event: Envelope,
    pub reason: String,
    pub failed_at: u64,
    pub error: Option<String>,
    /// The subscription the message failed in; `None` is the namespace queue.
    pub group: Option<String>,
}

impl DeadLetter {
    pub(crate) fn new(
        original_event: Envelope,
        group: &str,
        reason: String,
        error: Option<String>,
        failed_at: u64,
    ) -> Self {
        let id = if group.is_empty() {
            original_event.message_id.clone()
        } else {
            format!("{}@{group}", original_event.message_id)
        };
        Self {
            id,
            original_event,
            reason,
            failed_at,
            error,
            group: (!group.is_empty()).then(|| group.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterPage {
    pub letters: Vec<DeadLetter>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// Moves a delivery (whose queue index entry the caller removes) to the
/// dead-letter queue.
#[allow(clippy::too_many_arguments)]
pub(crate) fn stage_dead_letter(
    ns: &str,
    batch: &mut Batch,
    delivery_key: Vec<u8>,
    record: DeliveryRecord,
    group: &str,
    reason: String,
    error: Option<String>,
    now: u64,
) {
    let mut event = record.event;
    event.redelivery_count = record.deliveries.saturating_sub(1);
    let letter = DeadLetter::new(event, group, reason, error, now);
    batch.delete(delivery_key);
    batch.put(
        letter_key(ns, &letter.original_event.message_id, group),
        encode(&letter),
    );
    batch.add(EventCounter::QueueDepth, -1);
    batch.add(EventCounter::DeadLetters, 1);
    batch.add(EventCounter::DeadLettered, 1);
}

/// The storage key of a letter id.
fn key_of(ns: &str, letter_id: &str) -> Result<Vec<u8>> {
    let (message_id, group) = match letter_id.split_once('@') {
        Some((m, g)) => (m, g),
        None => (letter_id, ""),
    };
    ids::check(message_id)?;
    Ok(letter_key(ns, message_id, group))
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Letters in message-id order, after the letter id `after`.
    pub fn dlq_list(
        &mut self,
        ns: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<DeadLetterPage> {
        namespace::validate(ns)?;
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Error::InvalidArgument(format!(
                "limit must be 1-{MAX_PAGE}"
            )));
        }
        let (mut start, end) = keys::tag_range(ns, keys::DEAD_LETTER);
        if let Some(after) = after {
            // A cursor that cannot be a letter id is a bad argument, not a
            // missing letter.
            start = key_of(ns, after).map_err(|_| {
                Error::InvalidArgument(format!("after {after:?} is not a letter id"))
            })?;
            start.push(0);
        }
        // One letter past the page says whether another page follows.
        let mut page = self.storage.scan(&start, &end, limit + 1)?;
        let more = page.len() > limit as usize;
        page.truncate(limit as usize);
        let letters = page
            .iter()
            .map(|(_, raw)| decode::<DeadLetter>(raw, "dead letter"))
            .collect::<Result<Vec<_>>>()?;
        let next = more.then(|| letters.last().map(|l| l.id.clone())).flatten();
        Ok(DeadLetterPage { letters, next })
    }

    pub fn dlq_get(&mut self, ns: &str, letter_id: &str) -> Result<DeadLetter> {
        namespace::validate(ns)?;
        let key = key_of(ns, letter_id)?;
        match self.read_record::<DeadLetter>(&key, "dead letter")? {
            Some((_, letter)) => Ok(letter),
            None => Err(not_found(ns, letter_id)),
        }
    }

    /// Emits the letter's event again as a new message (linked to the old
    /// one by `replay_of`) into the queue it failed in, and removes the
    /// letter, in one commit. Returns the new message id.
    pub fn dlq_replay(&mut self, ns: &str, letter_id: &str) -> Result<String> {
        namespace::validate(ns)?;
        let key = key_of(ns, letter_id)?;
        self.run_events(ns, |s, now| {
            let Some((raw, letter)) = s.read_record::<DeadLetter>(&key, "dead letter")? else {
                return Err(not_found(ns, letter_id));
            };
            let mut batch = Batch::default();
            s.guard_namespace(ns, now, &mut batch)?;
            let id = s.stage_replay(ns, &mut batch, key.clone(), raw, letter, now)?;
            Ok(Step::Commit(batch, id))
        })
    }

    /// Replays every letter; returns how many.
    pub fn dlq_replay_all(&mut self, ns: &str) -> Result<u64> {
        if !self.namespace_exists(ns)? {
            return Ok(0);
        }
        let mut total = 0;
        loop {
            let replayed = self.run_events(ns, |s, now| {
                let (start, end) = keys::tag_range(ns, keys::DEAD_LETTER);
                let page = s.storage.scan(&start, &end, REPLAY_CHUNK)?;
                if page.is_empty() {
                    return Ok(Step::Done(0));
                }
                let mut batch = Batch::default();
                s.guard_namespace(ns, now, &mut batch)?;
                let n = page.len() as u64;
                for (key, raw) in page {
                    let letter = decode(&raw, "dead letter")?;
                    s.stage_replay(ns, &mut batch, key, raw, letter, now)?;
                }
                Ok(Step::Commit(batch, n))
            })?;
            if replayed == 0 {
                return Ok(total);
            }
            total += replayed;
        }
    }

    fn stage_replay(
        &mut self,
        ns: &str,
        batch: &mut Batch,
        key: Vec<u8>,
        raw: Vec<u8>,
        letter: DeadLetter,
        now: u64,
    ) -> Result<String> {
        batch.check(key.clone(), Some(raw));
        batch.delete(key);
        batch.add(EventCounter::DeadLetters, -1);
        let original = letter.original_event;
        let event = Envelope {
            message_id: self.next_message_id(now),
            emitted_at: now,
            redelivery_count: 0,
            replay_of: Some(original.message_id.clone()),
            ..original
        };
        // Back into the queue it failed in, if that subscription still
        // exists; otherwise into the namespace queue.
        let subs = self.guard_subscriptions(ns, batch)?;
        let group = letter
            .group
            .filter(|g| subs.iter().any(|s| &s.name == g))
            .unwrap_or_default();
        self.stage_event(ns, batch, &event, &[group.as_str()], now);
        Ok(event.message_id)
    }

    /// Removes every letter; returns how many there were.
    pub fn dlq_purge(&mut self, ns: &str) -> Result<u64> {
        namespace::validate(ns)?;
        self.run_events(ns, |s, _now| {
            let count_key = EventCounter::DeadLetters.key(ns);
            let raw = s.storage.get(&count_key)?;
            let count = decode_counter(raw.as_deref())?.max(0);
            if count == 0 {
                return Ok(Step::Done(0));
            }
            let mut batch = Batch::default();
            // Exact: the commit fails if a letter arrives meanwhile.
            batch.check(count_key, raw);
            batch.delete_range(keys::tag_range(ns, keys::DEAD_LETTER));
            batch.add(EventCounter::DeadLetters, -count);
            Ok(Step::Commit(batch, count as u64))
        })
    }
}

fn not_found(ns: &str, letter_id: &str) -> Error {
    Error::NotFound(format!("no dead letter {letter_id:?} in namespace {ns:?}"))
}
