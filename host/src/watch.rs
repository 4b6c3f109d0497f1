//! Watching keys from Rust ([`Namespace::watch`]): the entries now, then
//! again each time one of them changes, as Deno KV's `watch`.
//!
//! The store reads; this waits, outside any call into the component: on
//! the namespace's key channel, which every key-value commit notifies (on
//! PostgreSQL, the commits of every host sharing the database, through
//! LISTEN), and until the first watched TTL ends. It never polls storage.

use std::time::{Duration, Instant};

use event_listener::Listener as _;
use nexus_store::watch::keys_channel;

use crate::Error;
use crate::nexus::Namespace;
use crate::types::{Entry, Watched};

/// A watch of some keys of one namespace. Each item is the keys' live
/// entries (in the order given; `None` for a key with none) when they
/// differ from the last item: intermediate values may be skipped, the
/// latest never is. The first item comes at once.
///
/// The iterator waits as long as it takes; [`Watch::next_timeout`] waits
/// at most a given time. It ends when the store shuts down.
#[derive(Debug)]
pub struct Watch {
    namespace: Namespace,
    keys: Vec<Vec<u8>>,
    channel: String,
    /// The position of the last entries handed out.
    last: Option<String>,
}

impl Namespace {
    /// Watches 1 to [`nexus_store::MAX_WATCHED_KEYS`] keys (more, or none,
    /// is `invalid-argument`, checked by the first read).
    pub fn watch<K: AsRef<[u8]>>(&self, keys: &[K]) -> Result<Watch, Error> {
        let mut watch = Watch {
            namespace: self.clone(),
            keys: keys.iter().map(|k| k.as_ref().to_vec()).collect(),
            channel: keys_channel(self.name()),
            last: None,
        };
        // Bad keys or a bad count are refused here, not at the first item.
        watch.read()?;
        Ok(watch)
    }

    fn watched(&self, keys: &[Vec<u8>]) -> Result<Watched, Error> {
        let ns = self.name();
        self.call(Box::new(|b, s| b.nexus_store_kv().call_watch(s, ns, keys)))
            .map(Into::into)
    }
}

impl Watch {
    /// The entries if they changed since the last item (the first call:
    /// at once), waiting up to `timeout` for a change; `None` if none came
    /// in that time or the store is shutting down.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Vec<Option<Entry>>>, Error> {
        let deadline = Instant::now() + timeout;
        let nexus = self.namespace.nexus().clone();
        let waiters = nexus.waiters();
        loop {
            // Listen first, then read: a commit between the two has already
            // woken the listener.
            let listener = waiters.listen(&self.channel);
            let watched = self.read()?;
            let position = watched.position();
            if self.last.as_ref() != Some(&position) {
                self.last = Some(position);
                return Ok(Some(watched.entries));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || waiters.closed() {
                return Ok(None);
            }
            let until_expiry = watched
                .next_expiry
                .map(|at| Duration::from_millis(at.saturating_sub(nexus.now_ms())));
            listener.wait_timeout(until_expiry.map_or(left, |e| e.min(left)));
        }
    }

    /// The keys this watch follows.
    pub fn keys(&self) -> &[Vec<u8>] {
        &self.keys
    }

    fn read(&mut self) -> Result<Watched, Error> {
        self.namespace.watched(&self.keys)
    }
}

impl Iterator for Watch {
    type Item = Result<Vec<Option<Entry>>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_timeout(Duration::from_secs(3600)) {
                Ok(Some(entries)) => return Some(Ok(entries)),
                Ok(None) if self.namespace.nexus().waiters().closed() => return None,
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
