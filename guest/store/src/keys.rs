//! The byte-key layout: how namespaces, keys, indexes and counters map onto
//! the one ordered key space of the storage.
//!
//! ```text
//! 0x01 'N' <ns>                      namespace record (registry)
//! 0x01 'T'                           shared tick state (piggyback.rs)
//! 0x01 'A' <token name>              access token: its hash and grant (access/)
//! 0x01 'U' <token name>              when the token was last used (be64 ms)
//! <ns> 0x00 'C' <counter name>       i64 counters (key count, statistics)
//! <ns> 0x00 'K' <key>                entry: header + value
//! <ns> 0x00 'R' <written be64> <key> recency index (evict-lru namespaces only)
//! <ns> 0x00 'T' <expires be64> <key> expiry index (sweeps, exact size)
//!
//! events (see events/mod.rs; the builders are in events/keys.rs):
//! <ns> 0x00 'D' <message id> <group>            a delivery: one message in one queue
//! <ns> 0x00 'Q' <group> 0x00 <visible be64> <id> queue index, by visibility time
//! <ns> 0x00 'X' <message id> <group>            dead letter
//! <ns> 0x00 'L' <message id>                    event log
//! <ns> 0x00 'Y' <event type> 0x00 <message id>  event log by type
//! <ns> 0x00 'G' <group>                         subscription (consumer group)
//! <ns> 0x00 'O' <node id>                       node
//! <ns> 0x00 'S' <task name>                     scheduled task
//! <ns> 0x00 'P' <name>                          events settings and marks
//!
//! idempotency keys (idempotency.rs):
//! <ns> 0x00 'I' <idempotency key>               the request's fingerprint and answer
//! <ns> 0x00 'J' <expires be64> <idempotency key> expiry index (sweeps)
//! ```
//!
//! Message ids are fixed-length lowercase hex that starts with the emission
//! time, so the log, deliveries and dead letters scan in emission order, and
//! the group name after an id needs no separator. The default queue is the
//! group with the empty name.
//!
//! Namespace names never contain 0x00 and never start below 0x2D, so
//! `<ns> 0x00` is a prefix no other namespace shares and the registry can
//! never collide with a namespace. Everything a namespace owns lies in
//! `[<ns> 0x00, <ns> 0x01)`, so dropping it is one range delete; user keys
//! come last in every key, so they need no escaping. Big-endian timestamps
//! make the indexes scan oldest first.

const REGISTRY: [u8; 2] = [0x01, b'N'];
const TICK_STATE: [u8; 2] = [0x01, b'T'];
const TOKEN: [u8; 2] = [0x01, b'A'];
const TOKEN_USE: [u8; 2] = [0x01, b'U'];

pub(crate) const ENTRY: u8 = b'K';
pub(crate) const COUNTER: u8 = b'C';
pub(crate) const RECENCY: u8 = b'R';
pub(crate) const EXPIRY: u8 = b'T';
pub(crate) const DELIVERY: u8 = b'D';
pub(crate) const QUEUE: u8 = b'Q';
pub(crate) const DEAD_LETTER: u8 = b'X';
pub(crate) const LOG: u8 = b'L';
pub(crate) const LOG_BY_TYPE: u8 = b'Y';
pub(crate) const GROUP: u8 = b'G';
pub(crate) const NODE: u8 = b'O';
pub(crate) const TASK: u8 = b'S';
pub(crate) const SETTING: u8 = b'P';
pub(crate) const IDEMPOTENCY: u8 = b'I';
pub(crate) const IDEMPOTENCY_EXPIRY: u8 = b'J';

/// The key-value counters kept per namespace with `Write::Add` (the events
/// counters are `events::keys::EventCounter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    /// Stored entries, including expired ones not yet swept.
    Keys,
    Hits,
    Misses,
    Sets,
    Deletes,
    Expirations,
    Evictions,
}

impl Counter {
    fn name(self) -> &'static [u8] {
        match self {
            Counter::Keys => b"keys",
            Counter::Hits => b"hits",
            Counter::Misses => b"misses",
            Counter::Sets => b"sets",
            Counter::Deletes => b"deletes",
            Counter::Expirations => b"expirations",
            Counter::Evictions => b"evictions",
        }
    }
}

pub(crate) fn namespace_record(ns: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + ns.len());
    k.extend_from_slice(&REGISTRY);
    k.extend_from_slice(ns.as_bytes());
    k
}

/// Where hosts without a long-lived process keep the time of the last tick.
pub(crate) fn tick_state() -> Vec<u8> {
    TICK_STATE.to_vec()
}

pub(crate) fn token(name: &str) -> Vec<u8> {
    [&TOKEN[..], name.as_bytes()].concat()
}

pub(crate) fn token_use(name: &str) -> Vec<u8> {
    [&TOKEN_USE[..], name.as_bytes()].concat()
}

pub(crate) fn token_range() -> (Vec<u8>, Vec<u8>) {
    (TOKEN.to_vec(), vec![TOKEN[0], TOKEN[1] + 1])
}

/// The token a token key names.
pub(crate) fn token_of_record(key: &[u8]) -> Option<&str> {
    key.strip_prefix(&TOKEN[..])
        .and_then(|b| std::str::from_utf8(b).ok())
}

pub(crate) fn registry_range() -> (Vec<u8>, Vec<u8>) {
    (REGISTRY.to_vec(), vec![REGISTRY[0], REGISTRY[1] + 1])
}

/// The namespace a registry key names.
pub(crate) fn namespace_of_record(key: &[u8]) -> Option<&str> {
    key.strip_prefix(&REGISTRY[..])
        .and_then(|b| std::str::from_utf8(b).ok())
}

fn with_tag(ns: &str, tag: u8, extra: usize) -> Vec<u8> {
    let mut k = Vec::with_capacity(ns.len() + 2 + extra);
    k.extend_from_slice(ns.as_bytes());
    k.push(0);
    k.push(tag);
    k
}

pub(crate) fn entry(ns: &str, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(entry_prefix_len(ns) + key.len());
    entry_into(&mut k, ns, key);
    k
}

/// [`entry`] written over `buf`: a point read reuses one buffer rather
/// than allocating a key per call.
pub(crate) fn entry_into(buf: &mut Vec<u8>, ns: &str, key: &[u8]) {
    buf.clear();
    buf.extend_from_slice(ns.as_bytes());
    buf.push(0);
    buf.push(ENTRY);
    buf.extend_from_slice(key);
}

/// `<ns> 0x00 <tag> <parts…>`: a key of one of the events kinds.
pub(crate) fn tagged(ns: &str, tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let extra = parts.iter().map(|p| p.len()).sum();
    let mut k = with_tag(ns, tag, extra);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// What follows `<ns> 0x00 <tag>` in a key of that kind.
pub(crate) fn tagged_rest<'k>(ns: &str, full: &'k [u8]) -> &'k [u8] {
    full.get(ns.len() + 2..).unwrap_or_default()
}

/// Length of the part of an entry key that precedes the user key.
pub(crate) fn entry_prefix_len(ns: &str) -> usize {
    ns.len() + 2
}

pub(crate) fn counter(ns: &str, c: Counter) -> Vec<u8> {
    named_counter(ns, c.name())
}

/// `<ns> 0x00 'C' <name>`: a counter of any kind.
pub(crate) fn named_counter(ns: &str, name: &[u8]) -> Vec<u8> {
    let mut k = with_tag(ns, COUNTER, name.len());
    k.extend_from_slice(name);
    k
}

/// An index key: `<ns> 0x00 <tag> <time be64> <key>`.
pub(crate) fn indexed(ns: &str, tag: u8, time: u64, key: &[u8]) -> Vec<u8> {
    let mut k = with_tag(ns, tag, 8 + key.len());
    k.extend_from_slice(&time.to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// Splits an index key back into (time, user key).
pub(crate) fn parse_indexed(ns: &str, full: &[u8]) -> Option<(u64, Vec<u8>)> {
    let rest = full.get(ns.len() + 2..)?;
    let time = u64::from_be_bytes(rest.get(..8)?.try_into().ok()?);
    Some((time, rest[8..].to_vec()))
}

/// `[<ns> 0x00 <tag>, <ns> 0x00 <tag+1>)`: every key of one kind.
pub(crate) fn tag_range(ns: &str, tag: u8) -> (Vec<u8>, Vec<u8>) {
    (with_tag(ns, tag, 0), with_tag(ns, tag + 1, 0))
}

/// Index entries with a time strictly below `until`.
pub(crate) fn indexed_before(ns: &str, tag: u8, until: u64) -> (Vec<u8>, Vec<u8>) {
    let mut end = with_tag(ns, tag, 8);
    end.extend_from_slice(&until.to_be_bytes());
    (with_tag(ns, tag, 0), end)
}

/// Everything the namespace owns.
pub(crate) fn namespace_range(ns: &str) -> (Vec<u8>, Vec<u8>) {
    let mut start = ns.as_bytes().to_vec();
    start.push(0);
    let mut end = ns.as_bytes().to_vec();
    end.push(1);
    (start, end)
}

/// The smallest byte string greater than every string starting with `prefix`,
/// or `None` if there is none (the prefix is all 0xFF).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_that_prefix_each_other_do_not_share_ranges() {
        let (start, end) = namespace_range("app");
        let other = entry("app1", b"x");
        assert!(!(start <= other && other < end));
        assert!(entry("app", b"1\0x") < end);
    }

    #[test]
    fn prefix_end_skips_trailing_ff() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
    }

    #[test]
    fn indexed_keys_sort_by_time_then_key() {
        let a = indexed("n", EXPIRY, 5, b"zzz");
        let b = indexed("n", EXPIRY, 6, b"a");
        assert!(a < b);
        assert_eq!(parse_indexed("n", &b), Some((6, b"a".to_vec())));
        let (s, e) = indexed_before("n", EXPIRY, 6);
        assert!(s <= a && a < e && b >= e);
    }
}
