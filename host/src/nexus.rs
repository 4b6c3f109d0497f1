//! The typed Rust API: [`Nexus`] is a handle on one store (cheap to clone,
//! safe to share between threads), [`Namespace`] a handle on one namespace
//! of it. Every call runs the store component in a pooled instance.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::backend::{Backend, FileBackend, MemoryBackend, PostgresBackend, PostgresOptions};
use crate::bindings::{self, HostState, SharedClock};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::runtime::{DEFAULT_CALL_TIMEOUT, DEFAULT_GUEST_MEMORY, Pool};
use crate::types::*;
use crate::wait::Waiters;

#[derive(Clone)]
pub struct Nexus {
    pub(crate) pool: Arc<Pool>,
}

/// Chooses the backend and the clock of a [`Nexus`].
pub struct NexusBuilder {
    backend: BackendChoice,
    clock: SharedClock,
    call_timeout: Duration,
    memory_limit: usize,
}

enum BackendChoice {
    Memory,
    File(PathBuf),
    Postgres(PostgresOptions),
    Custom(Arc<dyn Backend>),
}

impl NexusBuilder {
    /// The durable embedded store in `dir` (the default kind).
    pub fn file(mut self, dir: impl Into<PathBuf>) -> Self {
        self.backend = BackendChoice::File(dir.into());
        self
    }

    /// The table `nexus_kv` in the PostgreSQL database at `url`
    /// (`postgres://user:password@host/db`), shared with every other host
    /// that uses it.
    pub fn postgres(self, url: impl Into<String>) -> Self {
        self.postgres_with(PostgresOptions::new(url))
    }

    /// PostgreSQL with another table or pool size.
    pub fn postgres_with(mut self, options: PostgresOptions) -> Self {
        self.backend = BackendChoice::Postgres(options);
        self
    }

    /// An ephemeral in-memory store.
    pub fn memory(mut self) -> Self {
        self.backend = BackendChoice::Memory;
        self
    }

    /// Any storage that implements the contract, e.g. one shared with
    /// another `Nexus` to see what several hosts on one database do.
    pub fn backend(mut self, backend: Arc<dyn Backend>) -> Self {
        self.backend = BackendChoice::Custom(backend);
        self
    }

    /// The clock the store reads; [`crate::clock::ManualClock`] in tests.
    pub fn clock(mut self, clock: impl Clock + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The longest one call may run inside the component (default
    /// 10 s); a call over it fails with [`Error::Trap`]
    /// and changes nothing.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// The most linear memory one guest instance may grow to (default 1
    /// GiB); a call that needs more fails with [`Error::Trap`] and changes
    /// nothing.
    pub fn guest_memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    pub fn build(self) -> Result<Nexus, Error> {
        let backend: Arc<dyn Backend> = match self.backend {
            BackendChoice::Memory => Arc::new(MemoryBackend::new()),
            BackendChoice::File(dir) => {
                Arc::new(FileBackend::open(&dir).map_err(|e| Error::Setup(e.into()))?)
            }
            BackendChoice::Postgres(options) => {
                Arc::new(PostgresBackend::open(&options).map_err(|e| Error::Setup(e.into()))?)
            }
            BackendChoice::Custom(b) => b,
        };
        Ok(Nexus {
            pool: Arc::new(Pool::new(
                backend,
                self.clock,
                self.call_timeout,
                self.memory_limit,
            )?),
        })
    }
}

/// One call of a typed export, answering in WIT types.
pub(crate) type Call<'a, T> = dyn FnOnce(
        &bindings::Store,
        &mut wasmtime::Store<HostState>,
    ) -> wasmtime::Result<Result<T, bindings::nexus::store::types::Error>>
    + 'a;

/// Every item of a list converted (from its WIT type).
pub(crate) fn all_into<T, U: From<T>>(items: impl IntoIterator<Item = T>) -> Vec<U> {
    items.into_iter().map(U::from).collect()
}

impl Nexus {
    pub fn builder() -> NexusBuilder {
        NexusBuilder {
            backend: BackendChoice::Memory,
            clock: Arc::new(SystemClock),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            memory_limit: DEFAULT_GUEST_MEMORY,
        }
    }

    /// The durable store in `dir`, on the system clock.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Self::builder().file(dir.as_ref()).build()
    }

    /// An in-memory store on the system clock.
    pub fn memory() -> Result<Self, Error> {
        Self::builder().memory().build()
    }

    pub(crate) fn call<T>(&self, f: Box<Call<'_, T>>) -> Result<T, Error> {
        Ok(self.pool.with(f)??)
    }

    /// A handle on namespace `name`, which must be valid (see
    /// [`Nexus::sanitize`]). The namespace itself is created by its first write.
    pub fn namespace(&self, name: &str) -> Result<Namespace, Error> {
        self.call(Box::new(|b, s| {
            b.nexus_store_namespaces().call_validate(s, name)
        }))?;
        Ok(Namespace {
            nexus: self.clone(),
            name: name.to_string(),
        })
    }

    /// The `default` namespace, used when none is named.
    pub fn default_namespace(&self) -> Namespace {
        Namespace {
            nexus: self.clone(),
            name: nexus_store::DEFAULT_NAMESPACE.to_string(),
        }
    }

    pub fn sanitize(&self, name: &str) -> Result<String, Error> {
        self.pool
            .with(|b, s| b.nexus_store_namespaces().call_sanitize(s, name))
    }

    /// Every namespace, sorted by name.
    pub fn namespaces(&self) -> Result<Vec<NamespaceInfo>, Error> {
        self.call(Box::new(|b, s| b.nexus_store_namespaces().call_list(s)))
            .map(all_into)
    }

    /// Statistics summed over every namespace.
    pub fn global_stats(&self) -> Result<Stats, Error> {
        self.call(Box::new(|b, s| {
            b.nexus_store_namespaces().call_global_stats(s)
        }))
        .map(Into::into)
    }

    /// Flushes one instance's statistics, fires every due cron task, and
    /// removes old event-log entries and expired keys, examining at most
    /// `budget` entries for those two. The report counts each; `more` says
    /// the budget ran out and another tick has work to do.
    pub fn tick(&self, budget: u32) -> Result<TickReport, Error> {
        self.call(Box::new(|b, s| {
            b.nexus_store_maintenance().call_tick(s, budget)
        }))
        .map(Into::into)
    }

    /// Writes every idle instance's pending read statistics to storage.
    pub fn flush(&self) -> Result<(), Error> {
        self.pool.flush_all()
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        self.pool.storage()
    }

    /// The receivers of this store that wait for messages.
    pub fn waiters(&self) -> &Arc<Waiters> {
        self.pool.waiters()
    }

    /// The time on the store's clock.
    pub fn now_ms(&self) -> u64 {
        self.pool.clock().now_ms()
    }
}

impl std::fmt::Debug for Nexus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nexus").finish_non_exhaustive()
    }
}

/// One namespace of a [`Nexus`]. Keys and values are bytes (`&str`,
/// `String`, `Vec<u8>` and `&[u8]` all work).
#[derive(Clone, Debug)]
pub struct Namespace {
    nexus: Nexus,
    name: String,
}

impl Namespace {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn call<T>(&self, f: Box<Call<'_, T>>) -> Result<T, Error> {
        self.nexus.call(f)
    }

    /// The store this namespace belongs to.
    pub fn nexus(&self) -> &Nexus {
        &self.nexus
    }

    /// Stores `value` with no TTL; returns the new version.
    pub fn set(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<u64, Error> {
        self.set_with(key, value, &SetOptions::default())
    }

    pub fn set_with(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        options: &SetOptions,
    ) -> Result<u64, Error> {
        let (ns, key, value) = (&self.name, key.as_ref(), value.as_ref());
        let options = (*options).into();
        self.call(Box::new(|b, s| {
            b.nexus_store_kv().call_set(s, ns, key, value, options)
        }))
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Entry>, Error> {
        let (ns, key) = (&self.name, key.as_ref());
        self.call(Box::new(|b, s| b.nexus_store_kv().call_get(s, ns, key)))
            .map(|e| e.map(Into::into))
    }

    /// Just the value of [`Namespace::get`].
    pub fn get_value(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.get(key)?.map(|e| e.value))
    }

    /// True if a live value was deleted.
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Result<bool, Error> {
        let (ns, key) = (&self.name, key.as_ref());
        self.call(Box::new(|b, s| b.nexus_store_kv().call_delete(s, ns, key)))
    }

    pub fn exists(&self, key: impl AsRef<[u8]>) -> Result<bool, Error> {
        let (ns, key) = (&self.name, key.as_ref());
        self.call(Box::new(|b, s| b.nexus_store_kv().call_exists(s, ns, key)))
    }

    pub fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Entry>>, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_kv().call_get_many(s, ns, keys)
        }))
        .map(|entries| entries.into_iter().map(|e| e.map(Into::into)).collect())
    }

    /// Atomic: all items are stored or none.
    pub fn set_many(
        &self,
        items: &[(Vec<u8>, Vec<u8>)],
        ttl_ms: Option<u64>,
    ) -> Result<Vec<u64>, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_kv().call_set_many(s, ns, items, ttl_ms)
        }))
    }

    pub fn delete_many(&self, keys: &[Vec<u8>]) -> Result<u32, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_kv().call_delete_many(s, ns, keys)
        }))
    }

    pub fn increment(&self, key: impl AsRef<[u8]>, delta: i64) -> Result<i64, Error> {
        let (ns, key) = (&self.name, key.as_ref());
        self.call(Box::new(|b, s| {
            b.nexus_store_kv().call_increment(s, ns, key, delta)
        }))
    }

    pub fn list(&self, options: &ListOptions) -> Result<ListPage, Error> {
        let (ns, options) = (&self.name, options.clone().into());
        self.call(Box::new(|b, s| {
            b.nexus_store_kv().call_list(s, ns, &options)
        }))
        .map(Into::into)
    }

    pub fn transaction(
        &self,
        conditions: &[Condition],
        ops: &[Op],
    ) -> Result<Vec<Option<u64>>, Error> {
        let ns = &self.name;
        let conditions: Vec<_> = conditions.iter().cloned().map(Into::into).collect();
        let ops: Vec<_> = ops.iter().cloned().map(Into::into).collect();
        self.call(Box::new(|b, s| {
            b.nexus_store_kv()
                .call_transaction(s, ns, &conditions, &ops)
        }))
    }

    /// Live keys, exact.
    pub fn size(&self) -> Result<u64, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| b.nexus_store_namespaces().call_size(s, ns)))
    }

    /// `None` until the namespace's first write.
    pub fn info(&self) -> Result<Option<NamespaceInfo>, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| b.nexus_store_namespaces().call_info(s, ns)))
            .map(|i| i.map(Into::into))
    }

    /// Deletes every key; returns how many live keys there were.
    pub fn clear(&self) -> Result<u64, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_namespaces().call_clear(s, ns)
        }))
    }

    /// Deletes the namespace with its metadata and statistics.
    pub fn drop_namespace(&self) -> Result<bool, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| b.nexus_store_namespaces().call_drop(s, ns)))
    }

    pub fn metadata(&self) -> Result<String, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_namespaces().call_get_metadata(s, ns)
        }))
    }

    /// `json` must be a JSON object.
    pub fn set_metadata(&self, json: &str) -> Result<(), Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_namespaces().call_set_metadata(s, ns, json)
        }))
    }

    pub fn limits(&self) -> Result<Limits, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_namespaces().call_get_limits(s, ns)
        }))
        .map(Into::into)
    }

    pub fn set_limits(&self, limits: Limits) -> Result<(), Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_namespaces()
                .call_set_limits(s, ns, limits.into())
        }))
    }

    /// Whether changes to this namespace's keys are events in its queues.
    pub fn key_events(&self) -> Result<KeyEvents, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_namespaces().call_get_key_events(s, ns)
        }))
        .map(Into::into)
    }

    /// Turns key-change events on or off: with them on, every change to a
    /// key of this namespace (`kv.set`, `kv.deleted`, `kv.expired`,
    /// `kv.evicted`, `kv.cleared`) is an event in its queues, written in
    /// the same commit as the change; receive them as any other event
    /// (a subscription with the pattern `kv.#`, say).
    pub fn set_key_events(&self, setting: KeyEvents) -> Result<(), Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_namespaces()
                .call_set_key_events(s, ns, setting.into())
        }))
    }

    pub fn stats(&self) -> Result<Stats, Error> {
        let ns = &self.name;
        self.call(Box::new(|b, s| {
            b.nexus_store_namespaces().call_stats(s, ns)
        }))
        .map(Into::into)
    }
}
