//! The nexus component: binds the store logic (`nexus-store`) to the
//! `nexus:store/store` world. Nothing here decides anything; it converts
//! between WIT types and the logic's types, and routes storage and clock
//! calls to the host's imports.

// wit-bindgen's glue lifts and lowers values through raw pointers into
// linear memory: generated unsafe code, the only unsafe code of this crate.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        world: "store",
        path: "../../wit",
    });
}

mod batch;
mod convert;
mod events;
mod http;
mod kv;
mod tokens;

use std::cell::RefCell;

use bindings::exports::nexus::store::{maintenance, namespaces};
use bindings::nexus::store::types::Error;
use bindings::nexus::store::{clock, storage as wit};
use nexus_store::storage::{Check, Entries, Write};
use nexus_store::{Storage, StorageError, Store};

/// Storage over the host's `storage` import.
struct HostStorage;

impl Storage for HostStorage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        wit::get(key).map_err(Into::into)
    }

    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        // nexus-store holds every multi-key read to the contract (one value
        // per key, in order) wherever the answer comes from.
        Ok(wit::get_many(keys)?)
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: u32) -> Result<Entries, StorageError> {
        let entries = wit::scan(start, end, limit)?;
        Ok(entries.into_iter().map(Into::into).collect())
    }

    fn commit(&self, checks: Vec<Check>, writes: Vec<Write>) -> Result<(), StorageError> {
        let checks: Vec<wit::Check> = checks.into_iter().map(Into::into).collect();
        let writes: Vec<wit::Write> = writes.into_iter().map(Into::into).collect();
        Ok(wit::commit(&checks, &writes)?)
    }
}

/// Time from the host's `clock` import.
struct HostClock;

impl nexus_store::Clock for HostClock {
    fn now_ms(&self) -> u64 {
        clock::now_ms()
    }
}

thread_local! {
    /// The instance's store. It holds no authoritative state (see nexus-store).
    static STORE: RefCell<Store<HostStorage, HostClock>> =
        RefCell::new(Store::new(HostStorage, HostClock));
}

fn with_store<T>(
    f: impl FnOnce(&mut Store<HostStorage, HostClock>) -> nexus_store::Result<T>,
) -> Result<T, Error> {
    STORE.with_borrow_mut(f).map_err(Into::into)
}

struct Component;

impl namespaces::Guest for Component {
    fn validate(name: String) -> Result<(), namespaces::Error> {
        nexus_store::validate(&name).map_err(Into::into)
    }

    fn sanitize(name: String) -> String {
        nexus_store::sanitize(&name)
    }

    fn list() -> Result<Vec<namespaces::NamespaceInfo>, namespaces::Error> {
        with_store(|s| s.list_namespaces()).map(all_into)
    }

    fn info(ns: String) -> Result<Option<namespaces::NamespaceInfo>, namespaces::Error> {
        with_store(|s| s.namespace_info(&ns)).map(|i| i.map(Into::into))
    }

    fn size(ns: String) -> Result<u64, namespaces::Error> {
        with_store(|s| s.size(&ns))
    }

    fn clear(ns: String) -> Result<u64, namespaces::Error> {
        with_store(|s| s.clear(&ns))
    }

    fn drop(ns: String) -> Result<bool, namespaces::Error> {
        with_store(|s| s.drop_namespace(&ns))
    }

    fn get_metadata(ns: String) -> Result<String, namespaces::Error> {
        with_store(|s| s.get_metadata(&ns))
    }

    fn set_metadata(ns: String, json: String) -> Result<(), namespaces::Error> {
        with_store(|s| s.set_metadata(&ns, &json))
    }

    fn get_limits(ns: String) -> Result<namespaces::Limits, namespaces::Error> {
        with_store(|s| s.get_limits(&ns)).map(Into::into)
    }

    fn set_limits(ns: String, limits: namespaces::Limits) -> Result<(), namespaces::Error> {
        with_store(|s| s.set_limits(&ns, limits.into()))
    }

    fn get_key_events(ns: String) -> Result<namespaces::KeyEvents, namespaces::Error> {
        with_store(|s| s.key_events(&ns)).map(Into::into)
    }

    fn set_key_events(ns: String, setting: namespaces::KeyEvents) -> Result<(), namespaces::Error> {
        with_store(|s| s.set_key_events(&ns, setting.into()))
    }

    fn stats(ns: String) -> Result<namespaces::NamespaceStats, namespaces::Error> {
        with_store(|s| s.stats(&ns)).map(Into::into)
    }

    fn global_stats() -> Result<namespaces::NamespaceStats, namespaces::Error> {
        with_store(|s| s.global_stats()).map(Into::into)
    }
}

impl maintenance::Guest for Component {
    fn tick(budget: u32) -> Result<maintenance::TickReport, maintenance::Error> {
        with_store(|s| s.tick(budget)).map(Into::into)
    }

    fn flush() -> Result<(), maintenance::Error> {
        with_store(|s| s.flush())
    }
}

/// Every item of a list converted (to its WIT type).
fn all_into<T, U: From<T>>(items: impl IntoIterator<Item = T>) -> Vec<U> {
    items.into_iter().map(U::from).collect()
}

/// The exports' C ABI entry points, generated (unsafe) like the bindings.
#[allow(unsafe_code)]
mod export {
    use crate::Component;
    crate::bindings::export!(Component with_types_in crate::bindings);
}
