//! Where the store's bytes live. A backend is anything that implements the
//! storage contract ([`nexus_store::Storage`]) and can be shared by threads.

mod file;
mod postgres;
pub mod remote;

pub use file::{CommitCounts, FileBackend};
pub use nexus_store::storage::{
    Check, Entries, MemoryStorage as MemoryBackend, Storage, StorageError, Write,
};
pub use postgres::{PostgresBackend, PostgresOptions};
pub use remote::RemoteBackend;

use std::sync::{Arc, Weak};

use crate::wait::Waiters;

/// A storage the host can share between its instances.
pub trait Backend: Storage + Send + Sync + 'static {
    /// Hears of the `notify` writes other hosts commit to the same storage
    /// and wakes `waiters` for them, for as long as `waiters` lives. The
    /// host wakes its own waiters after each of its own commits, so storage
    /// that only one process writes has nothing to hear.
    fn watch(&self, waiters: Weak<Waiters>) {
        drop(waiters);
    }

    /// What [`Backend::compact`] does on this backend (`POST /compact`
    /// says it in its answer).
    fn compaction(&self) -> &'static str {
        "nothing: this storage gives space back by itself"
    }

    /// Gives back the space the store no longer uses, as far as this
    /// backend can. Runs to the end: a server runs it on a thread of its
    /// own and answers at once.
    fn compact(&self) -> Result<(), StorageError> {
        Ok(())
    }

    /// Hands every entry to `visit`, in key order, from one consistent
    /// state of the store (a state it was in: every write acknowledged
    /// before the call is there), while writers go on: what `nexus backup`
    /// and `nexus copy` read ([`crate::backup`]). An error from `visit`
    /// stops it. No default: a wrapper that forgot to pass it on would
    /// make backups fail only where it is used.
    fn snapshot(&self, visit: Visit<'_>) -> Result<(), StorageError>;
}

/// What [`Backend::snapshot`] hands each entry to.
pub type Visit<'v> = &'v mut dyn FnMut(&[u8], &[u8]) -> Result<(), StorageError>;

impl Backend for MemoryBackend {
    /// A copy of the map, taken under its lock.
    fn snapshot(&self, visit: Visit<'_>) -> Result<(), StorageError> {
        self.snapshot()
            .iter()
            .try_for_each(|(key, value)| visit(key, value))
    }
}

/// A backend the caller built and keeps a handle on (`BackendKind::Shared`).
impl<B: Backend + ?Sized> Backend for Arc<B> {
    fn watch(&self, waiters: Weak<Waiters>) {
        (**self).watch(waiters);
    }

    fn compaction(&self) -> &'static str {
        (**self).compaction()
    }

    fn compact(&self) -> Result<(), StorageError> {
        (**self).compact()
    }

    fn snapshot(&self, visit: Visit<'_>) -> Result<(), StorageError> {
        (**self).snapshot(visit)
    }
}

impl Backend for FileBackend {
    fn compaction(&self) -> &'static str {
        "compacting the data file; reads and writes wait until it is done"
    }

    fn compact(&self) -> Result<(), StorageError> {
        FileBackend::compact(self)
    }

    fn snapshot(&self, visit: Visit<'_>) -> Result<(), StorageError> {
        FileBackend::snapshot(self, visit)
    }
}

impl Backend for PostgresBackend {
    fn watch(&self, waiters: Weak<Waiters>) {
        self.listen(waiters);
    }

    fn compaction(&self) -> &'static str {
        "vacuuming the table (VACUUM ANALYZE): freed rows become reusable; nothing waits"
    }

    fn snapshot(&self, visit: Visit<'_>) -> Result<(), StorageError> {
        PostgresBackend::snapshot(self, visit)
    }

    fn compact(&self) -> Result<(), StorageError> {
        self.vacuum()
    }
}
