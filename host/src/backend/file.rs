//! The durable embedded backend: one redb database file, and a committer
//! thread that does group commit.
//!
//! redb runs one write transaction at a time and makes each commit durable
//! (fsync) before `commit` returns. Writers hand their commit to the
//! committer thread and wait; the committer takes every commit waiting at
//! that moment, applies them one after another inside one write transaction,
//! commits it with a single fsync and only then answers each writer. So
//! 50 concurrent writers share one fsync instead of queueing for 50, and no
//! writer hears "ok" before its data is on disk. Each commit inside a batch
//! stays all-or-nothing: its checks are evaluated against the state left by
//! the commits before it, and a failing one is left out of the batch.
//!
//! Writers of one hot key conflict: only the first of them in a batch finds
//! the value it read, the others re-read and retry in a later batch. So that
//! none of them loses every time, a writer that has lost goes before the
//! newcomers in the next batch, oldest loss first; with N writers of one
//! key, each gets through within about N batches.
//!
//! Reads share one read snapshot for as long as no commit has landed:
//! opening a redb read transaction per `get` cost more than the lookup
//! itself ([`ReadSnapshots`]).

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Instant;

use nexus_store::storage::{CommitTarget, Entries, validate_commit, write_commit};
use redb::{
    Database, ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};

use super::{Check, Storage, StorageError, Write};

const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("nexus");
/// Most commits folded into one write transaction.
const MAX_BATCH: usize = 512;
pub const DB_FILE: &str = "nexus.redb";

struct Request {
    checks: Vec<Check>,
    writes: Vec<Write>,
    reply: SyncSender<Result<(), StorageError>>,
    /// When the writer (this thread's current operation) first lost a race.
    losing_since: Option<Instant>,
}

thread_local! {
    /// A store call runs on one thread from its first attempt to its last,
    /// so the thread stands for the operation retrying.
    static LOSING_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

pub struct FileBackend {
    db: Arc<Database>,
    path: PathBuf,
    queue: Mutex<Option<Sender<Request>>>,
    committer: Mutex<Option<JoinHandle<()>>>,
    counts: Arc<CommitCounts>,
    snapshots: Arc<ReadSnapshots>,
}

type ReadTable = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// The read snapshot every read shares until a commit lands.
///
/// The committer calls [`ReadSnapshots::committed`] once a write
/// transaction is durable and before it answers any writer in it; a read
/// that finds the shared snapshot older than the last commit takes a new
/// one. So a read that starts after a write was acknowledged always sees
/// it. The committer also drops the shared snapshot then: a redb read
/// transaction keeps the pages it sees from being reused, and a snapshot
/// left open through a stretch of writes without reads would make the file
/// grow.
#[derive(Default)]
struct ReadSnapshots {
    /// Write transactions made durable so far.
    generation: AtomicU64,
    /// The shared snapshot, and the generation it holds every commit of.
    shared: RwLock<Option<(u64, Arc<ReadTable>)>>,
}

impl ReadSnapshots {
    fn current(&self, db: &Database) -> Result<Arc<ReadTable>, StorageError> {
        // Loaded before the snapshot is taken: the snapshot then holds at
        // least every commit this generation counts.
        let generation = self.generation.load(Ordering::Acquire);
        if let Some((taken_at, table)) = &*self.shared.read().unwrap_or_else(|p| p.into_inner())
            && *taken_at == generation
        {
            return Ok(table.clone());
        }
        let table = Arc::new(
            db.begin_read()
                .map_err(other)?
                .open_table(TABLE)
                .map_err(other)?,
        );
        let mut shared = self.shared.write().unwrap_or_else(|p| p.into_inner());
        // Shared only while still current: one taken just before a commit
        // would otherwise outlive the committer's clearing.
        if self.generation.load(Ordering::Acquire) == generation {
            *shared = Some((generation, table.clone()));
        }
        Ok(table)
    }

    /// A write transaction is durable: later reads must see it.
    fn committed(&self) {
        self.generation.fetch_add(1, Ordering::Release);
        *self.shared.write().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// How well group commit is working: `commits / transactions` is the
/// average number of commits that shared one fsync.
#[derive(Debug, Default)]
pub struct CommitCounts {
    /// Commits requested by writers.
    pub commits: AtomicU64,
    /// Durable write transactions (one fsync each) that carried them.
    pub transactions: AtomicU64,
}

fn other(e: impl std::fmt::Display) -> StorageError {
    StorageError::Other(e.to_string())
}

impl FileBackend {
    /// Opens (or creates) the database in `dir`. Only one process may have
    /// it open at a time.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StorageError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError::Unavailable(format!("creating {}: {e}", dir.display())))?;
        let path = dir.join(DB_FILE);
        let db = Database::create(&path)
            .map_err(|e| StorageError::Unavailable(format!("opening {}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(other)?;
        txn.open_table(TABLE).map_err(other)?;
        txn.commit().map_err(other)?;
        let db = Arc::new(db);
        let (tx, rx) = mpsc::channel();
        let committer_db = db.clone();
        let counts = Arc::new(CommitCounts::default());
        let committer_counts = counts.clone();
        let snapshots = Arc::new(ReadSnapshots::default());
        let committer_snapshots = snapshots.clone();
        let committer = std::thread::Builder::new()
            .name("nexus-committer".into())
            .spawn(move || {
                run_committer(&committer_db, rx, &committer_counts, &committer_snapshots)
            })
            .map_err(|e| StorageError::Unavailable(format!("starting the committer: {e}")))?;
        Ok(Self {
            db,
            path,
            queue: Mutex::new(Some(tx)),
            committer: Mutex::new(Some(committer)),
            counts,
            snapshots,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn commit_counts(&self) -> &CommitCounts {
        &self.counts
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&ReadTable) -> Result<T, redb::StorageError>,
    ) -> Result<T, StorageError> {
        let table = self.snapshots.current(&self.db)?;
        f(&table).map_err(other)
    }
}

impl Drop for FileBackend {
    fn drop(&mut self) {
        // Closing the queue lets the committer finish what is queued and stop.
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = self
            .committer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = handle.join();
        }
    }
}

impl Storage for FileBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(|t| Ok(t.get(key)?.map(|v| v.value().to_vec())))
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        self.read(|t| {
            keys.iter()
                .map(|k| Ok(t.get(k.as_slice())?.map(|v| v.value().to_vec())))
                .collect()
        })
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        if start >= end {
            return Ok(Vec::new());
        }
        self.read(|t| {
            t.range(start..end)?
                .take(limit as usize)
                .map(|item| {
                    let (k, v) = item?;
                    Ok((k.value().to_vec(), v.value().to_vec()))
                })
                .collect()
        })
    }

    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let losing_since = LOSING_SINCE.get();
        {
            let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let queue = queue
                .as_ref()
                .ok_or_else(|| StorageError::Unavailable("the store is closing".into()))?;
            queue
                .send(Request {
                    checks,
                    writes,
                    reply,
                    losing_since,
                })
                .map_err(|_| StorageError::Unavailable("the committer has stopped".into()))?;
        }
        let answer = answer.recv().unwrap_or_else(|_| {
            Err(StorageError::Unavailable(
                "the committer has stopped".into(),
            ))
        });
        LOSING_SINCE.set(match answer {
            Err(StorageError::Conflict) => losing_since.or_else(|| Some(Instant::now())),
            _ => None,
        });
        answer
    }
}

struct TableTarget<'t>(redb::Table<'t, &'static [u8], &'static [u8]>);

impl CommitTarget for TableTarget<'_> {
    fn current(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.0.get(key).map_err(other)?.map(|v| v.value().to_vec()))
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), StorageError> {
        self.0
            .insert(key.as_slice(), value.as_slice())
            .map_err(other)?;
        Ok(())
    }
    fn delete(&mut self, key: &[u8]) -> Result<(), StorageError> {
        self.0.remove(key).map_err(other)?;
        Ok(())
    }
    fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), StorageError> {
        if start < end {
            self.0.retain_in(start..end, |_, _| false).map_err(other)?;
        }
        Ok(())
    }
}

fn run_committer(
    db: &Database,
    queue: Receiver<Request>,
    counts: &CommitCounts,
    snapshots: &ReadSnapshots,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        // Earlier losers first, then the rest in arrival order (stable).
        batch.sort_by_key(|r| (r.losing_since.is_none(), r.losing_since));
        counts
            .commits
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        counts.transactions.fetch_add(1, Ordering::Relaxed);
        commit_batch(db, batch, snapshots);
    }
}

/// Applies a batch in one write transaction and answers every request once
/// the transaction is durable. If writing or committing fails, the whole
/// transaction is dropped and every request in it hears an error: none of
/// them was acknowledged, so none is lost.
fn commit_batch(db: &Database, batch: Vec<Request>, snapshots: &ReadSnapshots) {
    let (replies, work): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .map(|r| (r.reply, (r.checks, r.writes)))
        .unzip();
    match apply_batch(db, work) {
        Ok(answers) => {
            // Durable now: reads from here on must see it, before anyone
            // hears that it is.
            snapshots.committed();
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "group commit failed; no request in it was applied");
            for reply in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

/// One answer per request: `Ok`, or the reason its validation failed (it
/// wrote nothing and the rest of the batch goes on without it).
type Answers = Vec<Result<(), StorageError>>;

fn apply_batch(
    db: &Database,
    work: Vec<(Vec<Check>, Vec<Write>)>,
) -> Result<Answers, StorageError> {
    let txn: WriteTransaction = db.begin_write().map_err(unavailable)?;
    let mut answers = Vec::with_capacity(work.len());
    {
        let mut target = TableTarget(txn.open_table(TABLE).map_err(unavailable)?);
        for (checks, writes) in work {
            let answer = validate_commit(&mut target, &checks, &writes);
            if answer.is_ok() {
                write_commit(&mut target, writes)?;
            }
            answers.push(answer);
        }
    }
    txn.commit().map_err(unavailable)?;
    Ok(answers)
}

fn unavailable(e: impl std::fmt::Display) -> StorageError {
    StorageError::Unavailable(e.to_string())
}
