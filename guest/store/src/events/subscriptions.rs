//! Subscriptions (consumer groups): named queues that receive a copy of
//! every event matching their patterns. Consumers of one group compete for
//! its messages; each group sees every matching event.

use serde::{Deserialize, Serialize};

use super::batch::{Batch, Step};
use super::keys::{EventCounter, delivery_key, group_key, parse_queue_key, whole_queue};
use super::records::{Envelope, decode, encode};
use super::{pattern, validate_label};
use crate::error::{Error, Result};
use crate::keys;
use crate::namespace;
use crate::storage::Storage;
use crate::{Clock, Store};

const MAX_PATTERNS: usize = 64;
/// Deliveries removed per commit when a subscription is removed.
const REMOVE_CHUNK: u32 = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub name: String,
    pub patterns: Vec<String>,
    pub created_at: u64,
}

/// The queues an event goes to: the namespace's, and every subscription
/// that matches it (all of them for a broadcast).
pub(crate) fn targets<'s>(subs: &'s [Subscription], event: &Envelope) -> Vec<&'s str> {
    let mut groups = vec![""];
    groups.extend(
        subs.iter()
            .filter(|s| {
                event.broadcast
                    || s.patterns
                        .iter()
                        .any(|p| pattern::matches(p, &event.event_type))
            })
            .map(|s| s.name.as_str()),
    );
    groups
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Creates a subscription, or replaces the patterns of an existing one.
    /// It receives events emitted from now on.
    pub fn subscribe(&mut self, ns: &str, name: &str, patterns: &[String]) -> Result<Subscription> {
        namespace::validate(ns)?;
        validate_label("subscription name", name)?;
        if patterns.is_empty() || patterns.len() > MAX_PATTERNS {
            return Err(Error::InvalidArgument(format!(
                "a subscription has 1-{MAX_PATTERNS} patterns"
            )));
        }
        for p in patterns {
            pattern::validate_pattern(p)?;
        }
        let key = group_key(ns, name);
        self.run_events(ns, |s, now| {
            let mut batch = Batch::default();
            s.guard_namespace(ns, now, &mut batch)?;
            let existing = s.read_record::<Subscription>(&key, "subscription")?;
            let created_at = existing.as_ref().map_or(now, |(_, sub)| sub.created_at);
            batch.check(key.clone(), existing.map(|(raw, _)| raw));
            let sub = Subscription {
                name: name.to_string(),
                patterns: patterns.to_vec(),
                created_at,
            };
            batch.put(key.clone(), encode(&sub));
            Ok(Step::Commit(batch, sub))
        })
    }

    pub fn list_subscriptions(&mut self, ns: &str) -> Result<Vec<Subscription>> {
        namespace::validate(ns)?;
        let (start, end) = keys::tag_range(ns, keys::GROUP);
        self.scan_all(&start, &end)?
            .iter()
            .map(|(_, raw)| decode(raw, "subscription"))
            .collect()
    }

    /// The subscriptions of the namespace, each checked by the batch so an
    /// emit never writes into a queue being removed.
    pub(crate) fn guard_subscriptions(
        &self,
        ns: &str,
        batch: &mut Batch,
    ) -> Result<Vec<Subscription>> {
        let (start, end) = keys::tag_range(ns, keys::GROUP);
        let mut subs = Vec::new();
        for (key, raw) in self.scan_all(&start, &end)? {
            subs.push(decode::<Subscription>(&raw, "subscription")?);
            batch.check(key, Some(raw));
        }
        Ok(subs)
    }

    /// Removes a subscription and the messages waiting in it; false if it
    /// did not exist. The subscription goes first (so no emit adds to it),
    /// then its queue, a chunk per commit.
    pub fn unsubscribe(&mut self, ns: &str, name: &str) -> Result<bool> {
        namespace::validate(ns)?;
        validate_label("subscription name", name)?;
        let key = group_key(ns, name);
        let existed = self.run_events(ns, |s, _| {
            let Some(raw) = s.storage.get(&key)? else {
                return Ok(Step::Done(false));
            };
            let mut batch = Batch::default();
            batch.check(key.clone(), Some(raw));
            batch.delete(key.clone());
            Ok(Step::Commit(batch, true))
        })?;
        if existed {
            while self.remove_group_chunk(ns, name)? {}
        }
        Ok(existed)
    }

    /// Removes up to a chunk of a removed group's deliveries; true if it found any.
    fn remove_group_chunk(&mut self, ns: &str, name: &str) -> Result<bool> {
        self.run_events(ns, |s, _| {
            let (start, end) = whole_queue(ns, name);
            let page = s.storage.scan(&start, &end, REMOVE_CHUNK)?;
            if page.is_empty() {
                return Ok(Step::Done(false));
            }
            let mut batch = Batch::default();
            for (index_key, _) in page {
                if let Some((_, _, id)) = parse_queue_key(ns, &index_key) {
                    let dkey = delivery_key(ns, id, name);
                    if let Some(raw) = s.storage.get(&dkey)? {
                        batch.check(dkey.clone(), Some(raw));
                        batch.delete(dkey);
                        batch.add(EventCounter::QueueDepth, -1);
                    }
                }
                batch.delete(index_key);
            }
            Ok(Step::Commit(batch, true))
        })
    }
}
