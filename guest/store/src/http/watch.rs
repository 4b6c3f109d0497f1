//! `GET /namespaces/{ns}/watch?key=a&key=b`: the watched keys' entries as
//! Server-Sent Events (`text/event-stream`), one event per change.
//!
//! The component answers one request with one event, or with none when
//! the client's `Last-Event-ID` is still the keys' position (nothing
//! changed). A host that can stream (`nexus serve`) keeps the response
//! open: it waits for the namespace's key channel or a watched TTL
//! ([`WatchHint`]), asks again with the last position, and sends what
//! comes back. A host that can hold a request but not stream (the browser
//! host) holds an unchanged answer as a long poll ([`super::WaitHint`]).
//! A host that can do neither (the Spin edge) answers at once, and the
//! client's `EventSource` reconnects after the event's `retry` with its
//! `Last-Event-ID`: a watch there re-reads at that interval.

use super::call::Call;
use super::json;
use super::{Handled, Problem, Reply, WAIT_HEADER, WaitHint};
use crate::events::MAX_WAIT_MS;
use crate::storage::Storage;
use crate::watch::{Watched, check_position, keys_channel};
use crate::{Clock, Store};

/// The response header of a watch: how a streaming host goes on.
pub const WATCH_HEADER: &str = "x-nexus-watch";

/// How long an `EventSource` waits before it reconnects (the SSE `retry`
/// field): the interval of a watch on a host that cannot stream.
pub const RETRY_MS: u64 = 1_000;

/// What a streaming host needs to keep a watch going.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchHint {
    /// The notify channel whose wake means "read again".
    pub channel: String,
    /// The position this answer reflects: the next ask's `Last-Event-ID`.
    pub position: String,
    /// Read again at this time even if nothing wakes the channel (a
    /// watched entry's TTL ends).
    pub next_expiry_ms: Option<u64>,
}

impl WatchHint {
    /// `channel=app:keys; position=1f.-; next=1700000001000`. Channels and
    /// positions need no quoting (no `;`, `=` or spaces).
    pub fn header_value(&self) -> String {
        let mut value = format!("channel={}; position={}", self.channel, self.position);
        if let Some(at) = self.next_expiry_ms {
            value.push_str(&format!("; next={at}"));
        }
        value
    }

    pub fn parse(value: &str) -> Option<Self> {
        let (mut channel, mut position, mut next_expiry_ms) = (None, None, None);
        for part in value.split(';') {
            let (name, v) = part.trim().split_once('=')?;
            match name {
                "channel" => channel = Some(v.to_string()),
                "position" => position = Some(v.to_string()),
                "next" => next_expiry_ms = Some(v.parse().ok()?),
                _ => return None,
            }
        }
        Some(Self {
            channel: channel?,
            position: position?,
            next_expiry_ms,
        })
    }
}

pub fn watch<S: Storage, C: Clock>(store: &mut Store<S, C>, call: &Call) -> Handled {
    let ns = call.ns();
    let keys: Vec<Vec<u8>> = call
        .query_all("key")
        .map(|k| k.as_bytes().to_vec())
        .collect();
    let wait_ms = call.query_parsed::<u64>("wait_ms")?.unwrap_or(0);
    if wait_ms > MAX_WAIT_MS {
        return Err(Problem::bad_request(format!(
            "wait_ms must be 0-{MAX_WAIT_MS}, got {wait_ms}"
        )));
    }
    let watched = store.watch(ns, &keys)?;
    // An empty id is no id (an `EventSource` that has seen none sends it so).
    let last = call.header("last-event-id").filter(|id| !id.is_empty());
    if let Some(last) = last {
        check_position(last, keys.len())?;
    }
    let position = watched.position();
    let hint = WatchHint {
        channel: keys_channel(ns),
        position: position.clone(),
        next_expiry_ms: watched.next_expiry,
    };
    let unchanged = last == Some(position.as_str());
    let body = if unchanged {
        Vec::new()
    } else {
        event(ns, &keys, &watched, &position).into_bytes()
    };
    let mut reply = Reply::raw("text/event-stream", body);
    reply.headers.extend([
        ("cache-control".to_string(), "no-cache".to_string()),
        (WATCH_HEADER.to_string(), hint.header_value()),
    ]);
    if unchanged && wait_ms > 0 {
        let hold = WaitHint {
            namespace: hint.channel,
            deadline_ms: store.clock().now_ms().saturating_add(wait_ms),
            next_visible_ms: watched.next_expiry,
        };
        reply
            .headers
            .push((WAIT_HEADER.to_string(), hold.header_value()));
    }
    Ok(reply)
}

/// One SSE event: `retry`, `id` (the position) and the entries as JSON
/// on one `data` line.
fn event(ns: &str, keys: &[Vec<u8>], watched: &Watched, position: &str) -> String {
    let data = json::watched(ns, keys, &watched.entries);
    format!("retry: {RETRY_MS}\nid: {position}\ndata: {data}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_reads_back_as_written() {
        for next_expiry_ms in [None, Some(5)] {
            let hint = WatchHint {
                channel: "app:keys".into(),
                position: "1f.-".into(),
                next_expiry_ms,
            };
            assert_eq!(WatchHint::parse(&hint.header_value()), Some(hint));
        }
        assert_eq!(WatchHint::parse("channel=a"), None);
    }
}
