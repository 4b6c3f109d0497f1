//! Watching keys (as Deno KV's `watch`, made resumable): the current
//! entries of up to [`MAX_WATCHED_KEYS`] keys of one namespace, and a
//! position that says which versions they were, so a watcher asks again
//! only when woken and tells a change from a repeat without comparing
//! values.
//!
//! The store never waits. Every key-value commit adds a `notify` of the
//! namespace's [`keys_channel`]; a host holds a watcher until that channel
//! is notified (on PostgreSQL, by any host sharing the database) or until
//! a watched entry's TTL ends ([`Watched::next_expiry`]: an expiry changes
//! what a read sees without any commit), then reads again.

use crate::error::{Error, Result};
use crate::kv::Entry;
use crate::storage::Storage;
use crate::{Clock, Store};

/// The most keys one watch follows: its position (the SSE event id) holds
/// a version per key and must stay a short header.
pub const MAX_WATCHED_KEYS: usize = 64;

/// The notify channel of a namespace's key changes. A `:` cannot be in a
/// namespace name, so it never meets the channel receivers wait on (the
/// namespace itself), and a key write wakes no receiver.
pub fn keys_channel(ns: &str) -> String {
    format!("{ns}:keys")
}

/// What a watch sees now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// Each watched key's live entry, in the order asked.
    pub entries: Vec<Option<Entry>>,
    /// When the first of these entries expires: look again then even if
    /// nothing is committed.
    pub next_expiry: Option<u64>,
}

impl Watched {
    /// Where the watch is: each key's version in hex, `-` for no entry,
    /// joined by `.`. Equal positions mean nothing changed (a key written
    /// again always gets a higher version).
    pub fn position(&self) -> String {
        self.entries
            .iter()
            .map(|e| {
                e.as_ref()
                    .map_or_else(|| "-".to_string(), |e| format!("{:x}", e.version))
            })
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// Checks that `position` is one a watch of `keys` keys could have given
/// (a client's `Last-Event-ID`).
pub fn check_position(position: &str, keys: usize) -> Result<()> {
    let parts: Vec<&str> = position.split('.').collect();
    let valid = parts.len() == keys
        && parts.iter().all(|p| {
            *p == "-"
                || (!p.is_empty()
                    && p.len() <= 16
                    && p.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        });
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{position:?} is not a position of a watch of {keys} keys (one hex version or '-' per key, joined by '.')"
        )))
    }
}

impl<S: Storage, C: Clock> Store<S, C> {
    /// The current entries of `keys` (1 to [`MAX_WATCHED_KEYS`]) in one
    /// read. Not counted as hits or misses.
    pub fn watch(&mut self, ns: &str, keys: &[Vec<u8>]) -> Result<Watched> {
        if keys.is_empty() || keys.len() > MAX_WATCHED_KEYS {
            return Err(Error::InvalidArgument(format!(
                "a watch follows 1-{MAX_WATCHED_KEYS} keys, got {}",
                keys.len()
            )));
        }
        let entries = self.read_live(ns, keys)?;
        let next_expiry = entries.iter().flatten().filter_map(|e| e.expires_at).min();
        Ok(Watched {
            entries,
            next_expiry,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_name_each_version_and_check_back() {
        let entry = |version| {
            Some(Entry {
                value: Vec::new(),
                version,
                expires_at: None,
            })
        };
        let watched = Watched {
            entries: vec![entry(255), None, entry(1)],
            next_expiry: None,
        };
        assert_eq!(watched.position(), "ff.-.1");
        assert!(check_position("ff.-.1", 3).is_ok());
        for bad in [
            "ff.-",
            "ff.-.1.2",
            "FF.-.1",
            "ff..1",
            "zz.-.1",
            "11111111111111111.-.1",
        ] {
            assert!(check_position(bad, 3).is_err(), "{bad}");
        }
    }
}
