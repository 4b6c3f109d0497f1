//! The event log: every emitted event, in id (= emission time) order, with
//! an index by type. `tick` removes entries older than the retention.

use super::batch::{Batch, Step};
use super::keys::{log_key, log_type_key};
use super::records::{Envelope, decode};
use super::{ids, pattern};
use crate::error::{Error, Result};
use crate::keys;
use crate::namespace;
use crate::storage::{GetEach, Storage};
use crate::{Clock, Store};

pub const MAX_PAGE: u32 = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    pub event_type: Option<String>,
    /// Emitted at or after (ms).
    pub since: Option<u64>,
    /// Emitted before (ms).
    pub until: Option<u64>,
    /// Only events after this message id (the previous page's `next`).
    pub after_id: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    pub events: Vec<Envelope>,
    /// Pass as `after_id` for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// The id bounds `[lower, upper)` a query allows, as key suffixes.
fn id_bounds(q: &LogQuery) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
    let mut lower = q
        .since
        .map(|t| format!("{t:012x}").into_bytes())
        .unwrap_or_default();
    if let Some(after) = &q.after_id {
        ids::check(after).map_err(|_| {
            Error::InvalidArgument(format!("after-id {after:?} is not a message id"))
        })?;
        let mut past = after.as_bytes().to_vec();
        past.push(0);
        lower = lower.max(past);
    }
    let upper = q.until.map(|t| format!("{t:012x}").into_bytes());
    Ok((lower, upper))
}

impl<S: Storage, C: Clock> Store<S, C> {
    pub fn log_query(&mut self, ns: &str, q: &LogQuery) -> Result<LogPage> {
        namespace::validate(ns)?;
        if !(1..=MAX_PAGE).contains(&q.limit) {
            return Err(Error::InvalidArgument(format!(
                "limit must be 1-{MAX_PAGE}"
            )));
        }
        let (lower, upper) = id_bounds(q)?;
        // One entry past the page says whether another page follows, so the
        // last page has no `next` even when it is full.
        let more;
        let events = match &q.event_type {
            None => {
                let start = keys::tagged(ns, keys::LOG, &[&lower]);
                let end = match &upper {
                    Some(u) => keys::tagged(ns, keys::LOG, &[u]),
                    None => keys::tag_range(ns, keys::LOG).1,
                };
                if start >= end {
                    return Ok(LogPage {
                        events: Vec::new(),
                        next: None,
                    });
                }
                let mut rows = self.storage.scan(&start, &end, q.limit + 1)?;
                more = rows.len() > q.limit as usize;
                rows.truncate(q.limit as usize);
                rows.iter()
                    .map(|(_, raw)| decode::<Envelope>(raw, "log entry"))
                    .collect::<Result<Vec<_>>>()?
            }
            Some(t) => {
                pattern::validate_event_type(t)?;
                let ty = t.as_bytes();
                let start = keys::tagged(ns, keys::LOG_BY_TYPE, &[ty, &[0], &lower]);
                let end = match &upper {
                    Some(u) => keys::tagged(ns, keys::LOG_BY_TYPE, &[ty, &[0], u]),
                    None => keys::tagged(ns, keys::LOG_BY_TYPE, &[ty, &[1]]),
                };
                if start >= end {
                    return Ok(LogPage {
                        events: Vec::new(),
                        next: None,
                    });
                }
                let mut hits = self.storage.scan(&start, &end, q.limit + 1)?;
                more = hits.len() > q.limit as usize;
                hits.truncate(q.limit as usize);
                let log_keys: Vec<Vec<u8>> = hits
                    .iter()
                    .map(|(k, _)| {
                        let id = &k[k.len().saturating_sub(ids::ID_LEN)..];
                        keys::tagged(ns, keys::LOG, &[id])
                    })
                    .collect();
                self.storage
                    .get_each(&log_keys)?
                    .into_iter()
                    .flatten()
                    .map(|raw| decode::<Envelope>(&raw, "log entry"))
                    .collect::<Result<Vec<_>>>()?
            }
        };
        let next = more
            .then(|| events.last().map(|e| e.message_id.clone()))
            .flatten();
        Ok(LogPage { events, next })
    }

    /// Removes at most `budget` log entries emitted before `cutoff`; returns
    /// (entries removed, whether older ones remain).
    pub(crate) fn trim_log(&mut self, ns: &str, cutoff: u64, budget: u32) -> Result<(u32, bool)> {
        if budget == 0 {
            return Ok((0, true));
        }
        let start = keys::tag_range(ns, keys::LOG).0;
        let end = keys::tagged(ns, keys::LOG, &[format!("{cutoff:012x}").as_bytes()]);
        let mut old = self.storage.scan(&start, &end, budget.saturating_add(1))?;
        let more = old.len() > budget as usize;
        old.truncate(budget as usize);
        if old.is_empty() {
            return Ok((0, false));
        }
        let removed = old.len() as u32;
        // Deleting what is already gone is harmless, so no checks: trims by
        // several hosts at once all succeed.
        self.run_events(ns, |_, _| {
            let mut batch = Batch::default();
            for (key, raw) in &old {
                let event: Envelope = decode(raw, "log entry")?;
                batch.delete(log_type_key(ns, &event.event_type, &event.message_id));
                batch.delete(log_key(ns, &event.message_id));
                debug_assert_eq!(&log_key(ns, &event.message_id), key);
            }
            Ok(Step::Commit(batch, ()))
        })?;
        Ok((removed, more))
    }
}
