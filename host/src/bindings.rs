//! The typed bindings of the `nexus:store/store` world, and the host's
//! implementation of the world's imports: one `impl` per interface.

use nexus_store::Clock as _;
use nexus_store::storage::{Check, Write};

use crate::runtime::HostState;

wasmtime::component::bindgen!({
    world: "store",
    path: "../wit",
    additional_derives: [PartialEq, Eq],
});

use nexus::store::storage as wit;

/// The WIT types a user of the Rust API sees, under one roof.
pub mod types {
    pub use super::exports::nexus::store::kv::{
        Condition, Entry, KeyInfo, ListOptions, ListPage, Op, SetOp, SetOptions,
    };
    pub use super::exports::nexus::store::maintenance::TickReport;
    pub use super::exports::nexus::store::namespaces::{
        EvictionPolicy, Limits, NamespaceInfo, NamespaceStats,
    };
}

fn storage_error(e: nexus_store::StorageError) -> wit::StorageError {
    match e {
        nexus_store::StorageError::Conflict => wit::StorageError::Conflict,
        nexus_store::StorageError::Unavailable(r) => wit::StorageError::Unavailable(r),
        nexus_store::StorageError::Other(r) => wit::StorageError::Other(r),
    }
}

impl wit::Host for HostState {
    fn get(&mut self, key: Vec<u8>) -> Result<Option<Vec<u8>>, wit::StorageError> {
        self.storage.get(&key).map_err(storage_error)
    }

    fn get_many(&mut self, keys: Vec<Vec<u8>>) -> Result<Vec<Option<Vec<u8>>>, wit::StorageError> {
        self.storage.get_many(&keys).map_err(storage_error)
    }

    fn scan(
        &mut self,
        start: Vec<u8>,
        end: Vec<u8>,
        limit: u32,
    ) -> Result<Vec<wit::Entry>, wit::StorageError> {
        self.storage
            .scan(&start, &end, limit)
            .map(|entries| {
                entries
                    .into_iter()
                    .map(|(key, value)| wit::Entry { key, value })
                    .collect()
            })
            .map_err(storage_error)
    }

    fn commit(
        &mut self,
        checks: Vec<wit::Check>,
        writes: Vec<wit::Write>,
    ) -> Result<(), wit::StorageError> {
        let checks = checks
            .into_iter()
            .map(|c| Check {
                key: c.key,
                expected: c.expected,
            })
            .collect();
        let mut woken = Vec::new();
        let writes = writes
            .into_iter()
            .map(|w| match w {
                wit::Write::Put(e) => Write::Put(e.key, e.value),
                wit::Write::Delete(k) => Write::Delete(k),
                wit::Write::DeleteRange((start, end)) => Write::DeleteRange(start, end),
                wit::Write::Add((k, delta)) => Write::Add(k, delta),
                wit::Write::Notify(namespace) => {
                    woken.push(namespace.clone());
                    Write::Notify(namespace)
                }
            })
            .collect();
        self.storage.commit(checks, writes).map_err(storage_error)?;
        self.committed = true;
        for namespace in woken {
            self.waiters.wake(&namespace);
        }
        Ok(())
    }
}

impl nexus::store::clock::Host for HostState {
    fn now_ms(&mut self) -> u64 {
        self.clock.now_ms()
    }
}

impl nexus::store::types::Host for HostState {}
