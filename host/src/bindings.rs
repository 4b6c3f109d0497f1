//! The typed bindings of the `nexus:store/store` world, and the host's side
//! of it: [`HostState`], what each wasmtime store carries, with one `impl`
//! per imported interface beside it.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::backend::Backend;
use crate::clock::Clock;
use crate::wait::Waiters;

wasmtime::component::bindgen!({
    world: "store",
    path: "../wit",
});

use nexus::store::storage as wit;

/// `From` both ways between the WIT types above and nexus-store's, which
/// are the ones the Rust API shows (the mapping is nexus-store's own).
mod convert {
    use super::exports::nexus::store::{
        batch, events, http_api, kv, maintenance, namespaces, tokens,
    };
    use super::nexus::store::{storage, types};

    nexus_store::wit_conversions!();
}

pub(crate) type SharedClock = Arc<dyn Clock + Send + Sync>;

/// What each wasmtime store carries: the shared backend and clock the
/// imports use, and the (empty) WASI context Rust's std links against.
pub struct HostState {
    pub(crate) storage: Arc<dyn Backend>,
    pub(crate) clock: SharedClock,
    /// Woken after each commit that carries a `notify`.
    pub(crate) waiters: Arc<Waiters>,
    /// A commit succeeded since the call's budget was last renewed: the
    /// call has written, so running out of time must not trap it (a trap
    /// reports that nothing was written).
    pub(crate) committed: bool,
    /// A commit succeeded during the current call (never reset by a budget
    /// renewal): a trap then cannot say that nothing was written.
    pub(crate) wrote: bool,
    /// The most linear memory the instance may grow to.
    pub(crate) limits: StoreLimits,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl HostState {
    pub(crate) fn new(
        storage: Arc<dyn Backend>,
        clock: SharedClock,
        waiters: Arc<Waiters>,
        memory_limit: usize,
    ) -> Self {
        Self {
            storage,
            clock,
            waiters,
            committed: false,
            wrote: false,
            limits: StoreLimitsBuilder::new().memory_size(memory_limit).build(),
            // Grants nothing but stderr (for the guest's panic messages): no
            // preopened directories, no network, no inherited environment.
            wasi: WasiCtx::builder().inherit_stderr().build(),
            table: ResourceTable::new(),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wit::Host for HostState {
    fn get(&mut self, key: Vec<u8>) -> Result<Option<Vec<u8>>, wit::StorageError> {
        Ok(self.storage.get(&key)?)
    }

    fn get_many(&mut self, keys: Vec<Vec<u8>>) -> Result<Vec<Option<Vec<u8>>>, wit::StorageError> {
        Ok(self.storage.get_many(&keys)?)
    }

    fn scan(
        &mut self,
        start: Vec<u8>,
        end: Vec<u8>,
        limit: u32,
    ) -> Result<Vec<wit::Entry>, wit::StorageError> {
        let entries = self.storage.scan(&start, &end, limit)?;
        Ok(entries.into_iter().map(Into::into).collect())
    }

    fn commit(
        &mut self,
        checks: Vec<wit::Check>,
        writes: Vec<wit::Write>,
    ) -> Result<(), wit::StorageError> {
        let woken: Vec<String> = writes
            .iter()
            .filter_map(|w| match w {
                wit::Write::Notify(namespace) => Some(namespace.clone()),
                _ => None,
            })
            .collect();
        let checks = checks.into_iter().map(Into::into).collect();
        let writes = writes.into_iter().map(Into::into).collect();
        self.storage.commit(checks, writes)?;
        self.committed = true;
        self.wrote = true;
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

impl From<nexus::store::types::Error> for crate::Error {
    fn from(e: nexus::store::types::Error) -> Self {
        crate::Error::Store(e.into())
    }
}
