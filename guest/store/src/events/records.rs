//! What the events kinds store and how: the event as consumers see it (kept
//! in the log, in every delivery and in dead letters), the delivery record,
//! and the codec and reads every events module shares.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::{Clock, Store};

/// An event as consumers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub message_id: String,
    pub namespace: String,
    pub event_type: String,
    /// JSON text, as emitted.
    pub payload: String,
    pub emitted_at: u64,
    pub producer_node_id: Option<String>,
    /// Deliveries before this one.
    pub redelivery_count: u32,
    pub scheduled_task_id: Option<String>,
    /// The message this one replays from the dead-letter queue.
    pub replay_of: Option<String>,
    pub broadcast: bool,
}

/// One message in one queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeliveryRecord {
    pub event: Envelope,
    pub visible_at: u64,
    /// Times leased so far.
    pub deliveries: u32,
    /// Holder of the current (or last, expired) lease; `None` when waiting.
    pub consumer: Option<String>,
}

/// Events records are postcard: compact and several times cheaper than JSON
/// to write and read back, which is most of the work of a queue operation.
/// Records start in a buffer most fit in whole: growing one from empty
/// reallocates it half a dozen times, a tenth of the cost of an emit.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_extend(value, Vec::with_capacity(256)).expect("events records always serialize")
}

pub(crate) fn decode<T: DeserializeOwned>(raw: &[u8], what: &str) -> Result<T> {
    postcard::from_bytes(raw).map_err(|e| Error::Storage(format!("corrupt {what}: {e}")))
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// Reads one record of an events kind.
    pub(crate) fn read_record<T: DeserializeOwned>(
        &self,
        key: &[u8],
        what: &str,
    ) -> Result<Option<(Vec<u8>, T)>> {
        match self.storage.get(key)? {
            Some(raw) => {
                let value = decode(&raw, what)?;
                Ok(Some((raw, value)))
            }
            None => Ok(None),
        }
    }

    /// Every record in `[start, end)`, in pages.
    pub(crate) fn scan_all(&self, start: &[u8], end: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        const PAGE: u32 = 1000;
        let mut from = start.to_vec();
        let mut out = Vec::new();
        loop {
            let page = self.storage.scan(&from, end, PAGE)?;
            let done = page.len() < PAGE as usize;
            if let Some((last, _)) = page.last() {
                from = last.clone();
                from.push(0);
            }
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }
}
