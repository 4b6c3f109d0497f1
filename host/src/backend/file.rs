//! The durable embedded backend: one redb database file, commits checked as
//! they arrive, and a committer thread that makes them durable in groups.
//!
//! redb runs one write transaction at a time and makes each commit durable
//! (fsync) before `commit` returns, so 50 writers committing one by one
//! would queue for 50 fsyncs. Instead a writer's commit is checked at once,
//! on the writer's thread, against the durable state with every commit
//! accepted before it laid over it ([`pending`]); if its checks hold it is
//! *accepted* into the open group, otherwise it hears `Conflict` at once
//! and nothing of it is kept. The committer seals the open group, writes it
//! in one write transaction with one fsync, and only then answers each of
//! its writers. Meanwhile the next group fills: checking never waits for
//! an fsync, only answering does.
//!
//! **What a read sees.** Reads and checks see every accepted commit,
//! durable or not, as Redis shows a write before its fsync: a read may
//! return a value whose writer has not been answered yet, and that a crash
//! in the next milliseconds would lose. What is promised is unchanged:
//! no writer hears `Ok` before its commit is on disk, and a read that
//! starts after a writer heard `Ok` sees that write. Groups reach the disk
//! in the order they were accepted, so a commit that checked or read
//! another's value is durable only if that one is: a crash loses a suffix
//! of unanswered commits, never one that an answered commit depended on.
//! This is what lets writers of one hot key through: the loser of a race
//! re-reads the winner's value at once and joins the same group, instead
//! of waiting for the winner's fsync (one write per fsync before).
//!
//! **Failing closed.** If a group cannot be made durable (the disk is full,
//! fsync fails), readers may already have seen its values. Going on would
//! take them back, so the backend stops instead: the group's writers and
//! every later call get `Unavailable` until the process reopens the store,
//! which then holds exactly what was made durable.
//!
//! Reads take their durable state from one shared redb read snapshot, kept
//! until the next group is durable: opening a redb read transaction per
//! `get` cost more than the lookup itself.

mod pending;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;

use nexus_store::storage::{Entries, validate_commit, write_commit};
use redb::{Database, ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition};

use self::pending::{Delta, Staging, View};
use super::{Check, Storage, StorageError, Write};

const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("nexus");
pub const DB_FILE: &str = "nexus.redb";

type ReadTable = ReadOnlyTable<&'static [u8], &'static [u8]>;
type Answer = Result<(), StorageError>;

pub struct FileBackend {
    shared: Arc<Shared>,
    path: PathBuf,
    committer: Option<JoinHandle<()>>,
}

/// What the writers, the readers and the committer share.
struct Shared {
    /// Declared before `db`: the snapshot it holds is dropped first.
    state: RwLock<State>,
    /// Locked only to begin a transaction, for the committer's writes, and
    /// for a compaction (which needs the database to itself).
    db: Mutex<Database>,
    bell: Bell,
    counts: CommitCounts,
    #[cfg(test)]
    gate: tests::Gate,
}

/// The durable snapshot and the groups not yet durable, changed together
/// under one lock so that a reader never pairs a snapshot with groups that
/// leave a gap between them.
#[derive(Default)]
struct State {
    /// Holds at least every group made durable so far. Taken on first use
    /// and dropped once the next group is durable: a redb read transaction
    /// keeps the pages it sees from being reused, and one left open through
    /// a stretch of writes without reads would make the file grow.
    snapshot: Option<ReadTable>,
    /// The group the committer is making durable. Only the committer
    /// replaces it; readers share it without copying.
    sealed: Option<Arc<Delta>>,
    /// The group accepting commits, and the writers waiting on it.
    open: Delta,
    waiting: Vec<SyncSender<Answer>>,
    /// Why the store has stopped (a group failed to become durable, or the
    /// committer is gone): every call answers `Unavailable` with it.
    stopped: Option<String>,
}

impl State {
    fn usable(&self) -> Result<(), StorageError> {
        match &self.stopped {
            None => Ok(()),
            Some(why) => Err(StorageError::Unavailable(why.clone())),
        }
    }

    /// `None` when the snapshot must be taken first.
    fn view(&self) -> Option<View<'_>> {
        Some(View {
            sealed: self.sealed.as_deref(),
            open: &self.open,
            snapshot: self.snapshot.as_ref()?,
        })
    }
}

/// Wakes the committer when the open group gets its first commit (later
/// ones find it awake or about to seal), or when the store closes.
#[derive(Default)]
struct Bell {
    state: Mutex<Ringing>,
    rung: Condvar,
}

#[derive(Default)]
struct Ringing {
    rung: bool,
    closing: bool,
}

impl Bell {
    fn ring(&self, closing: bool) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.rung = true;
        state.closing |= closing;
        self.rung.notify_one();
    }

    /// Waits for a ring (not at all once the store is closing); whether
    /// the store is closing.
    fn wait(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while !state.rung && !state.closing {
            state = self.rung.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.rung = false;
        state.closing
    }
}

/// How well group commit is working: `commits / transactions` is the
/// average number of commits that shared one fsync.
#[derive(Debug, Default)]
pub struct CommitCounts {
    /// Commits accepted and made durable.
    pub commits: AtomicU64,
    /// Durable write transactions (one fsync each) that carried them; a
    /// group of checks alone writes none.
    pub transactions: AtomicU64,
}

fn other(e: impl std::fmt::Display) -> StorageError {
    StorageError::Other(e.to_string())
}

fn unavailable(e: impl std::fmt::Display) -> StorageError {
    StorageError::Unavailable(e.to_string())
}

impl FileBackend {
    /// Opens (or creates) the database in `dir`. Only one process may have
    /// it open at a time.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StorageError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError::Unavailable(format!("creating {}: {e}", dir.display())))?;
        let path = dir.join(DB_FILE);
        let db = Database::create(&path).map_err(|e| {
            StorageError::Unavailable(match e {
                redb::DatabaseError::DatabaseAlreadyOpen => format!(
                    "{} is in use by another process (a running `nexus serve`?): one process \
                     at a time owns a data directory; while a server runs, give the command \
                     `--url http://ADDR` (or NEXUS_URL) to run it there, or stop the server first",
                    dir.display()
                ),
                e => format!("opening {}: {e}", path.display()),
            })
        })?;
        let txn = db.begin_write().map_err(other)?;
        txn.open_table(TABLE).map_err(other)?;
        txn.commit().map_err(other)?;
        let shared = Arc::new(Shared {
            state: RwLock::default(),
            db: Mutex::new(db),
            bell: Bell::default(),
            counts: CommitCounts::default(),
            #[cfg(test)]
            gate: tests::Gate::default(),
        });
        let committer_shared = shared.clone();
        let committer = std::thread::Builder::new()
            .name("nexus-committer".into())
            .spawn(move || run_committer(&committer_shared))
            .map_err(|e| StorageError::Unavailable(format!("starting the committer: {e}")))?;
        Ok(Self {
            shared,
            path,
            committer: Some(committer),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn commit_counts(&self) -> &CommitCounts {
        &self.shared.counts
    }

    /// Compacts the data file (redb moves live pages down and truncates
    /// the file). redb needs the database to itself, so reads and commits
    /// wait until it is done; commits accepted before it and not yet
    /// durable stay in memory meanwhile, and are written after it.
    pub fn compact(&self) -> Result<(), StorageError> {
        // Under the state's write lock no reader holds a view: the
        // snapshot (a read transaction, which would stop the compaction)
        // can be dropped, and none is taken again until it is done.
        let mut state = self.shared.write_state();
        state.usable()?;
        state.snapshot = None;
        // The committer holds the database while it writes a group; this
        // waits for that, and holds it off until the compaction is done.
        let mut db = self.shared.database();
        while db.compact().map_err(other)? {}
        Ok(())
    }

    /// Every durable entry, in key order, from a read transaction of its
    /// own (redb keeps it whole while commits go on). A write is durable
    /// before it is acknowledged, so every acknowledged one is in it.
    pub fn snapshot(&self, visit: super::Visit<'_>) -> Result<(), StorageError> {
        self.shared.read_state().usable()?;
        let table = self
            .shared
            .database()
            .begin_read()
            .map_err(other)?
            .open_table(TABLE)
            .map_err(other)?;
        for entry in table.iter().map_err(other)? {
            let (key, value) = entry.map_err(other)?;
            visit(key.value(), value.value())?;
        }
        Ok(())
    }

    fn read<T>(
        &self,
        f: impl FnOnce(View<'_>) -> Result<T, redb::StorageError>,
    ) -> Result<T, StorageError> {
        {
            let state = self.shared.read_state();
            state.usable()?;
            if let Some(view) = state.view() {
                return f(view).map_err(other);
            }
        }
        // No snapshot since the last durable group: take one. (The write
        // lock cannot be downgraded, so the read runs under it this once.)
        let mut state = self.shared.write_state();
        state.usable()?;
        let view = self.shared.view(&mut state)?;
        f(view).map_err(other)
    }

    /// Checks a commit and, if it holds, accepts it into the open group;
    /// the receiver hears once that group is durable (or failed).
    fn submit(
        &self,
        checks: &[Check],
        writes: Vec<Write>,
    ) -> Result<Receiver<Answer>, StorageError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let first = {
            let mut state = self.shared.write_state();
            state.usable()?;
            let mut staging = Staging {
                view: self.shared.view(&mut state)?,
                delta: Delta::default(),
            };
            validate_commit(&mut staging, checks, &writes)?;
            write_commit(&mut staging, writes)?;
            let delta = staging.delta;
            state.open.absorb(delta);
            state.waiting.push(reply);
            state.waiting.len() == 1
        };
        if first {
            self.shared.bell.ring(false);
        }
        Ok(answer)
    }
}

impl Shared {
    fn read_state(&self) -> RwLockReadGuard<'_, State> {
        // A poisoned lock means a panic in a BTreeMap or redb call: the
        // state itself is only changed by whole-commit steps.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_state(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The view under the write lock, taking the snapshot if there is none.
    fn view<'s>(&self, state: &'s mut State) -> Result<View<'s>, StorageError> {
        if state.snapshot.is_none() {
            state.snapshot = Some(
                self.database()
                    .begin_read()
                    .map_err(other)?
                    .open_table(TABLE)
                    .map_err(other)?,
            );
        }
        Ok(state.view().expect("a snapshot was just taken"))
    }

    fn database(&self) -> MutexGuard<'_, Database> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn make_durable(&self, group: &Delta) -> Result<(), StorageError> {
        // Held to the end of the transaction: a compaction must not find
        // one open.
        let db = self.database();
        let txn = db.begin_write().map_err(unavailable)?;
        {
            let mut table = txn.open_table(TABLE).map_err(unavailable)?;
            group.write_to(&mut table).map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)
    }
}

impl Drop for FileBackend {
    fn drop(&mut self) {
        // The committer makes what is accepted durable, then stops.
        self.shared.bell.ring(true);
        #[cfg(test)]
        self.shared.gate.release();
        if let Some(handle) = self.committer.take() {
            let _ = handle.join();
        }
    }
}

impl Storage for FileBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(|view| view.get(key))
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        self.read(|view| keys.iter().map(|k| view.get(k)).collect())
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        if start >= end {
            return Ok(Vec::new());
        }
        self.read(|view| view.scan(start, end, limit))
    }

    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        self.submit(&checks, writes)?.recv().unwrap_or_else(|_| {
            Err(StorageError::Unavailable(
                "the committer has stopped".into(),
            ))
        })
    }
}

/// Seals the open group whenever it has commits, makes it durable, and
/// answers its writers; stops when the store closes (after the last group)
/// or when a group fails (after failing every waiting writer).
fn run_committer(shared: &Shared) {
    let _stopped = Stopped(shared);
    loop {
        let closing = shared.bell.wait();
        let (group, waiting) = {
            let mut state = shared.write_state();
            if state.waiting.is_empty() {
                if closing {
                    return;
                }
                continue;
            }
            let group = Arc::new(std::mem::take(&mut state.open));
            state.sealed = Some(group.clone());
            (group, std::mem::take(&mut state.waiting))
        };
        // Unit tests hold the committer here, with a group sealed.
        #[cfg(test)]
        let outcome = shared.gate.pass();
        #[cfg(not(test))]
        let outcome = Ok(());
        let outcome = outcome.and_then(|()| {
            // A group of checks alone waited its turn all the same: what
            // it checked was durable only once the group before it was.
            if group.is_empty() {
                Ok(())
            } else {
                shared.make_durable(&group)
            }
        });
        let mut state = shared.write_state();
        match outcome {
            Ok(()) => {
                // Durable now: from here on the snapshot must hold it,
                // before anyone hears that it is.
                state.sealed = None;
                state.snapshot = None;
                drop(state);
                shared
                    .counts
                    .commits
                    .fetch_add(waiting.len() as u64, Ordering::Relaxed);
                if !group.is_empty() {
                    shared.counts.transactions.fetch_add(1, Ordering::Relaxed);
                }
                for reply in waiting {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed; the store stops (reopen it to go on)");
                state.stopped = Some(format!(
                    "the store has stopped: a write failed to become durable ({e}); \
                     reopen it to continue from what is on disk"
                ));
                state.sealed = None;
                state.open = Delta::default();
                state.snapshot = None;
                let later = std::mem::take(&mut state.waiting);
                drop(state);
                let error =
                    StorageError::Unavailable(format!("the write did not become durable: {e}"));
                for reply in waiting.into_iter().chain(later) {
                    let _ = reply.send(Err(error.clone()));
                }
                return;
            }
        }
    }
}

/// However the committer stops (closing, a failed group, a panic), later
/// commits must not wait for it: they find the store stopped, and writers
/// still waiting hear that it did.
struct Stopped<'a>(&'a Shared);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        let mut state = self.0.write_state();
        state
            .stopped
            .get_or_insert_with(|| "the store has stopped: its committer is gone".into());
        state.waiting.clear();
    }
}

#[cfg(test)]
mod tests;
