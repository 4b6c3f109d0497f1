//! Where the store's bytes live. A backend is anything that implements the
//! storage contract ([`nexus_store::Storage`]) and can be shared by threads.

mod file;
mod postgres;

pub use file::{CommitCounts, FileBackend};
pub use nexus_store::storage::{
    Check, Entries, MemoryStorage as MemoryBackend, Storage, StorageError, Write,
};
pub use postgres::{PostgresBackend, PostgresOptions};

/// A storage the host can share between its instances.
pub trait Backend: Storage + Send + Sync + 'static {}

impl<T: Storage + Send + Sync + 'static> Backend for T {}
