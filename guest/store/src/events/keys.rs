//! The storage keys of the events kinds (layout in the crate's keys.rs) and
//! the counters events commits add to. Every events module builds its keys
//! here, so none has to import another's to find a record.

use crate::keys::{
    self, DEAD_LETTER, DELIVERY, GROUP, LOG, LOG_BY_TYPE, NODE, QUEUE, SETTING, TASK,
};

/// Queue index values: whether the delivery is leased (for in-flight metrics).
pub(crate) const WAITING: u8 = 0;
pub(crate) const LEASED: u8 = 1;

const CONFIG: &[u8] = b"config";
const LAST_EMIT: &[u8] = b"last-emit";

/// The per-namespace counters events commits keep. The variants are the
/// list: a batch adds to a variant without looking it up anywhere, and the
/// metrics read [`Self::ALL`] into one field per variant, matched
/// exhaustively, so a new counter does not compile until it is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EventCounter {
    /// Deliveries waiting or in flight, over every queue of the namespace.
    QueueDepth,
    DeadLetters,
    Emitted,
    Acked,
    Nacked,
    DeadLettered,
}

impl EventCounter {
    pub const ALL: [Self; 6] = [
        Self::QueueDepth,
        Self::DeadLetters,
        Self::Emitted,
        Self::Acked,
        Self::Nacked,
        Self::DeadLettered,
    ];

    fn name(self) -> &'static [u8] {
        match self {
            Self::QueueDepth => b"queue-depth",
            Self::DeadLetters => b"dead-letters",
            Self::Emitted => b"emitted",
            Self::Acked => b"acked",
            Self::Nacked => b"nacked",
            Self::DeadLettered => b"dead-lettered",
        }
    }

    pub fn key(self, ns: &str) -> Vec<u8> {
        keys::named_counter(ns, self.name())
    }
}

pub(crate) fn delivery_key(ns: &str, id: &str, group: &str) -> Vec<u8> {
    keys::tagged(ns, DELIVERY, &[id.as_bytes(), group.as_bytes()])
}

pub(crate) fn queue_key(ns: &str, group: &str, visible_at: u64, id: &str) -> Vec<u8> {
    keys::tagged(
        ns,
        QUEUE,
        &[
            group.as_bytes(),
            &[0],
            &visible_at.to_be_bytes(),
            id.as_bytes(),
        ],
    )
}

/// The queue index entries of `group` visible before `until`.
pub(crate) fn queue_range(ns: &str, group: &str, until: u64) -> (Vec<u8>, Vec<u8>) {
    (
        keys::tagged(ns, QUEUE, &[group.as_bytes(), &[0]]),
        keys::tagged(ns, QUEUE, &[group.as_bytes(), &[0], &until.to_be_bytes()]),
    )
}

/// Every queue index entry of `group`.
pub(crate) fn whole_queue(ns: &str, group: &str) -> (Vec<u8>, Vec<u8>) {
    (
        keys::tagged(ns, QUEUE, &[group.as_bytes(), &[0]]),
        keys::tagged(ns, QUEUE, &[group.as_bytes(), &[1]]),
    )
}

/// Splits a queue index key into (group, visible at, message id).
pub(crate) fn parse_queue_key<'k>(ns: &str, key: &'k [u8]) -> Option<(&'k [u8], u64, &'k str)> {
    let rest = keys::tagged_rest(ns, key);
    let zero = rest.iter().position(|b| *b == 0)?;
    let (group, rest) = (&rest[..zero], &rest[zero + 1..]);
    let at = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    let id = std::str::from_utf8(rest.get(8..)?).ok()?;
    Some((group, at, id))
}

pub(crate) fn letter_key(ns: &str, message_id: &str, group: &str) -> Vec<u8> {
    keys::tagged(ns, DEAD_LETTER, &[message_id.as_bytes(), group.as_bytes()])
}

pub(crate) fn log_key(ns: &str, id: &str) -> Vec<u8> {
    keys::tagged(ns, LOG, &[id.as_bytes()])
}

pub(crate) fn log_type_key(ns: &str, event_type: &str, id: &str) -> Vec<u8> {
    keys::tagged(
        ns,
        LOG_BY_TYPE,
        &[event_type.as_bytes(), &[0], id.as_bytes()],
    )
}

pub(crate) fn group_key(ns: &str, name: &str) -> Vec<u8> {
    keys::tagged(ns, GROUP, &[name.as_bytes()])
}

pub(crate) fn node_key(ns: &str, id: &str) -> Vec<u8> {
    keys::tagged(ns, NODE, &[id.as_bytes()])
}

pub(crate) fn task_key(ns: &str, name: &str) -> Vec<u8> {
    keys::tagged(ns, TASK, &[name.as_bytes()])
}

pub(crate) fn config_key(ns: &str) -> Vec<u8> {
    keys::tagged(ns, SETTING, &[CONFIG])
}

pub(crate) fn last_emit_key(ns: &str) -> Vec<u8> {
    keys::tagged(ns, SETTING, &[LAST_EMIT])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_keys_parse_back() {
        let key = queue_key("app", "g", 7, "00000000000000000001");
        assert_eq!(
            parse_queue_key("app", &key),
            Some((&b"g"[..], 7, "00000000000000000001"))
        );
        let (start, end) = queue_range("app", "g", 8);
        assert!(start <= key && key < end);
        let (start, end) = whole_queue("app", "g");
        assert!(start <= key && key < end);
    }
}
