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
}

impl Backend for MemoryBackend {}

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
}

impl Backend for FileBackend {
    fn compaction(&self) -> &'static str {
        "compacting the data file; reads and writes wait until it is done"
    }

    fn compact(&self) -> Result<(), StorageError> {
        FileBackend::compact(self)
    }
}

impl Backend for PostgresBackend {
    fn watch(&self, waiters: Weak<Waiters>) {
        self.listen(waiters);
    }

    fn compaction(&self) -> &'static str {
        "vacuuming the table (VACUUM ANALYZE): freed rows become reusable; nothing waits"
    }

    fn compact(&self) -> Result<(), StorageError> {
        self.vacuum()
    }
}
